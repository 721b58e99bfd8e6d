"""What every execution of a job shares: the session, the registry, the working folder, progress
and cancellation, retry policy and request limits.

The job runner makes one :class:`ExecutionContext` per run and hands it to the execution of the
job's kind (direct tiles, tables computed in Earth Engine, batch exports); the executions depend
on this module, never on the runner.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from eeextract_plugin.core.fetch import RetryPolicy
from eeextract_plugin.core.plan import RequestLimits
from eeextract_plugin.core.progress import CancelToken, ProgressCallback, ProgressTracker
from eeextract_plugin.core.quota import restricted_message
from eeextract_plugin.core.registry import Registry

log = logging.getLogger(__name__)


@dataclass
class ExecutionContext:
    session: Any  # an initialised core.session.Session
    registry: Registry
    workdir: Path  # the registry's folder; each job stages under workdir/<job id>
    progress: Optional[ProgressCallback] = None
    cancel: CancelToken = field(default_factory=CancelToken)
    retry_policy: Optional[RetryPolicy] = None
    limits: RequestLimits = field(default_factory=RequestLimits)

    def staging_dir(self, job_id: str) -> Path:
        return self.workdir / job_id

    def job_cancel_token(self, job_id: str, poll_s: float = 0.5) -> CancelToken:
        """Cancelled by the front end's token, or by ``eeextract cancel`` from another process
        (the registry's flag, read at most every ``poll_s``)."""
        last_poll = [0.0]
        registry, front_end = self.registry, self.cancel

        def registry_cancel() -> bool:
            now = time.monotonic()
            if now - last_poll[0] < poll_s:
                return False
            last_poll[0] = now
            return registry.cancel_requested(job_id)

        return CancelToken(lambda: front_end.cancelled or registry_cancel())

    def fetch_options(self, execution: Any, tracker: ProgressTracker, notices: List[str]) -> Dict[str, Any]:
        """The :class:`~eeextract_plugin.core.fetch.TileFetcher` settings of a run: the project's
        quota from the spec's ``execution`` section, and what to do when Earth Engine puts the
        project in restricted mode (tell the user once, in one line)."""
        project = getattr(self.session, "project", "") or "the project"

        def restricted(concurrency: int) -> None:
            message = restricted_message(project, concurrency)
            if message not in notices:
                notices.append(message)
                log.warning("%s", message)
                tracker.message(message)

        # A unit fetched through a URL makes two requests (create it, then GET it): it takes
        # two of the rate's tokens, so the project stays under its request rate.
        per_unit = 2 if execution.request_kind == "url" else 1
        return {"max_concurrency": execution.max_concurrent_requests,
                "policy": self.retry_policy or RetryPolicy(max_retries=execution.max_retries),
                "adaptive": execution.adaptive,
                "requests_per_second": execution.requests_per_second,
                "requests_per_unit": per_unit,
                "quota_status": getattr(self.session, "quota", None),
                "shared_quota": getattr(self.session, "shared_quota", None),
                "restricted_concurrency": execution.restricted_concurrency,
                "on_restricted": restricted}


__all__ = ["ExecutionContext"]
