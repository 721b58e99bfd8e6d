"""The plugin's words in the user's language, the QGIS way: Qt's translation, one context.

Every user-visible string of the QGIS side goes through :func:`tr`::

    tr("Run")                                        # a plain string
    tr("Job {name} finished.").format(name=name)     # values: placeholders, never concatenation
    tr("%n file(s)", None, count)                    # plurals: Qt's %n and the count, positional
    tr("%Ln request(s)", None, count)                # %Ln: the count with the locale's separators
    tr("Open", "a job file")                         # the same English for two meanings

Those are the forms ``pylupdate5`` extracts (``make translations``; see
``scripts/translations.py``): the text a string literal, the disambiguation a literal or None,
the count the third positional argument. ``tests/test_translations.py`` refuses other forms and
user-visible literals that do not go through ``tr``.

The translations (``i18n/eeextract_<locale>.qm``, compiled from the ``.ts`` files) are loaded
by :func:`install_translator`, called by ``classFactory`` before the plugin creates any widget
or algorithm, for QGIS's locale (:func:`qgis_locale`); without a translation for it the English
source text is shown. :func:`remove_translator` undoes it when the plugin is unloaded.

Without Qt (the command line in an environment without QGIS) :func:`tr` returns the English
text, with ``%n`` replaced.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable, List, Optional

try:  # the QGIS side; the command line may run where Qt is not installed
    from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator
except ImportError:  # pragma: no cover - exercised only without QGIS
    QCoreApplication = QLocale = QTranslator = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

#: The translation context of every string of the plugin's Python code (the .ui files have
#: their own: the form's name, as ``uic`` asks for them).
CONTEXT = "EEExtract"
#: The plugin's name: a name, the same in every language.
PLUGIN_NAME = "EE Extract"  # i18n: not translated (a name)
#: ``eeextract_<locale>.qm``
QM_PREFIX = "eeextract_"

_HERE = Path(__file__).resolve().parent
#: Where compiled translations are looked for: the plugin's own ``i18n/`` (the ZIP puts them
#: there), then the repository's ``i18n/`` (a source checkout after ``make translations``).
QM_FOLDERS = (_HERE / "i18n", _HERE.parent / "i18n")

_installed: List[object] = []  # the translator this plugin installed (at most one)


def tr(text: str, disambiguation: Optional[str] = None, n: int = -1) -> str:
    """``text`` in QGIS's language (the English ``text`` when there is no translation)."""
    if QCoreApplication is None:  # pragma: no cover - without Qt
        return text.replace("%Ln", f"{n:,}").replace("%n", str(n)) if n >= 0 else text
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


def qgis_locale(settings: Optional[object] = None) -> str:
    """The locale QGIS translates its interface for, found as QGIS finds it.

    1. The desktop's own choice (``QgsApplication.translation()``: ``--lang``, or the locale it
       settled on at start-up).
    2. ``locale/userLocale`` in QGIS's settings: the user's language when "Override system
       locale" (``locale/overrideFlag``) is on; otherwise the desktop writes the system locale
       it used there at every start, so it is also what ``qgis_process`` and scripts go by.
    3. The system locale.

    (``locale/globalLocale`` is the locale of numbers and dates, not of the language: QGIS makes
    it Qt's default locale, which :func:`number` uses.)"""
    app = QCoreApplication.instance() if QCoreApplication is not None else None
    translation = getattr(app, "translation", None)
    if callable(translation):
        try:
            code = str(translation() or "").strip()
        except TypeError:  # a plain QCoreApplication
            code = ""
        if code:
            return code
    if settings is None:
        from qgis.core import QgsSettings

        settings = QgsSettings()
    user = str(settings.value("locale/userLocale", "") or "").strip()
    if user:  # override on: the user's choice; off: the system locale the desktop wrote there
        return user
    return QLocale.system().name() if QLocale is not None else "en"


