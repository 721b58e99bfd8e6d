#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine: Debian packages when missing, then .venv with the
# pinned Python requirements. Every Makefile target runs it first; a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyqt5-dev-tools: pylupdate5, qttools5-dev-tools: lrelease (make translations)
DEBIAN_PACKAGES=(python3-qgis qgis-providers qgis python3-gdal gdal-bin python3-pyqt5 python3-venv
                 python3-pip xvfb xauth pyqt5-dev-tools qttools5-dev-tools)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=".venv/.requirements-$(sha1sum requirements.txt pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv from /usr/bin/python3 with --system-site-packages"
    /usr/bin/python3 -m venv --system-site-packages .venv
  fi
  echo "setup: installing Python requirements"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.requirements-*
  touch "$stamp"
fi
