"""The settings dialog (``settings_dialog.ui``, loaded at run time): the Earth Engine connection
on its first tab; how jobs run (the project's quota, the engine, zonal statistics) and the
defaults for new jobs on its second."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from qgis.core import QgsApplication
from qgis.PyQt import uic
from qgis.PyQt.QtWidgets import QDialog, QWidget

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.gui.wrapped_labels import WrappedLabelHeights
from eeextract_plugin.i18n import tr
from eeextract_plugin.qgis_session import SessionSource, open_session
from eeextract_plugin.tasks import CallableTask

log = logging.getLogger(__name__)

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).with_name("settings_dialog.ui")))

_MODE_ORDER = (qs.MODE_PERSISTENT, qs.MODE_SERVICE_ACCOUNT, qs.MODE_SANDBOX, qs.MODE_CUSTOM_URL)

def guidance(mode: str) -> str:
    """What a way of connecting needs, in the user's language."""
    return {
        qs.MODE_PERSISTENT: qs.persistent_guidance(),
        qs.MODE_SERVICE_ACCOUNT: tr(
            "Choose the JSON key file of a service account registered for Earth Engine, then "
            "<b>Store key</b>: the key is copied into QGIS's encrypted authentication database "
            "(you may be asked for the master password); the file itself is not needed afterwards."),
        qs.MODE_SANDBOX: tr(
            "Starts the embedded sandbox inside QGIS on first use: a local server that speaks the "
            "Earth Engine REST API with synthetic data (e.g. <code>SANDBOX/DEM</code>, "
            "<code>SANDBOX/S2_SR</code>). No account, no network."),
        qs.MODE_CUSTOM_URL: tr(
            "An Earth Engine-compatible endpoint, e.g. a sandbox started with "
            "<code>eeextract sandbox</code> or <code>python -m eeextract_plugin.sandbox</code>."),
    }[mode]


def engine_labels() -> Dict[str, str]:
    """The "Run requests on" choices: the spec's ``execution.engine`` → the dialog's words."""
    return {"threads": tr("This computer (in QGIS)"), "dask": tr("A Dask cluster")}


def dask_installed() -> bool:
    """Whether QGIS's Python has Dask's client (looked up, not imported)."""
    return importlib.util.find_spec("distributed") is not None and importlib.util.find_spec("dask") is not None


