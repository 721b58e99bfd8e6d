"""Errors of zonal statistics and sampling: one clear line each, naming what is wrong."""

from __future__ import annotations


class ZonalError(ValueError):
    """Bad input for zonal statistics or sampling (no id field, duplicate ids, empty layer,
    raster and zones not overlapping, unknown statistic, unreadable file...)."""


class ZonalCancelled(Exception):  # noqa: N818 - like tasks.TaskCancelled
    """Raised between batches when the caller's ``cancel()`` returned true."""
