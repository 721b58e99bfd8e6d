"""Zonal statistics and point sampling on finished rasters (local, pure Python).

Entry points: :func:`run_zonal` (a :class:`ZonalRequest`) and :func:`run_sampling` (a
:class:`SampleRequest`). Engines: ``exactextract`` (partial-pixel coverage weighting, the
default) and ``rasterstats`` (pixel-centre rule, as EEDL), plus those a host registers (the QGIS
plugin's ``qgis``); ``auto`` lets the host choose. See ``docs/zonal-statistics.md``.
"""

from eeextract_plugin.core.zonal.engines import (
    AUTO,
    DEFAULT_ENGINE,
    ENGINES,
    bundled_native_libraries,
    choose_engine,
    engine_problem,
    rasterstats_problem,
    register_engine,
    set_engine_policy,
    unregister_engine,
)
from eeextract_plugin.core.zonal.errors import ZonalError
from eeextract_plugin.core.zonal.run import ZonalRequest, ZonalResult, run_for_job, run_zonal
from eeextract_plugin.core.zonal.sampling import SampleRequest, SampleResult, run_sampling
from eeextract_plugin.core.zonal.statistics import parse_statistics

__all__ = [
    "AUTO",
    "DEFAULT_ENGINE",
    "bundled_native_libraries",
    "choose_engine",
    "engine_problem",
    "register_engine",
    "set_engine_policy",
    "unregister_engine",
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
