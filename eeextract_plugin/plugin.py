"""The QGIS plugin shell: actions, the dock, the Processing provider — and nothing else.

Every register in ``initGui`` / ``initProcessing`` has its unregister in ``unload``. Nothing here
touches the network or Earth Engine: the session is opened by the first task that needs it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List, Optional

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QPushButton

from eeextract_plugin import i18n, qgis_logging, qgis_zonal
from eeextract_plugin.i18n import PLUGIN_NAME, tr
from eeextract_plugin.qgis_session import SessionSource

log = logging.getLogger(__name__)

MENU = "&EE Extract"  # i18n: not translated (the plugin's name; QGIS's Raster menu keys on it)
ICON = Path(__file__).resolve().parent / "resources" / "icon.svg"


class EEExtractPlugin:
    """Created by ``classFactory``; QGIS calls ``initProcessing``, ``initGui`` and ``unload``."""

    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.actions: List[QAction] = []
        self.dock: Any = None
        self.provider: Any = None
        self.log_handler: Optional[qgis_logging.QgisLogHandler] = None
        self.sessions = SessionSource()
        self.toggle_action: Optional[QAction] = None
        qgis_zonal.install()  # QGIS's zonal statistics, and the engine rule inside QGIS
        self.resume_message: Any = None  # the message bar item offering unfinished jobs

    # -- Processing ----------------------------------------------------------------------------
    def initProcessing(self) -> None:
        if self.provider is not None:
            return
        try:
            from eeextract_plugin.processing.provider import EEExtractProvider

            provider = EEExtractProvider()
        except Exception:  # noqa: BLE001 - a broken provider must not take the dock down with it
            log.exception("the EE Extract Processing provider could not be loaded")
            return
        if QgsApplication.processingRegistry().addProvider(provider):
            self.provider = provider

    # -- GUI -----------------------------------------------------------------------------------
    def initGui(self) -> None:
        self.log_handler = qgis_logging.install(self._push_to_bar)
        self.initProcessing()
        icon = QIcon(str(ICON))
        self.toggle_action = QAction(icon, PLUGIN_NAME, self.iface.mainWindow())
        self.toggle_action.setObjectName("eeextract_toggle_dock")
        self.toggle_action.setCheckable(True)
        self.toggle_action.setToolTip(tr("Show the EE Extract panel: extract Earth Engine data"))
        self.toggle_action.toggled.connect(self._toggle_dock)
        settings_action = QAction(tr("EE Extract settings…"), self.iface.mainWindow())
        settings_action.setObjectName("eeextract_settings")
        settings_action.triggered.connect(self.show_settings)
        self.iface.addToolBarIcon(self.toggle_action)
        for action in (self.toggle_action, settings_action):
            self.iface.addPluginToRasterMenu(MENU, action)
            self.actions.append(action)
        # After start-up (not during it): offer unfinished jobs for resume. Reads the local
        # registries only; no network.
        self._resume_timer = QTimer()
        self._resume_timer.setSingleShot(True)
        self._resume_timer.timeout.connect(self.offer_resume)
        self._resume_timer.start(2000)

    def unfinished_jobs(self) -> List[Any]:
        """Jobs cut short by QGIS closing or crashing (not those the user cancelled or that
        failed: those wait in the jobs list without nagging at every start)."""
        from eeextract_plugin.core.status import INTERRUPTED, RESUMABLE, list_jobs
        from eeextract_plugin.gui.jobs import known_workdirs, stopped_at_shutdown

        stopped = set(stopped_at_shutdown())
        jobs: List[Any] = []
        for workdir in known_workdirs():
            try:
                rows = list_jobs(workdir)
            except Exception as exc:  # noqa: BLE001 - a broken registry must not break start-up
                log.warning("cannot read the job registry in %s: %s", workdir, exc)
                continue
            jobs += [j for j in rows if j.state == INTERRUPTED or (j.id in stopped and j.state in RESUMABLE)]
        return jobs

    def offer_resume(self) -> None:
        jobs = self.unfinished_jobs()
        if not jobs:
            return
        names = ", ".join(j.name for j in jobs[:3]) + (" …" if len(jobs) > 3 else "")
        text = tr("%n unfinished job(s) can be resumed: {names}", None, len(jobs)).format(names=names)
        bar = self.iface.messageBar()
        try:
            widget = bar.createMessage(PLUGIN_NAME, text)
            button = QPushButton(tr("Show jobs"), widget)
            button.clicked.connect(self.show_jobs)
            widget.layout().addWidget(button)
            self.resume_message = bar.pushWidget(widget, Qgis.Info, 0) or widget
        except (AttributeError, TypeError):  # a minimal iface (tests) has no createMessage
            bar.pushMessage(PLUGIN_NAME, text, level=Qgis.Info)

    def _job_finished(self, *_a: Any) -> None:
        """The "unfinished job(s)" message goes once no job it spoke of is left unfinished."""
        if self.resume_message is None or self.unfinished_jobs():
            return
        try:
            self.iface.messageBar().popWidget(self.resume_message)
        except (AttributeError, RuntimeError, TypeError):  # already closed by the user
            pass
        self.resume_message = None

    def show_jobs(self) -> None:
        dock = self.show_dock()
        dock.form.tabs.setCurrentIndex(1)

    def _ensure_dock(self) -> Any:
        if self.dock is None:
            from eeextract_plugin.gui.dock import EEExtractDock

            self.dock = EEExtractDock(self.iface, self.sessions, parent=self.iface.mainWindow())
            self.dock.setObjectName("EEExtractDock")
            self.dock.visibilityChanged.connect(self._dock_visibility_changed)
            self.dock.board.jobFinished.connect(self._job_finished)
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        return self.dock

    def _toggle_dock(self, checked: bool) -> None:
        if checked:
            self._ensure_dock().show()
            self.dock.raise_()
        elif self.dock is not None:
            self.dock.hide()

    def _dock_visibility_changed(self, visible: bool) -> None:
        if self.toggle_action is not None and self.toggle_action.isChecked() != visible:
            self.toggle_action.blockSignals(True)
            self.toggle_action.setChecked(visible)
            self.toggle_action.blockSignals(False)

    def show_dock(self) -> Any:
        if self.toggle_action is not None:
            self.toggle_action.setChecked(True)
        return self._ensure_dock()

    def show_settings(self) -> None:
        from eeextract_plugin.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(parent=self.iface.mainWindow(), sessions=self.sessions)
        if dialog.exec():
            if self.dock is not None:
                self.dock.settings_changed()

    def _push_to_bar(self, title: str, text: str, level: int) -> None:
        try:
            self.iface.messageBar().pushMessage(title, text, level=level, duration=10)
        except Exception:  # noqa: BLE001 - the bar may be gone during shutdown
            log.debug("message bar unavailable", exc_info=True)

    # -- unload --------------------------------------------------------------------------------
    def unload(self) -> None:
        if getattr(self, "_resume_timer", None) is not None:
            self._resume_timer.stop()
            self._resume_timer = None
        if self.dock is not None:
            self.dock.shutdown()  # cancels this plugin's tasks, releases the map tool
            self.iface.removeDockWidget(self.dock)
            self.dock.setParent(None)
            self.dock.deleteLater()
            self.dock = None
        if self.toggle_action is not None:
            self.iface.removeToolBarIcon(self.toggle_action)
        for action in self.actions:
            self.iface.removePluginRasterMenu(MENU, action)
            action.deleteLater()
        self.actions = []
        self.toggle_action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        self.sessions.stop()
        qgis_zonal.uninstall()
        qgis_logging.uninstall(self.log_handler)
        self.log_handler = None
        i18n.remove_translator()  # classFactory installed it
