#!/usr/bin/env bash
# Sends a fault to one component of a region: kill -9, pause (SIGSTOP) or resume (SIGCONT).
#
#   deploy/chaos/signal.sh REGION COMPONENT kill|pause|resume [--state-dir DIR]
#   deploy/chaos/signal.sh REGION COMPONENT kill|pause|resume --compose [-p PROJECT]
#
# COMPONENT: cdc-reader, invalidator, control-plane (home region), postgres, kafka, redis.
# A killed component is restarted by the sandbox's supervisor (under compose, by its
# restart policy); a paused one stays frozen (its connections hang, its group session
# expires) until resumed.
source "$(dirname "$0")/lib.sh"

parse_common "$@"
set -- "${ARGS[@]}"
[[ $# -eq 3 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
REGION="$1" COMPONENT="$2" ACTION="$3"

if ((COMPOSE)); then
  service="$REGION-$COMPONENT"
  [[ "$COMPONENT" == control-plane ]] && service=control-plane
  container="$(compose_container "$service")"
  case "$ACTION" in
    kill) docker kill --signal SIGKILL "$container" >/dev/null ;;
    pause) docker pause "$container" >/dev/null ;;
    resume) docker unpause "$container" >/dev/null ;;
    *) die "action must be kill, pause or resume, got '$ACTION'" ;;
  esac
  echo "$service ($container): $ACTION"
  exit 0
fi

require_region "$REGION"
pid="$(pid_of "$REGION" "$COMPONENT")"
case "$ACTION" in
  kill) kill -KILL "$pid" ;;
  pause) kill -STOP "$pid" ;;
  resume) kill -CONT "$pid" ;;
  *) die "action must be kill, pause or resume, got '$ACTION'" ;;
esac
echo "$REGION $COMPONENT (pid $pid): $ACTION"
