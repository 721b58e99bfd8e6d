"""What zonal statistics and sampling need to know about a raster, read once with GDAL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from eeextract_plugin.core.zonal.errors import ZonalError

BandSelector = Union[int, str]


def _safe_name(text: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_]+", "_", text.strip()).strip("_")
    if name and name[0].isdigit():
        name = "b" + name
    return name


@dataclass
class RasterInfo:
    """A raster's grid, CRS, nodata and band names (``b1``... unless all bands are described).

    ``bands`` are 1-based GDAL band indexes of the selected bands, ``band_names`` their column
    prefixes, in the same order.
    """

    path: str
    width: int
    height: int
    geotransform: Tuple[float, float, float, float, float, float]
    crs_wkt: str
    bands: List[int]
    band_names: List[str]
    nodata: List[Optional[float]]
    data_types: List[str]

    @property
    def extent(self) -> Tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the raster's CRS."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0, x0 + dx * self.width)
        ys = (y0, y0 + dy * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def pixel_size(self) -> Tuple[float, float]:
        return abs(self.geotransform[1]), abs(self.geotransform[5])

    @classmethod
    def open(
        cls, path: Union[str, Path], bands: Optional[Sequence[BandSelector]] = None
    ) -> RasterInfo:
        from osgeo import gdal

        p = str(path)
        if not Path(p).exists() and not p.startswith("/vsi"):
            raise ZonalError(f"raster {p}: no such file")
        try:
            ds = gdal.Open(p)
        except RuntimeError as exc:  # when the process turned GDAL exceptions on
            raise ZonalError(f"raster {p}: cannot be opened by GDAL ({exc})") from None
        if ds is None or ds.RasterCount == 0:
            raise ZonalError(f"raster {p}: cannot be opened by GDAL or has no band")
        gt = tuple(ds.GetGeoTransform(can_return_null=True) or ())
        if len(gt) != 6:
            raise ZonalError(f"raster {p}: has no georeferencing (geotransform)")
        if gt[2] != 0 or gt[4] != 0:
            raise ZonalError(f"raster {p}: rotated grids are not supported")
        crs_wkt = ds.GetProjection() or ""
        descriptions = [ds.GetRasterBand(i).GetDescription() for i in range(1, ds.RasterCount + 1)]
        safe = [_safe_name(d) for d in descriptions]
        if all(safe) and len(set(safe)) == len(safe):
            names = safe
        else:
            names = [f"b{i}" for i in range(1, ds.RasterCount + 1)]
        selected = list(range(1, ds.RasterCount + 1))
        if bands:
            selected = []
            for b in bands:
                if isinstance(b, int) or (isinstance(b, str) and b.isdigit()):
                    i = int(b)
                    if not 1 <= i <= ds.RasterCount:
                        raise ZonalError(f"raster {p}: no band {i} (it has {ds.RasterCount})")
                elif b in names or b in descriptions:
                    i = (names.index(b) if b in names else descriptions.index(b)) + 1
                else:
                    raise ZonalError(
                        f"raster {p}: no band named {b!r}; bands are: " + ", ".join(names)
                    )
                if i not in selected:
                    selected.append(i)
        info = cls(
            path=p,
            width=ds.RasterXSize,
            height=ds.RasterYSize,
            geotransform=gt,  # type: ignore[arg-type]
            crs_wkt=crs_wkt,
            bands=selected,
            band_names=[names[i - 1] for i in selected],
            nodata=[ds.GetRasterBand(i).GetNoDataValue() for i in selected],
            data_types=[gdal.GetDataTypeName(ds.GetRasterBand(i).DataType) for i in selected],
        )
        ds = None
        return info
