#!/usr/bin/env bash
# Makes the tools that generate the provider plugin's SDKs and run its Python programs, and prints
# the directory that holds them on its last line (a venv's bin: put it first on PATH and set VIRTUAL_ENV to its parent,
# as `activate` does). Cached under ~/.cache/token-rotator/; a second run takes about a second.
#
# - a venv with the `pulumi` Python SDK (which brings every dependency of the generated SDK) and
#   setuptools and wheel (to build the generated SDK's wheel), pinned below. The Python language
#   host (scripts/setup-language-hosts.sh) ignores the `virtualenv` runtime option of Pulumi.yaml,
#   so programs run with this venv activated.
# - `pulumi-gen-sdk` in the same bin: pulumi's SDK generators (Python, Go, Node.js), built
#   from Go modules through the wrapper module scripts/pulumi-gen-sdk (github.com/pulumi/pulumi/pkg/v3
#   at the version its go.mod requires, the CLI's: scripts/pulumi-gen-sdk/main.go says why not
#   older). `pulumi package gen-sdk --language python` asks the language host to generate, which
#   the buildable host cannot ("GeneratePackage not implemented"); the generators called directly can.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "setup-sdk-tools: $*" >&2; }

PULUMI_PY_VERSION=3.272.0
PINS=("pulumi==$PULUMI_PY_VERSION" "setuptools==84.2.1" "wheel==0.48.0")

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

gen_version=$(sed -n 's#^require github.com/pulumi/pulumi/pkg/v3 v\(.*\)$#\1#p' "$here/pulumi-gen-sdk/go.mod")
[ -n "$gen_version" ] || { log "scripts/pulumi-gen-sdk/go.mod requires no github.com/pulumi/pulumi/pkg/v3"; exit 1; }
. "$here/lib/go-build.sh"
go_build_cached pulumi-gen-sdk "$here/pulumi-gen-sdk" "$bin" . "$gen_version" "" "1 to 3 minutes" "$GO_BUILD_PULUMI_ENV"

log "pulumi (Python) $PULUMI_PY_VERSION and pulumi-gen-sdk ready in $bin"
echo "$bin"
