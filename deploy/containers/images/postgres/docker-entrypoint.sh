#!/usr/bin/env bash
# The local postgres image's entrypoint, doing what the official image's does for the
# variables and directories the compose file uses:
#   - options alone (`-c x=y`) run postgres with them;
#   - as root: PGDATA and the socket directory are handed to `postgres`, then it runs as it;
#   - on an empty PGDATA: initdb with POSTGRES_USER and POSTGRES_PASSWORD (refused without a
#     password unless POSTGRES_HOST_AUTH_METHOD=trust), `host all all all <method>` in
#     pg_hba.conf (scram-sha-256 by default), then a server on the socket only (no TCP, so
#     a TCP health check turns healthy only after this) creates POSTGRES_DB and runs
#     /docker-entrypoint-initdb.d in name order: *.sh executed when executable, else sourced;
#     *.sql, *.sql.gz, *.sql.xz, *.sql.zst through psql with ON_ERROR_STOP;
#   - then the command (postgres ...) replaces it as PID 1.
# A PGDATA that already holds a cluster is started as it is; nothing is run on it.
set -Eeo pipefail

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

if [ "${1:0:1}" = - ]; then
  set -- postgres "$@"
fi

# Anything but the server itself (psql, bash, pg_basebackup) runs as given.
if [ "$1" != postgres ]; then
  exec "$@"
fi
for arg; do
  case "$arg" in
    -'?' | --help | --describe-config | -V | --version) exec "$@" ;;
  esac
done

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
export POSTGRES_USER POSTGRES_DB PGDATA

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA" || :
  chmod 03775 /var/run/postgresql || :
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  exec gosu postgres "${BASH_SOURCE[0]}" "$@"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
  exec "$@"
fi

if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
  say "the database is uninitialized and no superuser password is set: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, which lets anyone in)"
  exit 1
fi

mkdir -p "$PGDATA"
chmod 00700 "$PGDATA" || :
# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list, as in the official image
initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
  ${POSTGRES_INITDB_ARGS:-}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

# The temporary server listens on the socket only; clients below use it.
export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
psql_init=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
if [ "$POSTGRES_DB" != postgres ]; then
  "${psql_init[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
fi
psql_init+=(--dbname "$POSTGRES_DB")

for file in /docker-entrypoint-initdb.d/*; do
  [ -e "$file" ] || continue
  case "$file" in
    *.sh)
      if [ -x "$file" ]; then
        say "running $file"
        "$file"
      else
        say "sourcing $file"
        # shellcheck disable=SC1090
        . "$file"
      fi
      ;;
    *.sql) say "running $file"; "${psql_init[@]}" -f "$file" ;;
    *.sql.gz) say "running $file"; gunzip -c "$file" | "${psql_init[@]}" ;;
    *.sql.xz) say "running $file"; xzcat "$file" | "${psql_init[@]}" ;;
    *.sql.zst) say "running $file"; zstd -dc "$file" | "${psql_init[@]}" ;;
    *) say "ignoring $file" ;;
  esac
done

pg_ctl -D "$PGDATA" -m fast -w stop
unset PGPASSWORD
say "PostgreSQL init process complete; ready for start up."
exec "$@"