class SettingsDialog(QDialog, FORM_CLASS):  # type: ignore[misc,valid-type]
    """Edits :class:`~eeextract_plugin.qgis_settings.ConnectionSettings`."""

    def __init__(self, settings: Optional[qs.ConnectionSettings] = None,
                 parent: Optional[QWidget] = None, sessions: Optional[SessionSource] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.wKey.layout().setContentsMargins(0, 0, 0, 0)
        self.setMinimumWidth(560)
        self._authcfg = ""
        self._email = ""
        self._note = self.lblNote.text()
        for value in ("threads", "dask"):
            self.cmbEngine.addItem(engine_labels()[value], value)
        self.cmbMode.currentIndexChanged.connect(self._mode_changed)
        self.cmbEngine.currentIndexChanged.connect(self._engine_changed)
        self.btnStoreKey.clicked.connect(self._store_key)
        self.btnTest.clicked.connect(self.test_connection)
        self._test_task: Any = None
        self._sessions = sessions
        self._own_sessions: Optional[SessionSource] = None
        # Task launcher: QGIS's task manager; tests may inject their own.
        self.launch: Callable[[Any], None] = lambda t: QgsApplication.taskManager().addTask(t)
        self.set_settings(settings or qs.load_settings())
        from eeextract_plugin.settings_extras import add_extras

        self.extras = add_extras(self)  # "Sign in with Google", the zonal statistics engine
        self.label_heights = WrappedLabelHeights(self)
        self.label_heights.watch(self.lblGuidance, self.lblKeyStatus, self.lblTest, self.lblNote,
                                 self.lblEngineNote, *self.extras.wrapped_labels())

    # -- settings <-> widgets ------------------------------------------------------------------
    def set_settings(self, conn: qs.ConnectionSettings) -> None:
        self.cmbMode.setCurrentIndex(_MODE_ORDER.index(conn.mode) if conn.mode in _MODE_ORDER else 0)
        self.txtProject.setText(conn.project)
        self.txtCustomUrl.setText(conn.custom_url)
        self.chkHighVolume.setChecked(conn.high_volume)
        self.spnConcurrency.setValue(int(conn.concurrency))
        self.spnRequestRate.setValue(float(conn.requests_per_second))
        self.cmbEngine.setCurrentIndex(max(0, self.cmbEngine.findData(conn.engine)))
        self.txtDaskScheduler.setText(conn.dask_scheduler)
        self.fileOutputFolder.setFilePath(conn.output_folder)
        self.txtBucket.setText(conn.bucket)
        self.txtDriveFolder.setText(conn.drive_folder)
        self._authcfg = conn.service_account_authcfg
        self._email = conn.service_account_email
        self._show_key_status()
        self._mode_changed()
        self._engine_changed()

    def settings(self) -> qs.ConnectionSettings:
        return qs.ConnectionSettings(
            mode=_MODE_ORDER[self.cmbMode.currentIndex()],
            project=self.txtProject.text().strip(),
            custom_url=self.txtCustomUrl.text().strip(),
            high_volume=self.chkHighVolume.isChecked(),
            concurrency=self.spnConcurrency.value(),
            requests_per_second=self.spnRequestRate.value(),
            engine=self.cmbEngine.currentData() or "threads",
            dask_scheduler=self.txtDaskScheduler.text().strip(),
            output_folder=self.fileOutputFolder.filePath().strip(),
            bucket=self.txtBucket.text().strip(),
            drive_folder=self.txtDriveFolder.text().strip(),
            service_account_authcfg=self._authcfg,
            service_account_email=self._email,
        )

    # -- behaviour -----------------------------------------------------------------------------
    def _mode_changed(self, *_args: object) -> None:
        mode = _MODE_ORDER[self.cmbMode.currentIndex()]
        self.lblGuidance.setText(guidance(mode))
        is_key = mode == qs.MODE_SERVICE_ACCOUNT
        for widget in (self.fileKey, self.wKey):
            widget.setEnabled(is_key)
        self.txtCustomUrl.setEnabled(mode == qs.MODE_CUSTOM_URL)
        self.chkHighVolume.setEnabled(mode in (qs.MODE_PERSISTENT, qs.MODE_SERVICE_ACCOUNT))
        self.txtProject.setPlaceholderText(
            "sandbox" if mode in (qs.MODE_SANDBOX, qs.MODE_CUSTOM_URL) else "my-cloud-project")  # i18n: notr (ids)
        self._show_note()

    def _engine_changed(self, *_args: object) -> None:
        dask = self.cmbEngine.currentData() == "dask"
        self.txtDaskScheduler.setEnabled(dask)
        if not dask:
            note = tr("Requests run in QGIS, in the background.")
        elif dask_installed():
            note = tr("Requests run as tasks on the cluster; QGIS keeps the quota and the job's record.")
        else:
            note = tr("Dask is not installed in QGIS's Python (pip install \"dask[distributed]\"): "
                      "jobs would stop before they start.")
        self.lblEngineNote.setText(note)
        self._show_note()

    def _show_note(self, error: Optional[qs.SettingsError] = None) -> None:
        """The line above the buttons: what is wrong (naming the field as this dialog does), or
        the note on secrets."""
        if error is None:
            self.lblNote.setText(self._note)
            return
        self.lblNote.setText(f"<span style='color:#b00'><b>{error}</b></span>")
        widget = self._field_widgets().get(error.field)
        if widget is not None:  # the tab with the field, the cursor in it
            page = next((p for p in (self.pageConnection, self.pageJobs) if p.isAncestorOf(widget)), None)
            if page is not None:
                self.tabsSettings.setCurrentWidget(page)
            widget.setFocus()

    def _field_widgets(self) -> Dict[str, QWidget]:
        return {qs.field_label("project"): self.txtProject, qs.field_label("custom_url"): self.txtCustomUrl,
                qs.field_label("service_account"): self.fileKey,
                qs.field_label("concurrency"): self.spnConcurrency,
                qs.field_label("requests_per_second"): self.spnRequestRate,
                qs.field_label("engine"): self.cmbEngine, qs.field_label("dask_scheduler"): self.txtDaskScheduler}

    def _show_key_status(self) -> None:
        if self._authcfg:
            text = (tr("Key of {email} stored (auth config {id}).") if self._email
                    else tr("Key of a service account stored (auth config {id})."))
            self.lblKeyStatus.setText(text.format(email=self._email, id=self._authcfg))
        else:
            self.lblKeyStatus.setText(tr("No key stored."))

    def _store_key(self) -> None:
        path = self.fileKey.filePath().strip()
        if not path:
            self.lblKeyStatus.setText(tr("Choose the key file first."))
            return
        try:
            self._authcfg, self._email = qs.store_service_account_key(path, self._authcfg)
        except qs.SettingsError as exc:
            self.lblKeyStatus.setText(str(exc))
            return
        self.fileKey.setFilePath("")  # the path is not kept anywhere
        self._show_key_status()

    def test_connection(self) -> None:
        """Open a session with the form's (unsaved) settings in a background task; one question."""
        conn = self.settings()
        if self._sessions is None:  # not opened by the plugin: a source of our own, stopped on close
            self._sessions = self._own_sessions = SessionSource()
        try:
            resolved = self._sessions.resolve_with(conn)
        except qs.SettingsError as exc:
            self.lblTest.setText(f"<span style='color:#b00'>{exc}</span>")  # its field is on this form
            return
        self.lblTest.setText(tr("Testing …"))

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> str:
            session = open_session(resolved)
            value = session.ee.Number(1).add(1).getInfo()
            return tr("Connected: {connection} (1 + 1 = {value})").format(connection=resolved.describe(), value=value)

        task = CallableTask(tr("EE Extract: test connection"), work)
        task.succeeded.connect(lambda text: self.lblTest.setText(f"<span style='color:#070'>{text}</span>"))
        task.failed.connect(lambda msg, _d: self.lblTest.setText(f"<span style='color:#b00'>{msg}</span>"))
        self._test_task = task
        self.launch(task)

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name; closing forgets the test
        self.extras.shutdown()
        if self._test_task is not None:
            try:
                self._test_task.detach()
            except RuntimeError:
                pass
        if self._own_sessions is not None:
            self._own_sessions.stop()
        super().done(result)

    def accept(self) -> None:
        conn = self.settings()
        try:
            conn.validate()
        except qs.SettingsError as exc:
            self._show_note(exc)
            return
        qs.save_settings(conn)
        super().accept()
