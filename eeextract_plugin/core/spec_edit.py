"""Editing a job in a form: what a loaded job file says about fields the form has no widget for
is kept when the form builds the spec again.

A front end (the dock) fills its widgets from a job file, the user changes what the widgets
show, and the form builds a new spec; :func:`keep_unshown_fields` puts back the loaded file's
fields the form cannot show (``execution``, ``source.index``, ``grid.snap``, the export tuning
fields, ...), unless the user changed what they depend on (an export field only applies while
the method is the same; ``crs_transform`` only while the CRS is, and not once a scale is set).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional, Sequence, Tuple

#: (section, key, the fields that must still match for the key to apply). ``key`` None: the
#: whole section as the file had it; section "": a top-level field.
UNSHOWN_FIELDS: Tuple[Tuple[str, Optional[str], Sequence[str]], ...] = (
    ("", "description", ()),
    ("execution", None, ()),
    ("source", "index", ()),
    ("source", "max_images", ()),
    ("grid", "snap", ()),
    ("grid", "crs_transform", ("crs",)),
    ("output", "nodata", ()),
    ("output", "compression", ()),
    ("method", "prefix", ("type",)),
    ("method", "file_dimensions", ("type",)),
    ("method", "shard_size", ("type",)),
    ("method", "delete_after_download", ("type",)),
    ("method", "drive_mode", ("type",)),
    ("method", "mounted_path", ("type",)),
    ("method", "max_in_flight", ("type",)),
    ("method", "resubmit", ("type",)),
    ("table", "scale", ("operation",)),
    ("table", "cell_size", ("operation",)),
    ("zonal", "output", ()),
)


def keep_unshown_fields(form_spec: Dict[str, Any], loaded: Optional[Dict[str, Any]],
                        fields: Sequence[Tuple[str, Optional[str], Sequence[str]]] = UNSHOWN_FIELDS
                        ) -> Dict[str, Any]:
    """``form_spec`` (a spec dict a form built) with the unshown fields of ``loaded`` (the spec
    dict the form was filled from) put back; neither argument is modified."""
    spec = copy.deepcopy(form_spec)
    if not loaded:
        return spec
    for section, key, must_match in fields:
        if section == "":
            if key in loaded and key not in spec:
                spec[key] = copy.deepcopy(loaded[key])
            continue
        if section not in loaded:
            continue
        if key is None:  # the whole section, as the file had it (over the form's default)
            spec[section] = copy.deepcopy(loaded[section])
            continue
        if key not in loaded[section] or section not in spec:
            continue
        target = spec[section]
        if key in target or any(target.get(m) != loaded[section].get(m) for m in must_match):
            continue
        if key == "crs_transform" and "scale" in target:
            continue  # the user chose a scale: it replaces the file's transform
        target[key] = copy.deepcopy(loaded[section][key])
    return spec


__all__ = ["keep_unshown_fields", "UNSHOWN_FIELDS"]
