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

# parse_common "$@": handles --state-dir DIR and --compose anywhere; leaves the rest in ARGS.
parse_common() {
  ARGS=()
  COMPOSE=0
  while (($#)); do
    case "$1" in
      --state-dir) STATE_DIR="$2"; shift 2 ;;
      --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
      --compose) COMPOSE=1; shift ;;
      *) ARGS+=("$1"); shift ;;
    esac
  done
}

# compose_cmd ARGS...: docker compose on the repository's regions file (COMPOSE_FILE
# and COMPOSE_PROJECT_NAME from the environment win, as with docker compose itself).
compose_cmd() {
  local file="${COMPOSE_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/docker-compose.regions.yml}"
  docker compose -f "$file" "$@"
}
