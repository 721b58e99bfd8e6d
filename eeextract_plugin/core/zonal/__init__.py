"""Zonal statistics and point sampling on finished rasters (local, pure Python).

Entry points: :func:`run_zonal` (a :class:`ZonalRequest`) and :func:`run_sampling` (a
:class:`SampleRequest`). Two engines: ``exactextract`` (partial-pixel coverage weighting, the
default) and ``rasterstats`` (pixel-centre rule, as EEDL). See ``docs/zonal-statistics.md``.
"""

from eeextract_plugin.core.zonal.engines import DEFAULT_ENGINE, ENGINES, rasterstats_problem
from eeextract_plugin.core.zonal.errors import ZonalError
from eeextract_plugin.core.zonal.run import ZonalRequest, ZonalResult, run_for_job, run_zonal
from eeextract_plugin.core.zonal.sampling import SampleRequest, SampleResult, run_sampling
from eeextract_plugin.core.zonal.statistics import parse_statistics

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "SampleRequest",
    "SampleResult",
    "ZonalError",
    "ZonalRequest",
    "ZonalResult",
    "parse_statistics",
    "rasterstats_problem",
    "run_for_job",
    "run_sampling",
    "run_zonal",
]
