#!/usr/bin/env bash
# Installs the pinned EVM toolchain (solc-js, anvil) from adapters/evm/package-lock.json into
# adapters/evm/node_modules, and prints the anvil path. Idempotent: does nothing when
# node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../adapters/evm"

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 18 or later to build and test the EVM gateway" >&2
  exit 1
fi

anvil="$PWD/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
stamp="node_modules/.junction-lock"
if [ ! -x "$anvil" ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --silent >&2
  cp package-lock.json "$stamp"
fi
if [ ! -x "$anvil" ]; then
  echo "anvil is missing after npm ci: this toolchain needs linux-amd64" >&2
  exit 1
fi
echo "$anvil"
