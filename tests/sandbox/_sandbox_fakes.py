"""A minimal engine and export service, to test the sandbox's HTTP surface on its own.

Answers deterministic pixels (``value = row * 1000 + col`` in int16, band ``elevation``) on any
grid, and lists the algorithms of the client's own fixture. Not a model of Earth Engine: the
real engine's behaviour is tested end to end elsewhere.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from eeextract_plugin.sandbox.errors import EEError, invalid_argument, not_found
from eeextract_plugin.sandbox.raster import BandData, PixelGrid, Raster

ALGORITHMS = Path(__import__("ee").__file__).parent / "tests" / "algorithms.json"


class FakeEngine:
    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.calls = 0
        self._lock = threading.Lock()
        self._algorithms = json.loads(ALGORITHMS.read_text())["algorithms"]

    def algorithms(self) -> List[Dict[str, Any]]:
        return self._algorithms

    def _root(self, expression: Dict[str, Any]) -> Dict[str, Any]:
        return expression["values"][expression["result"]]

    def compute_value(self, expression: Dict[str, Any]) -> Any:
        root = self._root(expression)
        if "constantValue" in root:
            return root["constantValue"]
        name = root.get("functionInvocationValue", {}).get("functionName")
        if name == "Test.crash":
            raise RuntimeError("boom")
        raise invalid_argument(f"Unsupported algorithm: {name}")

    def compute_pixels(self, expression, grid, band_ids, visualization, limits=None) -> Raster:
        with self._lock:
            self.calls += 1
        if self.delay_s:
            import time

            time.sleep(self.delay_s)
        root = self._root(expression)
        if root.get("functionInvocationValue", {}).get("functionName") == "Test.crash":
            raise RuntimeError("boom")
        if grid is None:
            grid = {"crsCode": "EPSG:4326", "dimensions": {"width": 64, "height": 48},
                    "affineTransform": {"scaleX": 0.01, "translateX": 10.0, "scaleY": -0.01, "translateY": 50.0}}
        return make_raster(PixelGrid.from_json(grid, "EPSG:4326"), band_ids, visualization)

    def asset_pixels(self, name, grid, band_ids, region, visualization) -> Raster:
        if name != "projects/earthengine-public/assets/SANDBOX/DEM":
            raise not_found(f"Image asset '{name}' not found.")
        return self.compute_pixels({"result": "0", "values": {"0": {"constantValue": 0}}}, grid, band_ids,
                                   visualization)

    def get_asset(self, name: str) -> Dict[str, Any]:
        if name != "projects/earthengine-public/assets/SANDBOX/DEM":
            raise not_found(f"Asset '{name}' not found.")
        return {"type": "IMAGE", "name": name, "id": "SANDBOX/DEM",
                "bands": [{"id": "elevation", "dataType": {"precision": "INT", "range": {"min": -32768, "max": 32767}}}]}

    def list_assets(self, parent, page_size, page_token, filter, view) -> Dict[str, Any]:
        names = [f"{parent}/IMG_{i:03d}" for i in range(25)]
        start = int(page_token or 0)
        size = page_size or 1000
        page = names[start:start + size]
        result: Dict[str, Any] = {"assets": [{"type": "IMAGE", "name": n, "id": n.split("/assets/")[-1],
                                              "filterSeen": filter, "viewSeen": view} for n in page]}
        if start + size < len(names):
            result["nextPageToken"] = str(start + size)
        return result

    def list_features(self, name, page_size, page_token, region, filter) -> Dict[str, Any]:
        return {"features": [{"type": "Feature", "geometry": None,
                              "properties": {"asset": name, "page_size": page_size, "filter": filter}}]}

    def compute_features(self, expression, page_size, page_token) -> Dict[str, Any]:
        start = int(page_token or 0)
        if self._root(expression).get("functionInvocationValue", {}).get("functionName") == "Collection":
            # a literal FeatureCollection: 3 features, one per page
            features = [{"type": "Feature", "id": str(start),
                         "geometry": {"type": "Point", "coordinates": [start, 1]},
                         "properties": {"name": f"f{start}", "value": start * 1.5}}]
            return {"type": "FeatureCollection", "features": features,
                    **({"nextPageToken": str(start + 1)} if start < 2 else {})}
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": None, "properties": {"page_size": page_size}}]}


def make_raster(grid: PixelGrid, band_ids: Optional[List[str]] = None, visualization=None) -> Raster:
    rows, cols = np.mgrid[0:grid.height, 0:grid.width]
    values = (rows * 1000 + cols).astype(np.int16)
    mask = np.ones(values.shape, dtype=bool)
    if band_ids and band_ids != ["elevation"]:
        raise invalid_argument(f"Band pattern '{band_ids[0]}' did not match any bands. Available bands: [elevation]")
    if visualization:
        byte = (values % 251).astype(np.uint8)
        mask = mask.copy()
        mask[0, 0] = False
        return Raster(grid, [BandData(n, byte, mask) for n in ("vis-red", "vis-green", "vis-blue")])
    return Raster(grid, [BandData("elevation", values, mask)])


class FakeExports:
    def __init__(self):
        self.ops: Dict[str, Dict[str, Any]] = {}

    def start_export(self, project: str, body: Dict[str, Any]) -> Dict[str, Any]:
        name = f"projects/{project}/operations/OP{len(self.ops):04d}"
        op = {"name": name, "done": False,
              "metadata": {"state": "PENDING", "type": "EXPORT_IMAGE", "description": body.get("description", "")}}
        self.ops[name] = op
        return op

    def get_operation(self, name: str) -> Dict[str, Any]:
        if name not in self.ops:
            raise EEError(404, "NOT_FOUND", f"Operation {name} not found.")
        return self.ops[name]

    def list_operations(self, project, page_size, page_token, filter) -> Dict[str, Any]:
        ops = list(self.ops.values())
        start = int(page_token or 0)
        size = page_size or 500
        result: Dict[str, Any] = {"operations": ops[start:start + size]}
        if start + size < len(ops):
            result["nextPageToken"] = str(start + size)
        return result

    def cancel_operation(self, name: str) -> Dict[str, Any]:
        op = self.get_operation(name)
        op["done"] = True
        op["metadata"]["state"] = "CANCELLED"
        return {}

    def close(self) -> None:
        pass
