#!/usr/bin/env bash
# Prints the folder holding the Kubernetes API schemas the chart tests validate rendered
# manifests against, installing them into .fabric/tools on first use. Both come from the
# npm registry, pinned, for Kubernetes 1.36:
#   - kubernetes-models (scripts/kube-schemas, with its lock): the OpenAPI schema of every
#     built-in kind compiled to ajv validators (types, required fields, enums, formats);
#   - @kubernetes/client-node's generated models, of which only the field lists are used:
#     the OpenAPI schema lets unknown fields through, and a misindented key in a template
#     lands as one (the API server drops it, or refuses it under strict field validation).
# Like helm, only the chart tests need them, so they stay out of setup.sh and the root lock.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(pwd)/.fabric/tools"
spec=scripts/kube-schemas
client_node='@kubernetes/client-node@2.0.1'
client_node_integrity='sha512-evJgmEtgArEYlj6DNkMGjK41IrFK/hEwb5lWVxx0VRBWybQpnvi+2TtA19mLgVfRHfqX5yjHObX6e9W7LEZBjw=='

# Named after what it was made from, so a changed pin installs afresh beside the old one.
stamp=$(cat "$spec/package-lock.json" "$0" | sha256sum | cut -c1-12)
dir="$tools/kube-schemas-$stamp"
if [ -f "$dir/.complete" ]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$tools"
work=$(mktemp -d "$tools/.kube-schemas.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "[ensure-kube-schemas] installing kubernetes-models (scripts/kube-schemas/package-lock.json)" >&2
cp "$spec/package.json" "$spec/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

# The models alone: they import nothing, so none of the client's own dependencies is needed.
echo "[ensure-kube-schemas] fetching $client_node (its generated models)" >&2
tarball=$(cd "$work" && npm pack "$client_node" --pack-destination "$work" --silent | tail -n 1)
integrity=$(node -e 'const c=require("node:crypto"),f=require("node:fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$work/$tarball")
if [ "$integrity" != "$client_node_integrity" ]; then
  echo "[ensure-kube-schemas] $client_node: integrity $integrity, expected $client_node_integrity" >&2
  exit 1
fi
mkdir -p "$work/client-node"
tar -xzf "$work/$tarball" -C "$work/client-node" --strip-components=4 --wildcards 'package/dist/gen/models/*.js'
rm -f "$work/$tarball"
# Their source maps are not shipped: drop the comments that point at them.
sed -i '/^\/\/# sourceMappingURL=/d' "$work"/client-node/*.js
touch "$work/.complete"

# A rename is atomic: a concurrent run either finds the folder complete or makes its own.
if mv -T "$work" "$dir" 2>/dev/null; then
  trap - EXIT
fi
echo "$dir"
