# EE Extract. Every target runs `setup` first (idempotent: installs only what is missing).
SHELL := /bin/bash
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test demo bench lint format sandbox clean package translations

setup:
	@bash scripts/setup.sh

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) -m eeextract_plugin.cli demo --output demo-output

bench: setup
	$(PY) -m bench

lint: setup
	$(PY) -m ruff check eeextract_plugin tests bench

format: setup
	$(PY) -m ruff format eeextract_plugin tests bench

# The plugin ZIP for QGIS's "Install from ZIP" and a plugins.xml (custom repository):
# dist/eeextract_plugin-<version>.zip. BASE_URL=https://host/path/ sets where plugins.xml says
# the ZIP is served (default: the dist folder as a file:// URL).
package: setup translations
	$(PY) scripts/package.py

# The QGIS side's strings into i18n/eeextract_<locale>.ts (pylupdate5), compiled into .qm files
# (lrelease; built, not committed). `$(PY) scripts/translations.py --new es` starts a language,
# `--check` lists what is left to translate.
translations: setup
	$(PY) scripts/translations.py

sandbox: setup
	$(PY) -m eeextract_plugin.sandbox --port 8765

clean:
	rm -rf demo-output bench-output .pytest_cache .ruff_cache build/package dist i18n/*.qm
