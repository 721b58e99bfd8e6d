#!/usr/bin/env python3
"""Builds the plugin ZIP that QGIS's "Install from ZIP" takes, and a plugins.xml that makes a
folder or a web server a custom plugin repository for it.

    python scripts/package.py [--dist dist] [--base-url https://host/path/] [--wheels build/wheels]

The ZIP holds one folder, ``eeextract_plugin/``: the plugin's code, metadata.txt, the icon,
compiled translations (``i18n/eeextract_<locale>.qm``, compiled here from the committed
``i18n/*.ts`` with lrelease; ``.qm`` files already built are taken when lrelease is missing)
— no tests, no caches, no symlinks — and
``eeextract_plugin/_vendor/``: the pure-Python packages the plugin needs that QGIS does not ship
(earthengine-api and its dependencies, pinned in ``scripts/vendor-requirements.txt``), with their
licences in ``_vendor/licenses/``. No compiled extension goes in; the build fails if one does.

Why a private namespace, not a folder put on ``sys.path``: ``sys.modules`` is one for the whole
QGIS process. A folder on the path would either shadow other plugins' copies of ``requests``,
``httplib2`` or ``google.auth`` (prepended) or lose to theirs and to QGIS's own older ones
(appended: Debian's QGIS brings httplib2 0.20, the official Earth Engine plugin puts its own
``ee`` first on the path). ``ee`` also keeps process-wide state (``ee.Initialize``): two plugins
sharing one ``ee`` would re-point each other's client. So every ``import X`` of a vendored
package — in the vendored code and in the plugin's own code — is rewritten to import
``eeextract_plugin._vendor.X``: the plugin's copies load under names no other code uses, and the
repository's source keeps plain ``import ee`` for the command line and the tests (pip installs).
The few places that import by string are patched (listed in ``PATCHES``; the build fails if a new
version moves them). ``_vendor/VENDORED.txt`` lists what is in it.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "eeextract_plugin"
VENDOR = f"{PLUGIN}._vendor"
REQUIREMENTS = ROOT / "scripts" / "vendor-requirements.txt"
PYTHON_FLOOR = "3.9"  # QGIS 3.22's Python on Windows and macOS

#: Never in the ZIP, anywhere.
EXCLUDED_DIRS = {"__pycache__", "tests", "test", ".pytest_cache", ".ruff_cache"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".orig", ".rej", ".swp")
COMPILED_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".a", ".lib", ".exe")
#: Dropped from vendored packages: data no code of ours reads (googleapiclient's 90 MB of cached
#: discovery documents: the ee client fetches its own from the endpoint it talks to), a shim.
VENDOR_PRUNE = ("googleapiclient/discovery_cache/documents", "apiclient", "bin")
LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|AUTHORS|COPYRIGHT)", re.I)

#: Imports by string in vendored code, made private: file → [(old, new)]; each must match.
PATCHES: Dict[str, List[Tuple[str, str]]] = {
    "requests/compat.py": [
        ("chardet = importlib.import_module(lib)",
         'chardet = importlib.import_module(__name__[: -len("requests.compat")] + lib)'),
    ],
    "requests/packages.py": [
        ('for package in ("urllib3", "idna"):\n    locals()[package] = __import__(package)',
         '_prefix = __name__[: -len("requests.packages")]\n'
         'for package in ("urllib3", "idna"):\n'
         '    locals()[package] = importlib.import_module(_prefix + package)\n'
         '    package = _prefix + package'),
        ('            sys.modules[f"requests.packages.{mod}"] = sys.modules[mod]',
         '            sys.modules[f"{_prefix}requests.packages.{mod[len(_prefix):]}"] = sys.modules[mod]'),
        ('            sys.modules[f"requests.packages.{mod}"] = imported_mod\n'
         '            mod = mod.replace(target, "chardet")\n'
         '            sys.modules[f"requests.packages.{mod}"] = imported_mod',
         '            short = mod[len(_prefix):] if mod.startswith(_prefix) else mod\n'
         '            sys.modules[f"{_prefix}requests.packages.{short}"] = imported_mod\n'
         '            short = short.replace(target.rpartition(".")[2], "chardet", 1)\n'
         '            sys.modules[f"{_prefix}requests.packages.{short}"] = imported_mod'),
        ("import sys\n", "import importlib\nimport sys\n"),
    ],
    "certifi/core.py": [
        ('files("certifi")', "files(__package__)"),
    ],
    "google/protobuf/internal/api_implementation.py": [
        ("_CanImport('google._upb._message')",
         "_CanImport(__name__[: -len('google.protobuf.internal.api_implementation')] + 'google._upb._message')"),
        ("_CanImport('google.protobuf.pyext._message')",
         "_CanImport(__name__[: -len('internal.api_implementation')] + 'pyext._message')"),
    ],
}


# ---------------------------------------------------------------------------------- helpers
def read_metadata(path: Path) -> Dict[str, str]:
    out: Dict[str, str] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
            continue
        if section == "general" and "=" in line and not line.startswith((" ", "\t", "#")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def pinned_requirements(path: Path = REQUIREMENTS) -> List[Tuple[str, str]]:
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"{path}: {line!r} is not pinned (name==version)")
        pins.append((name.strip(), version.strip()))
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def download_wheels(cache: Path, pins: Sequence[Tuple[str, str]]) -> List[Path]:
    """The pinned wheels, pure Python only, from the cache or PyPI (pip's ordinary client)."""
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {_normalise(n): v for n, v in pins}

    def found() -> Dict[str, Path]:
        have = {}
        for whl in cache.glob("*.whl"):
            name, version = whl.name.split("-")[:2]
            if wanted.get(_normalise(name)) == version:
                have[_normalise(name)] = whl
        return have

    have = found()
    missing = [f"{n}=={v}" for n, v in pins if _normalise(n) not in have]
    if missing:
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--platform", "any", "--python-version", PYTHON_FLOOR,
               "--implementation", "py", "--dest", str(cache)] + missing
        print("package: downloading", " ".join(missing), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        have = found()
    wheels = []
    for name, version in pins:
        whl = have.get(_normalise(name))
        if whl is None:
            raise SystemExit(f"package: no wheel for {name}=={version}")
        tags = whl.name[:-4].split("-")[-3:]
        if tags[1:] != ["none", "any"]:
            raise SystemExit(f"package: {whl.name} is not a pure-Python wheel")
        wheels.append(whl)
    return wheels


# ------------------------------------------------------------------------- import rewriting
def vendored_top_levels(vendor_dir: Path) -> Set[str]:
    names = set()
    for p in vendor_dir.iterdir():
        if p.name in ("licenses", "__init__.py", "VENDORED.txt") or p.name.endswith(".dist-info"):
            continue
        if p.is_dir() or p.suffix == ".py":
            names.add(p.stem if p.suffix == ".py" else p.name)
    return names


def _render_import(node: ast.AST, top_levels: Set[str]) -> Optional[str]:
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module or node.module.split(".")[0] not in top_levels:
            return None
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
        return f"from {VENDOR}.{node.module} import {names}"
    if isinstance(node, ast.Import):
        if not any(a.name.split(".")[0] in top_levels for a in node.names):
            return None
        parts = []
        for a in node.names:
            top = a.name.split(".")[0]
            if top not in top_levels:
                parts.append(f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
            elif a.asname:
                parts.append(f"import {VENDOR}.{a.name} as {a.asname}")
            elif "." in a.name:  # binds the top-level name: the vendored package
                parts.append(f"import {VENDOR}.{a.name}")
                parts.append(f"from {VENDOR} import {top}")
            else:
                parts.append(f"from {VENDOR} import {top}")
        return "; ".join(parts)
    return None


def rewrite_imports(source: str, top_levels: Set[str]) -> Tuple[str, int]:
    """``source`` with every absolute import of a vendored package made private; the count."""
    tree = ast.parse(source)
    data = source.encode("utf-8")
    line_starts = [0]
    for m in re.finditer(rb"\n", data):
        line_starts.append(m.end())
    edits = []
    for node in ast.walk(tree):
        text = _render_import(node, top_levels)
        if text is None:
            continue
        start = line_starts[node.lineno - 1] + node.col_offset
        end = line_starts[node.end_lineno - 1] + node.end_col_offset
        edits.append((start, end, text.encode("utf-8")))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    return data.decode("utf-8"), len(edits)


def apply_patches(vendor_dir: Path) -> None:
    for rel, changes in PATCHES.items():
        path = vendor_dir / rel
        text = path.read_text(encoding="utf-8")
        for old, new in changes:
            if text.count(old) < 1:
                raise SystemExit(f"package: patch for {rel} does not apply ({old[:50]!r}...); "
                                 "check the new version's code")
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------- the build
def _copy_tree(src: Path, dst: Path, skip: Iterable[str] = (), root: Path = ROOT) -> None:
    """Copies files, following symlinks that stay inside the repository (the repo links
    eeextract_plugin/metadata.txt and resources/ to the top level): the ZIP holds files only."""
    skip = set(skip)
    for folder, dirs, files in os.walk(src, followlinks=True):
        here = Path(folder)
        rel_dir = here.relative_to(src)
        root = root.resolve()
        if root not in here.resolve().parents and here.resolve() != root:
            raise SystemExit(f"package: {here} leads outside the repository")
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS
                         and not (rel_dir == Path(".") and d in skip))
        for name in sorted(files):
            path = here / name
            if name.endswith(EXCLUDED_SUFFIXES):
                continue
            real = path.resolve()
            if root not in real.parents or not real.is_file():
                raise SystemExit(f"package: {path} is a link to {real}, outside the repository")
            target = dst / rel_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(real, target)


def unpack_wheels(wheels: Sequence[Path], vendor_dir: Path,
                  dist_names: Optional[Sequence[str]] = None) -> List[Tuple[str, str, str]]:
    """Unpacks the wheels' packages into ``vendor_dir`` and their licences into
    ``licenses/<name>-<version>/``; returns (name, version, licence) per wheel."""
    listing = []
    for k, whl in enumerate(wheels):
        with zipfile.ZipFile(whl) as zf:
            names = zf.namelist()
            dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
            meta = zf.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
            name = dist_names[k] if dist_names else re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()
            version = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()
            lic = re.search(r"^License-Expression: (.+)$", meta, re.M) or re.search(r"^License: (.+)$", meta, re.M)
            classifier = re.search(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", meta, re.M)
            licence = (lic.group(1).strip() if lic and len(lic.group(1)) < 80 else
                       classifier.group(1).strip() if classifier else "see licence file")
            lic_dir = vendor_dir / "licenses" / f"{name}-{version}"
            lic_dir.mkdir(parents=True, exist_ok=True)
            (lic_dir / "METADATA").write_bytes(zf.read(f"{dist_info}/METADATA"))
            found_licence = False
            for n in names:
                top = n.split("/")[0]
                base = n.rsplit("/", 1)[-1]
                if top == dist_info:
                    if LICENCE_FILE.match(base) or "/licenses/" in n:
                        (lic_dir / base).write_bytes(zf.read(n))
                        found_licence = True
                    continue
                if top.endswith(".data") or n.endswith("/"):
                    continue
                if any(n == p or n.startswith(p + "/") for p in VENDOR_PRUNE):
                    continue
                if any(part in EXCLUDED_DIRS for part in n.split("/")[:-1]):
                    continue
                if base.endswith(EXCLUDED_SUFFIXES) or base.endswith(".pth"):
                    continue
                target = vendor_dir / n
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(n))
            if not found_licence:
                (lic_dir / "LICENSE-FROM-METADATA.txt").write_text(
                    f"{name} {version}: licence {licence} (no licence file in the wheel; "
                    f"see METADATA)\n", encoding="utf-8")
            listing.append((name, version, licence))
    return listing


def check_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_symlink():
            raise SystemExit(f"package: symlink {path}")
        if path.is_file() and path.name.lower().endswith(COMPILED_SUFFIXES):
            raise SystemExit(f"package: compiled file {path.relative_to(root)} would go into the ZIP")


def write_zip(stage: Path, zip_path: Path, epoch: int) -> None:
    """A reproducible ZIP: sorted entries, fixed times, plain files (no symlink attributes)."""
    stamp = dt.datetime.fromtimestamp(max(epoch, 315532800), dt.timezone.utc).timetuple()[:6]
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(stage.rglob("*")):
            rel = path.relative_to(stage).as_posix()
            if path.is_dir():
                continue
            info = zipfile.ZipInfo(rel, stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, zip_path)


def plugins_xml(meta: Dict[str, str], zip_name: str, base_url: str, updated: str) -> str:
    def tag(name: str, value: str, cdata: bool = False) -> str:
        body = f"<![CDATA[{value}]]>" if cdata else escape(value)
        return f"    <{name}>{body}</{name}>"

    url = base_url.rstrip("/") + "/" + zip_name
    icon = meta.get("icon", "")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml-stylesheet type="text/xsl" href="plugins.xsl" ?>',
        "<plugins>",
        f'  <pyqgis_plugin name="{escape(meta["name"])}" version="{escape(meta["version"])}" '
        f'plugin_id="{PLUGIN}">',
        tag("description", meta.get("description", ""), True),
        tag("about", meta.get("about", ""), True),
        tag("version", meta["version"]),
        tag("qgis_minimum_version", meta.get("qgisMinimumVersion", "3.22")),
        tag("qgis_maximum_version", meta.get("qgisMaximumVersion", "3.99")),
        tag("homepage", meta.get("homepage", "")),
        tag("file_name", zip_name),
        tag("icon", f"{PLUGIN}/{icon}" if icon else ""),
        tag("author_name", meta.get("author", ""), True),
        tag("download_url", url),
        tag("uploaded_by", meta.get("author", ""), True),
        tag("create_date", updated),
        tag("update_date", updated),
        tag("experimental", meta.get("experimental", "False")),
        tag("deprecated", "False"),
        tag("tracker", meta.get("tracker", ""), True),
        tag("repository", meta.get("repository", ""), True),
        tag("tags", meta.get("tags", ""), True),
        tag("downloads", "0"),
        tag("average_vote", "0"),
        tag("rating_votes", "0"),
        tag("external_dependencies", ""),
        tag("server", "False"),
        "  </pyqgis_plugin>",
        "</plugins>",
    ]
    return "\n".join(lines) + "\n"


