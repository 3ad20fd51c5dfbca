#!/usr/bin/env bash
# Generates the Python SDK of the token-rotator provider plugin from its schema and builds its
# wheel; prints the wheel's path on its last line. Run after the TypeScript build (the schema
# comes from dist/plugin/schema.js, the code the plugin serves it from).
#
#   dist/sdk/schema.json                  the package schema
#   dist/sdk/python/                      the generated package (pyproject.toml, pulumi_token_rotator/)
#   dist/sdk/python/dist/*.whl            its wheel
#
# The generator and the Python tools come from scripts/setup-pulumi-python.sh (cached).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "build-python-sdk: $*" >&2; }

[ -f "$root/dist/plugin/schema.js" ] || { log "dist/plugin/schema.js is missing: run npm run build first"; exit 1; }
bin=$(bash "$here/setup-pulumi-python.sh" | tail -n 1)
out=$root/dist/sdk
rm -rf "$out/python"
mkdir -p "$out/python"
(cd "$root" && node -e '
  const { version } = require("./package.json");
  const { packageSchema } = require("./dist/plugin/schema.js");
  process.stdout.write(JSON.stringify(packageSchema(version), null, 2) + "\n");
') >"$out/schema.json"
"$bin/pulumi-gen-python" "$out/schema.json" "$out/python"
# No build isolation: setuptools and wheel come from the venv (pinned), not a fresh download.
"$bin/python" -m pip wheel --quiet --disable-pip-version-check --no-input --no-deps --no-build-isolation \
  -w "$out/python/dist" "$out/python" >&2
wheel=$(ls "$out"/python/dist/pulumi_token_rotator-*.whl)
log "generated the Python SDK in dist/sdk/python and built $(basename "$wheel")"
echo "$wheel"
