"""Input and observation helpers for the desktop scenarios (inside QGIS).

Every action is an input event on a real widget (QTest clicks and key presses, wheel and mouse
events sent through ``QApplication``), never a setter: what the widget does with the event is
what a user's mouse or keyboard would make it do. Clicks are posted to the event loop, so a
click that opens a modal dialog does not block the scenario (the next step finds the dialog
and clicks its buttons).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional

from qgis.PyQt.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from qgis.PyQt.QtGui import QMouseEvent, QTextDocument, QWheelEvent
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyleOptionComboBox,
    QWidget,
)


@dataclass
class Wait:
    ms: float


@dataclass
class Until:
    predicate: Callable[[], Any]
    timeout_s: float
    what: str
    every_ms: int = 50


def _text(widget: QWidget) -> str:
    return widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


class Ui:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.shots = work / "shots"
        self.shots.mkdir(exist_ok=True)
        self.current: dict = {}
        self._shot_count = 0
        self.state: dict = {}  # shared between the steps of a scenario
        self.flush: Any = None

    # -- waiting and recording ---------------------------------------------------------------
    @staticmethod
    def wait(ms: float = 200) -> Wait:
        return Wait(ms)

    @staticmethod
    def until(predicate: Callable[[], Any], timeout_s: float = 15, what: str = "", every_ms: int = 50) -> Until:
        return Until(predicate, timeout_s, what or getattr(predicate, "__name__", "a condition"), every_ms)

    def check(self, name: str, ok: Any, detail: Any = "") -> bool:
        self.current.setdefault("checks", []).append(
            {"name": name, "ok": bool(ok), "detail": detail if isinstance(detail, (str, int, float, list, dict)) else repr(detail)})
        if self.flush is not None:
            self.flush()
        return bool(ok)

    def note(self, key: str, value: Any) -> None:
        self.current.setdefault("notes", {})[key] = value
        if self.flush is not None:
            self.flush()

    def shot(self, name: str) -> str:
        """The whole screen as the user sees it (the X server's root window)."""
        QApplication.processEvents()
        self._shot_count += 1
        path = self.shots / f"{self._shot_count:02d}-{name}.png"
        QApplication.primaryScreen().grabWindow(0).save(str(path))
        self.current.setdefault("shots", []).append(path.name)
        return str(path)

    # -- input -------------------------------------------------------------------------------
    @staticmethod
    def post(fn: Callable[[], Any]) -> None:
        QTimer.singleShot(0, fn)

    @staticmethod
    def center(widget: QWidget) -> QPoint:
        return widget.rect().center()

    def click(self, widget: QWidget, pos: Optional[QPoint] = None, button=Qt.LeftButton,
              modifiers=Qt.NoModifier, settle_ms: int = 250) -> Wait:
        point = pos if pos is not None else self.center(widget)
        self.post(lambda: QTest.mouseClick(widget, button, modifiers, point))
        return Wait(settle_ms)

    def double_click(self, widget: QWidget, pos: Optional[QPoint] = None, settle_ms: int = 300) -> Wait:
        point = pos if pos is not None else self.center(widget)
        self.post(lambda: QTest.mouseDClick(widget, Qt.LeftButton, Qt.NoModifier, point))
        return Wait(settle_ms)

    def key(self, widget: QWidget, key, modifiers=Qt.NoModifier, settle_ms: int = 150) -> Wait:
        self.post(lambda: QTest.keyClick(widget, key, modifiers))
        return Wait(settle_ms)

    def type_text(self, widget: QWidget, text: str, replace: bool = True):
        """Click into a line edit, select what it holds (Ctrl+A) and type ``text``."""
        yield self.click(widget)
        if replace:
            yield self.key(widget, Qt.Key_A, Qt.ControlModifier)
            yield self.key(widget, Qt.Key_Delete)
        self.post(lambda: QTest.keyClicks(widget, text, Qt.NoModifier, 5))
        yield Wait(120 + 8 * len(text))

    def wheel(self, widget: QWidget, pos: Optional[QPoint] = None, delta: int = -120) -> bool:
        """One notch of the mouse wheel over ``widget`` at ``pos`` (negative: scroll down).
        Delivered like Qt delivers the real one: to the widget under the pointer, passed to
        its parents when it does not want it. Returns whether a widget accepted it."""
        point = pos if pos is not None else self.center(widget)
        target = widget
        while target is not None:
            # Qt passes a spontaneous wheel event up the parents until one accepts it; an event
            # sent by a program is not passed on, so the walk is done here.
            local = widget.mapTo(target, point) if target is not widget else point
            event = QWheelEvent(QPointF(local), QPointF(widget.mapToGlobal(point)), QPoint(0, 0),
                                QPoint(0, delta), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
            QApplication.sendEvent(target, event)
            if event.isAccepted():
                return True
            if target.isWindow():
                return False
            target = target.parentWidget()
        return False

    def hover(self, widget: QWidget, pos: QPoint) -> None:
        event = QMouseEvent(QEvent.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                            Qt.NoButton, Qt.NoButton, Qt.NoModifier)
        QApplication.sendEvent(widget, event)

    def drag(self, widget: QWidget, start: QPoint, end: QPoint, steps: int = 8):
        """Press at ``start``, move to ``end`` with the button held, release (a rubber band)."""
        self.post(lambda: QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, start))
        yield Wait(80)
        for i in range(1, steps + 1):
            p = QPoint(start.x() + (end.x() - start.x()) * i // steps,
                       start.y() + (end.y() - start.y()) * i // steps)

            def move(p=p):
                event = QMouseEvent(QEvent.MouseMove, QPointF(p), QPointF(widget.mapToGlobal(p)),
                                    Qt.NoButton, Qt.LeftButton, Qt.NoModifier)
                QApplication.sendEvent(widget, event)
            self.post(move)
            yield Wait(30)
        self.post(lambda: QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, end))
        yield Wait(200)

    # -- composite gestures ---------------------------------------------------------------------
    def scroll_to(self, scroll: QAbstractScrollArea, widget: QWidget, margin: int = 8):
        """Wheel over the scroll area's left margin (where no field is) until ``widget`` shows."""
        viewport = scroll.viewport()
        for _ in range(80):
            top_left = widget.mapTo(viewport, QPoint(0, 0))
            if top_left.y() >= margin and top_left.y() + widget.height() <= viewport.height() - margin:
                return
            delta = -120 if top_left.y() > margin else 120
            self.wheel(viewport, QPoint(3, viewport.height() // 2), delta)
            yield Wait(40)
        raise AssertionError(f"could not scroll {widget.objectName()} into view")

    @staticmethod
    def section_title(section: QWidget) -> QPoint:
        """The middle of a collapsible section's title text (where a user clicks to fold it)."""
        arrow = next((c for c in section.children() if isinstance(c, QAbstractButton)), None)  # its own
        left = arrow.geometry().right() + 4 if arrow is not None else 8
        width = section.fontMetrics().horizontalAdvance(section.title())
        y = arrow.geometry().center().y() if arrow is not None else section.fontMetrics().height() // 2
        return QPoint(left + width // 2, y)

    def choose(self, combo: QComboBox, text: str, exact: bool = True):
        """Open the combo's list with a click and click the item reading ``text``."""
        yield self.click(combo)
        view = combo.view()
        yield self.until(lambda: view.isVisible(), 5, f"{combo.objectName()} list open")
        model = combo.model()
        row = next((r for r in range(model.rowCount())
                    if (model.index(r, combo.modelColumn()).data() or "") == text
                    or (not exact and text in (model.index(r, combo.modelColumn()).data() or ""))), -1)
        if row < 0:
            items = [model.index(r, 0).data() for r in range(model.rowCount())]
            raise AssertionError(f"{combo.objectName()} has no item {text!r}: {items}")
        index = model.index(row, combo.modelColumn())
        view.scrollTo(index)  # the list scrolls itself to show its items under the pointer
        # A release right after the list opened is taken as the end of the opening press.
        yield Wait(QApplication.doubleClickInterval() + 100)
        point = view.visualRect(index).center()
        self.hover(view.viewport(), point)  # the pointer moves onto the item: it is highlighted
        yield Wait(60)
        yield self.click(view.viewport(), point)
        yield self.until(lambda: not view.isVisible(), 5, f"{combo.objectName()} list closed")

    def click_check_items(self, combo: QComboBox, texts: Iterable[str]):
        """Open a checkable combo's list, click each item (in this order), close it with Escape."""
        # Its text is a read-only line edit over the combo: the click lands on that.
        yield self.click(combo.lineEdit() if combo.lineEdit() is not None else combo)
        view = combo.view()
        yield self.until(lambda: view.isVisible(), 5, f"{combo.objectName()} list open")
        yield Wait(QApplication.doubleClickInterval() + 100)
        for text in texts:
            point = self.item_point(view, text)
            if point is None:
                raise AssertionError(f"{combo.objectName()}: no item {text!r} under the list")
            self.hover(view.viewport(), point)
            yield self.click(view.viewport(), point)
            yield Wait(250)
        yield self.key(view, Qt.Key_Escape)
        yield self.until(lambda: not view.isVisible(), 5, f"{combo.objectName()} list closed")

    @staticmethod
    def item_point(view: Any, text: str) -> Optional[QPoint]:
        """Where the item reading ``text`` is drawn in an open list (found as the pointer would
        find it: what is under each point)."""
        viewport = view.viewport()
        for y in range(2, viewport.height(), 3):
            index = view.indexAt(QPoint(12, y))
            if index.isValid() and index.data() == text:
                return QPoint(min(60, viewport.width() // 2), y + 2)
        return None

    # -- dialogs -------------------------------------------------------------------------------
    @staticmethod
    def modal(kind: str = "") -> Optional[QWidget]:
        """The dialog on top (without a window manager Qt may not call it the active modal
        widget): the active modal widget, else the last visible top-level dialog, optionally of
        a class named ``kind``."""
        from qgis.PyQt.QtWidgets import QDialog

        widget = QApplication.activeModalWidget()
        if widget is not None and (not kind or type(widget).__name__ == kind):
            return widget
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QDialog) and w.isVisible() and (not kind or type(w).__name__ == kind)]
        return dialogs[-1] if dialogs else None

    @staticmethod
    def button(parent: QWidget, text: str) -> Optional[QAbstractButton]:
        for b in parent.findChildren(QAbstractButton):
            if b.isVisible() and _text(b).rstrip("…. ").lower() == text.rstrip("…. ").lower():
                return b
        return None

    @staticmethod
    def buttons(parent: QWidget) -> List[str]:
        return [_text(b) for b in parent.findChildren(QAbstractButton) if b.isVisible()]


# -- layout: what a user would see cut off -------------------------------------------------------

def _fits(fm, text: str, width: int) -> bool:
    return fm.horizontalAdvance(text) <= width + 1


def clipped_texts(root: QWidget) -> List[str]:
    """Visible labels, buttons, check boxes, combo boxes and line edits under ``root`` whose text
    does not fit in the space they were given."""
    problems: List[str] = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or not w.isVisible() or w.width() <= 0:
            continue
        name = w.objectName() or type(w).__name__
        if isinstance(w, QLabel) and w.text():
            text = w.text()
            rect = w.contentsRect()
            if w.textFormat() == Qt.RichText or (w.textFormat() == Qt.AutoText and Qt.mightBeRichText(text)):
                doc = QTextDocument()
                doc.setDocumentMargin(0)  # as QLabel lays rich text out
                doc.setDefaultFont(w.font())
                doc.setHtml(text)
                if w.wordWrap():
                    doc.setTextWidth(rect.width())
                    if doc.size().height() > rect.height() + 2:
                        problems.append(f"{name}: {doc.toPlainText()[:60]!r} needs {doc.size().height():.0f} px "
                                        f"of height, has {rect.height()}")
                elif doc.idealWidth() > rect.width() + 2:
                    problems.append(f"{name}: {doc.toPlainText()[:60]!r} needs {doc.idealWidth():.0f} px, "
                                    f"has {rect.width()}")
            elif w.wordWrap():
                need = w.heightForWidth(rect.width())
                if need > rect.height() + 2:
                    problems.append(f"{name}: {text[:60]!r} needs {need} px of height, has {rect.height()}")
            else:
                for line in text.splitlines() or [text]:
                    if not _fits(w.fontMetrics(), line, rect.width()):
                        problems.append(f"{name}: {line[:60]!r} needs {w.fontMetrics().horizontalAdvance(line)} px, "
                                        f"has {rect.width()}")
        elif isinstance(w, (QCheckBox, QPushButton)) and _text(w):
            if w.sizeHint().width() > w.width() + 1:
                problems.append(f"{name}: {_text(w)!r} needs {w.sizeHint().width()} px, has {w.width()}")
        elif isinstance(w, QComboBox) and w.currentText() and not w.isEditable():
            opt = QStyleOptionComboBox()
            opt.initFrom(w)
            opt.editable = False
            opt.frame = w.hasFrame()
            opt.currentText = w.currentText()
            field = w.style().subControlRect(QStyle.CC_ComboBox, opt, QStyle.SC_ComboBoxEditField, w)
            icon = (w.iconSize().width() + 4) if not w.itemIcon(w.currentIndex()).isNull() else 0
            if not _fits(w.fontMetrics(), w.currentText(), field.width() - icon):
                problems.append(f"{name}: {w.currentText()[:60]!r} needs {w.fontMetrics().horizontalAdvance(w.currentText())} px, "
                                f"has {field.width() - icon}")
        elif isinstance(w, QScrollArea) and w.widgetResizable() and w.horizontalScrollBarPolicy() != Qt.ScrollBarAlwaysOff \
                and w.horizontalScrollBar().maximum() > 0:
            problems.append(f"{name}: its content is {w.horizontalScrollBar().maximum()} px wider than it "
                            "(a horizontal scroll bar)")
        elif isinstance(w, QLineEdit) and not w.text() and w.placeholderText():
            room = w.width() - 12 - w.textMargins().left() - w.textMargins().right()
            if not _fits(w.fontMetrics(), w.placeholderText(), room):
                problems.append(f"{name} (hint): {w.placeholderText()[:60]!r} needs "
                                f"{w.fontMetrics().horizontalAdvance(w.placeholderText())} px, has {room}")
    return problems


def overlapping_siblings(root: QWidget) -> List[str]:
    """Visible widgets of one layout drawn over each other (e.g. a label over the next row)."""
    problems: List[str] = []
    for parent in [root] + root.findChildren(QWidget):
        kids = [k for k in parent.children() if isinstance(k, QWidget) and k.isVisible() and not k.isWindow()
                and k.width() > 0 and k.height() > 0 and parent.layout() is not None
                and parent.layout().indexOf(k) >= 0]
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                inter = a.geometry().intersected(b.geometry())
                if inter.width() > 2 and inter.height() > 2:
                    problems.append(f"{a.objectName() or type(a).__name__} overlaps "
                                    f"{b.objectName() or type(b).__name__} ({inter.width()}x{inter.height()} px)")
    return problems


def read_jsonl(path: Path) -> List[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def now() -> float:
    return time.monotonic()


def fields_layer(path: Path, region: tuple, id_field: str, id_prefix: str, name: str):
    """Four field polygons inside ``region`` (lon/lat), written to ``path`` and added to the project."""
    from qgis.core import QgsProject, QgsVectorLayer

    x0, y0, x1, y1 = region
    w, h = (x1 - x0) / 5, (y1 - y0) / 4
    features = []
    for i, (cx, cy) in enumerate([(1, 1), (2.6, 1.2), (3.7, 2.4), (1.4, 2.7)]):
        ax, ay = x0 + cx * w, y0 + cy * h
        ring = [[ax, ay], [ax + 0.8 * w, ay], [ax + 0.8 * w, ay + 0.7 * h], [ax, ay + 0.7 * h], [ax, ay]]
        features.append({"type": "Feature", "properties": {id_field: f"{id_prefix}-{i + 1}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    layer = QgsVectorLayer(str(path), name, "ogr")
    QgsProject.instance().addMapLayer(layer)
    return layer


def open_toolbox(ui: Ui, menu: str, item: str):
    """The Processing toolbox, opened from its menu when it is not shown; yields gestures, returns it."""
    from qgis.PyQt.QtWidgets import QDockWidget
    from qgis.utils import iface

    window = iface.mainWindow()
    toolbox = window.findChild(QDockWidget, "ProcessingToolbox")
    if toolbox is None or not toolbox.isVisible():
        yield from menu_gesture(ui, menu, item)
        yield ui.until(lambda: window.findChild(QDockWidget, "ProcessingToolbox").isVisible(), 5, "the toolbox")
        toolbox = window.findChild(QDockWidget, "ProcessingToolbox")
    return toolbox


def menu_gesture(ui: Ui, *path: str):
    """Click through the main window's menus, e.g. ``("Processing", "Toolbox")``."""
    from qgis.PyQt.QtWidgets import QMenu
    from qgis.utils import iface

    bar = iface.mainWindow().menuBar()
    action = next((a for a in bar.actions() if a.text().replace("&", "") == path[0]), None)
    if action is None:
        raise AssertionError(f"no menu {path[0]!r}: {[a.text() for a in bar.actions()]}")
    yield ui.click(bar, bar.actionGeometry(action).center())
    menu = action.menu()
    for name in path[1:]:
        yield ui.until(lambda m=menu: m.isVisible(), 5, f"menu {name} open")
        item = next((a for a in menu.actions() if a.text().replace("&", "").rstrip("….") == name.rstrip("….")), None)
        if item is None:
            raise AssertionError(f"no item {name!r} in {[a.text() for a in menu.actions()]}")
        yield ui.click(menu, menu.actionGeometry(item).center())
        menu = item.menu() if item.menu() is not None else QMenu()


def quit_gesture(ui: Ui, tasks_end_within_s: float = 2.0):
    """Ctrl+Q as a user does it, answering what QGIS asks: "Discard" for an unsaved project;
    "Yes" to cancel running tasks — QGIS 3.22 then stays open, cancels them and the user
    presses Ctrl+Q once more, which works only if the tasks really ended."""
    from qgis.core import QgsApplication
    from qgis.utils import iface

    window = iface.mainWindow()
    manager = QgsApplication.taskManager()
    presses = 0
    for _ in range(60):
        box = ui.modal()
        if box is not None and box.isVisible():
            asked = ui.buttons(box)
            ui.note(f"QGIS asked ({presses})", asked)
            if ui.button(box, "Discard") is not None:
                yield ui.click(ui.button(box, "Discard"))
            elif ui.button(box, "Yes") is not None:
                running = [t.description() for t in manager.activeTasks()]
                yield ui.click(ui.button(box, "Yes"))
                started = time.monotonic()
                while manager.countActiveTasks() and time.monotonic() - started < 10:
                    yield Wait(100)
                took = time.monotonic() - started
                ui.check("the running tasks end when QGIS cancels them", manager.countActiveTasks() == 0
                         and took <= tasks_end_within_s, {"tasks": running, "took_s": round(took, 2)})
            else:
                ui.check("QGIS asked something expected", False, asked)
                return
            yield Wait(300)
            continue
        window.activateWindow()
        presses += 1
        yield ui.key(window, Qt.Key_Q, Qt.ControlModifier)
        yield Wait(700)


def jobs_table_problems(tree: Any) -> List[str]:
    """What a user could not read in the Jobs table: a cell text wider than its column, a
    progress bar whose text does not fit in it, an item text drawn under a bar, a column
    beyond the table's right edge."""
    problems: List[str] = []
    viewport = tree.viewport()
    fm = tree.fontMetrics()
    header = tree.header()
    # the space a cell and a header section keep around their text (the style's margins)
    cell = 2 * (tree.style().pixelMetric(QStyle.PM_FocusFrameHMargin, None, tree) + 1)
    head = 2 * header.style().pixelMetric(QStyle.PM_HeaderMargin, None, header)
    if tree.horizontalScrollBar().maximum() > 0:
        problems.append(f"the table scrolls sideways by {tree.horizontalScrollBar().maximum()} px")
    for column in range(tree.columnCount()):
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        if right > viewport.width() + 1:
            problems.append(f"column {tree.headerItem().text(column)!r} ends at {right}, the table at {viewport.width()}")
        if header.fontMetrics().horizontalAdvance(tree.headerItem().text(column)) + head > header.sectionSize(column):
            problems.append(f"header {tree.headerItem().text(column)!r} cut in {header.sectionSize(column)} px")
    for row in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(row)
        for column in range(tree.columnCount()):
            bar = tree.itemWidget(item, column)
            if bar is not None:
                if item.text(column):
                    problems.append(f"row {row}: {item.text(column)!r} drawn under the bar")
                need = bar.fontMetrics().horizontalAdvance(bar.text())
                if need + 6 > bar.width():
                    problems.append(f"row {row}: bar text {bar.text()!r} needs {need} px, the bar is {bar.width()}")
                continue
            text = item.text(column)
            if column > 0 and text and fm.horizontalAdvance(text) + cell > header.sectionSize(column):
                problems.append(f"row {row}: {text!r} cut in {header.sectionSize(column)} px")
    return problems


def message_bar_texts() -> List[str]:
    """The texts of the message bar's items (the one shown and those queued behind it)."""
    from qgis.PyQt.QtWidgets import QLabel, QTextEdit
    from qgis.utils import iface

    texts = []
    for item in iface.messageBar().items():
        parts = [item.text()] if hasattr(item, "text") and item.text() else []
        parts += [w.toPlainText() for w in item.findChildren(QTextEdit)]
        parts += [w.text() for w in item.findChildren(QLabel)]
        texts.append(" ".join(p for p in parts if p))
    return texts


def algorithm_dialogs(ui: Ui, provider_id: str = "eeextract"):
    """Every algorithm's dialog as the toolbox opens it (its own parameters widget), its
    Advanced Parameters unfolded by a click on their title: no label cut off."""
    from qgis.core import QgsApplication
    from qgis.PyQt.QtWidgets import QGroupBox
    from qgis.utils import iface

    provider = QgsApplication.processingRegistry().providerById(provider_id)
    cut_off = {}
    registry = QgsApplication.processingRegistry()
    for listed in provider.algorithms():
        # A new instance, as the toolbox makes one: the dialog owns (and deletes) the algorithm
        # it shows; the provider's own instances must stay.
        algorithm = registry.createAlgorithmById(listed.id())
        dialog = algorithm.createCustomParametersWidget(iface.mainWindow())
        dialog.show()
        yield Wait(250)
        panel = dialog.mainWidget()
        for group in panel.findChildren(QGroupBox):
            if group.property("collapsed"):  # QGIS remembers the last state: unfold only
                yield ui.click(group, ui.section_title(group), settle_ms=150)
        yield Wait(150)
        problems = clipped_texts(panel)
        if problems:
            cut_off[algorithm.id()] = problems
        if algorithm.name() in ("extract_collection", "export_mosaic"):  # the longest labels
            ui.shot(f"dialog-{algorithm.name()}")
        dialog.close()
        dialog.deleteLater()
        yield Wait(50)
    ui.check("no parameter label is cut off in any algorithm's dialog", not cut_off, cut_off)
