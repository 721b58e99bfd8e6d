"""Imagery for the sandbox: the lazy Image model, the synthetic catalog, pixel requests and the
image algorithms (registered in :mod:`.algorithms`, :mod:`.expression` and :mod:`.terrain` on import)."""

from eeextract_plugin.sandbox.imagery import algorithms, expression, terrain  # noqa: F401  (register algorithms)
from eeextract_plugin.sandbox.imagery.catalog import ImageCatalog  # noqa: F401
from eeextract_plugin.sandbox.imagery.image import Band, Image, PixelType  # noqa: F401
from eeextract_plugin.sandbox.imagery.pixels import asset_pixels, compute_pixels  # noqa: F401
from eeextract_plugin.sandbox.imagery.projection import Projection  # noqa: F401
