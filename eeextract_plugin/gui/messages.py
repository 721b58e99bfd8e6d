"""The engine's errors in the dock's words: spec fields named by the form's labels.

The core names spec fields (``output.overwrite``, ``source.asset_id``); the dock shows the label
the user sees ("Replace existing output files", "Asset ID"). :func:`form_message` is the one
place that translates; the engine's own wording stays in the log.
"""

from __future__ import annotations

import re
from typing import Dict

from eeextract_plugin.core.errors import BadInput

#: Spec field → the dock's label for it (the most specific path wins).
FIELD_LABELS: Dict[str, str] = {
    "name": "Job name",
    "kind": "Extract",
    "source": "Source",
    "source.type": "Type",
    "source.asset_id": "Asset ID",
    "source.expression": "Expression",
    "source.bands": "Bands",
    "source.start": "Dates",
    "source.end": "Dates",
    "source.filters": "Filters",
    "source.mode": "Images",
    "source.window_days": "Images (days per composite)",
    "source.reducer": "Images (reducer)",
    "region": "From",
    "region.bbox": "From (rectangle)",
    "region.geometry": "From",
    "region.path": "Layer",
    "region.id_field": "ID field",
    "grid": "Scale",
    "grid.crs": "CRS",
    "grid.scale": "Scale",
    "output": "Folder",
    "output.directory": "Folder",
    "output.format": "Format",
    "output.name": "File name prefix",
    "output.overwrite": "Replace existing output files",
    "output.chip_size": "Chip size",
    "output.visualization": "Format (PNG / JPEG range)",
    "method": "Method",
    "method.type": "Method",
    "method.bucket": "Bucket / folder",
    "method.folder": "Bucket / folder",
    "table": "Table",
    "table.operation": "Table",
    "zonal": "Zonal statistics",
    "zonal.polygons": "Zones",
    "zonal.id_field": "Zone ID",
    "zonal.statistics": "Statistics",
    # made from the settings dialog's Jobs tab (qgis_settings.ConnectionSettings.execution_dict)
    "execution": "EE Extract settings → Jobs",
    "execution.max_concurrent_requests": "EE Extract settings → Concurrent requests",
    "execution.requests_per_second": "EE Extract settings → Requests per second",
    "execution.engine": "EE Extract settings → Run requests on",
    "execution.request_kind": "EE Extract settings → Run requests on",
    "execution.dask_scheduler": "EE Extract settings → Dask scheduler",
}

def _type_label(value: str) -> str:
    from eeextract_plugin.gui.job_form import SOURCE_TYPE_LABELS

    return SOURCE_TYPE_LABELS.get(value, value)


def _grid_too_large(match: re.Match[str]) -> str:
    width, height, limit = int(match.group(1)), int(match.group(2)), float(match.group(3))
    return (f"the output would be {width:,} × {height:,} pixels, more than {limit:,.0f}: "
            "choose a larger Scale or a smaller region")


#: The engine's instructions, written for job files, said as the form would (before field paths
#: are replaced by labels).
PHRASES = (
    (re.compile(r"\(?set output\.overwrite to replace it\)?"),
     lambda m: "(check “Replace existing output files” to replace it)"),
    (re.compile(r"\(?use source\.type '(\w+)'\)?"),
     lambda m: f"(choose Type “{_type_label(m.group(1))}”)"),
    (re.compile(r"is a IMAGE_COLLECTION\b"), lambda m: "is an image collection"),
    (re.compile(r"is an? IMAGE\b"), lambda m: "is an image"),
    (re.compile(r"or use engine 'threads'"), lambda m: "or run requests on “This computer (in QGIS)”"),
    (re.compile(r"is not an Earth Engine asset ID: ''"),
     lambda m: "type the ID of an Earth Engine image or image collection"),
    (re.compile(r"grid of (\d+) x (\d+) pixels is larger than ([0-9.e+]+)"), _grid_too_large),
)

_FIELD_IN_TEXT = re.compile(r"\b(?:name|kind|source|region|grid|output|method|table|zonal|execution)(?:\.[a-z_]+)*\b")


def label_of(field: str) -> str:
    """The form's label for a spec field (its closest labelled parent; the field itself when
    the form has none)."""
    parts = field.split(".")
    while parts:
        key = ".".join(p.split("[")[0] for p in parts)
        if key in FIELD_LABELS:
            return FIELD_LABELS[key]
        parts.pop()
    return field


def reword(text: str) -> str:
    """The engine's instructions and spec field paths inside a sentence said with the form's
    labels, in quotes, on one line."""
    text = " ".join(text.split())
    for pattern, replacement in PHRASES:
        text = pattern.sub(replacement, text)
    return _FIELD_IN_TEXT.sub(lambda m: f"“{label_of(m.group(0))}”" if "." in m.group(0) else m.group(0), text)


def form_message(exc: BaseException) -> str:
    """One line for the message bar or the estimate line, naming things as the form does."""
    if isinstance(exc, BadInput) and exc.field:
        return f"{label_of(exc.field)}: {reword(exc.reason)}"
    return reword(str(exc).strip() or type(exc).__name__)


__all__ = ["form_message", "label_of", "reword", "FIELD_LABELS"]
