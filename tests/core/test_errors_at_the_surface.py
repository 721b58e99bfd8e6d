"""Every exception reaching the command line is a known error — one line, its documented exit
code — or an internal error: one line naming the log file that holds the traceback, exit 1.
Never a raw traceback (issue 16, fault 7): deep or huge JSON, every kind of damaged registry,
a registry on a full disk, a truncated metadata answer while planning."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eeextract_plugin.cli.main import main
from eeextract_plugin.core import registry as reg

ROOT = Path(__file__).resolve().parents[2]

DEM = {"version": 1, "name": "dem", "kind": "mosaic", "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
       "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.45, 38.35]}}


@pytest.fixture(autouse=True)
def restore_client_retries():
    yield
    import ee

    ee.data.setMaxRetries(5)


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=timeout)


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("eeextract: "), stderr
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ job files
@pytest.mark.parametrize("text, words", [
    ('{"version": 1, "name": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than"),
    ('{"version": 1, "name": "x", "kind": "mosaic", "execution": {"tile_size": 1' + "0" * 400 + "}}",
     "execution.tile_size: the number"),
    ('{"version": 1, "name": "x", "kind": "mosaic", "grid": {"scale": 1' + "0" * 5000 + "}}", "unreadable number"),
    ('{"version": 1, "version": 1}', "appears twice"),
    ('{"version": true, "name": "x"}', "version: True is not supported"),
])
def test_hostile_job_files_are_one_line_and_exit_2(tmp_path, text, words):
    job = tmp_path / "job.json"
    job.write_text(text)
    r = cli("plan", str(job), "--url", "http://127.0.0.1:9")
    assert r.returncode == 2, r.stderr
    assert words in one_line(r.stderr)


# ------------------------------------------------------------------------------ registries
@pytest.fixture(scope="module")
def good_registry(sandbox_url, tmp_path_factory) -> Path:
    """A registry holding one finished job (copied and damaged by each test)."""
    tmp = tmp_path_factory.mktemp("reg")
    job = tmp / "job.json"
    job.write_text(json.dumps({**DEM, "output": {"directory": str(tmp / "out")}}))
    r = cli("run", str(job), "--url", sandbox_url, "--project", "sandbox", "--workdir", str(tmp / "w"),
            "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    db = tmp / "w" / "registry.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return db


def damaged(good: Path, tmp_path: Path, how: str) -> Path:
    work = tmp_path / "w"
    work.mkdir()
    db = work / "registry.sqlite"
    data = good.read_bytes()
    if how == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif how == "bad header":
        db.write_bytes(b"this is no sqlite" + data[17:])
    elif how == "a directory":
        db.mkdir()
    elif how == "bad JSON in a column":
        db.write_bytes(data)
        con = sqlite3.connect(db)
        con.execute("UPDATE jobs SET spec = '{not json'")
        con.commit()
        con.close()
    return work


@pytest.mark.parametrize("how, words", [("truncated", "is damaged"), ("bad header", "is damaged"),
                                        ("a directory", "is not a file"),
                                        ("bad JSON in a column", "is not readable JSON")])
@pytest.mark.parametrize("command", ["status", "resume", "cancel"])
def test_a_damaged_registry_is_reported_with_what_to_do_and_never_overwritten(
        good_registry, tmp_path, how, words, command, sandbox_url):
    work = damaged(good_registry, tmp_path, how)
    db = work / "registry.sqlite"
    before = sha(db) if db.is_file() else None
    args = {"status": ["status", "dem"], "resume": ["resume", "dem", "--url", sandbox_url, "--project", "sandbox", "--no-progress"],
            "cancel": ["cancel", "dem"]}[command]
    r = cli(*args, "--workdir", str(work))
    line = one_line(r.stderr)
    assert r.returncode == 2, line
    assert words in line and ("move it away" in line or "restore it" in line), line
    if before is not None:
        assert sha(db) == before  # left as it is
    assert db.is_dir() == (how == "a directory")


def test_a_read_only_registry_says_so(good_registry, tmp_path, monkeypatch, capsys):
    """Tests run as root, which writes through permissions: the registry is opened read-only by
    SQLite itself instead."""
    work = damaged(good_registry, tmp_path, "copy")
    (work / "registry.sqlite").write_bytes(good_registry.read_bytes())
    real_connect = sqlite3.connect

    def read_only(path, *a, **kw):
        return real_connect(f"file:{path}?mode=ro", *a, uri=True, **kw)

    monkeypatch.setattr(reg.sqlite3, "connect", read_only)
    code = main(["cancel", "dem", "--workdir", str(work)])
    line = one_line(capsys.readouterr().err)
    assert code == 2 and "is read-only" in line and "writable" in line


def test_a_registry_on_a_full_disk_fails_the_run_with_one_line_and_stays_readable(
        sandbox_url, tmp_path, monkeypatch, capsys):
    real_connect = sqlite3.connect

    def small_disk(path, *a, **kw):
        con = real_connect(path, *a, **kw)
        con.execute("PRAGMA max_page_count = 12")  # SQLite answers "database or disk is full"
        return con

    job = tmp_path / "job.json"
    job.write_text(json.dumps({**DEM, "output": {"directory": str(tmp_path / "out")},
                               "execution": {"tile_size": 16}}))
    monkeypatch.setattr(reg.sqlite3, "connect", small_disk)
    code = main(["run", str(job), "--url", sandbox_url, "--project", "sandbox", "--workdir",
                 str(tmp_path / "w"), "--no-progress"])
    line = one_line(capsys.readouterr().err)
    assert code == 1 and "disk full" in line and "registry" in line, line
    monkeypatch.undo()
    assert main(["status", "--workdir", str(tmp_path / "w")]) == 0


# ------------------------------------------------------------------------------ planning
def test_a_truncated_metadata_answer_while_planning_is_retried(tmp_path_factory, tmp_path):
    """The client hands a truncated body on as a raw string; it once failed planning with a
    TypeError traceback (classified fatal, never retried)."""
    from eeextract_plugin.sandbox.config import FaultInjection, SandboxConfig
    from eeextract_plugin.sandbox.limits import Fault, FaultPlan
    from eeextract_plugin.sandbox.server import SandboxServer

    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("trunc"))
    config.faults = FaultInjection(seed=7, truncated_body=0.5)
    assert FaultPlan(config).next() is Fault.TRUNCATED_BODY  # planning's first answer is cut short
    server = SandboxServer(config).start()
    try:
        import ee

        ee.Initialize(credentials=None, url=server.url, project="sandbox")
        expr = ee.serializer.encode(ee.Image("SANDBOX/DEM").add(1), for_cloud_api=True)
        job = tmp_path / "job.json"
        job.write_text(json.dumps({**DEM, "source": {"type": "expression", "expression": expr},
                                   "grid": {"crs": "EPSG:4326", "scale": 0.001}}))
        r = cli("plan", str(job), "--url", server.url, "--project", "sandbox")
        assert r.returncode == 0, r.stderr
        assert "pixels:" in r.stdout
    finally:
        server.stop()


def test_an_internal_error_is_one_line_naming_the_log_that_holds_the_traceback(tmp_path, monkeypatch, capsys):
    cli_main = sys.modules["eeextract_plugin.cli.main"]

    def bug(args):
        return 1 / 0

    monkeypatch.setitem(cli_main.COMMANDS, "status", bug)
    code = main(["status", "--workdir", str(tmp_path / "w")])
    line = one_line(capsys.readouterr().err)
    assert code == 1 and "internal error (ZeroDivisionError" in line
    log_file = Path(line.rsplit(" ", 1)[-1])
    assert log_file.is_file() and "Traceback" in log_file.read_text() and "1 / 0" in log_file.read_text()


def test_an_unreachable_url_is_reported_at_once(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps(DEM))
    r = cli("plan", str(job), "--url", "http://127.0.0.1:9", "--project", "p", timeout=20)  # once 31 s of retries
    assert r.returncode == 5
    assert "cannot reach Earth Engine at http://127.0.0.1:9" in one_line(r.stderr)
