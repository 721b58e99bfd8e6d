"""The plugin ZIP: built by scripts/package.py, installed into a fresh QGIS profile and run by
Debian's QGIS with its system Python only (python3-qgis and its dependencies: no project venv, no
pip package on the path) against the sandbox this test session serves.

``qgis_process.bin`` runs extract_image and zonal_statistics; a start-up script in that QGIS
refuses shapely, pyproj, exactextract, rasterstats, rasterio and the public names of the vendored
packages (``ee``, ``google``, ``googleapiclient``), and records every import of the other
vendored names (and, apart, mere look-ups with importlib.util.find_spec), so the test also shows that the plugin needs none of them and that its copies
load under private names only."""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

REPO = Path(__file__).resolve().parents[2]
WHEEL_CACHE = Path(os.environ.get("EEEXTRACT_WHEEL_CACHE", REPO / "build" / "wheels"))
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
SYSTEM_PYTHON = "/usr/bin/python3"
REFUSED = ("shapely", "pyproj", "exactextract", "rasterstats", "rasterio", "ee", "google",
           "googleapiclient")
WATCHED = REFUSED + ("requests", "urllib3", "httplib2", "certifi", "idna", "pyparsing",
                     "uritemplate", "cachetools", "rsa", "pyasn1", "pyasn1_modules", "proto",
                     "charset_normalizer", "google_auth_httplib2")

STARTUP = f'''
import os, sys
# System Python only: drop anything pip could have put on the path.
sys.path[:] = [p for p in sys.path
               if "site-packages" not in p and "/usr/local/" not in p and "/.local/" not in p]
REFUSED = {set(REFUSED)!r}
WATCHED = {set(WATCHED)!r}

class _Watch:
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED:
            # importlib.util.find_spec only looks (the zonal engine check): allowed, logged apart
            frame, lookup = sys._getframe(1), False
            while frame is not None:
                code = frame.f_code
                if code.co_name == "find_spec" and code.co_filename.endswith(("importlib/util.py", "importlib.util>")):
                    lookup = True
                    break
                frame = frame.f_back
            with open(os.environ["EEX_IMPORTS_LOG"], "a") as fh:
                fh.write(("lookup:" if lookup else "") + name + "\\n")
            if name in REFUSED and not lookup:
                raise ImportError(name + " is not in a stock QGIS (refused by the test)")
        return None

sys.meta_path.insert(0, _Watch())
open(os.environ["EEX_IMPORTS_LOG"], "a").close()  # proof that this script ran
'''


def _package_module():
    spec = importlib.util.spec_from_file_location("eeextract_package", REPO / "scripts" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    stage = tmp_path_factory.mktemp("stage")
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "package.py"), "--dist", str(dist),
                           "--stage", str(stage), "--wheels", str(WHEEL_CACHE),
                           "--base-url", "https://plugins.example.org/eeextract/"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    version = _package_module().read_metadata(REPO / "metadata.txt")["version"]
    path = dist / f"eeextract_plugin-{version}.zip"
    assert path.is_file()
    return path


def test_the_zip_holds_the_plugin_and_pure_python_packages_only(plugin_zip):
    pkg = _package_module()
    with zipfile.ZipFile(plugin_zip) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert {n.split("/")[0] for n in names} == {"eeextract_plugin"}
        for must in ("eeextract_plugin/__init__.py", "eeextract_plugin/metadata.txt",
                     "eeextract_plugin/resources/icon.svg", "eeextract_plugin/_vendor/VENDORED.txt",
                     "eeextract_plugin/_vendor/ee/__init__.py"):
            assert must in names, must
        # no compiled extension, no symlink, no tests, no caches
        assert not [n for n in names if n.lower().endswith(pkg.COMPILED_SUFFIXES)]
        assert not [i.filename for i in infos if (i.external_attr >> 16) & 0o170000 == 0o120000]
        assert not [n for n in names if set(n.split("/")[:-1]) & {"tests", "test", "__pycache__"}]
        assert not [n for n in names if n.endswith((".pyc", ".pyo"))]
        # every pinned package is there, with its licence
        listing = zf.read("eeextract_plugin/_vendor/VENDORED.txt").decode()
        for name, version in pkg.pinned_requirements():
            assert f"{name}=={version}" in listing, name
            licences = [n for n in names if n.startswith(f"eeextract_plugin/_vendor/licenses/{name}-{version}/")]
            assert any("/METADATA" not in n for n in licences), f"no licence text for {name}"
        # no import of a vendored package under its public name is left anywhere
        tops = {n.split("/")[2].removesuffix(".py") for n in names
                if n.startswith("eeextract_plugin/_vendor/") and n.count("/") >= 2} - {
                    "licenses", "__init__", "VENDORED.txt"}
        assert {"ee", "google", "googleapiclient", "requests", "httplib2"} <= tops
        public = []
        for n in names:
            if not n.endswith(".py"):
                continue
            tree = ast.parse(zf.read(n))
            for node in ast.walk(tree):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                        [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                        else [])
                public += [f"{n}: {m}" for m in mods if m.split(".")[0] in tops]
        assert not public, public[:10]
        metadata = zf.read("eeextract_plugin/metadata.txt").decode()
        assert "qgisMinimumVersion=3.22" in metadata
    xml = ElementTree.parse(plugin_zip.with_name("plugins.xml")).getroot()
    plugin = xml.find("pyqgis_plugin")
    assert plugin.get("plugin_id") == "eeextract_plugin"
    assert plugin.findtext("download_url") == f"https://plugins.example.org/eeextract/{plugin_zip.name}"
    assert plugin.findtext("file_name") == plugin_zip.name


