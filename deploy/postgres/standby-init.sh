#!/bin/sh
# Entrypoint of a standby region's PostgreSQL (docker-compose.regions.yml). On the first
# start, when there is no data directory yet, it makes one from an online base backup of
# the primary and configures it as a physical standby streaming through its own slot on
# the primary; on every later start it only starts the server. Either way it then runs its
# arguments: the image's entrypoint and postgres.
#
# usage: standby-init.sh COMMAND [ARG]...
# environment:
#   PGDATA               the data directory, one level below the volume: the backup is made
#                        beside it and renamed into place, so a first start cut short never
#                        leaves a directory that looks made
#   FABRIC_PRIMARY       the primary, HOST[:PORT]
#   FABRIC_STANDBY_SLOT  the standby's physical slot on the primary (created if missing)
#   FABRIC_STANDBY_NAME  the application_name it streams under, which names it in
#                        pg_stat_replication at the primary
#   PGUSER, PGPASSWORD   a role with REPLICATION at the primary (libpq)
set -eu

say() { printf 'standby-init: %s\n' "$*" >&2; }

: "${PGDATA:?standby-init: set PGDATA to the data directory}"
: "${FABRIC_PRIMARY:?standby-init: set FABRIC_PRIMARY to the primary, host[:port]}"
: "${FABRIC_STANDBY_SLOT:?standby-init: set FABRIC_STANDBY_SLOT to the standby slot name}"
: "${FABRIC_STANDBY_NAME:?standby-init: set FABRIC_STANDBY_NAME to the application name}"
if [ $# -eq 0 ]; then
  say "usage: standby-init.sh COMMAND [ARG]... (the command that starts the server)"
  exit 2
fi
# Both go into SQL literals and a conninfo unquoted: lowercase identifiers only.
for name in "$FABRIC_STANDBY_SLOT" "$FABRIC_STANDBY_NAME"; do
  case "$name" in
    [a-z_]*) ;;
    *) say "\"$name\" must be a lowercase identifier"; exit 2 ;;
  esac
  case "$name" in
    *[!a-z0-9_]*) say "\"$name\" must be a lowercase identifier"; exit 2 ;;
  esac
done

# As the image's own entrypoint does: the server's files belong to postgres from the start.
if [ "$(id -u)" = 0 ]; then
  parent=$(dirname "$PGDATA")
  mkdir -p "$parent"
  chown postgres:postgres "$parent"
  exec gosu postgres sh "$0" "$@"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
  if [ -e "$PGDATA/standby.signal" ]; then
    say "$PGDATA is a standby of $FABRIC_PRIMARY; starting it"
  else
    say "warning: $PGDATA is not a standby (promoted, or made for logical replication); starting it as it is"
  fi
  exec "$@"
fi
if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  say "$PGDATA is neither empty nor a data directory (no PG_VERSION); not touching it"
  exit 1
fi

host=${FABRIC_PRIMARY%%:*}
case "$FABRIC_PRIMARY" in
  *:*) port=${FABRIC_PRIMARY##*:} ;;
  *) port=5432 ;;
esac
slot=$FABRIC_STANDBY_SLOT
partial="$PGDATA.partial"
# A backup an earlier start did not finish.
rm -rf "$partial"

primary() { psql "host=$host port=$port dbname=postgres" -v ON_ERROR_STOP=1 -tAqc "$1" >/dev/null; }
# The slot before the backup, reserving WAL at once, so nothing the standby will ask for is
# removed meanwhile. A slot the primary gave up on (wal_status lost: the region was away
# longer than max_slot_wal_keep_size allows) cannot serve a new standby either.
primary "select pg_drop_replication_slot(slot_name) from pg_replication_slots
         where slot_name = '$slot' and wal_status = 'lost' and not active"
primary "select pg_create_physical_replication_slot('$slot', true)
         where not exists (select 1 from pg_replication_slots where slot_name = '$slot')"

say "taking a base backup of $FABRIC_PRIMARY through slot $slot"
# --write-recovery-conf: standby.signal, and primary_conninfo (with application_name) and
# primary_slot_name in postgresql.auto.conf.
pg_basebackup -d "host=$host port=$port application_name=$FABRIC_STANDBY_NAME" -D "$partial" \
  --checkpoint=fast --wal-method=stream --slot="$slot" --write-recovery-conf
cat >>"$partial/postgresql.auto.conf" <<'CONF'
# standby-init.sh: the primary keeps the rows this standby's logical slot still has to
# decode; without it, vacuum there removes them and the standby invalidates the slot.
hot_standby_feedback = on
CONF

if [ -d "$PGDATA" ]; then rmdir "$PGDATA"; fi
mv "$partial" "$PGDATA"
chmod 700 "$PGDATA"
say "made $PGDATA a standby of $FABRIC_PRIMARY; starting it"
exec "$@"
