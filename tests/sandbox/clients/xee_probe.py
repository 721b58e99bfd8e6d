"""Runs Xee (unmodified, in .venv-clients) against a sandbox; writes what it read as .npy files.

    python xee_probe.py URL OUTDIR CASE [JSON ARGS]

Prints one JSON line: what the client reported (dims, coordinates, attributes).
"""

import json
import sys
from pathlib import Path

import ee
import numpy as np
import xarray
import xee  # noqa: F401 - registers the "ee" engine


def main() -> None:
    url, outdir, case = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    ee.Initialize(credentials=None, url=url, project="sandbox")
    report = {}
    if case == "collection":
        collection = (ee.ImageCollection(args["collection"])
                      .filterDate(args["start"], args["end"])
                      .filterBounds(ee.Geometry.Point(args["point"])))
        ds = xarray.open_dataset(collection, engine="ee", crs=args["crs"],
                                 crs_transform=tuple(args["crs_transform"]),
                                 shape_2d=tuple(args["shape_2d"]), io_chunks=args.get("io_chunks"),
                                 executor_kwargs={"max_workers": 4})
        report["dims"] = {k: int(v) for k, v in ds.sizes.items()}
        report["variables"] = list(ds.data_vars)
        report["time"] = [str(t) for t in ds["time"].values]
        report["x0"] = float(ds["x"].values[0])
        report["y0"] = float(ds["y"].values[0])
        for band in args["bands"]:
            np.save(outdir / f"{band}.npy", ds[band].values)
        report["native_grid"] = xee.helpers.extract_grid_params(collection)
    elif case == "image":
        image = ee.Image(args["image"])
        if args.get("fit"):
            from shapely.geometry import box

            grid = xee.helpers.fit_geometry(box(*args["fit"]["bounds"]), grid_crs=args["fit"]["crs"],
                                            grid_scale=tuple(args["fit"]["scale"]))
        else:
            grid = xee.helpers.extract_grid_params(image)
        ds = xarray.open_dataset(image, engine="ee", crs=grid["crs"], crs_transform=tuple(grid["crs_transform"]),
                                 shape_2d=tuple(grid["shape_2d"]))
        report["grid"] = {"crs": grid["crs"], "crs_transform": list(grid["crs_transform"]),
                          "shape_2d": list(grid["shape_2d"])}
        report["dims"] = {k: int(v) for k, v in ds.sizes.items()}
        for band in ds.data_vars:
            np.save(outdir / f"{band}.npy", ds[band].isel(time=0).values)
    else:
        raise SystemExit(f"unknown case {case}")
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
