"""What a run of a job hands back to every front end: one typed result.

The engine says which file is what — rasters, tables computed in Earth Engine, zonal statistics
tables, the footprint index of many outputs, a VRT over them — so no front end sorts files by
their names. :attr:`JobResult.outputs` is all of them, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.fetch import FetchStats


@dataclass
class ExportStats:
    """How a batch-export run talked to Earth Engine's task system."""

    submitted: int = 0  # Export tasks started by this run
    list_requests: int = 0  # operations.list calls (one sweep serves all of the job's tasks)
    get_requests: int = 0  # operations.get calls
    failures: dict = field(default_factory=dict)  # output id → Earth Engine's message


@dataclass
class JobResult:
    job_id: str
    state: str  # a registry job state: completed, completed_with_failures, failed, cancelled
    message: Optional[str] = None
    rasters: List[str] = field(default_factory=list)
    tables: List[str] = field(default_factory=list)  # computed in Earth Engine (kinds table, timeseries)
    zonal_tables: List[str] = field(default_factory=list)  # local zonal statistics (CSV, GeoPackage)
    index: Optional[str] = None  # footprints of the outputs (chips, per feature, per image)
    vrt: Optional[str] = None  # a VRT over the rasters (``output.vrt``)
    units_total: int = 0
    units_done: int = 0
    units_failed: int = 0
    bytes: int = 0
    elapsed_s: float = 0.0
    workdir: str = ""
    stats: FetchStats = field(default_factory=FetchStats)
    export: Optional[ExportStats] = None
    #: Things the user should know that did not fail the job (restricted mode, …), one line each.
    notices: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == reg.COMPLETED

    @property
    def finished(self) -> bool:
        """Every output that could be written was (possibly with some reported failures)."""
        return self.state in (reg.COMPLETED, reg.COMPLETED_WITH_FAILURES)

    @property
    def outputs(self) -> List[str]:
        """Every file the job wrote: rasters, tables, zonal tables, the index, the VRT."""
        extra = [p for p in (self.index, self.vrt) if p]
        return [*self.rasters, *self.tables, *self.zonal_tables, *extra]


__all__ = ["JobResult", "ExportStats"]
