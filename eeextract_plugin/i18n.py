"""The plugin's words in the user's language: every user-visible string of the QGIS side goes
through :func:`tr` (Qt's translation, one context for the plugin). Strings with values use
placeholders (``tr("{n} file(s)").format(n=n)``), never concatenation."""

from __future__ import annotations

from typing import Optional

from qgis.PyQt.QtCore import QCoreApplication

CONTEXT = "EEExtract"


def tr(text: str, disambiguation: Optional[str] = None, n: int = -1) -> str:
    """``text`` translated for QGIS's locale (the English text when there is no translation)."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


__all__ = ["tr", "CONTEXT"]
