#!/usr/bin/env bash
# Makes what a Python Pulumi program of the provider plugin needs, and prints the directory that
# holds it on its last line (a venv's bin: put it first on PATH and set VIRTUAL_ENV to its parent,
# as `activate` does). Cached under ~/.cache/token-rotator/; a second run takes about a second.
#
# - a venv with the `pulumi` Python SDK, parver (the generated SDK's one dependency pulumi does
#   not bring) and setuptools and wheel (to build the generated SDK's wheel), pinned below. The Python language host (scripts/setup-language-hosts.sh) ignores the
#   `virtualenv` runtime option of Pulumi.yaml, so programs run with this venv activated.
# - `pulumi-gen-python` in the same bin: pulumi's Python SDK generator, built from Go modules
#   through the wrapper module scripts/pulumi-gen-python (github.com/pulumi/pulumi/pkg/v3 at the
#   version its go.mod requires, the one pulumi-yaml pins). `pulumi package gen-sdk --language
#   python` asks the language host to generate, which the buildable host cannot
#   ("GeneratePackage not implemented"); the generator called directly can.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "setup-pulumi-python: $*" >&2; }

PULUMI_PY_VERSION=3.272.0
PINS=("pulumi==$PULUMI_PY_VERSION" "parver==1.0.1.post0" "setuptools==84.2.1" "wheel==0.48.0")

cache=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator/pulumi-python-v$PULUMI_PY_VERSION
bin=$cache/bin
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

python=${PYTHON:-python3}
stamp="$cache/.installed"
if [ ! -x "$bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]; then
  command -v "$python" >/dev/null 2>&1 || { log "$python not found; install Python 3.9+ with the venv module"; exit 1; }
  log "installing ${PINS[*]} into $cache (first run only; usually about a minute)"
  rm -rf "$cache"
  "$python" -m venv "$cache" >&2
  "$bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${PINS[@]}" >&2
  "$bin/python" -c "import pulumi" || { log "the venv cannot import pulumi"; exit 1; }
  echo "${PINS[*]}" >"$stamp"
fi

gen_version=$(sed -n 's#^require github.com/pulumi/pulumi/pkg/v3 v\(.*\)$#\1#p' "$here/pulumi-gen-python/go.mod")
[ -n "$gen_version" ] || { log "scripts/pulumi-gen-python/go.mod requires no github.com/pulumi/pulumi/pkg/v3"; exit 1; }
want=$(cat "$here/pulumi-gen-python/go.mod" "$here/pulumi-gen-python/go.sum" "$here/pulumi-gen-python/main.go" | sha256sum | cut -c1-16)
if [ ! -x "$bin/pulumi-gen-python" ] || [ "$(cat "$bin/.pulumi-gen-python.stamp" 2>/dev/null)" != "$want" ]; then
  command -v go >/dev/null 2>&1 || { log "Go is needed to build pulumi-gen-python"; exit 1; }
  log "building pulumi-gen-python (pkg/v3 v$gen_version) from Go modules (first run only; usually 1 to 3 minutes on 2 cores)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$here/pulumi-gen-python/go.mod" "$here/pulumi-gen-python/go.sum" "$here/pulumi-gen-python/main.go" "$work/"
  started=$SECONDS
  (cd "$work" && GOFLAGS=-mod=mod GONOSUMDB=github.com/pulumi/pulumi GOTOOLCHAIN=local \
    go build -trimpath -ldflags "-s -w" -o "$bin/pulumi-gen-python.tmp" .)
  mv "$bin/pulumi-gen-python.tmp" "$bin/pulumi-gen-python"
  echo "$want" >"$bin/.pulumi-gen-python.stamp"
  log "built pulumi-gen-python in $((SECONDS - started)) s"
fi

log "pulumi (Python) $PULUMI_PY_VERSION and pulumi-gen-python ready in $bin"
echo "$bin"
