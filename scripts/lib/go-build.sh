# shellcheck shell=bash
# Sourced by the setup scripts that build a Go binary through a wrapper module in scripts/ (a
# go.mod, its go.sum and one .go file naming what to build). The caller defines `log`.

# The checksum database does not list every pulumi tag; the wrapper modules' committed go.sum pins
# the hashes instead. Give it to go_build_cached for a wrapper that builds from pulumi's modules.
GO_BUILD_PULUMI_ENV=GONOSUMDB=github.com/pulumi/pulumi

# go_build_hash WRAPPER_DIR: the cache key of a wrapper module (its go.mod, go.sum and .go file, in
# that order). The stamps in ~/.cache/token-rotator hold this value: computing it any other way
# rebuilds every cached binary once.
go_build_hash() {
  local wrapper=$1 source
  source=$(find "$wrapper" -maxdepth 1 -name '*.go' | sort)
  [ "$(printf '%s\n' "$source" | grep -c .)" = 1 ] || { log "$wrapper must hold exactly one .go file"; exit 1; }
  cat "$wrapper/go.mod" "$wrapper/go.sum" "$source" | sha256sum | cut -c1-16
}

# go_build_cached NAME WRAPPER_DIR BIN_DIR PACKAGE VERSION VERSION_VAR USUAL_TIME [VAR=VALUE...] [-- GO_BUILD_FLAG...]
#
# Builds NAME into BIN_DIR from PACKAGE unless the stamp BIN_DIR/.NAME.stamp holds the wrapper
# module's hash, which says the cached binary is current. The stamp is written last, so an
# interrupted build is redone. The binary is stripped and, when VERSION_VAR is not empty, has
# `vVERSION` stamped into that Go variable by the linker. VAR=VALUE pairs are set for `go build`
# (CGO_ENABLED=1 also asks for a C compiler first); the flags after `--` are added to it. USUAL_TIME
# is for the log only. Exits the calling script when the build cannot be done.
go_build_cached() {
  local name=$1 wrapper=$2 bin=$3 package=$4 version=$5 version_var=$6 usual=$7
  shift 7
  local -a env_vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env_vars+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  local stamp="$bin/.$name.stamp" want
  want=$(go_build_hash "$wrapper")
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    log "cached $name v$version in $bin"
    return
  fi
  command -v go >/dev/null 2>&1 || { log "Go is needed to build $name; install Go $(sed -n 's/^go //p' "$wrapper/go.mod")+"; exit 1; }
  if [[ " ${env_vars[*]} " == *" CGO_ENABLED=1 "* ]]; then
    command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || {
      log "a C compiler (cc or gcc) is needed to build $name: it uses cgo"
      exit 1
    }
  fi
  local ldflags="-s -w"
  [ -z "$version_var" ] || ldflags+=" -X $version_var=v$version"
  log "building $name v$version from Go modules into $bin (first run only; usually $usual on 2 cores, less with a warm Go cache)"
  local work started=$SECONDS
  work=$(mktemp -d)
  cp "$wrapper"/go.mod "$wrapper"/go.sum "$wrapper"/*.go "$work/"
  mkdir -p "$bin"
  (cd "$work" && env GOFLAGS=-mod=mod GOTOOLCHAIN=local "${env_vars[@]}" \
    go build -trimpath "$@" -ldflags "$ldflags" -o "$bin/$name.tmp" "$package") || { rm -rf "$work"; exit 1; }
  rm -rf "$work"
  mv "$bin/$name.tmp" "$bin/$name"
  echo "$want" >"$stamp"
  log "built $name in $((SECONDS - started)) s"
}
