#!/usr/bin/env bash
# Stops a region's component and keeps it down, or lets it start again.
#
#   deploy/chaos/service.sh stop|start REGION COMPONENT [--state-dir DIR]
#   deploy/chaos/service.sh stop|start REGION COMPONENT --compose [-p PROJECT]
#
# stop: drops a hold file (the supervisor will not restart while it exists), sends
# SIGTERM and waits for the exit. start: removes the hold file and waits until the
# supervisor has the component running again (pid file back). Works for kafka, redis,
# postgres and the workers. With --compose: docker stop|start of the REGION-COMPONENT
# service's container (a stopped container stays down: restart is unless-stopped).
source "$(dirname "$0")/lib.sh"

parse_common "$@"
set -- "${ARGS[@]}"
[[ $# -eq 3 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ACTION="$1" REGION="$2" COMPONENT="$3"
if ((COMPOSE)); then
  [[ "$ACTION" == stop || "$ACTION" == start ]] || die "action must be stop or start, got '$ACTION'"
  docker "$ACTION" "$(compose_container "$REGION-$COMPONENT")" >/dev/null
  if [[ "$ACTION" == stop ]]; then echo "$REGION $COMPONENT stopped (down until: $0 start $REGION $COMPONENT --compose)"
  else echo "$REGION $COMPONENT started"; fi
  exit 0
fi
require_region "$REGION"
hold="$(run_file "$REGION" "$COMPONENT" hold)"
pidfile="$(run_file "$REGION" "$COMPONENT" pid)"
case "$ACTION" in
  stop)
    pid="$(pid_of "$REGION" "$COMPONENT")"
    touch "$hold"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { echo "$REGION $COMPONENT stopped (held)"; exit 0; }; sleep 0.1; done
    die "$REGION $COMPONENT (pid $pid) still running 30 s after SIGTERM"
    ;;
  start)
    rm -f "$hold"
    for _ in $(seq 1 1200); do [[ -s "$pidfile" ]] && { echo "$REGION $COMPONENT running (pid $(cat "$pidfile"))"; exit 0; }; sleep 0.1; done
    die "$REGION $COMPONENT not running 120 s after release; see $STATE_DIR/$REGION/logs/$COMPONENT.log"
    ;;
  *) die "action must be stop or start, got '$ACTION'" ;;
esac
