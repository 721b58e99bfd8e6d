"""The settings dialog driven by clicks and keys (QTest on its real widgets): the project's
request rate and the execution engine reach the job spec the dock builds; a wrong setting is
named as the dialog names it, on the tab that shows it."""

from __future__ import annotations

import pytest
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest


def click(widget, pos=None) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    if pos is None:
        QTest.mouseClick(widget, Qt.LeftButton)
    else:
        QTest.mouseClick(widget, Qt.LeftButton, Qt.NoModifier, pos)
    QTest.qWait(20)


def type_into(widget, text: str) -> None:
    """Click into the field, select what it holds, type over it (a spin box's line edit too)."""
    click(widget)
    QTest.keyClick(widget, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClick(widget, Qt.Key_Delete)
    QTest.keyClicks(widget, text)
    QTest.qWait(20)


def pick(combo, text: str) -> None:
    """Focus the combo by a click on it and step with the arrow keys to ``text``."""
    combo.setFocus()  # the keyboard focus (a click would open its list)
    assert combo.findText(text) >= 0, [combo.itemText(i) for i in range(combo.count())]
    key = Qt.Key_Down if combo.findText(text) > combo.currentIndex() else Qt.Key_Up
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        QTest.keyClick(combo, key)
    assert combo.currentText() == text


def open_tab(dialog, title: str) -> None:
    bar = dialog.tabsSettings.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i).replace("&", "") == title)
    click(bar, bar.tabRect(index).center())
    assert dialog.tabsSettings.currentIndex() == index


def open_dialog(**settings):
    """The dialog as the plugin opens it: on the saved settings."""
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    qs.save_settings(qs.ConnectionSettings(**{"mode": qs.MODE_CUSTOM_URL, "custom_url": "http://127.0.0.1:9",
                                              "project": "sandbox", **settings}))
    dlg = SettingsDialog()
    dlg.show()
    QTest.qWaitForWindowExposed(dlg)
    return dlg


@pytest.fixture()
def dialogs(qgis_app, clean_settings):
    opened: list = []
    yield opened
    for dlg in opened:
        if dlg.isVisible():
            dlg.reject()
        dlg.deleteLater()


@pytest.fixture()
def dialog(dialogs, tmp_path):
    dialogs.append(open_dialog(output_folder=str(tmp_path / "out")))
    return dialogs[-1]


@pytest.fixture()
def dock(qgis_iface, qgis_new_project, dialogs):
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    from eeextract_plugin.gui.dock import EEExtractDock
    from eeextract_plugin.gui.jobs import JobBoard
    from eeextract_plugin.qgis_session import SessionSource

    canvas = qgis_iface.mapCanvas()  # a map on the screen: the job's region is its extent
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    canvas.setExtent(QgsRectangle(7.0, 46.0, 7.1, 46.05))
    sessions = SessionSource()
    launched: list = []
    d = EEExtractDock(qgis_iface, sessions, board=JobBoard(qgis_iface, sessions, launch=launched.append))
    d.launch = launched.append  # background checks are recorded, not run
    yield d
    d.shutdown()
    d.deleteLater()


def test_request_rate_and_dask_engine_reach_the_job_spec(dialog, dock):
    open_tab(dialog, "Jobs")
    assert dialog.spnRequestRate.value() == 100  # Earth Engine's default quota
    assert not dialog.txtDaskScheduler.isEnabled()  # only for a Dask cluster
    type_into(dialog.spnRequestRate, "25")
    pick(dialog.cmbEngine, "A Dask cluster")
    assert dialog.txtDaskScheduler.isEnabled()
    type_into(dialog.txtDaskScheduler, "tcp://127.0.0.1:8786")
    click(dialog.buttonBox.button(dialog.buttonBox.Ok))
    assert not dialog.isVisible(), dialog.lblNote.text()
    dock.settings_changed()  # what the dock does when its Settings… dialog is accepted
    execution = dock.job_form.spec_dict()["execution"]
    assert execution == {"requests_per_second": 25.0, "engine": "dask",
                         "dask_scheduler": "tcp://127.0.0.1:8786"}
    from eeextract_plugin.core.spec import JobSpec

    spec = dock.job_form.spec_dict()
    spec["source"]["asset_id"] = "SANDBOX/DEM"
    parsed = JobSpec.from_dict(spec).execution  # the core reads what the dialog wrote
    assert (parsed.requests_per_second, parsed.engine, parsed.dask_scheduler) == (25.0, "dask", "tcp://127.0.0.1:8786")


def test_back_to_this_computer_leaves_no_engine_in_the_spec(dialogs, dock, tmp_path):
    dialog = open_dialog(engine="dask", dask_scheduler="local:2", output_folder=str(tmp_path / "out"))
    dialogs.append(dialog)
    dock.settings_changed()
    assert dock.job_form.spec_dict()["execution"] == {"engine": "dask", "dask_scheduler": "local:2"}
    open_tab(dialog, "Jobs")
    assert dialog.cmbEngine.currentText() == "A Dask cluster" and dialog.txtDaskScheduler.text() == "local:2"
    pick(dialog.cmbEngine, "This computer (in QGIS)")
    assert not dialog.txtDaskScheduler.isEnabled()
    click(dialog.buttonBox.button(dialog.buttonBox.Ok))
    assert not dialog.isVisible()
    dock.settings_changed()
    assert "execution" not in dock.job_form.spec_dict()


def test_a_wrong_scheduler_is_named_on_its_tab_and_nothing_is_saved(dialog):
    from eeextract_plugin import qgis_settings as qs

    open_tab(dialog, "Jobs")
    pick(dialog.cmbEngine, "A Dask cluster")
    type_into(dialog.txtDaskScheduler, "host:8786")
    open_tab(dialog, "Connection")
    click(dialog.buttonBox.button(dialog.buttonBox.Ok))
    assert dialog.isVisible()
    note = dialog.lblNote.text()
    assert "Dask scheduler: must be a scheduler address" in note and "execution." not in note, note
    assert dialog.tabsSettings.currentWidget() is dialog.pageJobs  # where the field is
    assert dialog.txtDaskScheduler.hasFocus()
    assert qs.load_settings().engine == "threads"


def test_an_empty_cloud_project_is_named_as_the_field_not_as_a_menu_path(dialog):
    pick(dialog.cmbMode, "My Earth Engine account (persistent credentials)")
    type_into(dialog.txtProject, "")
    open_tab(dialog, "Jobs")
    click(dialog.buttonBox.button(dialog.buttonBox.Ok))
    assert dialog.isVisible()
    note = dialog.lblNote.text()
    assert "Cloud project: required to use Earth Engine" in note, note
    assert "Settings" not in note and "→" not in note, note  # inside Settings: the field, not a path
    assert dialog.tabsSettings.currentWidget() is dialog.pageConnection and dialog.txtProject.hasFocus()
    pick(dialog.cmbMode, "Custom URL")  # a change of mind: the complaint goes
    assert "Cloud project" not in dialog.lblNote.text()
