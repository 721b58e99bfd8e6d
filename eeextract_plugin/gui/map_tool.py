"""A map tool to draw the job's rectangle (QGIS's own extent tool, with the plugin's cleanup)."""

from __future__ import annotations

import logging

from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle
from qgis.gui import QgsMapCanvas, QgsMapToolExtent
from qgis.PyQt.QtCore import pyqtSignal

log = logging.getLogger(__name__)


class RectangleMapTool(QgsMapToolExtent):
    """Drag a rectangle on the canvas; emits :attr:`rectangleDrawn` with the canvas CRS."""

    rectangleDrawn = pyqtSignal(QgsRectangle, QgsCoordinateReferenceSystem)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self._canvas = canvas
        self.extentChanged.connect(self._on_extent)

    def _on_extent(self, extent: QgsRectangle) -> None:
        if extent.isNull() or extent.isEmpty():
            return
        crs = self._canvas.mapSettings().destinationCrs()
        log.debug("rectangle drawn: %s", extent.toString())
        self.rectangleDrawn.emit(QgsRectangle(extent), crs)

    def release(self) -> None:
        """Stop being the canvas's tool (unload, dock closed)."""
        if self._canvas.mapTool() is self:
            self._canvas.unsetMapTool(self)
        self.clearRubberBand()
