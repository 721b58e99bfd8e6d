"""The EE Extract dock in Brazilian Portuguese, as a user whose QGIS speaks it sees it: QGIS
started with "Override system locale" set to pt_BR (``locale/userLocale``), the panel opened
from the toolbar, an image collection typed and checked, every choice of the form picked by
mouse at the default dock width on 1366 x 768 with nothing cut off, the settings dialog, and
the Processing toolbox finding the algorithm by its Portuguese name."""

from __future__ import annotations

import os
from pathlib import Path

import ui as U  # noqa: N812 - the gestures module
from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsProject
from qgis.PyQt.QtCore import QPoint, QSettings, Qt
from qgis.PyQt.QtWidgets import QApplication, QLineEdit, QToolButton, QTreeView
from qgis.utils import iface, plugins

#: The dock's combo boxes whose every choice is picked and looked at.
COMBOS = ("cmbSourceType", "cmbCollectionMode", "cmbRegionMode", "cmbKind", "cmbTableOperation", "cmbMethod")


WORK = Path(os.environ["EEX_DESKTOP_WORK"])
REGION = (-8.475, 38.418, -8.405, 38.462)  # fields near Évora, Portugal


def _dock():
    return plugins["eeextract_plugin"].dock


def _busy(task) -> bool:
    try:
        return task is not None and task.status() not in (task.Complete, task.Terminated)
    except RuntimeError:  # deleted by the task manager: done
        return False


def _closed(dialog) -> bool:
    try:
        return not dialog.isVisible()
    except RuntimeError:  # closed and deleted
        return True


def _layout_problems(dock):
    """Texts cut off, widgets over each other, and a form wider than its scroll area (with no
    horizontal scroll bar, its right edge would be cut off)."""
    scroll = dock.form.scrollJob
    wider = scroll.widget().minimumSizeHint().width() - scroll.viewport().width()
    return U.clipped_texts(dock) + U.overlapping_siblings(dock) + (
        [f"the form needs {wider} px more than the dock gives it"] if wider > 0 else [])


def open_the_dock_in_portuguese(ui):
    """The toolbar button opens the panel: its labels, tabs and buttons are in Portuguese, and
    none is cut off at the default width."""
    window = iface.mainWindow()
    window.setGeometry(QApplication.primaryScreen().availableGeometry())
    window.activateWindow()
    ui.note("QGIS locale", {"userLocale": QSettings().value("locale/userLocale"),
                            "overrideFlag": QSettings().value("locale/overrideFlag"),
                            "translation": QgsApplication.instance().translation()})
    QgsProject.instance().setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    layer = U.fields_layer(WORK / "talhoes.geojson", REGION, "talhao", "talhao", "talhões")
    canvas = iface.mapCanvas()
    canvas.setExtent(layer.extent().buffered(0.01))
    canvas.refresh()
    QgsProject.instance().setDirty(False)  # the scene, not the user's work: quitting asks nothing
    yield ui.wait(600)
    action = plugins["eeextract_plugin"].toggle_action
    ui.check("the toolbar button says what it does in Portuguese",
             "Mostrar o painel do EE Extract" in action.toolTip(), action.toolTip())
    button = next(b for b in window.findChildren(QToolButton) if b.defaultAction() is action and b.isVisible())
    yield ui.click(button)
    yield ui.until(lambda: _dock() is not None and _dock().isVisible(), 10, "the dock")
    yield ui.wait(800)
    dock = _dock()
    f = dock.form
    shown = {"group": f.grpSource.title(), "label": f.lbl_layoutSource_1.text(), "run": f.btnRun.text(),
             "tabs": [f.tabs.tabText(0), f.tabs.tabText(1)], "kind": f.cmbKind.currentText(),
             "method": f.cmbMethod.currentText(), "estimate": f.lblEstimate.text()}
    ui.note("shown", shown)
    ui.check("the dock's labels are in Portuguese",
             shown["group"] == "Fonte" and shown["label"] == "Asset" and shown["run"] == "Executar"
             and shown["tabs"] == ["Novo trabalho", "Trabalhos"], shown)
    ui.check("its choices are in Portuguese", shown["kind"] == "Mosaico (um raster)"
             and shown["method"] == "Automático (direto ou lote)", shown)
    ui.note("dock size", [dock.width(), dock.height()])
    problems = _layout_problems(dock)
    ui.check("no text cut off at the default width", not problems, problems)
    ui.shot("dock-pt-BR-opened")


open_the_dock_in_portuguese.required = True


def a_collection_in_portuguese(ui):
    """An image collection typed and checked: what the dock says about it, and the estimate,
    in Portuguese."""
    f = _dock().form
    yield from ui.choose(f.cmbSourceType, "Coleção de imagens")
    yield from ui.type_text(f.txtAssetId, "SANDBOX/S2_SR")
    yield ui.until(lambda: "bandas" in f.lblAssetInfo.text(), 20, "the collection checked")
    yield from ui.choose(f.cmbCollectionMode, "Composição")
    yield ui.until(lambda: f.lblEstimate.text().startswith("Estimativa: ") and "planejando" not in f.lblEstimate.text(),
                   30, "the estimate")
    ui.note("asset", f.lblAssetInfo.text())
    ui.note("estimate", f.lblEstimate.text())
    ui.check("the asset is described in Portuguese", "Coleção de imagens" in f.lblAssetInfo.text()
             and "grade da primeira imagem" in f.lblAssetInfo.text(), f.lblAssetInfo.text())
    ui.check("the estimate is in Portuguese", "no melhor caso" in f.lblEstimate.text()
             or "exportação em lote" in f.lblEstimate.text(), f.lblEstimate.text())
    problems = _layout_problems(_dock())
    ui.check("no text cut off", not problems, problems)
    ui.shot("dock-pt-BR-collection")


