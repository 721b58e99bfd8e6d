"""Names of export parts.

Earth Engine names an exported GeoTIFF ``{prefix}.tif``, or ``{prefix}-{row:010d}-{col:010d}.tif``
per part when the image is split by ``fileDimensions``. EE Extract never lets the user's name be
the prefix: each export gets an internal prefix unique per job, output and attempt, so parts of
two images (or of a failed attempt and its resubmission) can never be mixed up. The user's name
goes on the final, mosaicked file only.
"""

from __future__ import annotations

import math
import re
from typing import List, Optional, Tuple

from eeextract_plugin.core.naming import safe_name

PREFIX_ROOT = "eeextract"


def internal_prefix(job_id: str, output_name: str, attempt: int) -> str:
    """``eeextract/<job id>/<output name>-a<attempt>`` (Cloud Storage); Drive has no folders
    inside an export folder, so :func:`drive_prefix` flattens it. ``output_name`` is the
    output's name among the job's (:func:`eeextract_plugin.core.naming.unique_names`): two
    outputs never share a prefix, so their parts never mix."""
    return f"{PREFIX_ROOT}/{safe_name(job_id)}/{output_name}-a{attempt}"


def drive_prefix(job_id: str, output_name: str, attempt: int) -> str:
    return internal_prefix(job_id, output_name, attempt).replace("/", "__")


def part_pattern(prefix: str) -> re.Pattern[str]:
    """Matches exactly this export's parts (and nothing that merely starts with the prefix)."""
    return re.compile(re.escape(prefix) + r"(?:-(\d{10})-(\d{10}))?\.tif$")


def part_offsets(prefix: str, name: str) -> Optional[Tuple[int, int]]:
    """(row offset, column offset) of a part of this export, or None if ``name`` is not one."""
    m = part_pattern(prefix).fullmatch(name)
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2))) if m.group(1) is not None else (0, 0)


def expected_parts(width: int, height: int, file_dimensions: int) -> List[Tuple[int, int]]:
    """The (row, col) offsets Earth Engine writes for an image of ``width`` x ``height`` split
    into files of at most ``file_dimensions`` a side (empty tiles are not skipped)."""
    if width <= file_dimensions and height <= file_dimensions:
        return [(0, 0)]
    rows = math.ceil(height / file_dimensions)
    cols = math.ceil(width / file_dimensions)
    return [(r * file_dimensions, c * file_dimensions) for r in range(rows) for c in range(cols)]
