# Shared by scripts/containers.sh and its parts: where things live, messages, and the
# names of the images the compose file and the Dockerfile ask for. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONTAINERS_DIR="$ROOT/deploy/containers"
# Sockets, pids, logs, the compose plugin and build contexts: machine-local, never committed
# (.fabric/ is ignored).
STATE="${FABRIC_CONTAINERS_STATE:-$ROOT/.fabric/containers}"
SOCKET="$STATE/podman.sock"
DOCKER_CONFIG_DIR="$STATE/docker-config"
COMPOSE_FILE_MAIN="$ROOT/docker-compose.regions.yml"
COMPOSE_FILE_PODMAN="$CONTAINERS_DIR/compose.podman.yml"
COMPOSE_PROJECT="fabric-regions"
# The label every image built here carries: the hash of what it was built from.
INPUTS_LABEL=dev.fabric.build-inputs

say() { printf '[containers] %s\n' "$*" >&2; }
die() { printf 'containers: %s\n' "$*" >&2; exit 1; }

# The image a compose service names, as written in the file (`postgres:17`).
compose_image() {
  local service_anchor="$1" image
  image=$(sed -n "/^x-$service_anchor: &$service_anchor/,/^[^ ]/s/^  image: *//p" "$COMPOSE_FILE_MAIN" | head -n 1)
  [[ -n "$image" ]] || die "no 'image:' under x-$service_anchor in $COMPOSE_FILE_MAIN"
  printf '%s\n' "$image"
}

# The Node base the Dockerfile builds from (ARG NODE_IMAGE's default).
dockerfile_node_image() {
  local image
  image=$(sed -n 's/^ARG NODE_IMAGE=//p' "$ROOT/Dockerfile" | head -n 1)
  [[ -n "$image" ]] || die "no 'ARG NODE_IMAGE=' in $ROOT/Dockerfile"
  printf '%s\n' "$image"
}

# docker.io's rules for a name without a registry: `redis:7` is docker.io/library/redis:7,
# `apache/kafka:3.9.1` is docker.io/apache/kafka:3.9.1. Compose asks the API for these.
qualified() {
  local name="$1" first="${1%%/*}"
  if [[ "$name" != */* ]]; then
    printf 'docker.io/library/%s\n' "$name"
  elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then
    printf '%s\n' "$name"
  else
    printf 'docker.io/%s\n' "$name"
  fi
}

tag_of() { printf '%s\n' "${1##*:}"; }

is_root() { [[ "$(id -u)" == 0 ]]; }

# What docker, compose and testcontainers need to reach the podman API socket.
docker_env() {
  export DOCKER_HOST="unix://$SOCKET"
  export DOCKER_CONFIG="$DOCKER_CONFIG_DIR"
  # The classic builder: podman's API has no BuildKit.
  export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
}
