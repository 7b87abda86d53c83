#!/usr/bin/env bash
# Installs iproute2, with which the genesis-ceremony test makes one network namespace per
# organization (and a switch between them) inside its own sandbox. Quiet when present.
set -euo pipefail
if command -v ip >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ip is missing: install Debian's iproute2 package (apt-get install iproute2)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends iproute2 >/dev/null
command -v ip
