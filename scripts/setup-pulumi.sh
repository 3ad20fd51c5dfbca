#!/usr/bin/env bash
# Makes the Pulumi CLI and the Node.js language host available, and prints the directory that
# holds them on its last line (put that directory first on PATH). Cached under
# ~/.cache/token-rotator/; a second run takes about a second.
#
# - `pulumi`: built from Go modules through the wrapper module scripts/pulumi-cli, at the
#   github.com/pulumi/pulumi/pkg/v3 version its go.mod requires (pulumi's own go.mod carries
#   replace directives, so `go install …@version` cannot build it), the version stamped by the
#   linker. It does not follow the installed @pulumi/pulumi: one CLI serves every SDK version the
#   tests run (the CLI talks to SDKs over a versioned protocol).
# - `pulumi-language-nodejs`: built through scripts/pulumi-language-nodejs, from module
#   github.com/pulumi/pulumi/sdk/v3 v3.68.0, the last version that still contains it (later
#   versions moved it to a module the Go module proxy does not serve). It runs Pulumi.yaml
#   `runtime: nodejs` programs (`pulumi up` in a program directory).
# - `pulumi-resource-pulumi-nodejs` (the dynamic provider plugin) ships inside @pulumi/pulumi and
#   is put next to the CLI; it resolves @pulumi/pulumi from the program's directory at run time.
#
# A `pulumi` already on PATH with both companions beside it is used as it is (set
# TOKEN_ROTATOR_BUILD_PULUMI=1 to build anyway).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "setup-pulumi: $*" >&2; }

plugin_src="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[ -f "$plugin_src" ] || { log "$plugin_src is missing: run npm ci first"; exit 1; }

if [ "${TOKEN_ROTATOR_BUILD_PULUMI:-0}" != 1 ] && command -v pulumi >/dev/null 2>&1; then
  dir=$(dirname "$(command -v pulumi)")
  if [ -x "$dir/pulumi-language-nodejs" ] && [ -x "$dir/pulumi-resource-pulumi-nodejs" ]; then
    log "using pulumi on PATH: $(pulumi version) in $dir"
    echo "$dir"
    exit 0
  fi
  log "pulumi on PATH ($dir) lacks pulumi-language-nodejs or pulumi-resource-pulumi-nodejs beside it; building our own"
fi

required() { sed -n "s#^require $1 v\\(.*\\)\$#\\1#p" "$2"; }
cli_version=$(required github.com/pulumi/pulumi/pkg/v3 "$here/pulumi-cli/go.mod")
host_version=$(required github.com/pulumi/pulumi/sdk/v3 "$here/pulumi-language-nodejs/go.mod")
[ -n "$cli_version" ] || { log "scripts/pulumi-cli/go.mod has no 'require github.com/pulumi/pulumi/pkg/v3 vX' line"; exit 1; }
[ -n "$host_version" ] || { log "scripts/pulumi-language-nodejs/go.mod has no 'require github.com/pulumi/pulumi/sdk/v3 vX' line"; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator/pulumi-v$cli_version
bin=$cache/bin
mkdir -p "$bin"
# Two test runs may start at once: one builds, the other waits and then finds the stamps.
exec 9>"$cache.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

. "$here/lib/go-build.sh"

version_var=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
go_build_cached pulumi "$here/pulumi-cli" "$bin" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "$cli_version" "$version_var" "5 to 10 minutes" "$GO_BUILD_PULUMI_ENV"
go_build_cached pulumi-language-nodejs "$here/pulumi-language-nodejs" "$bin" \
  github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
  "$host_version" "$version_var" "about 75 s" "$GO_BUILD_PULUMI_ENV"

# The plugin is a shell script that resolves @pulumi/pulumi from the program's directory, so one
# copy serves every program and SDK version.
install -m 0755 "$plugin_src" "$bin/pulumi-resource-pulumi-nodejs"

got=$("$bin/pulumi" version)
[ "$got" = "v$cli_version" ] || { log "built pulumi reports $got, expected v$cli_version"; exit 1; }
log "pulumi $got and pulumi-language-nodejs v$host_version ready in $bin"
echo "$bin"
