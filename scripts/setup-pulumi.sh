#!/usr/bin/env bash
# Makes the Pulumi CLI available at the version of the installed @pulumi/pulumi package, and prints
# the directory that holds it (put that directory first on PATH).
#
# - A `pulumi` already on PATH is used as it is (set TOKEN_ROTATOR_BUILD_PULUMI=1 to build anyway).
# - Otherwise the CLI is built from Go modules through the wrapper module in scripts/pulumi-cli
#   (pulumi's own go.mod carries replace directives, so `go install …@version` cannot build it),
#   with the version stamped by the linker, and cached under ~/.cache/token-rotator/.
# - The dynamic provider plugin `pulumi-resource-pulumi-nodejs` ships inside @pulumi/pulumi and is
#   put next to the CLI.
#
# The Node.js language host (pulumi-language-nodejs) is not built: its Go module is not served by
# the module proxy this project can reach. Programs run through the Automation API with inline
# programs, where @pulumi/pulumi hosts the language runtime in-process (`pulumi up --client`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "setup-pulumi: $*" >&2; }

version=$(node -p "require('$root/node_modules/@pulumi/pulumi/package.json').version")
plugin_src="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"

if [ "${TOKEN_ROTATOR_BUILD_PULUMI:-0}" != 1 ] && command -v pulumi >/dev/null 2>&1; then
  dir=$(dirname "$(command -v pulumi)")
  if command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1; then
    log "using pulumi on PATH: $(pulumi version) in $dir"
    echo "$dir"
    exit 0
  fi
  log "pulumi on PATH ($dir) has no pulumi-resource-pulumi-nodejs beside it; building our own"
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator/pulumi-v$version
bin=$cache/bin
wrapper_hash=$(cat "$here/pulumi-cli/go.mod" "$here/pulumi-cli/go.sum" | sha256sum | cut -c1-16)

if [ -x "$bin/pulumi" ] && [ "$(cat "$cache/wrapper-hash" 2>/dev/null)" = "$wrapper_hash" ]; then
  log "cached pulumi v$version in $bin"
else
  command -v go >/dev/null 2>&1 || { log "Go is needed to build the Pulumi CLI; install Go 1.25+"; exit 1; }
  wrapper_version=$(sed -n 's#^require github.com/pulumi/pulumi/pkg/v3 v\(.*\)$#\1#p' "$here/pulumi-cli/go.mod")
  if [ "$wrapper_version" != "$version" ]; then
    log "scripts/pulumi-cli/go.mod pins pkg/v3 v$wrapper_version but @pulumi/pulumi is $version; update the wrapper"
    exit 1
  fi
  log "building pulumi v$version from Go modules (first run only; a few minutes)"
  mkdir -p "$bin"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$here/pulumi-cli/go.mod" "$here/pulumi-cli/go.sum" "$here/pulumi-cli/tools.go" "$work/"
  # The checksum database does not list every pulumi tag; go.sum (committed) pins the hashes instead.
  (cd "$work" && GOFLAGS=-mod=mod GONOSUMDB=github.com/pulumi/pulumi GOTOOLCHAIN=local \
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$bin/pulumi.tmp" "$bin/pulumi"
  echo "$wrapper_hash" > "$cache/wrapper-hash"
fi

# The plugin resolves @pulumi/pulumi from the program's directory at run time, so one copy serves
# every checkout of the same version.
install -m 0755 "$plugin_src" "$bin/pulumi-resource-pulumi-nodejs"

got=$("$bin/pulumi" version)
[ "$got" = "v$version" ] || { log "built pulumi reports $got, expected v$version"; exit 1; }
log "pulumi $got ready in $bin"
echo "$bin"
