#!/usr/bin/env bash
# Cuts a region off from the other regions at the kernel, or heals the cut.
#
#   deploy/chaos/partition.sh REGION [--heal] [--state-dir DIR]     (sandbox started with --netns)
#   deploy/chaos/partition.sh REGION [--heal] --compose [-p PROJECT] (docker compose)
#
# Sandbox: blackhole routes in the region's network namespace towards every other region,
# and in theirs towards it. Packets vanish as on a cut link (no reset, no ICMP), so TCP
# connections hang until their own timeouts, which is what replication must survive. The
# host (tests, the control plane) still reaches every region.
# Compose: disconnects the region's database from the inter-region network.
source "$(dirname "$0")/lib.sh"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
parse_state_dir "$@"
set -- "${ARGS[@]}"
REGION="" HEAL=0 COMPOSE=0 PROJECT=""
while (($#)); do
  case "$1" in
    --heal) HEAL=1 ;;
    --compose) COMPOSE=1 ;;
    -p) PROJECT="$2"; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) REGION="$1" ;;
  esac
  shift
done
[[ -n "$REGION" ]] || usage 2

if ((COMPOSE)); then
  net="${PROJECT:+${PROJECT}_}interregion"
  if ((HEAL)); then docker network connect "$net" "${PROJECT:+$PROJECT-}$REGION-postgres-1"
  else docker network disconnect "$net" "${PROJECT:+$PROJECT-}$REGION-postgres-1"; fi
  exit 0
fi

require_region "$REGION"
sandbox_json "s.endpoints.network.mode === 'netns' || undefined" >/dev/null ||
  die "the sandbox in $STATE_DIR shares one network; start it with 'fabric up --netns' to partition regions"
ns_of() { sandbox_json "s.endpoints.regions.find((r) => r.region === '$1').netns"; }
host_of() { sandbox_json "s.endpoints.regions.find((r) => r.region === '$1').postgres.host"; }

verb=add; ((HEAL)) && verb=del
me_ns="$(ns_of "$REGION")"; me_host="$(host_of "$REGION")"
for other in $(sandbox_json "s.endpoints.regions.filter((r) => r.region !== '$REGION').map((r) => r.region)"); do
  # Healing twice, or cutting twice, is not an error.
  ip -n "$me_ns" route "$verb" blackhole "$(host_of "$other")/32" 2>/dev/null || true
  ip -n "$(ns_of "$other")" route "$verb" blackhole "$me_host/32" 2>/dev/null || true
done
echo "$REGION $([[ $verb == add ]] && echo partitioned from || echo healed with) the other regions"
