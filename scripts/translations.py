#!/usr/bin/env python3
"""``make translations``: the QGIS side's strings extracted into ``i18n/eeextract_<locale>.ts``
(``pylupdate5``) and compiled into ``i18n/eeextract_<locale>.qm`` (``lrelease``).

    python scripts/translations.py              # update every .ts, compile every .qm
    python scripts/translations.py --new es     # start a translation (i18n/eeextract_es.ts)
    python scripts/translations.py --check      # say what is untranslated or out of date; exit 1 if any
    python scripts/translations.py --compile-only --qm-dir DIR   # .ts → .qm only, into DIR

What is extracted: every Python module and ``.ui`` form of the plugin except the core, the
command line, the sandbox and vendored code (they are not the QGIS side). Python strings go
through :func:`eeextract_plugin.i18n.tr`, whose context is ``EEExtract``; a ``.ui`` form's
strings have the form's name as context (``uic`` looks them up so: ``EEExtractDock``).

Why the context needs a hand: ``pylupdate5`` gives a bare ``tr("…")`` the context
``@default`` (it knows ``self.tr`` — the class's name — and ``translate("ctx", …)``, not a
module function). Giving every call site ``QCoreApplication.translate("EEExtract", …)`` would
work but is noisy and easy to get wrong; a run-time context of ``@default`` would be shared
with every other plugin that uses it (our translator, installed last, would answer their
lookups). So the ``.ts`` files say ``EEExtract``; before ``pylupdate5`` merges the sources into
one, its ``EEExtract`` context is renamed ``@default``, and renamed back after. ``pylupdate5``
does the merge itself (kept translations, new strings unfinished, vanished ones obsolete);
the script then checks that no other context appeared (``self.tr`` in a class, a typo'd
``translate``): extraction and run time agree, or the script fails.
``tests/test_translations.py`` also checks the call forms (a literal text, a literal or None
disambiguation, the count as third argument: what ``pylupdate5`` reads as such).

Line numbers are left out of the ``.ts`` locations (the file each string comes from is kept):
an edit elsewhere in a module would otherwise change every location below it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "eeextract_plugin"
TS_DIR = ROOT / "i18n"
TS_PREFIX = "eeextract_"
CONTEXT = "EEExtract"  # eeextract_plugin.i18n.CONTEXT (not imported: no Qt needed here)
PYLUPDATE_CONTEXT = "@default"
#: Not the QGIS side: no strings extracted from these folders of the plugin.
NOT_QGIS_SIDE = ("core", "cli", "sandbox", "_vendor", "__pycache__", "i18n")

SKELETON = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="{language}" sourcelanguage="en">
</TS>
"""


def tool(name: str) -> str:
    """A Qt tool on the PATH (or Debian's Qt 5 folder); a clear error naming its package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/lib/qt5/bin:/usr/lib/x86_64-linux-gnu/qt5/bin")
    if not found:
        package = {"pylupdate5": "pyqt5-dev-tools", "lrelease": "qttools5-dev-tools"}.get(name, name)
        raise SystemExit(f"translations: {name} not found (Debian package {package}; `make setup` installs it)")
    return found


def sources(plugin: Path = PLUGIN) -> Tuple[List[Path], List[Path]]:
    """The QGIS side's Python modules and .ui forms, sorted."""
    py, ui = [], []
    for path in sorted(plugin.rglob("*")):
        parts = path.relative_to(plugin).parts
        if parts[0] in NOT_QGIS_SIDE or not path.is_file():
            continue
        if path.suffix == ".py":
            py.append(path)
        elif path.suffix == ".ui":
            ui.append(path)
    return py, ui


def ui_context(path: Path) -> str:
    """The context ``uic`` translates a form's strings in: its top-level widget's name."""
    root = ET.parse(path).getroot()
    widget = root.find("widget")
    name = widget.get("name") if widget is not None else None
    return name or (root.findtext("class") or "").strip()


def ts_files(ts_dir: Path = TS_DIR) -> List[Path]:
    return sorted(ts_dir.glob(f"{TS_PREFIX}*.ts"))


def language_of(ts: Path) -> str:
    return ts.stem[len(TS_PREFIX):]


# ------------------------------------------------------------------------------ extraction
def _rename_context(text: str, old: str, new: str) -> str:
    return text.replace(f"<name>{old}</name>", f"<name>{new}</name>")


def extract(ts: Path, plugin: Path = PLUGIN, keep_obsolete: bool = True) -> Path:
    """Merge the sources' strings into ``ts`` (created when missing). Returns ``ts``."""
    py, ui = sources(plugin)
    allowed = {CONTEXT} | {ui_context(p) for p in ui}
    text = ts.read_text(encoding="utf-8") if ts.exists() else SKELETON.format(language=language_of(ts))
    if f"<name>{PYLUPDATE_CONTEXT}</name>" in text:
        raise SystemExit(f"translations: {ts} has a context {PYLUPDATE_CONTEXT}: strings must use eeextract_plugin.i18n.tr")
    work = ts.with_name(f".{ts.name}.work.ts")  # beside it: locations stay relative to i18n/
    work.write_text(_rename_context(text, CONTEXT, PYLUPDATE_CONTEXT), encoding="utf-8")
    try:
        files = [os.path.relpath(p, work.parent) for p in py + ui]
        cmd = [tool("pylupdate5")] + ([] if keep_obsolete else ["-noobsolete"]) + files + ["-ts", work.name]
        run = subprocess.run(cmd, cwd=work.parent, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"translations: pylupdate5 failed:\n{run.stdout}{run.stderr}")
        merged = _rename_context(work.read_text(encoding="utf-8"), PYLUPDATE_CONTEXT, CONTEXT)
    finally:
        work.unlink(missing_ok=True)
    merged = re.sub(r'(<location filename="[^"]*") line="\d+"', r"\1", merged)
    merged = _dedupe_locations(merged)
    contexts = set(re.findall(r"<name>([^<]*)</name>", merged))
    stray = contexts - allowed
    if stray:
        raise SystemExit(f"translations: strings in unexpected contexts {sorted(stray)}: the Python side "
                         f"uses eeextract_plugin.i18n.tr (context {CONTEXT}), never self.tr or translate()")
    ts.write_text(merged, encoding="utf-8")
    return ts


