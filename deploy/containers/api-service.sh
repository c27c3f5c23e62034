# `scripts/containers.sh service start|stop|status`: podman's Docker-compatible API on a
# socket of the project's own (.fabric/containers/podman.sock), and the health-check runner
# beside it. Both run detached with their pids in .fabric/containers, so any later
# invocation stops exactly them. Sourced after lib.sh.

SERVICE_PID="$STATE/podman-service.pid"
RUNNER_PID="$STATE/healthcheck-runner.pid"

# pid_alive FILE PATTERN: the pid in FILE runs a command line containing PATTERN (a pid
# reused by something else does not count).
pid_alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid=$(cat "$1")
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

api_answers() { curl -fsS --max-time 2 --unix-socket "$SOCKET" http://podman/_ping >/dev/null 2>&1; }

service_running() { pid_alive "$SERVICE_PID" "system service" && api_answers; }

service_start() {
  command -v podman >/dev/null || die "podman is not installed; run: scripts/containers.sh setup"
  # The images live in root's storage; a user's podman would have none of them.
  is_root || die "the API service runs rootful podman: run as root"
  mkdir -p "$STATE"
  if ! service_running; then
    service_stop quiet
    rm -f "$SOCKET"
    # --time=0: the service never exits on its own while idle; `service stop` ends it.
    setsid podman system service --time=0 "unix://$SOCKET" >>"$STATE/podman-service.log" 2>&1 </dev/null &
    echo $! >"$SERVICE_PID"
    local _
    for _ in $(seq 1 100); do
      api_answers && break
      pid_alive "$SERVICE_PID" "system service" || die "podman system service exited; see $STATE/podman-service.log"
      sleep 0.1
    done
    api_answers || die "podman's API did not answer on $SOCKET within 10 s; see $STATE/podman-service.log"
    say "podman API on $SOCKET (pid $(cat "$SERVICE_PID"))"
  fi
  if ! pid_alive "$RUNNER_PID" healthcheck-runner; then
    setsid "$CONTAINERS_DIR/healthcheck-runner.sh" "$(cat "$SERVICE_PID")" \
      >>"$STATE/healthcheck-runner.log" 2>&1 </dev/null &
    echo $! >"$RUNNER_PID"
    say "health-check runner (pid $(cat "$RUNNER_PID")), log $STATE/healthcheck-runner.log"
  fi
  printf 'DOCKER_HOST=unix://%s\n' "$SOCKET"
}

# stop_pid FILE PATTERN NAME: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local file="$1" pattern="$2" name="$3" pid _
  if pid_alive "$file" "$pattern"; then
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      pid_alive "$file" "$pattern" || break
      sleep 0.1
    done
    if pid_alive "$file" "$pattern"; then
      kill -KILL "$pid" 2>/dev/null || true
      say "$name (pid $pid) ignored SIGTERM for 10 s; killed"
    elif [[ "${4:-}" != quiet ]]; then
      say "stopped $name (pid $pid)"
    fi
  fi
  rm -f "$file"
}

service_stop() {
  stop_pid "$RUNNER_PID" healthcheck-runner "the health-check runner" "${1:-}"
  stop_pid "$SERVICE_PID" "system service" "podman's API service" "${1:-}"
  rm -f "$SOCKET"
}

service_status() {
  if service_running; then
    printf 'podman API: running (pid %s), DOCKER_HOST=unix://%s\n' "$(cat "$SERVICE_PID")" "$SOCKET"
  else
    printf 'podman API: stopped\n'
  fi
  if pid_alive "$RUNNER_PID" healthcheck-runner; then
    printf 'health-check runner: running (pid %s)\n' "$(cat "$RUNNER_PID")"
  else
    printf 'health-check runner: stopped\n'
  fi
  service_running
}
