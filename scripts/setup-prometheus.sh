#!/usr/bin/env bash
# Installs Debian's Prometheus server, which the dashboard test runs against a testnet's
# metrics (nothing is started here). Quiet when it is already installed.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "prometheus is missing: install Debian's prometheus package (apt-get install prometheus)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# Debian's package starts nothing in a container, but stop a service it may have started.
if command -v service >/dev/null 2>&1; then
  service prometheus stop >/dev/null 2>&1 || true
fi
command -v prometheus
