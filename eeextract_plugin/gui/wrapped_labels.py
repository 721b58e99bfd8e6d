"""Word-wrapped labels that keep the height their text needs.

A word-wrapped QLabel tells its layout the height it needs for a given width, but Qt sizes a
window from its layout's minimum size alone, which ignores that: a window could be shorter
than its labels need, and the layout then drew them over the next rows (the guidance text over
"Cloud project"). :class:`WrappedLabelHeights` gives each watched label the minimum height its
text needs at its current width (and no more), again whenever its text or its width changes, so
its window grows to fit.
"""

from __future__ import annotations

from typing import List

from qgis.PyQt.QtCore import QEvent, QObject
from qgis.PyQt.QtWidgets import QLabel


class WrappedLabelHeights(QObject):
    """Keeps the watched labels as tall as their text needs at their width."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.labels: List[QLabel] = []

    def watch(self, *labels: QLabel) -> None:
        for label in labels:
            if label in self.labels:
                continue
            label.setWordWrap(True)
            self.labels.append(label)
            label.installEventFilter(self)  # its width changes
            parent = label.parentWidget()
            if parent is not None:  # a new text: Qt asks the parent's layout again
                parent.installEventFilter(self)
            self.fit(label)

    def fit(self, label: QLabel) -> None:
        if not label.isVisible():  # its width is not known yet; fitted when it shows
            return
        need = max(0, label.heightForWidth(max(1, label.width()))) if label.text() else 0
        if label.minimumHeight() != need or label.maximumHeight() != need:
            label.setFixedHeight(need)  # not taller either: the space left goes below the rows

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Resize, QEvent.LayoutRequest, QEvent.Show):
            for label in self.labels:
                if label is watched or label.parent() is watched:
                    try:
                        self.fit(label)
                    except RuntimeError:  # the label is gone
                        pass
        return False


__all__ = ["WrappedLabelHeights"]
