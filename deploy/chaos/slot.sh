#!/usr/bin/env bash
# Drops a region's CDC slot, as an operator cleaning up after a crash loop would, or as a
# rebuilt replica loses it. The reader must be stopped first (service.sh stop REGION
# cdc-reader): PostgreSQL refuses to drop a slot in use.
#
#   deploy/chaos/slot.sh drop REGION [--slot NAME] [--state-dir DIR]
#
# At its next start the reader finds the slot missing while its continuity record exists,
# and resyncs the region instead of silently starting at the current position.
source "$(dirname "$0")/lib.sh"

parse_common "$@"
set -- "${ARGS[@]}"
SLOT=fabric_cdc
if [[ "${3:-}" == --slot ]]; then SLOT="${4:?--slot needs a name}"; set -- "$1" "$2"; fi
[[ $# -eq 2 && "$1" == drop ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
REGION="$2"
require_region "$REGION"
host="$(sandbox_json "s.endpoints.regions.find((r) => r.region === '$REGION').postgres.host")"
port="$(sandbox_json "s.endpoints.regions.find((r) => r.region === '$REGION').postgres.port")"
psql_cmd() { psql -X -q -t -A -h "$host" -p "$port" -U postgres -d fabric -c "$1"; }
active="$(psql_cmd "select active from pg_replication_slots where slot_name = '$SLOT'")"
[[ -n "$active" ]] || die "$REGION has no slot $SLOT"
[[ "$active" == f ]] || die "slot $SLOT in $REGION is in use; stop the reader first: deploy/chaos/service.sh stop $REGION cdc-reader"
psql_cmd "select pg_drop_replication_slot('$SLOT')" >/dev/null
echo "$REGION slot $SLOT dropped"