def every_choice_fits(ui):
    """Each choice of each list picked by mouse, the zonal statistics and the PNG range shown:
    the longer Portuguese words fit at the default dock width, nothing overlaps."""
    dock = _dock()
    f = dock.form
    problems = {}
    picked = []
    for name in COMBOS:
        combo = getattr(f, name)
        for i in range(combo.count()):
            if not combo.isVisible():
                break
            text = combo.itemText(i)
            yield from ui.scroll_to(f.scrollJob, combo)
            yield from ui.choose(combo, text)
            # A new type checks the asset again: look once its answer is shown and laid out.
            yield ui.until(lambda: not _busy(dock._asset_task) and not dock._asset_timer.isActive(), 20,
                           "the asset checked")
            yield ui.wait(250)
            picked.append(text)
            for problem in _layout_problems(dock):
                problems.setdefault(problem, text)
    yield from ui.choose(f.cmbSourceType, "Coleção de imagens")
    yield from ui.choose(f.cmbRegionMode, "Extensão do mapa")
    yield from ui.choose(f.cmbKind, "Mosaico (um raster)")
    yield from ui.scroll_to(f.scrollJob, f.cmbFormat)
    yield from ui.choose(f.cmbFormat, "PNG")
    yield from ui.scroll_to(f.scrollJob, f.chkZonal)
    yield ui.click(f.chkZonal, QPoint(8, f.chkZonal.height() // 2))
    yield ui.wait(300)
    yield from ui.scroll_to(f.scrollJob, f.cmbZonalEngine)
    for problem in _layout_problems(dock):
        problems.setdefault(problem, "zonal statistics, PNG")
    ui.note("choices picked", len(picked))
    ui.check("every choice was picked", len(picked) >= 20, picked)
    ui.check("no text cut off in any mode", not problems, problems)
    ui.shot("dock-pt-BR-zonal")
    yield from ui.scroll_to(f.scrollJob, f.grpSource)


def the_settings_in_portuguese(ui):
    f = _dock().form
    yield ui.click(f.btnSettings)
    yield ui.until(lambda: ui.modal("SettingsDialog"), 10, "the settings dialog")
    dialog = ui.modal("SettingsDialog")
    yield ui.wait(600)
    bar = dialog.tabsSettings.tabBar()
    tabs = [bar.tabText(i) for i in range(bar.count())]
    ui.check("its title and tabs are in Portuguese", dialog.windowTitle() == "Configurações do EE Extract"
             and tabs == ["Conexão", "Trabalhos"], [dialog.windowTitle(), *tabs])
    problems = [f"{tabs[0]}: {p}" for p in U.clipped_texts(dialog)]
    yield ui.click(bar, bar.tabRect(1).center())  # the Jobs tab, as a user opens it
    yield ui.wait(400)
    ui.check("the Jobs tab opened by a click is in Portuguese",
             dialog.tabsSettings.currentIndex() == 1 and dialog.grpJobs.title() == "Como os trabalhos rodam"
             and dialog.cmbEngine.currentText() == "Este computador (no QGIS)",
             [dialog.grpJobs.title(), dialog.cmbEngine.currentText()])
    problems += [f"{tabs[1]}: {p}" for p in U.clipped_texts(dialog)]
    ui.check("no text cut off in the settings dialog (both tabs)", not problems, problems)
    ui.shot("settings-pt-BR")
    yield ui.key(dialog, Qt.Key_Escape)
    yield ui.until(lambda: _closed(dialog), 5, "the dialog closed")


def the_toolbox_finds_it_in_portuguese(ui):
    """Processamento ▸ Caixa de ferramentas (QGIS speaks Portuguese too); typing the Portuguese
    name finds the algorithm, Enter opens its dialog with Portuguese labels, none cut off."""
    toolbox = yield from U.open_toolbox(ui, "Processamento", "Caixa de ferramentas")
    search = toolbox.findChild(QLineEdit, "searchBox")
    yield from ui.type_text(search, "Extrair imagem (direto)")
    yield ui.wait(600)
    tree = toolbox.findChild(QTreeView)
    found = []
    model = tree.model() if tree is not None else None

    def walk(parent):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            found.append(index.data())
            walk(index)

    if model is not None:
        walk(tree.rootIndex())
    ui.note("toolbox shows", found[:12])
    ui.check("the toolbox lists the algorithm by its Portuguese name", "Extrair imagem (direto)" in found, found[:12])
    yield ui.key(search, Qt.Key_Return)
    yield ui.until(lambda: ui.modal("AlgorithmDialog"), 10, "the algorithm's dialog")
    dialog = ui.modal("AlgorithmDialog")
    yield ui.wait(500)
    panel = dialog.mainWidget()
    extent = panel.wrappers["EXTENT"].wrappedLabel().text() if hasattr(panel.wrappers["EXTENT"], "wrappedLabel") \
        else ""
    ui.note("dialog title", dialog.windowTitle())
    ui.check("the dialog names the algorithm in Portuguese", "Extrair imagem (direto)" in dialog.windowTitle(),
             dialog.windowTitle())
    ui.check("its parameters are in Portuguese", not extent or extent.startswith("Extensão"), extent)
    problems = U.clipped_texts(panel)
    ui.check("no parameter label is cut off", not problems, problems)
    ui.shot("processing-pt-BR")
    yield ui.key(dialog, Qt.Key_Escape)
    yield ui.until(lambda: _closed(dialog), 5, "the dialog closed")


def quit_qgis(ui):
    yield from U.quit_gesture(ui)


quit_qgis.always = True

STEPS = [open_the_dock_in_portuguese, a_collection_in_portuguese, every_choice_fits, the_settings_in_portuguese,
         the_toolbox_finds_it_in_portuguese, quit_qgis]
