#!/usr/bin/env bash
# Runs every check and test of the workspace: format, lints, unit and property tests,
# test vectors, and the end-to-end tests that start real validator processes on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

export JUNCTION_VECTORS="${JUNCTION_VECTORS:-$(cd .. && pwd)/shared/vectors}"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest not found: installing it"
  cargo install --locked cargo-nextest
fi

# The EVM gateway tests need anvil and solc-js from the pinned npm packages.
bash scripts/setup-evm.sh >/dev/null
# The reference adapter plugin (Python) runs in its own virtual environment; its unit
# tests run here, the end-to-end and conformance tests through the Rust tests below.
python=$(bash scripts/setup-plugin.sh | tail -1)
"$python" -m unittest discover -s adapters/plugins/evm-python -q
# Dashboards are checked against a real Prometheus.
bash scripts/setup-prometheus.sh >/dev/null
# The genesis ceremony runs four organizations in network namespaces.
bash scripts/setup-netns.sh >/dev/null

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The end-to-end tests run the real binary.
cargo build -p junction-cli --bin junction
cargo nextest run --workspace --no-fail-fast
