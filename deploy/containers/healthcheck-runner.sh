#!/usr/bin/env bash
# Runs the health checks of running containers on their intervals. podman 4.3 schedules
# them only through systemd timers, and this machine has no systemd: without this, every
# container stays "starting", so `compose up --wait` and `depends_on: service_healthy`
# wait forever. `podman healthcheck run` does the rest as the timer would (timeout,
# retries, start period, the status compose reads).
#
# usage: healthcheck-runner.sh [WATCH_PID]
#   Exits when WATCH_PID (the API service it serves) is gone, or on SIGTERM.
# A container's first check runs one interval after it is first seen running, as Docker's;
# a check still running when the next is due is not started twice.
set -uo pipefail

watch="${1:-}"
# Last result per container, so the log shows transitions (healthy, failing, healthy again).
marks=$(mktemp -d)
declare -A due=() checking=()

stop() {
  local pid
  for pid in "${checking[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$marks"
  exit 0
}
trap stop TERM INT

now_ms() { local t=$EPOCHREALTIME; printf '%s\n' "$((${t%.*} * 1000 + 10#${t#*.} / 1000))"; }

check() {
  local id="$1" name="$2" out status result previous
  out=$(podman healthcheck run "$id" 2>&1)
  status=$?
  result=healthy
  ((status == 0)) || result="failing (${out:-exit $status})"
  previous=$(cat "$marks/$id" 2>/dev/null)
  if [[ "$previous" != "$result" ]]; then
    printf '%s %s: %s\n' "$(date -u +%FT%TZ)" "$name" "$result"
    printf '%s' "$result" >"$marks/$id"
  fi
}

echo "health-check runner started (pid $$${watch:+, serving pid $watch})"
while :; do
  if [[ -n "$watch" ]] && ! kill -0 "$watch" 2>/dev/null; then
    echo "pid $watch is gone; stopping"
    stop
  fi
  now=$(now_ms)
  declare -A seen=()
  mapfile -t ids < <(podman ps -q --no-trunc --filter status=running 2>/dev/null)
  if ((${#ids[@]} > 0)); then
    while read -r id name interval; do
      [[ -n "$id" && -n "$interval" ]] || continue
      seen[$id]=1
      # Docker's default interval when a check names none.
      ((interval > 0)) || interval=30000
      if [[ -z "${due[$id]:-}" ]]; then
        due[$id]=$((now + interval))
        continue
      fi
      ((now >= due[$id])) || continue
      pid="${checking[$id]:-}"
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
      [[ -n "$pid" ]] && wait "$pid" 2>/dev/null
      due[$id]=$((now + interval))
      check "$id" "$name" &
      checking[$id]=$!
    done < <(podman inspect --format \
      '{{.Id}} {{.Name}} {{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval.Milliseconds}}{{end}}' \
      "${ids[@]}" 2>/dev/null)
  fi
  # Containers that stopped or went away start over when they run again.
  for id in "${!due[@]}"; do
    [[ -n "${seen[$id]:-}" ]] && continue
    unset "due[$id]" "checking[$id]"
    rm -f "$marks/$id"
  done
  unset seen
  sleep 1
done
