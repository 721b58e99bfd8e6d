"""Keep the pip wheels' own native libraries for the wheels, inside QGIS executables.

Wheels of shapely, pyproj, exactextract and rasterio bundle their own GEOS / PROJ / GDAL (under
mangled file names, but with the usual unversioned symbols). In ``qgis`` and ``qgis_process`` the
executable itself links the system's GEOS, PROJ and GDAL, which therefore sit in the global
symbol scope, and the dynamic linker binds the wheels' calls to them: with shapely 2.2 (GEOS
3.14) on Debian's QGIS 3.22 (GEOS 3.11) every WKB export fails with "WKB output dimension must
be 2 or 3" (zonal statistics break). Importing those wheels once with ``RTLD_DEEPBIND`` makes
each resolve its symbols in its own libraries first. Nothing happens outside Linux, when no
native library is in the global scope (a plain Python process, tests), or when the module is
already imported (then it is too late; the result says so).
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import sys
from typing import Dict

log = logging.getLogger(__name__)

#: module to import → a symbol of the system library it would otherwise clash with
WHEELS = (("shapely", "GEOSversion"), ("pyproj", "proj_info"), ("exactextract", "GEOSversion"),
          ("rasterio", "GDALVersionInfo"))


def _global_symbol(name: str) -> bool:
    try:
        getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return False
    return True


def isolate_wheel_libraries() -> Dict[str, str]:
    """Imports the wheels listed in :data:`WHEELS` with ``RTLD_DEEPBIND`` where they would clash;
    returns what happened per module (``isolated``, ``already imported``, ``not needed``, ...)."""
    deepbind = getattr(os, "RTLD_DEEPBIND", None)
    report: Dict[str, str] = {}
    if deepbind is None or not sys.platform.startswith("linux"):
        return {name: "not needed (no RTLD_DEEPBIND)" for name, _ in WHEELS}
    flags = sys.getdlopenflags()
    try:
        for module, symbol in WHEELS:
            if module in sys.modules:
                report[module] = "already imported"
            elif not _global_symbol(symbol):
                report[module] = "not needed"
            else:
                sys.setdlopenflags(os.RTLD_NOW | deepbind)
                try:
                    importlib.import_module(module)
                    report[module] = "isolated"
                except ImportError:
                    report[module] = "not installed"
                except Exception as error:  # noqa: BLE001 - a broken wheel must not stop the provider
                    report[module] = f"failed: {error}"
                    log.warning("importing %s with its own native libraries failed: %s", module, error)
                finally:
                    sys.setdlopenflags(flags)
    finally:
        sys.setdlopenflags(flags)
    log.debug("wheel native libraries: %s", report)
    return report
