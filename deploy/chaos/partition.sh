#!/usr/bin/env bash
# Cuts a region off from the other regions at the kernel, or heals the cut.
#
#   deploy/chaos/partition.sh REGION [--heal] [--state-dir DIR]     (sandbox started with --netns)
#   deploy/chaos/partition.sh REGION [--heal] --compose [-p PROJECT] (docker-compose.regions.yml)
#
# Sandbox: tc in the region's network namespace drops every packet towards the other
# regions (a u32 filter per destination into an htb class whose queue holds nothing), and
# theirs drop packets towards it. Only htb, pfifo and u32 are needed: kernels without
# netem or tc actions can still cut a link this way. Packets vanish as on a cut link (no reset, no ICMP): connections hang until
# their own timeouts, which is what replication must survive. The host (tests, the control
# plane) still reaches every region.
# Compose: disconnects the region's database from the inter-region network (fabric-interregion),
# the only one that joins regions: replication to the region stops, its reader, broker,
# invalidator and Redis go on. The standby notices when its receiver times out
# (wal_receiver_timeout, 60 s) and streams again once healed. PROJECT defaults to
# COMPOSE_PROJECT_NAME, else the file's own name (fabric-regions); docker must reach the
# engine (with podman: eval "$(scripts/containers.sh env)").
source "$(dirname "$0")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
parse_common "$@"
set -- "${ARGS[@]}"
REGION="" HEAL=0
while (($#)); do
  case "$1" in
    --heal) HEAL=1 ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) REGION="$1" ;;
  esac
  shift
done
[[ -n "$REGION" ]] || usage 2

if ((COMPOSE)); then
  net="$(compose_network interregion)"
  db="$(compose_container "$REGION-postgres")"
  attached="$(docker inspect --format '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}' "$db")"
  if ((HEAL)); then
    if [[ " $attached " == *" $net "* ]]; then
      echo "$REGION is not partitioned ($REGION-postgres is on $net)"
    else
      docker network connect --alias "$REGION-postgres" "$net" "$db"
      echo "$REGION healed: $REGION-postgres is back on $net"
    fi
  elif [[ " $attached " != *" $net "* ]]; then
    echo "$REGION is already partitioned ($REGION-postgres is not on $net)"
  else
    docker network disconnect "$net" "$db"
    echo "$REGION partitioned: $REGION-postgres disconnected from $net"
  fi
  exit 0
fi

require_region "$REGION"
sandbox_json "s.endpoints.network.mode === 'netns' || undefined" >/dev/null ||
  die "the sandbox in $STATE_DIR shares one network; start it with 'fabric up --netns' to partition regions"
ns_of() { sandbox_json "s.endpoints.regions.find((r) => r.region === '$1').netns"; }
host_of() { sandbox_json "s.endpoints.regions.find((r) => r.region === '$1').postgres.host"; }

# The region's side of its veth pair: the only non-loopback link in its namespace.
dev_of() { ip -n "$1" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2; exit }'; }
# Unfiltered packets take class 1:10 (no limit); filtered ones 1:20, a zero-length queue.
ensure_drop_class() {
  local ns="$1" dev="$2"
  tc -n "$ns" qdisc show dev "$dev" | grep -q 'pfifo 20:' && return
  tc -n "$ns" qdisc replace dev "$dev" root handle 1: htb default 10
  tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate 10gbit quantum 60000
  tc -n "$ns" class add dev "$dev" parent 1: classid 1:20 htb rate 10gbit quantum 60000
  tc -n "$ns" qdisc add dev "$dev" parent 1:20 handle 20: pfifo limit 0
}
# One filter per destination; its preference is the destination's last octet, so healing
# removes exactly that destination's filter and leaves other cuts in place.
cut() {
  local ns="$1" dst="$2" dev; dev="$(dev_of "$ns")"
  ensure_drop_class "$ns" "$dev"
  tc -n "$ns" filter del dev "$dev" parent 1: prio "${dst##*.}" 2>/dev/null || true
  tc -n "$ns" filter add dev "$dev" parent 1: protocol ip prio "${dst##*.}" u32 match ip dst "$dst/32" flowid 1:20
}
heal() {
  local ns="$1" dst="$2" dev; dev="$(dev_of "$ns")"
  tc -n "$ns" filter del dev "$dev" parent 1: prio "${dst##*.}" 2>/dev/null || true
}

action=cut; ((HEAL)) && action=heal
me_ns="$(ns_of "$REGION")"; me_host="$(host_of "$REGION")"
for other in $(sandbox_json "s.endpoints.regions.filter((r) => r.region !== '$REGION').map((r) => r.region)"); do
  "$action" "$me_ns" "$(host_of "$other")"
  "$action" "$(ns_of "$other")" "$me_host"
done
echo "$REGION $([[ $action == cut ]] && echo partitioned from || echo healed with) the other regions"
