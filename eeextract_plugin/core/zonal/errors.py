"""Errors of zonal statistics and sampling: one clear line each, naming what is wrong."""

from __future__ import annotations

from eeextract_plugin.core.errors import BadInput


class ZonalError(BadInput):
    """Bad input for zonal statistics or sampling (no id field, duplicate ids, empty layer,
    raster and zones not overlapping, unknown statistic, unreadable file...)."""
