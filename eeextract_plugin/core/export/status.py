"""What ``eeextract status JOB`` shows of an export job: one row per Export task."""

from __future__ import annotations

from typing import Any, Dict, List

from eeextract_plugin.core import registry as reg


def export_tasks(registry: reg.Registry, job_id: str) -> List[Dict[str, Any]]:
    """Each task's output, state, attempt, progress, operation and last error, from the registry
    (no Earth Engine call: the running job keeps these up to date)."""
    rows = []
    for unit in registry.units(job_id):
        ex = unit.params.get("export")
        if ex is None:
            continue
        if unit.state == reg.DONE:
            state = "done"
        elif unit.state == reg.FAILED:
            state = "failed"
        else:
            state = ex.get("state", "unsubmitted")
        rows.append({
            "output": unit.output_id,
            "state": state,
            "attempt": ex.get("attempt", 0),
            "progress": float(ex.get("progress") or (1.0 if state == "done" else 0.0)),
            "operation": ex.get("operation"),
            "error": unit.error or (ex.get("errors") or [None])[-1],
        })
    return rows


def format_tasks(rows: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for r in rows:
        op = (r["operation"] or "").rsplit("/", 1)[-1] or "-"
        line = f"  {r['output']:<28} {r['state']:<12} {100 * r['progress']:5.1f}%  attempt {r['attempt']}  {op}"
        if r["error"] and r["state"] != "done":
            line += f"\n      {r['error']}"
        lines.append(line)
    return lines
