"""The engine's errors in the dock's words: spec fields named by the form's labels.

The core names spec fields (``output.overwrite``, ``source.asset_id``); the dock shows the label
the user sees ("Replace existing output files", "Asset ID"). :func:`form_message` is the one
place that translates; the engine's own wording stays in the log. The labels and the engine's
instructions reworded here are in the user's language (the same words as the form's, which the
.ui translates: tests/test_translations.py checks they agree); the rest of an engine message is
the engine's English.
"""

from __future__ import annotations

import re
from typing import Dict

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.i18n import number, tr


def field_labels() -> Dict[str, str]:
    """Spec field → the dock's label for it (the most specific path wins), in the user's language."""
    return {
        "name": tr("Job name"),
        "kind": tr("Extract"),
        "source": tr("Source"),
        "source.type": tr("Type"),
        "source.asset_id": tr("Asset ID"),
        "source.expression": tr("Expression"),
        "source.bands": tr("Bands"),
        "source.start": tr("Dates"),
        "source.end": tr("Dates"),
        "source.filters": tr("Filters"),
        "source.mode": tr("Images"),
        "source.window_days": tr("Images (days per composite)"),
        "source.reducer": tr("Images (reducer)"),
        "region": tr("From"),
        "region.bbox": tr("From (rectangle)"),
        "region.geometry": tr("From"),
        "region.path": tr("Layer"),
        "region.id_field": tr("ID field"),
        "grid": tr("Scale"),
        "grid.crs": tr("CRS"),
        "grid.scale": tr("Scale"),
        "output": tr("Folder"),
        "output.directory": tr("Folder"),
        "output.format": tr("Format"),
        "output.name": tr("File name prefix"),
        "output.overwrite": tr("Replace existing output files"),
        "output.chip_size": tr("Chip size"),
        "output.visualization": tr("Format (PNG / JPEG range)"),
        "method": tr("Method"),
        "method.type": tr("Method"),
        "method.bucket": tr("Bucket / folder"),
        "method.folder": tr("Bucket / folder"),
        "table": tr("Table"),
        "table.operation": tr("Table"),
        "zonal": tr("Zonal statistics"),
        "zonal.polygons": tr("Zones"),
        "zonal.id_field": tr("Zone ID"),
        "zonal.statistics": tr("Statistics"),
        # made from the settings dialog's Jobs tab (qgis_settings.ConnectionSettings.execution_dict)
        "execution": tr("EE Extract settings → Jobs"),
        "execution.max_concurrent_requests": tr("EE Extract settings → Concurrent requests"),
        "execution.requests_per_second": tr("EE Extract settings → Requests per second"),
        "execution.engine": tr("EE Extract settings → Run requests on"),
        "execution.request_kind": tr("EE Extract settings → Run requests on"),
        "execution.dask_scheduler": tr("EE Extract settings → Dask scheduler"),
    }


def _type_label(value: str) -> str:
    from eeextract_plugin.gui.job_form import source_type_labels

    return source_type_labels().get(value, value)


def _grid_too_large(match: re.Match[str]) -> str:
    width, height, limit = int(match.group(1)), int(match.group(2)), float(match.group(3))
    return tr("the output would be {width} × {height} pixels, more than {limit}: choose a larger "
              "{scale} or a smaller region").format(width=number(width), height=number(height),
                                                     limit=number(limit), scale=tr("Scale"))


#: The engine's instructions, written for job files, said as the form would (before field paths
#: are replaced by labels).
PHRASES = (
    (re.compile(r"\(?set output\.overwrite to replace it\)?"),  # i18n: not translated (the engine's English, matched)
     lambda m: tr("(check “{label}” to replace it)").format(label=tr("Replace existing output files"))),
    (re.compile(r"\(?use source\.type '(\w+)'\)?"),  # i18n: not translated (the engine's English, matched)
     lambda m: tr("(choose {type} “{value}”)").format(type=tr("Type"), value=_type_label(m.group(1)))),
    (re.compile(r"is a IMAGE_COLLECTION\b"), lambda m: tr("is an image collection")),
    (re.compile(r"is an? IMAGE\b"), lambda m: tr("is an image")),  # i18n: not translated (the engine's English, matched)
    (re.compile(r"is not an Earth Engine asset ID: ''"),  # i18n: not translated (the engine's English, matched)
     lambda m: tr("type the ID of an Earth Engine image or image collection")),
    (re.compile(r"grid of (\d+) x (\d+) pixels is larger than ([0-9.e+]+)"), _grid_too_large),  # i18n: not translated (the engine's English, matched)
    (re.compile(r"or use engine 'threads'"),  # i18n: not translated (the engine's English, matched)
     lambda m: tr("or run requests on “{where}”").format(where=tr("This computer (in QGIS)"))),
)

_FIELD_IN_TEXT = re.compile(r"\b(?:name|kind|source|region|grid|output|method|table|zonal|execution)(?:\.[a-z_]+)*\b")


def label_of(field: str) -> str:
    """The form's label for a spec field (its closest labelled parent; the field itself when
    the form has none)."""
    labels = field_labels()
    parts = field.split(".")
    while parts:
        key = ".".join(p.split("[")[0] for p in parts)
        if key in labels:
            return labels[key]
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


__all__ = ["form_message", "label_of", "reword", "field_labels"]
