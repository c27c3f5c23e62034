# Shared by the chaos scripts: find the running sandbox and its per-region handles.
# Everything acts from outside the processes: routes in network namespaces, signals to
# pids from the sandbox's run files, hold files its supervisors honour.
set -euo pipefail

STATE_DIR="${FABRIC_STATE_DIR:-.fabric/sandbox}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# sandbox_json <js expression over `s` (the sandbox state)>: prints the result.
sandbox_json() {
  local file="$STATE_DIR/sandbox.json"
  [[ -f "$file" ]] || die "no running sandbox in $STATE_DIR (start one with: npm start, or set FABRIC_STATE_DIR / --state-dir)"
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const out = (0, eval)("(s) => " + process.argv[2])(s);
    if (out === undefined) process.exit(3);
    console.log(Array.isArray(out) ? out.join("\n") : String(out));
  ' "$file" "$1"
}

require_region() {
  sandbox_json "s.endpoints.regions.some((r) => r.region === '$1') || undefined" >/dev/null ||
    die "unknown region '$1'; regions: $(sandbox_json 's.endpoints.regions.map((r) => r.region).join(", ")')"
}

run_file() { echo "$STATE_DIR/$1/run/$2.$3"; }

pid_of() {
  local file; file="$(run_file "$1" "$2" pid)"
  [[ -s "$file" ]] || die "no pid file $file: is $2 running in $1? (components: postgres kafka redis cdc-reader invalidator)"
  cat "$file"
}

# parse_common "$@": handles --state-dir DIR, --compose and -p PROJECT anywhere; leaves the
# rest in ARGS.
parse_common() {
  ARGS=()
  COMPOSE=0
  PROJECT="${COMPOSE_PROJECT_NAME:-}"
  while (($#)); do
    case "$1" in
      --state-dir) STATE_DIR="$2"; shift 2 ;;
      --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
      --compose) COMPOSE=1; shift ;;
      -p | --project-name) PROJECT="$2"; shift 2 ;;
      --project-name=*) PROJECT="${1#*=}"; shift ;;
      *) ARGS+=("$1"); shift ;;
    esac
  done
  if [[ -z "$PROJECT" ]]; then
    # The project the regions file names itself (top-level `name:`), as docker compose does.
    PROJECT="$(sed -n 's/^name: *//p' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/docker-compose.regions.yml")"
  fi
}

# Compose paths act on the running stack through the labels compose puts on what it creates
# (project, service, network), not through the compose file: no variables to set (the file
# refuses to load without FABRIC_TOKEN_SHA256), and the names are the ones really made.

# compose_container SERVICE: the id of the service's container in the project.
compose_container() {
  local ids
  ids="$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1")" ||
    die "docker cannot list containers (is DOCKER_HOST set? with podman: eval \"\$(scripts/containers.sh env)\")"
  [[ -n "$ids" ]] || die "no container of service $1 in compose project $PROJECT; is the stack up (docker compose -f docker-compose.regions.yml ps)? Another project: -p NAME"
  [[ "$(wc -l <<<"$ids")" -eq 1 ]] || die "service $1 has several containers in project $PROJECT; name one with docker directly"
  printf '%s\n' "$ids"
}

# compose_network KEY: the name of the project's network KEY (`interregion`), whatever `name:`
# the file gives it.
compose_network() {
  local name
  name="$(docker network ls --format '{{.Name}}' --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.network=$1")" ||
    die "docker cannot list networks (is DOCKER_HOST set? with podman: eval \"\$(scripts/containers.sh env)\")"
  [[ -n "$name" ]] || die "compose project $PROJECT has no network $1; is the stack up? Another project: -p NAME"
  printf '%s\n' "$name"
}
