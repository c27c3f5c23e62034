# The machine's side of `scripts/containers.sh setup`: Debian packages, podman's settings for
# this kind of sandbox, and Compose v2 as a Docker CLI plugin. Sourced after lib.sh.

# Rootful podman on native overlay storage: none of the rootless helpers (uidmap,
# slirp4netns, fuse-overlayfs).
PACKAGES=(podman runc netavark aardvark-dns iptables iproute2 debootstrap curl ca-certificates)
PODMAN_CONF=/etc/containers/containers.conf.d/fabric.conf
# Compose v2 from Debian's archive (trixie's package; a static Go binary that runs on bookworm).
# Bookworm's docker-compose 1.29 and podman-compose cannot read the regions file (top-level
# `name`, `configs.content`, `depends_on` conditions).
COMPOSE_DEB=pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb
COMPOSE_DEB_SHA256=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea
COMPOSE_PLUGIN="$DOCKER_CONFIG_DIR/cli-plugins/docker-compose"

# The Debian mirror apt already uses (deb822 sources or sources.list), for debootstrap and the
# compose package; FABRIC_DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [[ -n "${FABRIC_DEBIAN_MIRROR:-}" ]]; then printf '%s\n' "${FABRIC_DEBIAN_MIRROR%/}"; return; fi
  local uri
  uri=$(awk '
    /^URIs:/ { uri = $2 }
    /^Suites:/ && uri ~ /\/debian\/?$/ { print uri; exit }
    /^deb / && $2 ~ /\/debian\/?$/ { print $2; exit }
  ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
  printf '%s\n' "${uri:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

ensure_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install podman 4.3+, runc and debootstrap yourself"
  is_root || die "missing ${missing[*]}; install them as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The sandbox has no CAP_SYS_RESOURCE: a container may not have limits above those of the
# podman process that starts it, and podman's defaults ask for more (nofile and nproc
# 1048576). Podman runs with this machine's hard nofile limit (20000 here) and an nproc
# no higher than kernel.pid_max (32768 here, below the shell's hard limit; seen in
# /proc/<podman pid>/limits). crun 1.8 rejects this machine's cgroup v1/v2 hybrid; runc
# runs. netavark, not CNI: with CNI's dnsname plugin a container on several networks (the
# control plane is on all four) resolves only the names of its first network, because each
# network's resolver answers NXDOMAIN for the others'; aardvark-dns answers for every
# network the asking container is on. A drop-in, so the distribution's containers.conf
# stays as packaged.
hard_limit() {
  local value
  value=$(ulimit -H "$1")
  [[ "$value" == unlimited ]] && value=1048576
  printf '%s\n' "$value"
}
nofile_limit() { hard_limit -n; }
nproc_limit() {
  local hard pid_max
  hard=$(hard_limit -u) pid_max=$(cat /proc/sys/kernel/pid_max)
  printf '%s\n' "$((hard < pid_max ? hard : pid_max))"
}
ensure_podman_config() {
  local nofile nproc want
  nofile=$(nofile_limit) nproc=$(nproc_limit)
  want=$(printf '%s\n' \
    '# Written by scripts/containers.sh setup: limits a container may have here (the hard' \
    '# limits of this machine), and the OCI runtime that works with its cgroups.' \
    '[containers]' \
    "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]" \
    '' \
    '[engine]' \
    'runtime = "runc"' \
    '' \
    '[network]' \
    'network_backend = "netavark"')
  if ! [[ -f "$PODMAN_CONF" && "$(cat "$PODMAN_CONF")" == "$want" ]]; then
    is_root || die "podman needs $PODMAN_CONF; run scripts/containers.sh setup as root"
    say "writing $PODMAN_CONF"
    mkdir -p "$(dirname "$PODMAN_CONF")"
    printf '%s\n' "$want" >"$PODMAN_CONF"
  fi
  # A machine that ran podman on CNI before keeps CNI's default bridge, which holds the
  # subnet of netavark's default network (10.88.0.0/16): builds on that network then have
  # no way out (apt: "Temporary failure resolving"). Nothing uses it once CNI is not the
  # backend.
  if ip link show cni-podman0 >/dev/null 2>&1; then
    is_root || die "remove CNI's leftover bridge as root: ip link delete cni-podman0"
    say "removing CNI's leftover bridge cni-podman0 (its subnet is netavark's default network's)"
    ip link delete cni-podman0
  fi
}

# The stack publishes its ports from 35400, inside the kernel's ephemeral range (from 32768):
# an outgoing connection that happens to hold 127.0.0.1:35420 makes `up` fail with "address
# already in use" (seen here). Reserved ports are never handed out as ephemeral ones.
published_ports() { grep -o '"127\.0\.0\.1:[0-9]*:' "$COMPOSE_FILE_MAIN" | sed 's/^"127\.0\.0\.1:\([0-9]*\):$/\1/' | sort -un; }
port_reserved() {
  local port="$1" range lo hi
  for range in ${2//,/ }; do
    lo=${range%-*} hi=${range#*-}
    ((port >= lo && port <= hi)) && return 0
  done
  return 1
}
ensure_reserved_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current port missing=()
  [[ -r "$file" ]] || return 0
  current=$(cat "$file")
  for port in $(published_ports); do
    port_reserved "$port" "$current" || missing+=("$port")
  done
  ((${#missing[@]} == 0)) && return
  is_root || die "ports ${missing[*]} are not reserved from the ephemeral range; run scripts/containers.sh setup as root"
  say "reserving the stack's host ports from the ephemeral range: ${missing[*]}"
  printf '%s\n' "$(IFS=,; echo "${current:+$current,}${missing[*]}")" >"$file" ||
    die "could not write $file (net.ipv4.ip_local_reserved_ports)"
}

ensure_docker_cli() {
  command -v docker >/dev/null ||
    die "no docker CLI (compose and the chaos scripts use it against podman's API): install one, e.g. apt-get install docker.io, or the static binary from download.docker.com"
}

ensure_compose_plugin() {
  local stamp="$COMPOSE_PLUGIN.source"
  [[ -x "$COMPOSE_PLUGIN" && -f "$stamp" && "$(cat "$stamp")" == "$COMPOSE_DEB_SHA256" ]] && return
  local url tmp
  url="$(debian_mirror)/$COMPOSE_DEB"
  tmp=$(mktemp -d)
  say "fetching Compose v2 from $url"
  curl -fsSL --retry 3 -o "$tmp/compose.deb" "$url" || { rm -rf "$tmp"; die "could not fetch $url"; }
  if ! printf '%s  %s\n' "$COMPOSE_DEB_SHA256" "$tmp/compose.deb" | sha256sum -c --quiet; then
    rm -rf "$tmp"
    die "$url does not have the pinned SHA-256 $COMPOSE_DEB_SHA256"
  fi
  dpkg-deb -x "$tmp/compose.deb" "$tmp/x"
  mkdir -p "$(dirname "$COMPOSE_PLUGIN")"
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN"
  printf '%s\n' "$COMPOSE_DEB_SHA256" >"$stamp"
  rm -rf "$tmp"
}