def _dedupe_locations(text: str) -> str:
    """One location per file and message (lines are gone, so repeats say nothing)."""
    out: List[str] = []
    seen: Set[str] = set()
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("<message"):
            seen = set()
        if stripped.startswith("<location "):
            if stripped in seen:
                continue
            seen.add(stripped)
        out.append(line)
    return "".join(out)


# ------------------------------------------------------------------------------ compiling
def compile_ts(ts: Path, qm: Path) -> Path:
    qm.parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], capture_output=True, text=True)
    if run.returncode != 0 or not qm.is_file():
        raise SystemExit(f"translations: lrelease failed for {ts}:\n{run.stdout}{run.stderr}")
    return qm


def compile_all(qm_dir: Optional[Path] = None, ts_dir: Path = TS_DIR) -> List[Path]:
    return [compile_ts(ts, (qm_dir or ts.parent) / f"{ts.stem}.qm") for ts in ts_files(ts_dir)]


# ------------------------------------------------------------------------------ reading a .ts
@dataclass
class Message:
    context: str
    source: str
    comment: str = ""
    numerus: bool = False
    kind: str = ""  # "", "unfinished", "obsolete", "vanished"
    translations: List[str] = field(default_factory=list)
    files: List[str] = field(default_factory=list)

    @property
    def key(self) -> Tuple[str, str, str]:
        return self.context, self.source, self.comment


def read_ts(ts: Path) -> List[Message]:
    messages = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for m in context.iter("message"):
            translation = m.find("translation")
            forms = ([f.text or "" for f in translation.iter("numerusform")] if m.get("numerus") == "yes"
                     else [translation.text or ""]) if translation is not None else []
            messages.append(Message(
                context=name, source=m.findtext("source") or "", comment=m.findtext("comment") or "",
                numerus=m.get("numerus") == "yes",
                kind=(translation.get("type") or "") if translation is not None else "unfinished",
                translations=forms, files=[loc.get("filename", "") for loc in m.iter("location")]))
    return messages


def problems(ts: Path, plugin: Path = PLUGIN) -> Dict[str, List[Message]]:
    """What keeps ``ts`` from being complete for the current sources: strings not yet in it
    (``make translations`` adds them), unfinished ones, obsolete ones (in the file, no longer
    in the sources), empty translations."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "i18n" / ts.name
        copy.parent.mkdir()
        shutil.copyfile(ts, copy)
        # Locations are relative to the .ts: extract from a mirror of the layout.
        (Path(tmp) / "eeextract_plugin").symlink_to(plugin)
        extract(copy, Path(tmp) / "eeextract_plugin")
        current = read_ts(copy)
    committed = {m.key for m in read_ts(ts)}
    live = [m for m in current if m.kind not in ("obsolete", "vanished")]
    return {
        "missing from the .ts (run make translations)": [m for m in live if m.key not in committed],
        "unfinished": [m for m in live if m.key in committed and m.kind == "unfinished"],
        "obsolete (no longer in the sources)": [m for m in current if m.kind in ("obsolete", "vanished")],
        "empty translation": [m for m in live if m.kind == "" and not all(t.strip() for t in m.translations)],
    }


# ------------------------------------------------------------------------------ command line
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", metavar="LOCALE", help="start a translation for LOCALE (e.g. es, pt_PT)")
    parser.add_argument("--check", action="store_true", help="report untranslated or stale strings; exit 1 if any")
    parser.add_argument("--compile-only", action="store_true", help="only compile the .ts files")
    parser.add_argument("--qm-dir", type=Path, default=None, help="where the .qm files go (default: i18n/)")
    parser.add_argument("--no-obsolete", action="store_true", help="drop strings no longer in the sources")
    args = parser.parse_args(argv)

    if args.check:
        bad = 0
        for ts in ts_files():
            for what, found in problems(ts).items():
                for m in found:
                    bad += 1
                    print(f"{ts.name}: {what}: {m.context}: {m.source[:100]!r}")
        print(f"translations: {bad} problem(s)" if bad else "translations: complete")
        return 1 if bad else 0
    if args.new:
        ts = TS_DIR / f"{TS_PREFIX}{args.new}.ts"
        if ts.exists():
            raise SystemExit(f"translations: {ts} exists")
        extract(ts)
        print(f"translations: started {ts.relative_to(ROOT)}")
    if not args.compile_only:
        for ts in ts_files():
            extract(ts, keep_obsolete=not args.no_obsolete)
            counts = {"unfinished": 0, "obsolete": 0}
            for m in read_ts(ts):
                if m.kind in ("unfinished",):
                    counts["unfinished"] += 1
                elif m.kind in ("obsolete", "vanished"):
                    counts["obsolete"] += 1
            print(f"translations: {ts.relative_to(ROOT)}: {len(read_ts(ts))} strings, "
                  f"{counts['unfinished']} unfinished, {counts['obsolete']} obsolete")
    for qm in compile_all(args.qm_dir):
        print(f"translations: compiled {qm.relative_to(ROOT) if qm.is_relative_to(ROOT) else qm}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
