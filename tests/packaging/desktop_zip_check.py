"""Runs inside the QGIS desktop (``qgis --code``) for test_plugin_zip.py: the plugin installed from
the ZIP must be loaded; opens its dock and its settings (the "Sign in with Google" row), takes a
screenshot of the whole X display and writes what it found to ``$EEX_ZIP_WORK/desktop.json``.
Not a pytest module."""

import json
import os
import sys
from pathlib import Path

from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QGuiApplication
from qgis.utils import iface, plugins

WORK = Path(os.environ["EEX_ZIP_WORK"])
STATE = {}


def report(**values):
    STATE.update(values)
    (WORK / "desktop.json").write_text(json.dumps(STATE, indent=1, default=str))


def open_windows():
    plugin = plugins.get("eeextract_plugin")
    if plugin is None:
        report(loaded=False, plugins=sorted(plugins))
        return
    import eeextract_plugin

    report(loaded=True, plugin_folder=str(Path(eeextract_plugin.__file__).parent),
           python=sys.version.split()[0], executable=sys.executable)
    plugin.show_dock()
    from eeextract_plugin.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(parent=iface.mainWindow())
    STATE["dialog"] = dialog
    dialog.show()
    dialog.move(iface.mainWindow().width() - dialog.width() - 40, 80)
    row = dialog.extras.sign_in
    report(sign_in_button=row.btnSignIn.text(), sign_in_visible=row.btnSignIn.isVisible(),
           sign_in_status=row.lblStatus.text(), zonal_engine=dialog.extras.lblZonal.text())
    dialog.cmbMode.setCurrentIndex(2)  # the embedded sandbox: says how to get it when missing
    report(sandbox_guidance=dialog.lblGuidance.text())
    dialog.cmbMode.setCurrentIndex(0)
    QTimer.singleShot(2500, shoot)


def shoot():
    from eeextract_plugin._vendor import ee  # the private copy the plugin uses

    screen = QGuiApplication.primaryScreen().grabWindow(0)
    screen.save(str(WORK / "desktop.png"))
    public = sorted(m for m in sys.modules if m.split(".")[0] in (
        "ee", "google", "googleapiclient", "requests", "httplib2", "shapely", "pyproj", "exactextract"))
    report(vendored_ee=ee.__file__, ee_version=ee.__version__, public_modules=public,
           screenshot=str(WORK / "desktop.png"), done=True)


QTimer.singleShot(1500, open_windows)
