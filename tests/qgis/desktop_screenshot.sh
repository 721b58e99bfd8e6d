#!/usr/bin/env bash
# The README screenshots: the real QGIS desktop under Xvfb, the plugin installed in a temporary
# profile (symlink), a job run against the embedded sandbox, captured with `import -window root`.
# Usage: tests/qgis/desktop_screenshot.sh  (writes docs/screenshot-dock.png, docs/screenshot-jobs.png;
#        EEX_SHOT_OUT=<folder> writes them there instead)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=${EEX_SHOT_OUT:-$REPO/docs}
WORK=$(mktemp -d /tmp/eeextract-shot.XXXXXX)
PROFILES=$WORK/profiles
mkdir -p "$PROFILES/profiles/default/python/plugins" "$PROFILES/profiles/default/QGIS"
ln -s "$REPO/eeextract_plugin" "$PROFILES/profiles/default/python/plugins/eeextract_plugin"
cat > "$PROFILES/profiles/default/QGIS/QGIS3.ini" <<INI
[PythonPlugins]
eeextract_plugin=true

[eeextract]
mode=sandbox
project=sandbox
concurrency=16
output_folder=$WORK/output

[qgis]
showTips322=false
checkVersion=false
INI
export EEX_SHOT_WORK=$WORK
export EEX_SHOT_ZONAL=${EEX_SHOT_ZONAL:-1} EEX_SHOT_ZONAL_ENGINE=${EEX_SHOT_ZONAL_ENGINE:-rasterstats}
# QGIS runs the system Python: let it see the venv's packages (earthengine-api, pyproj, ...),
# except shapely: PyPI's wheel bundles GEOS 3.14, and inside the QGIS process its symbols resolve
# to QGIS's own libgeos (3.11): polygons come out with garbage Z values ("Invalid GeoJSON
# geometry"). A shapely built against the system GEOS goes first on the path (built once, cached;
# needs libgeos-dev). The exactextract wheel crashes QGIS the same way, hence rasterstats below.
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/eeextract
PYLIB=$CACHE/qgis-pylib
SITE=$CACHE/qgis-site
VENV_SITE=$REPO/.venv/lib/python3.11/site-packages
if [ ! -d "$PYLIB/shapely" ]; then
  echo "building shapely against the system GEOS (needs libgeos-dev) into $PYLIB"
  "$REPO/.venv/bin/python" -m pip install -q --disable-pip-version-check --no-binary shapely \
      --no-deps --target "$PYLIB" "shapely==$("$REPO/.venv/bin/python" -c 'import shapely; print(shapely.__version__)')"
fi
rm -rf "$SITE" && mkdir -p "$SITE"
for entry in "$VENV_SITE"/*; do
  case "$(basename "$entry")" in
    shapely*|*.pth|__pycache__) ;;
    *) ln -s "$entry" "$SITE/" ;;
  esac
done
export PYTHONPATH="$PYLIB:$SITE${PYTHONPATH:+:$PYTHONPATH}"
unset QT_QPA_PLATFORM
xvfb-run -a -s "-screen 0 1600x1000x24" bash -c '
  qgis --profiles-path "'"$PROFILES"'" --noversioncheck --nologo --code "'"$REPO"'/tests/qgis/desktop_screenshot.py" \
      >"'"$WORK"'/qgis.log" 2>&1 &
  QPID=$!
  for i in $(seq 1 240); do [ -f "'"$WORK"'/ready1" ] && break; sleep 0.5; done
  import -window root "'"$OUT"'/screenshot-dock.png"
  touch "'"$WORK"'/shot1"
  for i in $(seq 1 60); do [ -f "'"$WORK"'/ready2" ] && break; sleep 0.5; done
  import -window root "'"$OUT"'/screenshot-jobs.png"
  kill $QPID || true
  wait $QPID || true
'
echo "job state: $(cat "$WORK/state.txt" 2>/dev/null || echo unknown)"
echo "work folder: $WORK"
