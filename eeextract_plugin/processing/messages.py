"""The engine's errors in the Processing dialog's words: spec fields named by the algorithm's
parameters, as the dialog labels them ("Asset ID", "Extent (with its CRS)").

The core names spec fields (``source.asset_id``, ``grid.scale``); an algorithm translated its
parameters into those fields, so the same translation read backwards names the parameter. A
field with no parameter of its own (a job file's) keeps the spec's name. The engine's wording,
with field paths, stays in the log.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from eeextract_plugin.core.errors import BadInput

#: spec field → the parameters that set it, most specific first (the first the algorithm has wins)
FIELD_PARAMETERS = {
    "source.asset_id": ("ASSET",),
    "source.type": ("ASSET", "START"),
    "source.expression": ("EXPRESSION",),
    "source.bands": ("BANDS",),
    "source.start": ("START",),
    "source.end": ("END",),
    "source.filters": ("FILTER",),
    "source.index": ("NORMALIZED_DIFFERENCE",),
    "source.max_images": ("MAX_IMAGES",),
    "source.mode": ("MODE",),
    "source.window_days": ("WINDOW_DAYS",),
    "source.reducer": ("REDUCER",),
    "source": ("ASSET",),
    "region.id_field": ("ID_FIELD",),
    "region": ("EXTENT", "POINTS", "POLYGONS", "REGIONS", "INPUT"),
    "grid.crs": ("CRS",),
    "grid.scale": ("SCALE",),
    "grid": ("SCALE", "CRS"),
    "table.scale": ("SCALE",),
    "table.reducer": ("REDUCER",),
    "table.operation": ("OPERATION",),
    "output.chip_size": ("CHIP_SIZE",),
    "output.format": ("FORMAT",),
    "output.visualization": ("VIS_MIN", "VIS_MAX"),
    "output.nodata": ("NODATA",),
    "output": ("OUTPUT", "OUTPUT_FOLDER"),
    "method.bucket": ("BUCKET",),
    "method.folder": ("DRIVE_FOLDER",),
    "method.prefix": ("PREFIX",),
    "method.file_dimensions": ("FILE_DIMENSIONS",),
    "method": ("DESTINATION",),
    "execution": ("CONCURRENCY",),
}

_FIELD_IN_TEXT = re.compile(r"\b(?:source|region|grid|output|method|table|execution|zonal)(?:\.[a-z_]+)+\b")


def parameter_label(algorithm: Any, field: str) -> Optional[str]:
    """The dialog's label of the parameter that set spec ``field`` (or its closest parent)."""
    parts = field.split(".")
    while parts:
        key = ".".join(p.split("[")[0] for p in parts)
        for name in FIELD_PARAMETERS.get(key, ()):
            definition = algorithm.parameterDefinition(name)
            if definition is not None:
                return definition.description()
        parts.pop()
    return None


def reword_fields(algorithm: Any, text: str) -> str:
    """Spec field paths inside a sentence replaced by the parameters' labels, in quotes."""
    def label(match: re.Match[str]) -> str:
        found = parameter_label(algorithm, match.group(0))
        return f"“{found}”" if found else match.group(0)

    return _FIELD_IN_TEXT.sub(label, text)


def parameter_message(algorithm: Any, error: BadInput) -> str:
    """One line for the dialog's log: the parameter's label, then what is wrong."""
    reason = reword_fields(algorithm, (error.reason or str(error)).strip())
    label = parameter_label(algorithm, error.field) if error.field else None
    if error.field and label is None:  # a job file's own field: its name is what the user wrote
        return f"{error.field}: {reason}"
    return f"{label}: {reason}" if label else reason


__all__ = ["parameter_label", "parameter_message", "reword_fields", "FIELD_PARAMETERS"]
