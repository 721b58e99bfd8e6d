"""The test environment QGIS needs, set before pytest-qgis starts QGIS.

Registered as a pytest plugin (entry point ``pytest11`` in pyproject.toml), so pytest imports it
before pytest-qgis starts QGIS — which happens before any conftest is read.

- Headless Qt: ``QT_QPA_PLATFORM=offscreen`` unless the caller chose another platform.
- A QGIS profile outside the temporary directory. pytest-qgis puts it in
  ``<checkout>/.qgis-settings``; with the checkout itself under /tmp (a CI clone), the QGIS tests
  segfaulted while Qt processed events after a test, every time, and never with the profile
  elsewhere. The profile folder then becomes a link to a per-checkout folder in ~/.cache.
"""

import hashlib
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _profile_outside_tempdir() -> None:
    checkout = Path(__file__).resolve().parents[1]
    if not ((checkout / "pyproject.toml").is_file() and (checkout / "tests").is_dir()):
        return  # an installed copy, not a checkout: pytest's rootdir is elsewhere
    temp = Path(tempfile.gettempdir()).resolve()
    if temp not in checkout.parents:
        return
    link = checkout / ".qgis-settings"
    if link.is_symlink() or link.exists():
        return
    digest = hashlib.sha1(str(checkout).encode("utf-8")).hexdigest()[:12]
    target = Path.home() / ".cache" / "eeextract-tests" / digest / "qgis-settings"
    target.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


_profile_outside_tempdir()