def pack_translations(root: Path, target: Path) -> List[Path]:
    """The plugin's translations into ``target``: every ``i18n/*.ts`` compiled (the ZIP always
    carries the committed translations, whatever was built before); without lrelease, the
    ``.qm`` files already built (``make translations``)."""
    sources = sorted((root / "i18n").glob("eeextract_*.ts"))
    if sources and (shutil.which("lrelease") or Path("/usr/lib/qt5/bin/lrelease").exists()):
        sys.path.insert(0, str(ROOT / "scripts"))
        try:
            import translations
        finally:
            sys.path.remove(str(ROOT / "scripts"))
        return [translations.compile_ts(ts, target / f"{ts.stem}.qm") for ts in sources]
    if sources:
        print("package: lrelease not found (Debian package qttools5-dev-tools): packing the .qm files "
              "already built", flush=True)
    packed = []
    for qm in sorted((root / "i18n").glob("*.qm")) + sorted((root / PLUGIN / "i18n").glob("*.qm")):
        target.mkdir(parents=True, exist_ok=True)
        packed.append(Path(shutil.copyfile(qm, target / qm.name)))
    return packed


def build(dist: Path, wheel_cache: Path, base_url: Optional[str] = None,
          stage_root: Optional[Path] = None, root: Path = ROOT) -> Path:
    """Writes ``dist/eeextract_plugin-<version>.zip`` and ``dist/plugins.xml`` from the plugin
    folder under ``root`` (the repository)."""
    meta = read_metadata(root / PLUGIN / "metadata.txt")
    root_meta = root / "metadata.txt"
    if root_meta.exists() and read_metadata(root_meta) != meta:
        raise SystemExit("package: metadata.txt and eeextract_plugin/metadata.txt differ")
    version = meta["version"]
    stage_root = stage_root or ROOT / "build" / "package"
    if stage_root.exists():
        shutil.rmtree(stage_root)
    stage = stage_root / PLUGIN
    _copy_tree(root / PLUGIN, stage, skip={"_vendor", "i18n"}, root=root)
    pack_translations(root, stage / "i18n")
    vendor_dir = stage / "_vendor"
    vendor_dir.mkdir()
    pins = pinned_requirements()
    listing = unpack_wheels(download_wheels(wheel_cache, pins), vendor_dir, [n for n, _ in pins])
    apply_patches(vendor_dir)
    top_levels = vendored_top_levels(vendor_dir)
    rewritten = 0
    for py in sorted(stage.rglob("*.py")):
        text = py.read_text(encoding="utf-8")
        new, count = rewrite_imports(text, top_levels)
        if count:
            py.write_text(new, encoding="utf-8")
            rewritten += count
    (vendor_dir / "__init__.py").write_text(
        '"""Pure-Python packages the plugin carries, imported under this private name only\n'
        '(see scripts/package.py in the source repository). VENDORED.txt lists them."""\n\n'
        "import warnings\n\n"
        "# google-api-core warns at import about Python versions Google will stop supporting:\n"
        "# nothing a QGIS user can act on.\n"
        'warnings.filterwarnings("ignore", category=FutureWarning, module=r"eeextract_plugin\\._vendor\\.")\n\n'
        f"PACKAGES = {dict((n, v) for n, v, _ in listing)!r}\n", encoding="utf-8")
    (vendor_dir / "VENDORED.txt").write_text(
        "Packages in this folder (name, version, licence); licence texts in licenses/.\n"
        "Imported as eeextract_plugin._vendor.<name>: every import of them was rewritten when\n"
        "the ZIP was built, and these string imports patched:\n"
        + "".join(f"  {rel}\n" for rel in PATCHES) + "\n"
        + "".join(f"{n}=={v}  ({lic})\n" for n, v, lic in listing), encoding="utf-8")
    check_tree(stage)
    zip_name = f"{PLUGIN}-{version}.zip"
    zip_path = dist / zip_name
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or _last_commit_time() or 315532800)
    write_zip(stage_root, zip_path, epoch)
    updated = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    base = base_url or dist.resolve().as_uri()
    (dist / "plugins.xml").write_text(plugins_xml(meta, zip_name, base, updated), encoding="utf-8")
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    print(f"package: {zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB, sha256 {digest[:16]}…), "
          f"{len(listing)} vendored packages, {rewritten} imports made private; "
          f"{dist / 'plugins.xml'} (download from {base})")
    return zip_path


def _last_commit_time() -> Optional[int]:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default=str(ROOT / "dist"), help="output folder (default: dist/)")
    ap.add_argument("--wheels", default=os.environ.get("EEEXTRACT_WHEEL_CACHE", str(ROOT / "build" / "wheels")),
                    help="wheel cache (default: build/wheels, or $EEEXTRACT_WHEEL_CACHE)")
    ap.add_argument("--base-url", default=os.environ.get("BASE_URL") or None,
                    help="where the ZIP will be served (plugins.xml's download_url); "
                         "default: the dist folder as a file:// URL")
    ap.add_argument("--stage", default=None, help="staging folder (default: build/package)")
    args = ap.parse_args(argv)
    build(Path(args.dist), Path(args.wheels), args.base_url, Path(args.stage) if args.stage else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