def qm_candidates(locale: str, folders: Optional[Iterable[Path]] = None) -> List[Path]:
    """The compiled translations that would serve ``locale``, best first: the exact locale
    (``pt_BR``), the language alone (``pt``), then another country's translation of the same
    language (a ``pt_PT`` user reads the ``pt_BR`` one rather than English)."""
    folders = list(QM_FOLDERS if folders is None else folders)
    code = locale.replace("-", "_").split(".")[0].split("@")[0]
    language = code.split("_")[0]
    found: List[Path] = []
    for folder in folders:
        exact = [folder / f"{QM_PREFIX}{code}.qm", folder / f"{QM_PREFIX}{language}.qm"]
        found += [p for p in exact if p.is_file()]
    for folder in folders:
        if folder.is_dir():
            found += sorted(p for p in folder.glob(f"{QM_PREFIX}{language}_*.qm") if p not in found)
    return found


def install_translator(locale: Optional[str] = None, folders: Optional[Iterable[Path]] = None) -> Optional[Path]:
    """Load the translation for ``locale`` (QGIS's when None) and install it in the application.
    Returns the ``.qm`` loaded, or None (English: no translation for that locale, or English
    itself). Idempotent: a translator installed earlier by this module is replaced. Reads files
    only: no network."""
    remove_translator()
    if QCoreApplication is None or QCoreApplication.instance() is None:
        return None
    locale = locale or qgis_locale()
    language = locale.replace("-", "_").split("_")[0].split(".")[0].lower()
    if language in ("en", "c", "posix", ""):
        return None  # the source text is English
    for path in qm_candidates(locale, folders):
        translator = QTranslator(QCoreApplication.instance())
        if translator.load(str(path)):
            QCoreApplication.installTranslator(translator)
            _installed.append(translator)
            log.debug("translation for %s: %s", locale, path)
            return path
        log.warning("cannot read the translation %s", path)
    return None


def remove_translator() -> None:
    """Remove the translator :func:`install_translator` installed (plugin unload)."""
    while _installed:
        translator = _installed.pop()
        if QCoreApplication is not None:
            QCoreApplication.removeTranslator(translator)
            try:
                translator.deleteLater()
            except RuntimeError:  # already deleted with the application
                pass


def installed() -> Optional[object]:
    """The translator this plugin installed, if any."""
    return _installed[-1] if _installed else None


def number(value: float, decimals: int = 0) -> str:
    """A number written as QGIS writes numbers (Qt's default locale: ``1.234.567`` in Brazil,
    ``1,234,567`` in the US), with ``decimals`` digits after the separator."""
    if QLocale is None:  # pragma: no cover - without Qt
        return f"{value:,.{decimals}f}"
    if decimals <= 0:
        return QLocale().toString(int(round(value)))
    return QLocale().toString(float(value), "f", decimals)


def _decimal_point(text: str) -> str:
    """The core's numbers ("9.5 s", "1.2 MB") with the locale's decimal separator."""
    point = QLocale().decimalPoint() if QLocale is not None else "."
    return re.sub(r"(?<=\d)\.(?=\d)", point, text) if point != "." else text


def duration(seconds: Optional[float]) -> str:
    """A duration as the core words it (:func:`~eeextract_plugin.core.wording.format_duration`:
    the one rule of its units), in the user's language: the core's few words translated, its
    decimals with the locale's separator."""
    from eeextract_plugin.core.wording import format_duration

    text = format_duration(seconds)
    if text == "unknown":
        return tr("unknown", "a duration")
    if text == "under 1 s":
        return tr("under 1 s")
    days = re.fullmatch(r"([\d.]+) days", text)
    if days:
        return tr("{n} days").format(n=_decimal_point(days.group(1)))
    return _decimal_point(text)


def size(n_bytes: Optional[float]) -> str:
    """A size as the core words it (``1.2 MB``), in the user's language."""
    from eeextract_plugin.core.wording import format_bytes

    text = format_bytes(n_bytes)
    return tr("unknown", "a size") if text == "unknown" else _decimal_point(text)


def rate(bytes_per_s: Optional[float]) -> str:
    """A transfer rate as the core words it (``1.2 MB/s``), in the user's language."""
    from eeextract_plugin.core.wording import format_rate

    return _decimal_point(format_rate(bytes_per_s))


__all__ = ["tr", "CONTEXT", "PLUGIN_NAME", "qgis_locale", "qm_candidates", "install_translator",
           "remove_translator", "installed", "number", "duration", "size", "rate"]
