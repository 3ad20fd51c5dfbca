#!/usr/bin/env bash
# Generates the SDKs of the token-rotator provider plugin from its schema and builds the Python
# wheel; prints the wheel's path on its last line. Run after the TypeScript build (the schema
# comes from dist/plugin/schema.js, the code the plugin serves it from). Written beside dist/, not
# in it: the npm package carries parts of dist/ and none of the SDKs.
#
#   dist-sdk/schema.json                  the package schema
#   dist-sdk/python/                      the Python package (pyproject.toml, pulumi_token_rotator/)
#   dist-sdk/python/dist/*.whl            its wheel
#   dist-sdk/go/                          the Go module github.com/token-rotator/token-rotator/sdk/go
#                                         (package tokenrotator)
#   dist-sdk/nodejs/                      the Node.js package @token-rotator/pulumi (TypeScript
#                                         sources; `npm install && npm run build` compiles it)
#
# Not generated: .NET and Java (their generators are not in the Go module the others come from;
# docs/plugin.md says more).
#
# The generator and the Python tools come from scripts/setup-sdk-tools.sh (cached).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "build-sdks: $*" >&2; }

[ -f "$root/dist/plugin/schema.js" ] || { log "dist/plugin/schema.js is missing: run npm run build first"; exit 1; }
bin=$(bash "$here/setup-sdk-tools.sh" | tail -n 1)
out=$root/dist-sdk
rm -rf "$out"
mkdir -p "$out/python" "$out/go" "$out/nodejs"
(cd "$root" && node -e '
  const { version } = require("./package.json");
  const { packageSchema } = require("./dist/plugin/schema.js");
  process.stdout.write(JSON.stringify(packageSchema(version), null, 2) + "\n");
') >"$out/schema.json"

"$bin/pulumi-gen-sdk" python "$out/schema.json" "$out/python"
# No build isolation: setuptools and wheel come from the venv (pinned), not a fresh download.
"$bin/python" -m pip wheel --quiet --disable-pip-version-check --no-input --no-deps --no-build-isolation \
  -w "$out/python/dist" "$out/python" >&2
wheel=$(ls "$out"/python/dist/pulumi_token_rotator-*.whl)

"$bin/pulumi-gen-sdk" go "$out/schema.json" "$out/go"
# The generated package has no go.mod: the module its import path names, requiring the Pulumi Go
# SDK at the version the generator comes from.
sdk_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi/sdk/v3 v\([^ ]*\).*$#\1#p' "$here/pulumi-gen-sdk/go.mod")
cat >"$out/go/go.mod" <<GOMOD
module github.com/token-rotator/token-rotator/sdk/go

go 1.25

require github.com/pulumi/pulumi/sdk/v3 v$sdk_version
GOMOD

"$bin/pulumi-gen-sdk" nodejs "$out/schema.json" "$out/nodejs"

log "generated the Python SDK (dist-sdk/python, $(basename "$wheel")), the Go SDK (dist-sdk/go) and the Node.js SDK (dist-sdk/nodejs)"
echo "$wheel"
