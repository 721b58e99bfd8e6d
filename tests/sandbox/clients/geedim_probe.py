"""Runs geedim 2.0.0 (unmodified, in .venv-clients) against a sandbox; writes what it read.

    python geedim_probe.py URL OUTDIR CASE JSON_ARGS

Prints one JSON line: the prepared image's grid as geedim sees it and what it did.

geedim looks images up in Earth Engine's public STAC catalog (a static site on Cloud Storage, not
the Earth Engine API) before writing GeoTIFF metadata. The sandbox has no such catalog and no
machine here reaches Google, so the probe tells geedim's STAC client that the image has no entry,
as its cache would after a lookup that found nothing.
"""

import json
import sys
from pathlib import Path

import ee
import geedim  # noqa: F401 - registers the ee.Image.gd accessor
import numpy as np
from geedim.stac import STACClient


def prepared(args):
    image = ee.Image(args["image"])
    if args.get("select"):
        image = image.select(args["select"])
    if args.get("clip"):
        image = image.clip(ee.Geometry.Polygon(args["clip"]))
    kwargs = {k: args[k] for k in ("crs", "scale", "dtype", "resampling") if k in args}
    if "region" in args:
        kwargs["region"] = ee.Geometry.Rectangle(args["region"])
    if "crs_transform" in args:
        kwargs["crs_transform"] = args["crs_transform"]
        kwargs["shape"] = tuple(args["shape"])
    image = image.gd.prepareForExport(**kwargs)
    STACClient()._cache.setdefault(image.gd.id, None)
    return image


def describe(image):
    gd = image.gd
    return {"crs": gd.crs, "transform": list(gd.transform), "shape": list(gd.shape), "dtype": gd.dtype,
            "count": gd.count, "bands": gd.bandNames, "nodata": gd.nodata, "id": gd.id,
            "band_info": gd.info["bands"]}


def main() -> None:
    url, outdir, case = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    ee.Initialize(credentials=None, url=url, project="sandbox")
    image = prepared(args)
    report = describe(image)
    if case == "download":
        array = image.gd.toNumPy(masked=True, max_tile_size=args.get("max_tile_size", 4))
        np.save(outdir / "array.npy", np.ma.getdata(array))
        np.save(outdir / "mask.npy", np.ma.getmaskarray(array))
        image.gd.toGeoTIFF(outdir / "image.tif", max_tile_size=args.get("max_tile_size", 4))
        report["geotiff"] = str(outdir / "image.tif")
    elif case == "export":
        task = image.gd.toGoogleCloud(args["filename"], type=args["type"], folder=args["folder"], wait=True)
        report["operation"] = ee.data.getOperation(task.name)
    else:
        raise SystemExit(f"unknown case {case}")
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
