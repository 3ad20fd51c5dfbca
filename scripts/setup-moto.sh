#!/usr/bin/env bash
# Installs moto's server (the local AWS the integration and e2e tests talk to) into a cached
# Python venv and prints the path of its `moto_server` executable on the last line.
#
# Idempotent: when the venv already holds the pinned version, nothing is installed and the run
# takes about a second. `MOTO_SERVER=/path/to/moto_server` skips the install and uses that binary.
# Needs python3 (3.9+) with the venv module; pip uses whatever index the machine is set up for.
set -euo pipefail

# Pinned so that every machine and CI run test against the same moto behaviour.
MOTO_VERSION=5.2.5
# moto[server] leaves its web stack and boto open; these are the versions the pinned moto was
# tested with, so a clean machine resolves to a server known to start and behave the same.
EXTRA_PINS=("flask==3.1.3" "flask-cors==6.0.5" "werkzeug==3.1.9" "boto3==1.44.5" "botocore==1.44.5")
# What the stamp records: a change of any pin reinstalls.
WANTED="moto[server]==$MOTO_VERSION ${EXTRA_PINS[*]}"

if [[ -n "${MOTO_SERVER:-}" ]]; then
  if [[ ! -x "$MOTO_SERVER" ]]; then
    echo "setup-moto: MOTO_SERVER=$MOTO_SERVER is not an executable file" >&2
    exit 1
  fi
  echo "$MOTO_SERVER"
  exit 0
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/token-rotator"
venv="$cache_root/moto-$MOTO_VERSION"
bin="$venv/bin/moto_server"
stamp="$venv/.installed"

# The stamp is written last, so an install that was interrupted is redone, not trusted.
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$WANTED" ]]; then
  echo "$bin"
  exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-moto: $python not found; install Python 3.9+ with the venv module" >&2
  exit 1
fi

mkdir -p "$cache_root"
# Two test runs may start at once: one installs, the other waits for it and then finds the stamp.
# (venv scripts carry the venv's absolute path, so the venv is built in place, not moved there.)
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$WANTED" ]]; then
  echo "$bin"
  exit 0
fi

echo "setup-moto: installing moto[server]==$MOTO_VERSION into $venv (first run only; usually about 2 minutes)" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  "moto[server]==$MOTO_VERSION" "${EXTRA_PINS[@]}" >&2
"$venv/bin/python" -c "import moto, sys; sys.exit(0 if moto.__version__ == '$MOTO_VERSION' else 1)"
echo "$WANTED" >"$stamp"
echo "$bin"
