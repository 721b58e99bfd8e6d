"""``eeextract run / status`` on an export job, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_run_then_status_lists_the_export_tasks(tmp_path):
    spec = json.loads((REPO / "examples" / "dem-expression-export.json").read_text())
    spec["output"]["directory"] = str(tmp_path / "out")
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(spec))
    run = _cli("run", str(job_file), "--sandbox", "--workdir", str(tmp_path / "work"), cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "out" / "dem_km.tif").exists()
    listing = _cli("status", "--workdir", str(tmp_path / "work"), "--json", cwd=REPO)
    job_id = json.loads(listing.stdout)[0]["id"]
    status = _cli("status", job_id, "--workdir", str(tmp_path / "work"), cwd=REPO)
    assert status.returncode == 0, status.stderr
    assert "export tasks (1):" in status.stdout
    assert "done" in status.stdout and "attempt 1" in status.stdout
    as_json = json.loads(_cli("status", job_id, "--workdir", str(tmp_path / "work"), "--json", cwd=REPO).stdout)
    (task,) = as_json["tasks"]
    assert task["state"] == "done" and task["progress"] == 1.0
    assert task["operation"].startswith("projects/sandbox/operations/")
