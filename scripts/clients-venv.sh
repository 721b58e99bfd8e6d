#!/usr/bin/env bash
# Idempotent: .venv-clients with the pinned clients of requirements-clients.txt (Xee, geedim and
# their numpy-2 stack), separate from .venv. A second run with the same requirements does nothing.
# Prints the environment's python on success.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${EEEXTRACT_CLIENTS_VENV:-.venv-clients}"
stamp="$venv/.requirements-$(sha1sum requirements-clients.txt | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "clients-venv: creating $venv" >&2
    /usr/bin/python3 -m venv "$venv"
  fi
  echo "clients-venv: installing requirements-clients.txt" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-clients.txt >&2
  rm -f "$venv"/.requirements-*
  touch "$stamp"
fi
echo "$(pwd)/$venv/bin/python"
