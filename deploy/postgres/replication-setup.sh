#!/bin/sh
# Subscribes each regional replica to the primary's publication and waits for the initial
# table copy, so the replicas' CDC readers start on a database that already streams.
# Safe to run again: an existing subscription is kept.
#
# usage: replication-setup.sh PRIMARY_HOST[:PORT] REGION=REPLICA_HOST[:PORT]...
# environment: PGUSER, PGPASSWORD, PGDATABASE (libpq), the same for every database.
set -eu

host_of() { printf %s "${1%%:*}"; }
port_of() { case "$1" in *:*) printf %s "${1##*:}" ;; *) printf 5432 ;; esac; }

primary=$1
shift
user=${PGUSER:-postgres}
database=${PGDATABASE:-fabric}
password=${PGPASSWORD:-}

# The password travels inside a quoted conninfo inside a quoted SQL literal; rather than
# escape twice, refuse what would need it.
case "$password" in
  *"'"* | *'\'* | *' '*) echo "replication-setup: PGPASSWORD must not contain quotes, backslashes or spaces" >&2; exit 2 ;;
esac

sql() { psql -h "$(host_of "$1")" -p "$(port_of "$1")" -v ON_ERROR_STOP=1 -tAqc "$2"; }

tables=$(sql "$primary" "select count(*) from pg_publication_tables where pubname = 'fabric_regions'")
if [ "$tables" -eq 0 ]; then
  echo "replication-setup: publication fabric_regions on $primary publishes no tables" >&2
  exit 1
fi

for pair in "$@"; do
  region=${pair%%=*}
  replica=${pair#*=}
  sub="fabric_sub_$(printf %s "$region" | tr - _)"
  if [ "$(sql "$replica" "select count(*) from pg_subscription where subname = '$sub'")" -eq 0 ]; then
    conninfo="host=$(host_of "$primary") port=$(port_of "$primary") dbname=$database user=$user application_name=$sub"
    [ -n "$password" ] && conninfo="$conninfo password=$password"
    sql "$replica" "create subscription $sub connection '$conninfo' publication fabric_regions"
    echo "replication-setup: $region subscribed ($sub)"
  fi
  # As in the sandbox: without this, applied changes reach the replica's own WAL (and its
  # CDC reader) only at the next WAL writer round.
  sql "$replica" "alter subscription $sub set (synchronous_commit = 'local')"

  waited=0
  until [ "$(sql "$replica" "select count(*) from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid
                          where s.subname = '$sub' and r.srsubstate in ('r', 's')")" -eq "$tables" ]; do
    if [ "$waited" -ge 120 ]; then
      echo "replication-setup: $region initial table sync not done after 120 s" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "replication-setup: $region streams $tables tables from $primary"
done
