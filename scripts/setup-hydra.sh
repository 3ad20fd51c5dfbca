#!/usr/bin/env bash
# Makes Ory Hydra (an OAuth 2.0 server) available for the integration tests of the private_key_jwt
# and jwt-bearer issuers, and prints its path on its last line. Cached under
# ~/.cache/token-rotator/; a second run takes about a second.
#
# Built from Go modules through the wrapper module scripts/hydra, at the github.com/ory/hydra/v2
# version its go.mod requires, with `-tags sqlite` so that it runs with DSN=memory (an in-memory
# SQLite database, no server to run beside it). The sqlite driver is cgo: a C compiler is needed.
# The tests start it themselves (test/integration/issuers/hydra.test.ts), on 127.0.0.1 only.
#
# A `hydra` named by TOKEN_ROTATOR_HYDRA is used as it is.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "setup-hydra: $*" >&2; }

if [ -n "${TOKEN_ROTATOR_HYDRA:-}" ]; then
  [ -x "$TOKEN_ROTATOR_HYDRA" ] || { log "TOKEN_ROTATOR_HYDRA=$TOKEN_ROTATOR_HYDRA is not an executable"; exit 1; }
  log "using $TOKEN_ROTATOR_HYDRA"
  echo "$TOKEN_ROTATOR_HYDRA"
  exit 0
fi

version=$(sed -n 's#^require github.com/ory/hydra/v2 v\(.*\)$#\1#p' "$here/hydra/go.mod")
[ -n "$version" ] || { log "scripts/hydra/go.mod has no 'require github.com/ory/hydra/v2 vX' line"; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator/hydra-v$version
bin=$cache/bin
mkdir -p "$bin"
# Two test runs may start at once: one builds, the other waits and then finds the stamp.
exec 9>"$cache.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

. "$here/lib/go-build.sh"

# sqlite_omit_load_extension: as Hydra's own Makefile builds it (no dlopen of SQLite extensions).
go_build_cached hydra "$here/hydra" "$bin" github.com/ory/hydra/v2 \
  "$version" github.com/ory/hydra/v2/driver/config.Version "3 to 5 minutes" CGO_ENABLED=1 \
  -- -tags sqlite,sqlite_omit_load_extension

got=$("$bin/hydra" version | sed -n 's/^Version:[[:space:]]*//p')
[ "$got" = "v$version" ] || { log "built hydra reports version '$got', expected v$version"; exit 1; }
echo "$bin/hydra"
