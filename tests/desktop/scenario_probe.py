from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QApplication, QDockWidget, QLineEdit, QTreeView, QWidget, QDialog
from qgis.utils import iface, plugins
import ui as U

def setup(ui):
    iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())
    iface.mainWindow().activateWindow()
    yield ui.wait(500)
    yield from U.menu_gesture(ui, "Processing", "Toolbox")
    yield ui.wait(800)
    tb = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    search = tb.findChild(QLineEdit)
    yield from ui.type_text(search, "Extract image (direct)")
    yield ui.wait(800)
    tree = tb.findChild(QTreeView)
    model = tree.model()
    def find(parent):
        for r in range(model.rowCount(parent)):
            i = model.index(r, 0, parent)
            if i.data() == "Extract image (direct)":
                return i
            j = find(i)
            if j is not None: return j
    idx = find(tree.rootIndex())
    ui.note("search", [type(search).__name__, search.objectName(), str(tb.algorithmTree.selectedAlgorithm())])
    fired = []
    search.returnPressed.connect(lambda: fired.append(1))
    yield ui.key(search, Qt.Key_Return)
    ui.note("fired", len(fired))
    yield ui.wait(2000)
    ui.note("tops", [f"{type(w).__name__}:{w.isVisible()}" for w in QApplication.topLevelWidgets() if w.isVisible()])
    yield ui.until(lambda: ui.modal('AlgorithmDialog') is not None, 10, "dialog")
    dlg = ui.modal('AlgorithmDialog')
    yield ui.wait(500)
    ui.note("dialog", [type(dlg).__name__, dlg.size().width(), dlg.size().height()])
    ws = []
    for w in dlg.findChildren(QWidget):
        if w.isVisible() and w.objectName():
            ws.append(f"{type(w).__name__}:{w.objectName()}")
    ui.note("widgets", ws)
    ui.note("panel", [type(dlg.mainWidget()).__name__, list(getattr(dlg.mainWidget(), "wrappers", {}).keys())])
    ui.note("wrappers", {k: [type(v).__name__, type(v.wrappedWidget()).__name__] for k, v in dlg.mainWidget().wrappers.items()})
    ui.shot("dialog")
    yield ui.click(ui.button(dlg, "Close"))

STEPS = [setup]
def quit_(ui):
    yield ui.key(iface.mainWindow(), Qt.Key_Q, Qt.ControlModifier)
quit_.always = True
STEPS.append(quit_)
