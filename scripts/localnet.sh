#!/usr/bin/env bash
# Builds Junction, writes a 4-validator testnet under ./localnet (once), and runs it until
# Ctrl-C, printing every node's height as blocks commit.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p junction-cli --bin junction
if [ ! -d localnet/node0 ]; then
  ./target/release/junction testnet init --validators 4 --out localnet
fi
exec ./target/release/junction testnet start localnet