def test_translations_are_packed_when_present(tmp_path):
    """Compiled translations (i18n/*.qm) go into the plugin folder's i18n/."""
    pkg = _package_module()
    root = tmp_path / "repo"
    shutil.copytree(REPO / "eeextract_plugin", root / "eeextract_plugin", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "_vendor"))
    shutil.copyfile(REPO / "metadata.txt", root / "metadata.txt")
    (root / "i18n").mkdir()
    (root / "i18n" / "eeextract_fr.qm").write_bytes(b"\x3c\xb8\x64\x18qm")
    zip_path = pkg.build(tmp_path / "dist", WHEEL_CACHE, stage_root=tmp_path / "stage", root=root)
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read("eeextract_plugin/i18n/eeextract_fr.qm") == b"\x3c\xb8\x64\x18qm"


def test_the_zip_carries_the_translations(plugin_zip):
    """Every committed translation, compiled, in the plugin folder's i18n/ (where the plugin
    looks for it)."""
    with zipfile.ZipFile(plugin_zip) as zf:
        names = set(zf.namelist())
        for ts in sorted((REPO / "i18n").glob("eeextract_*.ts")):
            qm = f"eeextract_plugin/i18n/{ts.stem}.qm"
            assert qm in names, qm
            assert zf.read(qm)[:4] == b"\x3c\xb8\x64\x18"  # a Qt .qm file


