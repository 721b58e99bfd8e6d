"""Sections of a scrolled form that fold and unfold where the user clicked them.

The dock's sections are QgsCollapsibleGroupBoxes in a scroll area. Folding one near the end of
the form made the form shorter than the scroll position, so the scroll area jumped back and
the section's header moved away from the pointer; unfolding one scrolled the whole section into
view ("scroll on expand"), moving it again. Here a header stays where it was clicked: unfolding
does not scroll, and folding leaves blank room at the end of the form for as long as the view
needs it to stay put (the room shrinks as the user scrolls back up, so no empty end can be
scrolled into).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from qgis.PyQt.QtCore import QEvent, QObject, QTimer
from qgis.PyQt.QtWidgets import QScrollArea, QSizePolicy, QWidget


class SectionFolding(QObject):
    """Keeps ``scroll``'s position when one of ``sections`` folds or unfolds."""

    def __init__(self, scroll: QScrollArea, sections: List[Any], parent: QObject = None) -> None:
        super().__init__(parent or scroll)
        self.scroll = scroll
        self.sections = list(sections)
        content = scroll.widget()
        # The blank room at the end of the form, below every section (and the form's spacer).
        self.room = QWidget(content)
        self.room.setObjectName("wFoldRoom")
        self.room.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.room.setFixedHeight(0)
        content.layout().addWidget(self.room)
        self._height_before: Dict[Any, int] = {}
        self._anchor: Optional[int] = None  # the view's position when a section last folded
        for section in self.sections:
            section.setScrollOnExpand(False)
            section.collapsedStateChanged.connect(self._folded)
            section.installEventFilter(self)
        scroll.verticalScrollBar().valueChanged.connect(self._trim_later)
        self._trim_timer = QTimer(self)
        self._trim_timer.setSingleShot(True)
        self._trim_timer.setInterval(0)
        self._trim_timer.timeout.connect(self.trim)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Resize:
            self._height_before[watched] = event.oldSize().height()
        return False

    def _folded(self, collapsed: bool) -> None:
        """Called as the section folds (it has just taken its folded height), before the form
        is laid out again."""
        section = self.sender()
        self._anchor = self.scroll.verticalScrollBar().value()
        if collapsed and section is not None:
            # The form is about to lose the section's body: room makes up for it (and a view's
            # height more, spacing aside), so the view's position cannot change in the coming
            # layout; what is not needed goes right after it.
            lost = max(0, self._height_before.get(section, 0) - section.height())
            self.room.setFixedHeight(self.room.height() + lost + self.scroll.viewport().height())
        self._trim_later()

    def _trim_later(self, *_a: Any) -> None:
        self._trim_timer.start()

    def trim(self) -> None:
        """After the form's layout: the view where it was, and only the room it needs below
        its bottom edge to stay there."""
        anchor, self._anchor = self._anchor, None
        bar = self.scroll.verticalScrollBar()
        if anchor is not None and bar.value() != anchor and anchor <= bar.maximum():
            bar.setValue(anchor)  # a fold or unfold does not move the view
        room = self.room.height()
        needed = max(0, bar.value() + self.scroll.viewport().height() - self.form_height())
        if needed < room:
            self.room.setFixedHeight(needed)

    def form_height(self) -> int:
        """The height the form needs at its width, without the room (as the scroll area
        measures it: by height for width when the form has wrapped labels)."""
        content = self.scroll.widget()
        layout = content.layout()
        if layout.hasHeightForWidth():
            total = layout.totalHeightForWidth(content.width())
        else:
            total = layout.totalMinimumSize().height()
        return total - self.room.height()


__all__ = ["SectionFolding"]
