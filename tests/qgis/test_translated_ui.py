"""The plugin in the user's language, as QGIS starts it.

- QGIS with ``locale/userLocale = pt_BR``: ``classFactory`` installs the Brazilian Portuguese
  translation before anything is built; the dock's labels, its choices, the settings dialog and
  the Processing algorithms' names, groups, parameters and help are in Portuguese; unloading
  the plugin removes the translation (English again), and a locale without a translation
  (or English) leaves the English text.
- Under a translation that marks every string the plugin asks for, the dock (in each of its
  modes), the settings dialog and every algorithm show no text that was not asked for: the
  strings built at run time (labels from dictionaries, help from parts, placeholders per
  method) all went through Qt's translation.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import translations  # noqa: E402  (scripts/translations.py)


@pytest.fixture(scope="module")
def compiled_qm(tmp_path_factory) -> Path:
    """The Brazilian Portuguese .qm, compiled from the committed .ts (as make translations does)."""
    translations.tool("lrelease")
    folder = tmp_path_factory.mktemp("i18n")
    translations.compile_ts(ROOT / "i18n" / "eeextract_pt_BR.ts", folder / "eeextract_pt_BR.qm")
    return folder


@pytest.fixture()
def qgis_locale(qgis_app, monkeypatch, compiled_qm):
    """Sets QGIS's locale (as the Options dialog's "Override system locale" does); the plugin
    finds its translations in the compiled folder. Restores the settings and removes any
    translator left installed."""
    from qgis.core import QgsSettings

    from eeextract_plugin import i18n

    monkeypatch.setattr(i18n, "QM_FOLDERS", (compiled_qm,))
    settings = QgsSettings()
    keys = ("locale/userLocale", "locale/overrideFlag")
    saved = {key: settings.value(key) for key in keys}

    def set_locale(code: str) -> None:
        settings.setValue("locale/overrideFlag", True)
        settings.setValue("locale/userLocale", code)

    yield set_locale
    i18n.remove_translator()
    for key, value in saved.items():
        if value is None:
            settings.remove(key)
        else:
            settings.setValue(key, value)


def _provider_algorithms():
    from eeextract_plugin.processing.algorithms import all_algorithms

    algorithms = all_algorithms()
    for algorithm in algorithms:
        algorithm.initAlgorithm()
    return algorithms


def test_qgis_in_brazilian_portuguese_shows_the_plugin_in_portuguese(qgis_locale, recording_iface, clean_settings):
    from qgis.core import QgsApplication

    import eeextract_plugin
    from eeextract_plugin import i18n

    qgis_locale("pt_BR")
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("eeextract")
    if existing is not None:  # left by another test: this one registers its own, translated
        registry.removeProvider(existing)
    plugin = eeextract_plugin.classFactory(recording_iface)  # QGIS's own door: the translator first
    assert i18n.installed() is not None, "no translation installed for pt_BR"
    plugin.initGui()
    try:
        dock = plugin.show_dock()
        f = dock.form
        # The .ui's strings (context EEExtractDock) and the code's (context EEExtract).
        assert f.grpSource.title() == "Fonte"
        assert f.lbl_layoutSource_1.text() == "Asset"
        assert f.grpOutput.title() == "Saída" and f.lbl_layoutOutput_0.text() == "SRC"
        assert f.btnRun.text() == "Executar" and f.btnJobResume.text() == "Retomar"
        assert f.tabs.tabText(0) == "Novo trabalho" and f.tabs.tabText(1) == "Trabalhos"
        assert f.treeJobs.headerItem().text(1) == "Estado"
        assert f.cmbKind.itemText(f.cmbKind.findData("mosaic")) == "Mosaico (um raster)"
        assert f.cmbKind.itemText(f.cmbKind.findData("chips")) == "Recortes (chips) nos pontos"
        assert f.cmbMethod.itemText(f.cmbMethod.findData("export_gcs")) == "Exportar para o Cloud Storage"
        assert f.chkOverwrite.text() == "Substituir arquivos existentes"
        assert f.chkZonal.text() == "Estatísticas zonais"
        assert f.spnScale.specialValueText() == "nativa"
        assert plugin.toggle_action.toolTip().startswith("Mostrar o painel do EE Extract")
        # Processing: the provider QGIS lists, its algorithms as the toolbox shows them.
        provider = registry.providerById("eeextract")
        assert provider is not None and provider.longName().startswith("EE Extract (extração em massa")
        image = registry.algorithmById("eeextract:extract_image")
        assert image.displayName() == "Extrair imagem (direto)"
        assert image.group() == "Extrair do Earth Engine"
        assert image.parameterDefinition("EXTENT").description() == "Extensão (com seu SRC)"
        assert "Conexão com o Earth Engine" in image.shortHelpString()
        zonal = registry.algorithmById("eeextract:zonal_statistics")
        assert zonal.displayName() == "Estatísticas zonais (local)" and zonal.group() == "Estatísticas e tabelas"
        # A message said with the form's words, in Portuguese (label and the engine's instruction).
        from eeextract_plugin.core.errors import BadInput
        from eeextract_plugin.gui.messages import form_message

        assert form_message(BadInput(field="output.overwrite", reason="/x/a.tif exists (set output.overwrite to "
                                     "replace it)")) == \
            "Substituir arquivos existentes: /x/a.tif exists (marque “Substituir arquivos existentes” para " \
            "substituí-lo)"
    finally:
        plugin.unload()
    # Unloaded: the translation is gone with the plugin.
    assert i18n.installed() is None
    assert i18n.tr("Run") == "Run"


def test_plurals_take_brazilian_portuguese_forms(qgis_locale):
    from eeextract_plugin import i18n

    qgis_locale("pt_BR")
    assert i18n.install_translator() is not None
    assert i18n.tr("%Ln file(s)", None, 1) == "1 arquivo"
    assert i18n.tr("%Ln file(s)", None, 3) == "3 arquivos"
    assert i18n.tr("Job {name} finished: %Ln file(s).", None, 2).format(name="ndvi") == \
        "Trabalho ndvi concluído: 2 arquivos."


@pytest.mark.parametrize("locale, expected", [("pt_BR", "Executar"), ("pt_PT", "Executar"),
                                              ("de_DE", "Run"), ("en_US", "Run"), ("C", "Run")])
def test_the_locale_chooses_the_translation_and_falls_back_to_english(qgis_locale, locale, expected):
    """pt_PT has no translation of its own: the Brazilian one serves better than English; a
    language with none (German) and English itself get the English source."""
    from qgis.PyQt.QtCore import QCoreApplication

    from eeextract_plugin import i18n

    qgis_locale(locale)
    assert i18n.qgis_locale() == locale
    i18n.install_translator()
    assert QCoreApplication.translate("EEExtractDock", "Run") == expected
    assert i18n.tr("Image collection") == ("Coleção de imagens" if expected != "Run" else "Image collection")


# ------------------------------------------------------------------ nothing escapes translation
MARK_OPEN, MARK_CLOSE = "⟦", "⟧"
OUR_CONTEXTS = ("EEExtract", "EEExtractDock", "EEExtractSettings")


@pytest.fixture()
def marking_translator(qgis_app):
    """A translation that answers every string of the plugin's contexts with the string marked
    ⟦…⟧ (placeholders kept, so .format() still works); other contexts (QGIS's own widgets) are
    not answered."""
    from qgis.PyQt.QtCore import QCoreApplication, QTranslator

    from eeextract_plugin import i18n

    class Marking(QTranslator):
        def translate(self, context, source, disambiguation=None, n=-1):  # noqa: N802 - Qt's name
            if context in OUR_CONTEXTS and source:
                return f"{MARK_OPEN}{source}{MARK_CLOSE}"
            return None

        def isEmpty(self):  # noqa: N802 - Qt's name
            return False

    i18n.remove_translator()
    translator = Marking()
    QCoreApplication.installTranslator(translator)
    yield translator
    QCoreApplication.removeTranslator(translator)


#: Widgets whose text is data, not words of ours: names of reducers, statistics, formats and
#: engines (Earth Engine's and the tools' own), bands, layers, fields, CRSs, paths, dates.
DATA_WIDGETS = ("cmbReducer", "cmbTableReducer", "cmbFormat", "cmbZonalEngine", "cmbZonalStats", "cmbBands",
                "txtJobName", "dateStart", "dateEnd")
#: QGIS's and Qt's own widgets (their words are QGIS's translation's: OK, Cancel, layer names).
QGIS_WIDGETS = ("QgsMapLayerComboBox", "QgsFieldComboBox", "QgsProjectionSelectionWidget", "QgsFileWidget",
                "QgsCheckableComboBox", "QgsFilterLineEdit", "QDialogButtonBox")
#: Names that stay names: tools, ids the code shows as examples (the code says so on their line).
NAMES = {"EE Extract", "exactextract", "rasterstats", "sandbox", "my-cloud-project"}


def _not_translatable_in_forms() -> set:
    """What the .ui files mark notr="true" (code, examples of ids, the plugin's name)."""
    import xml.etree.ElementTree as ET

    _py, forms = translations.sources()
    return {(s.text or "").strip() for form in forms for s in ET.parse(form).getroot().iter("string")
            if s.get("notr") == "true"}


def _needs_words(text: str) -> bool:
    plain = re.sub(r"<[^>]*>", " ", text or "")
    return bool(re.search(r"[A-Za-z]{2,}", plain)) and plain.strip() not in NAMES | _not_translatable_in_forms()


def _shown_texts(root) -> Iterator[Tuple[str, str]]:
    """(where, text) for every text a widget tree shows or explains."""
    from qgis.PyQt.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QPlainTextEdit,
        QTabWidget,
        QTreeWidget,
        QWidget,
    )

    def inside_qgis_widget(widget) -> bool:
        parent = widget
        while parent is not None and parent is not root:
            if type(parent).__name__ in QGIS_WIDGETS or parent.objectName() in DATA_WIDGETS:
                return True
            parent = parent.parentWidget()
        return False

    for widget in [root] + root.findChildren(QWidget):
        if inside_qgis_widget(widget):
            continue
        where = f"{type(widget).__name__} {widget.objectName()}"
        yield f"{where} toolTip", widget.toolTip()
        if isinstance(widget, QLabel):
            yield f"{where} text", widget.text()
        elif isinstance(widget, QAbstractButton):
            yield f"{where} text", widget.text()
        elif isinstance(widget, QGroupBox):
            yield f"{where} title", widget.title()
        elif isinstance(widget, QLineEdit):
            yield f"{where} placeholder", widget.placeholderText()
        elif isinstance(widget, QPlainTextEdit):
            yield f"{where} placeholder", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                yield f"{where} item {i}", widget.itemText(i)
        elif isinstance(widget, QAbstractSpinBox):
            yield f"{where} special value", widget.specialValueText()
            if hasattr(widget, "suffix"):
                yield f"{where} suffix", widget.suffix()
        elif isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                yield f"{where} tab {i}", widget.tabText(i)
        elif isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            for i in range(header.columnCount()):
                yield f"{where} column {i}", header.text(i)


def _unmarked(texts) -> List[str]:
    return sorted({f"{where}: {text!r}" for where, text in texts
                   if _needs_words(text) and MARK_OPEN not in text})


def test_the_dock_shows_no_text_that_escaped_translation(marking_translator, qgis_iface, clean_settings):
    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.qgis_session import SessionSource

    dock = EEExtractDock(qgis_iface, SessionSource())
    dock.launch = lambda task: None  # no background work here: only what the form shows
    try:
        f = dock.form
        seen = list(_shown_texts(dock.body))
        # Each mode shows its own words: methods (placeholders), regions (summaries), sources.
        for combo in (f.cmbMethod, f.cmbRegionMode, f.cmbSourceType, f.cmbKind):
            for i in range(combo.count()):
                combo.setCurrentIndex(i)
                dock._update_visibility()
                seen += list(_shown_texts(dock.body))
        dock.set_bands(["B4", "B3", "B2"], ["B4"])
        seen += list(_shown_texts(dock.body))
        assert MARK_OPEN in f.grpSource.title(), "the marking translation is not in use"
        problems = _unmarked(seen)
        assert not problems, "shown without going through translation:\n" + "\n".join(problems)
    finally:
        dock.shutdown()
        dock.deleteLater()


def test_the_settings_dialog_shows_no_text_that_escaped_translation(marking_translator, clean_settings):
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    try:
        seen = [("window title", dialog.windowTitle())] + list(_shown_texts(dialog))
        for i in range(dialog.cmbMode.count()):
            dialog.cmbMode.setCurrentIndex(i)
            seen += list(_shown_texts(dialog))
        problems = _unmarked(seen)
        assert not problems, "shown without going through translation:\n" + "\n".join(problems)
    finally:
        dialog.done(0)
        dialog.deleteLater()


def test_every_algorithm_names_and_explains_itself_through_translation(marking_translator):
    from eeextract_plugin.processing.provider import EEExtractProvider

    seen = [("provider longName", EEExtractProvider().longName())]
    for algorithm in _provider_algorithms():
        name = algorithm.name()
        seen += [(f"{name} displayName", algorithm.displayName()), (f"{name} group", algorithm.group())]
        help_text = algorithm.shortHelpString()
        # Help is put together from translated paragraphs: every paragraph is marked.
        for part in re.split(r"(?<=⟧)", help_text):
            seen.append((f"{name} help", part))
        for parameter in algorithm.parameterDefinitions():
            seen.append((f"{name} parameter {parameter.name()}", parameter.description()))
        for output in algorithm.outputDefinitions():
            seen.append((f"{name} output {output.name()}", output.description()))
    problems = _unmarked(seen)
    assert not problems, "shown without going through translation:\n" + "\n".join(problems)


def test_durations_sizes_and_rates_in_the_users_language(qgis_locale):
    """The core's durations and sizes (its one rule of units) said in Portuguese, with the
    locale's decimal comma: no English word left, whatever the value."""
    from qgis.PyQt.QtCore import QLocale

    from eeextract_plugin import i18n

    qgis_locale("pt_BR")
    i18n.install_translator()
    previous = QLocale()
    QLocale.setDefault(QLocale("pt_BR"))  # QGIS makes locale/globalLocale Qt's default
    try:
        assert i18n.duration(None) == "desconhecido"
        assert i18n.duration(0.4) == "menos de 1 s"
        assert i18n.duration(9.5) == "9,5 s"
        assert i18n.duration(75) == "1 min 15 s"
        assert i18n.duration(200000) == "2,3 dias"
        assert i18n.size(1234567) == "1,2 MB" and i18n.size(None) == "desconhecido"
        assert i18n.rate(1234567) == "1,2 MB/s"
        english = {"unknown", "under", "days", "day", "hours", "seconds", "minutes"}
        for seconds in [None, 0, 0.2, 1, 5.5, 30, 59.7, 61, 600, 3599, 3600, 7322, 86400, 172800, 1e7]:
            text = i18n.duration(seconds)
            assert not set(re.findall(r"[A-Za-z]+", text)) & english, text
            assert not re.search(r"\d\.\d", text), text
    finally:
        QLocale.setDefault(previous)


def test_the_plugin_manager_describes_the_plugin_in_portuguese(qgis_app, monkeypatch):
    """QGIS's plugin manager reads metadata.txt's translated fields (``description[pt_BR]``…)
    for the system's locale: the Portuguese description, about and tags."""
    import importlib

    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QLocale

    monkeypatch.syspath_prepend(str(Path(QgsApplication.pkgDataPath()) / "python"))
    installer_data = importlib.import_module("pyplugin_installer.installer_data")

    class Brazil(QLocale):
        @staticmethod
        def system():
            return QLocale("pt_BR")

    monkeypatch.setattr(installer_data, "QLocale", Brazil)
    plugin = installer_data.Plugins().getInstalledPlugin("eeextract_plugin", str(ROOT / "eeextract_plugin"), False)
    assert plugin["error"] == "", plugin["error_details"]
    assert plugin["description"].startswith("Extração em massa de dados de imagens do Google Earth Engine")
    assert plugin["about"].startswith("O EE Extract tira dados de imagens")
    assert "sensoriamento remoto" in plugin["tags"]
