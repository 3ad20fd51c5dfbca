#!/usr/bin/env bash
# Installs the tools the integration and e2e tests need, each cached under ~/.cache/token-rotator:
# moto's server (a Python venv) and the Pulumi CLI (built from Go modules). Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
echo "moto_server: $(bash "$here/setup-moto.sh" | tail -n 1)"
echo "pulumi: $(bash "$here/setup-pulumi.sh" | tail -n 1)"
