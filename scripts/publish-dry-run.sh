#!/usr/bin/env bash
# `npm publish --dry-run` that fails on any warning: npm "auto-corrects" a manifest it finds wrong
# (a bin it cannot find is dropped from what it would publish) and only warns. The one warning
# allowed is the login a dry run does not need. Extra arguments go to npm (the tests pass
# --ignore-scripts; CI runs prepack, which cleans and rebuilds dist/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npm publish --dry-run "$@" 2>"$log" >/dev/null || { cat "$log" >&2; exit 1; }
warnings=$(grep -i '^npm warn' "$log" | grep -v 'requires you to be logged in' || true)
if [[ -n "$warnings" ]]; then
  echo "publish-dry-run: npm warned:" >&2
  echo "$warnings" >&2
  exit 1
fi
grep -E '^npm notice (name|version|package size|unpacked size|total files):' "$log" | sed 's/^npm notice /publish-dry-run: /'
