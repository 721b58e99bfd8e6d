""":func:`run_on_cluster` — one run of a recorded job with its units as Dask tasks (what the
runner calls for ``execution.engine: "dask"``)."""

from __future__ import annotations

import logging
from typing import Any

from eeextract_plugin.core.cluster.connection import check_available, connect
from eeextract_plugin.core.cluster.executions import (
    DaskDirectExecution,
    DaskExportExecution,
    DaskTableExecution,
)
from eeextract_plugin.core.cluster.quota import ClusterQuota
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.spec import JobSpec

log = logging.getLogger(__name__)

TABLE_KINDS = ("table", "timeseries")


def run_on_cluster(ctx: ExecutionContext, job_id: str, spec: JobSpec, kind: str) -> JobResult:
    """Connects (or starts a local cluster), runs the job's execution of its kind with the
    cluster-wide cap of the project, disconnects. An unreachable scheduler or a missing Dask
    raises :class:`~eeextract_plugin.core.errors.BadInput` before anything of the job changes."""
    ex = spec.execution
    cluster = connect(ex.dask_scheduler, ex.max_concurrent_requests)
    cap = None
    try:
        project = str(getattr(ctx.session, "project", "") or "default")
        cap = ClusterQuota(cluster.client, project, ex.max_concurrent_requests)
        where = cluster.description
        log.info("job %s: units run as tasks on %s", job_id, where)
        execution: Any
        if kind in TABLE_KINDS:
            execution = DaskTableExecution(ctx, job_id, spec, cluster, cap)
        elif spec.method.type != "direct":
            execution = DaskExportExecution(ctx, job_id, spec, cluster, cap)
        else:
            execution = DaskDirectExecution(ctx, job_id, spec, cluster, cap)
        result = execution.run()
        result.notices.append(f"units ran as tasks on {where}")
        if cap.notice:
            result.notices.append(cap.notice)
        return result
    finally:
        if cap is not None:
            cap.stop()
        cluster.close()


__all__ = ["run_on_cluster", "check_available"]
