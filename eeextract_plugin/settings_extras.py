"""Rows the settings dialog gets in code (its .ui stays as it is):

- "Google account": the "Sign in with Google" row (:mod:`eeextract_plugin.auth.widget`), for the
  "My Earth Engine account" way of connecting;
- "Zonal statistics": which engine runs inside QGIS (:mod:`eeextract_plugin.qgis_zonal`) and one
  line saying what that means here;
- the sandbox's guidance says in one line how to get it when its packages are missing.
"""

from __future__ import annotations

from typing import Any, List, Optional

from qgis.PyQt.QtWidgets import QComboBox, QLabel

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin import qgis_zonal
from eeextract_plugin.auth import google_oauth as oauth
from eeextract_plugin.auth.widget import SignInRow
from eeextract_plugin.i18n import tr


def engine_labels():
    return {"auto": tr("Automatic"),
            "qgis": tr("QGIS's zonal statistics"), "exactextract": "exactextract", "rasterstats": "rasterstats"}


class SettingsExtras:
    """Builds the rows into ``dialog`` (a SettingsDialog) and keeps them in step with it."""

    def __init__(self, dialog: Any, endpoints: oauth.OAuthEndpoints = oauth.GOOGLE,
                 open_browser: Optional[Any] = None) -> None:
        self.dialog = dialog
        grid = dialog.layoutConnection
        row = grid.rowCount()
        kwargs = {"open_browser": open_browser} if open_browser is not None else {}
        self.sign_in = SignInRow(dialog, project=lambda: dialog.txtProject.text(),
                                 endpoint=self._endpoint, endpoints=endpoints,
                                 launch=lambda task: dialog.launch(task),
                                 on_signed_in=self._signed_in, **kwargs)
        self.lblAccount = QLabel(tr("Google account"), dialog)
        grid.addWidget(self.lblAccount, row, 0)
        grid.addWidget(self.sign_in, row, 1)

        self.cmbZonalEngine = QComboBox(dialog)
        self.cmbZonalEngine.setObjectName("cmbZonalEngineSetting")
        self.cmbZonalEngine.setToolTip(tr("Automatic: the job's engine when it is safe in QGIS, else QGIS's own"))
        labels = engine_labels()
        for value in qgis_zonal.CHOICES:
            self.cmbZonalEngine.addItem(labels.get(value, value), value)
        current = qgis_zonal.load_engine_setting()
        self.cmbZonalEngine.setCurrentIndex(max(0, self.cmbZonalEngine.findData(current)))
        self.lblZonal = QLabel(dialog)
        self.lblZonal.setObjectName("lblZonalEngine")
        self.lblZonal.setWordWrap(True)
        # On the "Jobs" tab when the dialog has one (a row for the choice, a line for what it means).
        jobs = getattr(dialog, "layoutJobs", grid)
        at = jobs.rowCount()
        jobs.addWidget(QLabel(tr("Zonal statistics"), dialog), at, 0)
        jobs.addWidget(self.cmbZonalEngine, at, 1)
        jobs.addWidget(self.lblZonal, at + 1, 0, 1, 2)
        self.cmbZonalEngine.currentIndexChanged.connect(self._engine_changed)
        self._engine_changed()

        dialog.cmbMode.currentIndexChanged.connect(self._mode_changed)
        dialog.accepted.connect(self.save)
        self._mode_changed()

    def _mode(self) -> str:
        return self.dialog.settings().mode

    def _endpoint(self) -> str:
        conn = self.dialog.settings()
        if conn.mode == qs.MODE_CUSTOM_URL and conn.custom_url:
            return conn.custom_url
        return oauth.EARTH_ENGINE_URL

    def _mode_changed(self, *_args: Any) -> None:
        mode = self._mode()
        personal = mode == qs.MODE_PERSISTENT
        self.sign_in.setEnabled(personal)
        self.lblAccount.setEnabled(personal)
        if mode == qs.MODE_SANDBOX:
            from eeextract_plugin.qgis_session import sandbox_problem

            problem = sandbox_problem()
            if problem:
                label = self.dialog.lblGuidance
                label.setText(label.text() + "<br>" + tr("<b>Not available here</b>: {problem}.").format(problem=problem))

    def _engine_changed(self, *_args: Any) -> None:
        # A path in the report may break after any "/" (a zero-width space): it wraps, not widens.
        self.lblZonal.setText(qgis_zonal.engine_report(self.cmbZonalEngine.currentData()).replace("/", "/\u200b"))

    def wrapped_labels(self) -> List[QLabel]:
        return [self.lblZonal, self.sign_in.lblStatus]

    def _signed_in(self) -> None:
        if self._mode() != qs.MODE_PERSISTENT:
            self.dialog.cmbMode.setCurrentIndex(0)  # persistent credentials: what was signed in

    def save(self) -> None:
        qgis_zonal.save_engine_setting(self.cmbZonalEngine.currentData())

    def shutdown(self) -> None:
        self.sign_in.shutdown()


def add_extras(dialog: Any) -> SettingsExtras:
    return SettingsExtras(dialog)
