#!/usr/bin/env bash
# Real containers on a machine without Docker or a registry: podman (rootful) with every
# image built locally, its Docker-compatible API, and Compose v2 on the regions file.
#
#   scripts/containers.sh setup             install and configure podman, Compose v2, build
#                                           every image (idempotent; seconds when unchanged)
#   scripts/containers.sh check             exit 0 when containers can run here, else print
#                                           one line saying why (and what to run)
#   scripts/containers.sh service start     podman's API at .fabric/containers/podman.sock and
#                                           the health-check runner; prints DOCKER_HOST=...
#   scripts/containers.sh service stop|status
#   scripts/containers.sh env               `export` lines for docker, compose, testcontainers
#   scripts/containers.sh compose ARGS...   docker compose on docker-compose.regions.yml with
#                                           the podman override (starts the service if needed)
#   scripts/containers.sh down [-v]         the stack down (-v: its volumes too), the service
#                                           stopped: nothing of ours left running
#   scripts/containers.sh images            the image names below, one per line
#
# Stable for other tools (the testcontainers backend relies on them):
#   - `setup`, then `service start`, whose last stdout line is DOCKER_HOST=unix://<socket>;
#     `env` adds TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be pulled) and
#     TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1.
#   - Images, under the names the compose file and the Dockerfile use, so nothing is pulled:
#       docker.io/library/postgres:17        Debian's PostgreSQL 17, the official entrypoint's
#                                            POSTGRES_* and /docker-entrypoint-initdb.d
#       docker.io/library/redis:7            Debian's redis-server, protected mode off
#       docker.io/apache/kafka:3.9.1         KRaft from KAFKA_* and CLUSTER_ID, /opt/kafka/bin
#       docker.io/library/node:24-bookworm-slim   the pinned Node 24 and npm
#       docker.io/library/fabric:local       the root Dockerfile (compose's fabric:local)
#     built from localhost/debian:bookworm and localhost/debian:trixie (debootstrap).
#
# Root only (rootful podman). Environment: FABRIC_DEBIAN_MIRROR (default: the mirror apt
# uses), FABRIC_CONTAINERS_STATE (default .fabric/containers). Compose reads .env in the
# repository root (see .env.example); `down` works without FABRIC_TOKEN_SHA256.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)/deploy/containers"
# shellcheck source=deploy/containers/lib.sh
source "$here/lib.sh"
# shellcheck source=deploy/containers/host.sh
source "$here/host.sh"
# shellcheck source=deploy/containers/images.sh
source "$here/images.sh"
# shellcheck source=deploy/containers/api-service.sh
source "$here/api-service.sh"

# The comment block above is the help.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }

cmd_setup() {
  local start=$SECONDS
  [[ "$(uname -s)" == Linux ]] || die "setup builds podman images on Linux only; on a laptop use Docker: see deploy/README.md"
  is_root || die "setup needs root (rootful podman, apt-get): sudo scripts/containers.sh setup"
  mkdir -p "$STATE"
  ensure_packages
  ensure_podman_config
  ensure_reserved_ports
  ensure_docker_cli
  ensure_compose_plugin
  ensure_images
  say "ready in $((SECONDS - start)) s; next: scripts/containers.sh service start"
}

# Fast: no build, no network. The reason names the command that fixes it.
cmd_check() {
  local reason="" out image
  if [[ "$(uname -s)" != Linux ]]; then
    reason="not Linux: this script runs podman; use Docker Compose directly (deploy/README.md)"
  elif ! command -v podman >/dev/null; then
    reason="podman is not installed: run scripts/containers.sh setup (as root)"
  elif ! is_root; then
    reason="needs root (rootful podman): run as root"
  elif [[ ! -f "$PODMAN_CONF" ]]; then
    reason="podman is not configured for this machine ($PODMAN_CONF): run scripts/containers.sh setup"
  elif ! command -v docker >/dev/null; then
    reason="no docker CLI: run scripts/containers.sh setup for what to install"
  elif [[ ! -x "$COMPOSE_PLUGIN" ]]; then
    reason="Compose v2 is not installed: run scripts/containers.sh setup"
  else
    for image in "$BASE_BOOKWORM" $(image_names); do
      podman image exists "$image" || { reason="image $image is not built: run scripts/containers.sh setup"; break; }
    done
    if [[ -z "$reason" ]] && ! out=$(podman run --rm --network none "$BASE_BOOKWORM" true 2>&1); then
      reason="a container does not start here: $(printf '%s' "$out" | tail -n 1)"
    fi
  fi
  if [[ -n "$reason" ]]; then
    printf '%s\n' "$reason"
    exit 1
  fi
  echo "containers can run here"
}

cmd_env() {
  docker_env
  printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
  printf 'export DOCKER_CONFIG=%q\n' "$DOCKER_CONFIG"
  printf 'export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0\n'
  printf 'export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1\n'
}

# Compose's own COMPOSE_FILE (e.g. with docker-compose.logical.yml) is kept; the podman
# override always comes last.
compose_files() {
  local files=() file
  if [[ -n "${COMPOSE_FILE:-}" ]]; then
    IFS=: read -r -a files <<<"$COMPOSE_FILE"
  else
    files=("$COMPOSE_FILE_MAIN")
  fi
  for file in "${files[@]}" "$COMPOSE_FILE_PODMAN"; do printf -- '-f\n%s\n' "$file"; done
}

cmd_compose() {
  [[ -x "$COMPOSE_PLUGIN" ]] || die "Compose v2 is not installed: run scripts/containers.sh setup"
  service_running || service_start >/dev/null
  docker_env
  local args=()
  mapfile -t args < <(compose_files)
  unset COMPOSE_FILE
  (cd "$ROOT" && docker compose "${args[@]}" "$@")
}

cmd_down() {
  local volumes=() left
  case "${1:-}" in
    "") ;;
    -v | --volumes) volumes=(--volumes) ;;
    *) die "down takes only -v (see --help)" ;;
  esac
  if command -v podman >/dev/null && [[ -x "$COMPOSE_PLUGIN" ]]; then
    # Nothing in the stack's configuration matters for removing it.
    FABRIC_TOKEN_SHA256="${FABRIC_TOKEN_SHA256:-unused-by-down}" \
      cmd_compose down --remove-orphans --timeout 20 "${volumes[@]}"
  fi
  service_stop
  if command -v podman >/dev/null; then
    left=$(podman ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --format '{{.Names}}')
    [[ -z "$left" ]] || die "still there after down: ${left//$'\n'/ }"
  fi
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  check) cmd_check ;;
  service)
    case "${2:-}" in
      start) service_start ;;
      stop) service_stop ;;
      status) service_status ;;
      *) die "service takes start, stop or status (see --help)" ;;
    esac
    ;;
  env) cmd_env ;;
  compose) shift; cmd_compose "$@" ;;
  down) shift; cmd_down "$@" ;;
  images) image_names ;;
  -h | --help | help) usage 0 ;;
  "") usage 2 ;;
  *) die "unknown command '$1' (see --help)" ;;
esac
