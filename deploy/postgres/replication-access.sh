# Primary only, run by the image's entrypoint on first start (docker-entrypoint-initdb.d,
# sourced, so it must not exit): lets the standbys' base backups and WAL streams in over
# the network. The image's own line (host all all all ...) does not match replication
# connections, and initdb's replication lines cover the loopback only. The server reads
# pg_hba.conf again when the entrypoint restarts it after the init scripts.
printf '\n# added by replication-access.sh: physical standbys\nhost replication all all %s\n' \
  "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
