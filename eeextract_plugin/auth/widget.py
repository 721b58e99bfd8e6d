"""The settings dialog's "Sign in with Google" row.

"Sign in with Google" opens the consent page in the browser (main thread: the flow's local
listener is opened and the URL built, nothing else) and waits for Google's answer in a background
task, which also stores the credentials and checks the Cloud project with one cheap call. While it
waits, "Cancel" stops it. "Sign out" removes the credentials. The row shows one status line; it
never shows, logs or stores a token.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from eeextract_plugin.auth import google_oauth as oauth
from eeextract_plugin.i18n import tr
from eeextract_plugin.tasks import CallableTask

log = logging.getLogger(__name__)


def _open_in_browser(url: str) -> bool:
    return bool(QDesktopServices.openUrl(QUrl(url)))


class SignInRow(QWidget):
    """Buttons and a status line; ``project()`` and ``endpoint()`` read the dialog's fields."""

    def __init__(self, parent: Optional[QWidget] = None, project: Callable[[], str] = lambda: "",
                 endpoint: Callable[[], str] = lambda: oauth.EARTH_ENGINE_URL,
                 endpoints: oauth.OAuthEndpoints = oauth.GOOGLE,
                 open_browser: Callable[[str], Any] = _open_in_browser,
                 launch: Optional[Callable[[Any], None]] = None,
                 on_signed_in: Optional[Callable[[], None]] = None) -> None:
        super().__init__(parent)
        self.setObjectName("wSignIn")
        self.project = project
        self.endpoint = endpoint
        self.endpoints = endpoints
        self.open_browser = open_browser
        self.launch = launch or (lambda t: QgsApplication.taskManager().addTask(t))
        self.on_signed_in = on_signed_in
        self.task: Any = None
        self.flow: Optional[oauth.SignIn] = None

        self.btnSignIn = QPushButton(tr("Sign in with Google"), self)
        self.btnSignIn.setObjectName("btnSignIn")
        self.btnSignIn.setToolTip(tr("Opens Google's consent page in your browser; the credentials are "
                                     "stored where 'earthengine authenticate' stores them."))
        self.btnCheck = QPushButton(tr("Check project"), self)
        self.btnCheck.setObjectName("btnCheckProject")
        self.btnCancel = QPushButton(tr("Cancel"), self)
        self.btnCancel.setObjectName("btnCancelSignIn")
        self.btnSignOut = QPushButton(tr("Sign out"), self)
        self.btnSignOut.setObjectName("btnSignOut")
        self.lblStatus = QLabel(self)
        self.lblStatus.setObjectName("lblSignInStatus")
        self.lblStatus.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.btnSignIn, self.btnCheck, self.btnCancel, self.btnSignOut):
            buttons.addWidget(b)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(buttons)
        column.addWidget(self.lblStatus)
        self.btnSignIn.clicked.connect(self.sign_in)
        self.btnCheck.clicked.connect(self.check_project)
        self.btnCancel.clicked.connect(self.cancel)
        self.btnSignOut.clicked.connect(self.sign_out)
        self.refresh()

    # -- state -------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.task is not None

    def refresh(self, message: str = "", ok: Optional[bool] = None) -> None:
        signed, status = oauth.describe_status()
        busy = self.busy()
        self.btnSignIn.setEnabled(not busy)
        self.btnSignIn.setText(tr("Sign in again") if signed else tr("Sign in with Google"))
        self.btnCheck.setEnabled(signed and not busy)
        self.btnSignOut.setEnabled(signed and not busy)
        self.btnCancel.setVisible(busy)
        text = message or status
        color = {True: "#070", False: "#b00"}.get(ok)  # type: ignore[arg-type]
        self.lblStatus.setText(f"<span style='color:{color}'>{text}</span>" if color else text)

    # -- actions -------------------------------------------------------------------------------
    def sign_in(self) -> None:
        if self.busy():
            return
        flow = oauth.SignIn(self.endpoints)
        try:
            url = flow.start()
        except OSError as exc:
            self.refresh(tr("Cannot wait for Google's answer on this computer ({error}).").format(
                error=exc.strerror or exc), False)
            return
        self.flow = flow
        project, endpoint, endpoints = self.project().strip(), self.endpoint(), self.endpoints

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> str:
            flow.finish(cancelled=cancelled)
            if not project:
                return tr("Signed in. Enter the Cloud project to use, then Check project.")
            try:
                return tr("Signed in. {project_check}").format(
                    project_check=oauth.check_project(project, endpoints, endpoint))
            except oauth.SignInError as exc:
                raise oauth.SignInError(tr("Signed in, but {error}").format(error=exc)) from None

        self._start(CallableTask(tr("EE Extract: sign in to Google"), work),
                    tr("Waiting for your answer in the browser … (Cancel stops waiting)"))
        if not self.open_browser(url):
            self.refresh(tr("Open this page in your browser to sign in: {url}").format(url=url))

    def check_project(self) -> None:
        if self.busy():
            return
        project, endpoint, endpoints = self.project().strip(), self.endpoint(), self.endpoints

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> str:
            return oauth.check_project(project, endpoints, endpoint)

        self._start(CallableTask(tr("EE Extract: check the Cloud project"), work), tr("Checking the project …"))

    def sign_out(self) -> None:
        if self.busy():
            return
        endpoints = self.endpoints

        def work(progress: Callable[[float], None], cancelled: Callable[[], bool]) -> str:
            oauth.sign_out(endpoints)
            return tr("Signed out: the Earth Engine credentials were removed from this computer.")

        self._start(CallableTask(tr("EE Extract: sign out of Google"), work), tr("Signing out …"))

    def cancel(self) -> None:
        if self.flow is not None:
            self.flow.cancel()
        if self.task is not None:
            self.task.cancel()

    # -- task plumbing -------------------------------------------------------------------------
    def _start(self, task: Any, waiting: str) -> None:
        self.task = task
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.refresh(waiting)
        self.launch(task)

    def _done(self) -> None:
        self.task = None
        self.flow = None
        from eeextract_plugin.qgis_session import forget_session

        forget_session()  # the next job opens a session with the new credentials

    def _succeeded(self, text: str) -> None:
        self._done()
        self.refresh(text, True)
        if self.on_signed_in is not None and oauth.signed_in():
            self.on_signed_in()

    def _failed(self, message: str, _details: str) -> None:
        self._done()
        self.refresh(message, False)

    def _cancelled(self) -> None:
        self._done()
        self.refresh(tr("Sign-in cancelled."), False)

    def shutdown(self) -> None:
        """The dialog closes: stop waiting, forget the task."""
        self.cancel()
        if self.task is not None:
            try:
                self.task.detach()
            except RuntimeError:
                pass
        self.task = None