# ------------------------------------------------------------------ Debian's QGIS, system Python
@pytest.fixture(scope="module")
def stock_qgis(plugin_zip, tmp_path_factory):
    """A fresh profile with the ZIP unpacked where "Install from ZIP" puts it, enabled."""
    if not os.access(QGIS_PROCESS, os.X_OK):
        pytest.skip("Debian's qgis_process is not installed")
    root = tmp_path_factory.mktemp("stock-qgis")
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(plugins)
    startup = root / "startup.py"
    startup.write_text(STARTUP)
    imports_log = root / "imports.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "LD_PRELOAD")
           and not k.startswith(("EEEXTRACT_", "QGIS_"))}
    env.update({"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "QT_QPA_PLATFORM": "offscreen",
                "QGIS_CUSTOM_CONFIG_PATH": str(root), "PYQGIS_STARTUP": str(startup),
                "EEX_IMPORTS_LOG": str(imports_log), "PYTHONDONTWRITEBYTECODE": "1"})
    done = subprocess.run([QGIS_PROCESS, "plugins", "enable", "eeextract_plugin"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return env, imports_log


def _run(stock_qgis, algorithm, params, extra_env=None):
    env, _ = stock_qgis
    args = [QGIS_PROCESS, "--json", "run", f"eeextract:{algorithm}", "--"]
    args += [f"{k}={v}" for k, v in params.items()]
    done = subprocess.run(args, env=dict(env, **(extra_env or {})), capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout[done.stdout.index("{"):])


def _zones(path: Path) -> Path:
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("zone", ogr.OFTString))
    for zone, (x0, y0, x1, y1) in {"west": (7.0, 46.0, 7.01, 46.01),
                                   "east": (7.01, 46.0, 7.02, 46.01)}.items():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("zone", zone)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(
            f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"))
        layer.CreateFeature(feature)
    feature = layer = None
    ds = None
    return path


def test_stock_qgis_extracts_an_image_and_computes_zonal_statistics(stock_qgis, sandbox_url, tmp_path):
    """The ZIP in Debian's QGIS with nothing but its system Python: pixels as the command line
    (the venv's earthengine-api and the same core) gets them, and QGIS's zonal statistics."""
    from eeextract_plugin.core import session as core_session
    from eeextract_plugin.core.runner import run_job
    from eeextract_plugin.core.spec import JobSpec

    sandbox = {"EEEXTRACT_URL": sandbox_url, "EEEXTRACT_PROJECT": "sandbox"}
    out = _run(stock_qgis, "extract_image", {"ASSET": "SANDBOX/DEM",
                                             "EXTENT": "7.0,7.02,46.0,46.01 [EPSG:4326]",
                                             "OUTPUT": tmp_path / "dem.tif"}, sandbox)
    assert out["results"]["OUTPUT"] == str(tmp_path / "dem.tif")
    in_qgis = gdal.Open(str(tmp_path / "dem.tif"))
    pixels = in_qgis.ReadAsArray()
    assert pixels.shape == (36, 72) and pixels.std() > 0

    # The same extraction from this (venv) process: the pixels are the same.
    spec = JobSpec.from_dict({"version": 1, "name": "ref", "kind": "mosaic",
                              "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
                              "region": {"type": "bbox", "bbox": [7.0, 46.0, 7.02, 46.01]},
                              "output": {"directory": str(tmp_path / "ref")}})
    session = core_session.initialise(core_session.SessionConfig(project="sandbox", credentials="none",
                                                                 url=sandbox_url))
    result = run_job(spec, session, workdir=tmp_path / "work")
    reference = gdal.Open(result.rasters[0])
    np.testing.assert_array_equal(pixels, reference.ReadAsArray())
    assert in_qgis.GetGeoTransform() == reference.GetGeoTransform()

    zones = _zones(tmp_path / "zones.gpkg")
    out = _run(stock_qgis, "zonal_statistics", {
        "INPUT": tmp_path / "dem.tif", "ZONES": zones, "ID_FIELD": "zone",
        "STATISTICS": "count,mean,min,max", "OUTPUT_TABLE": tmp_path / "stats.csv",
        "OUTPUT": tmp_path / "zones_out.gpkg"})
    with open(out["results"]["OUTPUT_TABLE"], newline="") as fh:
        rows = {r["zone"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"west", "east"}
    gt = in_qgis.GetGeoTransform()
    band = in_qgis.GetRasterBand(1).GetDescription() or "b1"
    for zone, (x0, x1) in {"west": (7.0, 7.01), "east": (7.01, 7.02)}.items():
        c0, c1 = round((x0 - gt[0]) / gt[1]), round((x1 - gt[0]) / gt[1])
        r0, r1 = round((46.01 - gt[3]) / gt[5]), round((46.0 - gt[3]) / gt[5])
        window = pixels[r0:r1, c0:c1].astype(float)
        row = rows[zone]
        assert float(row[f"{band}_count"]) == window.size
        assert float(row[f"{band}_mean"]) == pytest.approx(window.mean(), rel=1e-9)
        assert float(row[f"{band}_min"]) == window.min() and float(row[f"{band}_max"]) == window.max()

    _, imports_log = stock_qgis
    assert imports_log.exists(), "the start-up script did not run"
    seen = set(imports_log.read_text().split())
    # Nothing watched was imported: no shapely/pyproj/exactextract/rasterio, and the vendored
    # packages only under their private names (the zonal engine check only looks exactextract
    # up, without importing it).
    assert {s for s in seen if not s.startswith("lookup:")} == set(), seen
    assert seen <= {"lookup:exactextract", "lookup:rasterio", "lookup:shapely"}, seen


# ------------------------------------------------------------------------------- the desktop
@pytest.mark.qgis_desktop
def test_stock_qgis_in_brazilian_portuguese_describes_the_algorithms_in_portuguese(stock_qgis, tmp_path):
    """The ZIP's translation, loaded by the plugin in qgis_process for QGIS's locale (the
    profile's "Override system locale" = pt_BR): the algorithm's name, its parameters and help
    in Portuguese."""
    env, _ = stock_qgis
    profiles = tmp_path / "config"
    shutil.copytree(Path(env["QGIS_CUSTOM_CONFIG_PATH"]) / "profiles", profiles / "profiles")
    ini = profiles / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    text = ini.read_text(encoding="utf-8") if ini.exists() else ""
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(text + "\n[locale]\noverrideFlag=true\nuserLocale=pt_BR\nglobalLocale=pt_BR\n", encoding="utf-8")
    done = subprocess.run([QGIS_PROCESS, "help", "eeextract:extract_image"],
                          env=dict(env, QGIS_CUSTOM_CONFIG_PATH=str(profiles)), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Extrair imagem (direto)" in done.stdout, done.stdout[:2000]
    assert "Extensão (com seu SRC)" in done.stdout and "Conexão com o Earth Engine" in done.stdout


def test_the_zip_loads_in_the_desktop(plugin_zip, tmp_path):
    """The same ZIP in Debian's QGIS desktop under Xvfb, system Python only: the plugin loads,
    its dock and settings open (with "Sign in with Google"), a screenshot is taken
    (``desktop.png`` in the test's folder)."""
    if not shutil.which("xvfb-run") or not os.access("/usr/bin/qgis", os.X_OK):
        pytest.skip("needs xvfb-run and Debian's QGIS desktop")
    profiles = tmp_path / "profiles"
    plugins = profiles / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(plugins)
    ini = profiles / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\neeextract_plugin=true\n\n[qgis]\nshowTips322=false\n"
                   "checkVersion=false\n")
    startup = tmp_path / "startup.py"
    startup.write_text(STARTUP.replace('"ee", ', "").replace(', "ee"', ""))  # report, not refuse
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "LD_PRELOAD", "QT_QPA_PLATFORM")
           and not k.startswith(("EEEXTRACT_", "QGIS_"))}
    env.update({"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "PYQGIS_STARTUP": str(startup),
                "EEX_IMPORTS_LOG": str(tmp_path / "imports.log"), "EEX_ZIP_WORK": str(tmp_path),
                "HOME": str(tmp_path / "home"), "PYTHONDONTWRITEBYTECODE": "1"})
    (tmp_path / "home").mkdir()
    script = Path(__file__).with_name("desktop_zip_check.py")
    qgis = subprocess.Popen(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "/usr/bin/qgis", "--profiles-path",
         str(profiles), "--noversioncheck", "--nologo", "--code", str(script)],
        env=env, stdout=open(tmp_path / "qgis.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    report = tmp_path / "desktop.json"
    try:
        for _ in range(240):
            if report.exists() and json.loads(report.read_text() or "{}").get("done"):
                break
            if qgis.poll() is not None:
                break
            import time

            time.sleep(0.5)
    finally:
        import signal

        try:
            os.killpg(qgis.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        qgis.wait(timeout=30)
    assert report.exists(), (tmp_path / "qgis.log").read_text()[-3000:]
    found = json.loads(report.read_text())
    assert found.get("loaded"), found
    assert found["plugin_folder"] == str(plugins / "eeextract_plugin")
    assert found["vendored_ee"].startswith(str(plugins / "eeextract_plugin" / "_vendor" / "ee"))
    assert found["sign_in_button"] == "Sign in with Google" and found["sign_in_visible"]
    assert found["sign_in_status"] == "Not signed in."
    assert "QGIS's zonal statistics run" in found["zonal_engine"]
    assert "Not available here" in found["sandbox_guidance"] and "python3-shapely" in found["sandbox_guidance"]
    assert not [m for m in found["public_modules"]
                if m.split(".")[0] in ("ee", "googleapiclient", "shapely", "exactextract")], found
    shot = gdal.Open(found["screenshot"])
    assert shot is not None and shot.RasterXSize == 1600
    assert shot.GetRasterBand(1).ComputeRasterMinMax(False)[1] > 200  # not a black screen


def test_another_plugins_copies_and_the_plugins_own_do_not_mix(plugin_zip, sandbox_url, tmp_path):
    """Another plugin (like the official Earth Engine one) put its own, different ``ee`` and
    ``httplib2`` first on the path and imported them: the plugin's private copies still load and
    work (against the sandbox), and the other plugin keeps its own (system Python only)."""
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(tmp_path / "plugins")
    other = tmp_path / "other_plugin_extlibs"
    for name in ("ee", "httplib2"):
        (other / name).mkdir(parents=True)
        (other / name / "__init__.py").write_text(f"__version__ = 'other-plugin-{name}'\n")
    code = f"""
import sys
sys.path.insert(0, {str(other)!r})  # what such a plugin does at load
import ee, httplib2
sys.path.insert(1, {str(tmp_path / "plugins")!r})
from eeextract_plugin._vendor import ee as private_ee
from eeextract_plugin._vendor import httplib2 as private_httplib2
private_ee.Initialize(credentials=None, url={sandbox_url!r}, project="sandbox")
two = private_ee.Number(1).add(1).getInfo()
print(two, private_ee.__version__, sys.modules["ee"].__version__, sys.modules["httplib2"].__version__,
      private_httplib2.__version__ != sys.modules["httplib2"].__version__)
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "HOME": str(tmp_path)}
    out = subprocess.run([SYSTEM_PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    two, version, other_ee, other_httplib2, distinct = out.stdout.split()
    pins = dict(_package_module().pinned_requirements())
    assert two == "2" and version == pins["earthengine-api"]
    assert (other_ee, other_httplib2, distinct) == ("other-plugin-ee", "other-plugin-httplib2", "True")
