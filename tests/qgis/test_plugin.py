"""The plugin loads through classFactory, does nothing on the network, and unloads cleanly."""

from __future__ import annotations

import logging
import socket

import pytest


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access at start-up: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _our_tasks():
    from qgis.core import QgsApplication

    return [t for t in QgsApplication.taskManager().tasks() if t.description().startswith("EE Extract")]


def test_load_and_unload_leave_nothing_behind(recording_iface, qgis_app, clean_settings, no_network):
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    import eeextract_plugin

    root_logger = logging.getLogger("eeextract_plugin")
    handlers_before = list(root_logger.handlers)
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("eeextract")
    if existing is not None:  # left by the Processing tests' fixture: start from a clean QGIS
        registry.removeProvider(existing)
    canvas = recording_iface.mapCanvas()
    tool_before = canvas.mapTool()

    plugin = eeextract_plugin.classFactory(recording_iface)
    plugin.initProcessing()
    plugin.initGui()
    plugin.initProcessing()  # QGIS may call it twice: still one provider
    dock = plugin.show_dock()
    assert dock.isVisible() or dock.parent() is not None
    assert plugin.sessions.sandbox is None  # nothing started, no Earth Engine call
    provider_registered = registry.providerById("eeextract") is not None
    dock.form.btnDrawRectangle.setChecked(True)  # the map tool is active
    from eeextract_plugin.qgis_session import open_session  # noqa: F401 - importable, not called

    assert canvas.mapTool() is dock.map_tool
    assert len(root_logger.handlers) == len(handlers_before) + 1

    plugin.unload()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)

    calls = recording_iface.calls
    added = [a[0] for a in calls.get("addToolBarIcon", [])]
    removed = [a[0] for a in calls.get("removeToolBarIcon", [])]
    assert added and added == removed
    menu_added = [a[1] for a in calls.get("addPluginToRasterMenu", [])]
    menu_removed = [a[1] for a in calls.get("removePluginRasterMenu", [])]
    assert len(menu_added) == 2 and menu_added == menu_removed
    docks_added = [a[1] for a in calls.get("addDockWidget", [])]
    docks_removed = [a[0] for a in calls.get("removeDockWidget", [])]
    assert len(docks_added) == 1 and docks_added == docks_removed
    assert plugin.dock is None and plugin.actions == []
    if provider_registered:
        assert registry.providerById("eeextract") is None
    assert canvas.mapTool() is tool_before or canvas.mapTool() is None
    assert root_logger.handlers == handlers_before
    assert _our_tasks() == []
    main_window = recording_iface.mainWindow()
    from qgis.PyQt.QtWidgets import QDockWidget

    assert not [w for w in main_window.findChildren(QDockWidget) if w.objectName() == "EEExtractDock"]


def test_load_twice_in_a_row(qgis_iface, qgis_app, clean_settings):
    """Plugin reloaders unload and load again: the second load works the same."""
    import eeextract_plugin

    for _ in range(2):
        plugin = eeextract_plugin.classFactory(qgis_iface)
        plugin.initGui()
        plugin.show_dock()
        plugin.unload()


def test_settings_action_opens_the_dialog_with_guidance(qgis_app, clean_settings):
    from eeextract_plugin import qgis_settings as qs
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    dialog.cmbMode.setCurrentIndex(0)
    assert "earthengine authenticate" in dialog.lblGuidance.text()
    dialog.cmbMode.setCurrentIndex(2)
    assert "sandbox" in dialog.lblGuidance.text().lower()
    dialog.txtProject.setText("")
    dialog.accept()
    assert qs.load_settings().mode == qs.MODE_SANDBOX
    dialog.cmbMode.setCurrentIndex(0)
    dialog.txtProject.setText("")
    dialog.accept()  # refused: a persistent account needs a Cloud project
    assert "Cloud project" in dialog.lblNote.text()
    assert qs.load_settings().mode == qs.MODE_SANDBOX


def test_a_broken_processing_provider_does_not_take_the_dock_down(qgis_iface, qgis_app, clean_settings,
                                                                  monkeypatch):
    import eeextract_plugin
    from eeextract_plugin.processing import provider as provider_module

    def broken():
        raise RuntimeError("provider bug")

    monkeypatch.setattr(provider_module, "EEExtractProvider", broken)
    plugin = eeextract_plugin.classFactory(qgis_iface)
    plugin.initGui()
    assert plugin.provider is None
    assert plugin.show_dock() is not None
    plugin.unload()
