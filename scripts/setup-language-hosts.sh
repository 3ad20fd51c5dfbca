#!/usr/bin/env bash
# Makes the YAML and Python language hosts available beside the Pulumi CLI of
# scripts/setup-pulumi.sh (the CLI finds hosts beside itself without the warnings it prints for
# hosts found on PATH), and prints that directory on its last line. Cached under
# ~/.cache/token-rotator/; a second run takes about a second.
#
# - `pulumi-language-yaml`: built through the wrapper module scripts/pulumi-language-yaml, at the
#   github.com/pulumi/pulumi-yaml version its go.mod requires. It runs `runtime: yaml` programs,
#   which need no SDK: the engine hands them the provider plugin's schema.
# - `pulumi-language-python`: built through scripts/pulumi-language-python, from module
#   github.com/pulumi/pulumi/sdk/v3 v3.68.0 (the last version of that module that contains it),
#   with its `pulumi-language-python-exec` script copied beside it (the host runs programs
#   through it). Programs need the `pulumi` package in the Python that runs them
#   (scripts/setup-python-sdk.sh makes such a venv).
#
# A `pulumi` on PATH that already has both hosts beside it is used as it is.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "setup-language-hosts: $*" >&2; }

bin=$(bash "$here/setup-pulumi.sh" | tail -n 1)
[ -d "$bin" ] || { log "scripts/setup-pulumi.sh printed no directory"; exit 1; }
if [ ! -f "$bin/.pulumi.stamp" ]; then
  # A CLI installed by someone else: use its hosts, never build into its directory.
  if [ -x "$bin/pulumi-language-yaml" ] && [ -x "$bin/pulumi-language-python" ]; then
    log "using the language hosts beside $bin/pulumi"
    echo "$bin"
    exit 0
  fi
  log "$bin/pulumi lacks pulumi-language-yaml or pulumi-language-python beside it; set TOKEN_ROTATOR_BUILD_PULUMI=1 to use a CLI built here, with both"
  exit 1
fi

exec 9>"$bin/.language-hosts.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

required() { sed -n "s#^require $1 v\\(.*\\)\$#\\1#p" "$2"; }
. "$here/lib/go-build.sh"

yaml_version=$(required github.com/pulumi/pulumi-yaml "$here/pulumi-language-yaml/go.mod")
python_version=$(required github.com/pulumi/pulumi/sdk/v3 "$here/pulumi-language-python/go.mod")
[ -n "$yaml_version" ] || { log "scripts/pulumi-language-yaml/go.mod has no 'require github.com/pulumi/pulumi-yaml vX' line"; exit 1; }
[ -n "$python_version" ] || { log "scripts/pulumi-language-python/go.mod has no 'require github.com/pulumi/pulumi/sdk/v3 vX' line"; exit 1; }

go_build_cached pulumi-language-yaml "$here/pulumi-language-yaml" "$bin" \
  github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
  "$yaml_version" github.com/pulumi/pulumi-yaml/pkg/version.Version "about 2 to 3 minutes" "$GO_BUILD_PULUMI_ENV"
go_build_cached pulumi-language-python "$here/pulumi-language-python" "$bin" \
  github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python \
  "$python_version" github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "about 75 s" "$GO_BUILD_PULUMI_ENV"

# The exec script ships in the same module; the Go build above downloaded it.
exec_src="$(GOFLAGS=-mod=mod go env GOMODCACHE)/github.com/pulumi/pulumi/sdk/v3@v$python_version/python/cmd/pulumi-language-python-exec"
[ -f "$exec_src" ] || { log "$exec_src is missing from the Go module cache"; exit 1; }
install -m 0755 "$exec_src" "$bin/pulumi-language-python-exec"

log "pulumi-language-yaml v$yaml_version and pulumi-language-python v$python_version ready in $bin"
echo "$bin"
