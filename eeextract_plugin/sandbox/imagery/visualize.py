"""``Image.visualize`` and computePixels' ``visualizationOptions``: 8-bit RGB (or gray) bands.

- 1 band without a palette → ``vis-gray`` (``forceRgbOutput`` → ``vis-red/green/blue``);
  1 band with a palette, or 3 bands → ``vis-red``, ``vis-green``, ``vis-blue`` (uint8).
- ``min``/``max`` (numbers, lists or comma-separated strings, one per band or one for all)
  stretch linearly to 0…255; or ``gain``/``bias`` (value × gain + bias). Defaults: the type's
  range for integer bands, 0…1 for floating point. ``gamma`` then applies; a ``palette``
  (hex ``RRGGBB``/``#RRGGBB``/``RGB`` or CSS colour names) is interpolated linearly.
- Masked input pixels stay masked (they become transparent in PNG).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.imagery.image import UINT8, Band, FunctionBand, Image

_CSS = {
    "black": "000000", "white": "ffffff", "red": "ff0000", "green": "008000", "lime": "00ff00",
    "blue": "0000ff", "yellow": "ffff00", "cyan": "00ffff", "aqua": "00ffff", "magenta": "ff00ff",
    "fuchsia": "ff00ff", "gray": "808080", "grey": "808080", "silver": "c0c0c0", "maroon": "800000",
    "olive": "808000", "purple": "800080", "teal": "008080", "navy": "000080", "orange": "ffa500",
    "brown": "a52a2a", "pink": "ffc0cb", "darkgreen": "006400", "lightgreen": "90ee90",
    "darkblue": "00008b", "lightblue": "add8e6", "beige": "f5f5dc", "tan": "d2b48c", "gold": "ffd700",
}


def parse_color(text: Any) -> tuple:
    s = str(text).strip().lower()
    s = _CSS.get(s, s)
    if s.startswith("#"):
        s = s[1:]
    if s.startswith("0x"):
        s = s[2:]
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) == 8:  # RRGGBBAA
        s = s[:6]
    if len(s) != 6 or any(c not in "0123456789abcdef" for c in s):
        raise invalid_argument(f"Image.visualize: Unable to parse color '{text}'.")
    return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)


def _per_band(value: Any, n: int, name: str) -> Optional[List[float]]:
    if value is None:
        return None
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [value]
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise invalid_argument(f"Image.visualize: Invalid {name}: {value!r}.") from None
    if len(numbers) == 1:
        return numbers * n
    if len(numbers) != n:
        raise invalid_argument(f"Image.visualize: Expected 1 or {n} values for {name}, got {len(numbers)}.")
    return numbers


def _palette(value: Any) -> Optional[List[tuple]]:
    if value is None:
        return None
    if isinstance(value, str):
        items = [p for p in value.replace(" ", "").split(",") if p]
    else:
        items = list(value)
    if not items:
        return None
    return [parse_color(c) for c in items]


def visualize(image: Image, bands: Any = None, gain: Any = None, bias: Any = None, min: Any = None,
              max: Any = None, gamma: Any = None, opacity: Any = None, palette: Any = None,
              force_rgb: bool = False) -> Image:
    from eeextract_plugin.sandbox.imagery.algorithms import image_select

    if bands is not None:
        names = [b for b in (bands.replace(" ", "").split(",") if isinstance(bands, str) else list(bands)) if b != ""]
        image = image_select(image, names)
    n = len(image.bands)
    if n not in (1, 3):
        raise invalid_argument(f"Image.visualize: Expected a 1-band or 3-band image, got {n} bands.")
    colors = _palette(palette)
    if colors is not None and n != 1:
        raise invalid_argument("Image.visualize: Cannot provide a palette when visualizing more than one band.")
    if (gain is not None or bias is not None) and (min is not None or max is not None):
        raise invalid_argument("Image.visualize: Cannot specify both gain/bias and min/max.")
    gains = _per_band(gain, n, "gain")
    biases = _per_band(bias, n, "bias")
    mins = _per_band(min, n, "min")
    maxs = _per_band(max, n, "max")
    gammas = _per_band(gamma, n, "gamma")
    if gammas is not None and colors is not None:
        raise invalid_argument("Image.visualize: Cannot specify both gamma and palette.")

    lows, highs = [], []
    for i, b in enumerate(image.bands):
        if gains is not None or biases is not None:
            g = gains[i] if gains else 1.0
            o = biases[i] if biases else 0.0
            # value*g + o maps to 0..255  ⇔  min = -o/g, max = (255-o)/g
            lows.append(-o / g if g else 0.0)
            highs.append((255.0 - o) / g if g else 1.0)
            continue
        t = b.pixel_type
        lo = mins[i] if mins else (0.0 if not t.is_int else float(t.min))
        hi = maxs[i] if maxs else (1.0 if not t.is_int else float(t.max))
        if mins and not maxs and not t.is_int:
            hi = 1.0
        lows.append(lo)
        highs.append(hi)

    def stretch(values: np.ndarray, i: int) -> np.ndarray:
        lo, hi = lows[i], highs[i]
        span = hi - lo
        x = (values.astype(np.float64) - lo) / (span if span else 1.0)
        x = np.clip(x, 0.0, 1.0)
        if gammas is not None:
            x = x ** (1.0 / gammas[i])
        return x

    bands_in = image.bands
    proj = bands_in[0].projection
    footprint = bands_in[0].footprint
    out: List[Band] = []
    if colors is not None:
        table = np.array(colors, dtype=np.float64)  # (k, 3)

        def channel(c: int):
            def fn(inputs):
                ((v, m),) = inputs
                x = stretch(v, 0)
                if len(table) == 1:
                    col = np.full(x.shape, table[0, c])
                else:
                    pos = x * (len(table) - 1)
                    k = np.clip(np.floor(pos).astype(np.int64), 0, len(table) - 2)
                    f = pos - k
                    col = table[k, c] * (1.0 - f) + table[k + 1, c] * f
                return np.clip(np.round(col), 0, 255).astype(np.uint8), m

            return fn

        for c, name in enumerate(("vis-red", "vis-green", "vis-blue")):
            out.append(FunctionBand(name, UINT8, proj, footprint, [bands_in[0]], channel(c)))
    else:
        def gray(i: int):
            def fn(inputs):
                ((v, m),) = inputs
                return np.clip(np.round(stretch(v, i) * 255.0), 0, 255).astype(np.uint8), m

            return fn

        if n == 1 and not force_rgb:
            out.append(FunctionBand("vis-gray", UINT8, proj, footprint, [bands_in[0]], gray(0)))
        else:
            for c, name in enumerate(("vis-red", "vis-green", "vis-blue")):
                i = c if n == 3 else 0
                out.append(FunctionBand(name, UINT8, proj, footprint, [bands_in[i]], gray(i)))
    result = Image(out, {})
    if opacity is not None:
        result.properties = {}
    return result


def visualize_options(image: Image, options: Dict[str, Any]) -> Image:
    """computePixels' ``visualizationOptions`` (``ranges[{min,max}]``, ``paletteColors``,
    ``gamma{value}``, ``opacity{value}``) applied with :func:`visualize`."""
    ranges = options.get("ranges") or []
    mins = [r.get("min", 0) for r in ranges] or None
    maxs = [r.get("max", 1) for r in ranges] or None
    gamma = options.get("gamma")
    if isinstance(gamma, dict):
        gamma = gamma.get("value")
    opacity = options.get("opacity")
    if isinstance(opacity, dict):
        opacity = opacity.get("value")
    palette = options.get("paletteColors")
    return visualize(image, min=mins, max=maxs, gamma=gamma, opacity=opacity, palette=palette)


__all__: Sequence[str] = ("visualize", "visualize_options", "parse_color")
