#!/usr/bin/env bash
# Creates the virtual environment of the Python EVM adapter plugin
# (adapters/plugins/evm-python/.venv) with its pinned requirements, and prints the path of its
# python on the last line. Idempotent: does nothing when the venv already holds exactly the
# requirements file it was made from.
set -euo pipefail
cd "$(dirname "$0")/../adapters/plugins/evm-python"

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "python3 is missing: install Python 3.9 or later to run the EVM adapter plugin" >&2
  exit 1
fi

venv="$PWD/.venv"
stamp="$venv/.junction-requirements"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] || ! cmp -s requirements.txt "$stamp"; then
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-virtualenv -r requirements.txt >&2
  cp requirements.txt "$stamp"
fi
echo "$venv/bin/python"
