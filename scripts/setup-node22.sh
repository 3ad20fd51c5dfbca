#!/usr/bin/env bash
# Node 22: see setup-node.sh (prints the directory holding its `node` on the last line).
exec bash "$(dirname "${BASH_SOURCE[0]}")/setup-node.sh" 22
