"""File and staging names for ids that come from a user or a server.

Output ids (feature ids of a vector file, ``system:index`` of a collection's images, window
dates), unit ids and ``output.name`` end up in file names. Any of them may hold a path separator,
``..``, a control character, a Windows device name (``CON``, ``LPT1``), thousands of characters,
or differ from another id only by characters a file system cannot hold apart (``plot/1`` and
``plot_1``; ``Plot`` and ``plot`` on Windows and macOS). One function maps them all:

- :func:`safe_name` — one id → one file-name component: letters, digits, ``-``, ``_`` and single
  inner dots only (never a separator, never ``.``/``..``, never a leading or trailing dot), at most
  :data:`MAX_NAME_BYTES` bytes of UTF-8, NFC-normalised, never a Windows device name, never empty.
- :func:`unique_names` — a set of ids → one name each, **never two the same** (compared as a
  case- and normalisation-insensitive file system compares them). A name that no other id of the
  set shares is kept as it is; every id of a group that would share a name gets ``~`` and eight
  hex digits of its own hash (``~`` never appears in a name :func:`safe_name` gives, so a
  suffixed name cannot meet an unsuffixed one). The result depends on the set only, not on its
  order: a resumed job finds the same names.

Never a name that merges two outputs: collisions are disambiguated, never silently shared.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Dict, Iterable, List, Optional

#: Longest name (UTF-8 bytes) for one id: with a 100-byte prefix and an extension a file name
#: stays far below the 255 bytes every common file system allows.
MAX_NAME_BYTES = 96
HASH_DIGITS = 8
_SUFFIX_BYTES = 1 + HASH_DIGITS + 4  # "~" + hash (+ "-NNN" in the astronomically rare case)

_WINDOWS_DEVICES = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)")


def _truncate(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(text: object, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``text`` as one safe file-name component (not unique: see :func:`unique_names`)."""
    s = unicodedata.normalize("NFC", str(text))
    chars = [c if (c.isalnum() and c.isprintable()) or c in "-_" else "." if c == "." else "_"
             for c in s]
    name = re.sub(r"\.{2,}", ".", "".join(chars))  # no "..", not even inside a name
    if name.startswith("."):
        name = "_" + name[1:]
    if _WINDOWS_DEVICES.fullmatch(name.split(".", 1)[0]):
        name = "_" + name
    name = _truncate(name, max_bytes)
    if name.endswith("."):  # Windows drops a trailing dot: "a." would be "a"
        name = name[:-1] + "_"
    return name or "_"


def _fold(name: str) -> str:
    """How a case-insensitive, normalisation-insensitive file system compares names."""
    return unicodedata.normalize("NFC", name).casefold()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:HASH_DIGITS]


def unique_names(ids: Iterable[object], max_bytes: int = MAX_NAME_BYTES) -> Dict[str, str]:
    """One safe, distinct file-name component per distinct id (see the module docstring)."""
    keys = sorted({str(i) for i in ids})
    base = {k: safe_name(k, max_bytes) for k in keys}
    groups: Dict[str, List[str]] = {}
    for k in keys:
        groups.setdefault(_fold(base[k]), []).append(k)
    out: Dict[str, str] = {}
    for members in groups.values():
        if len(members) == 1:
            out[members[0]] = base[members[0]]
            continue
        for k in members:
            stem = _truncate(base[k], max_bytes - _SUFFIX_BYTES)
            out[k] = f"{stem}~{_digest(k)}"
    # Two suffixed names can only meet if two ids share eight hex digits of their hash: number
    # those (in id order, so the result is still the set's alone).
    taken: Dict[str, List[str]] = {}
    for k in keys:
        taken.setdefault(_fold(out[k]), []).append(k)
    for members in taken.values():
        for n, k in enumerate(members[1:], start=2):
            out[k] = f"{out[k]}-{n}"
    return out


def file_stem_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be used as the start of file names as it is (``output.name``, the
    job's name), or None: a user's own name is refused rather than silently changed."""
    if not name or not name.strip():
        return "must not be empty or blank"
    if any(not c.isprintable() for c in name):
        return "must not hold control characters or line breaks"
    if re.search(r"[/\\:*?\"<>|]", name):
        return "must not hold / \\ : * ? \" < > |"
    if ".." in name or name.startswith(".") or name.endswith((".", " ")) or name.startswith(" "):
        return "must not start or end with a dot or a blank, nor hold '..'"
    if len(name.encode("utf-8")) > 100:
        return "must be at most 100 bytes long"
    if _WINDOWS_DEVICES.fullmatch(name.split(".", 1)[0].rstrip()):
        return f"{name.split('.', 1)[0]!r} is a device name on Windows"
    return None




def distinct_ids(ids: Iterable[object]) -> List[str]:
    """The ids in order, a repeated one numbered (``a``, ``a~2``, ``a~3``): two outputs never
    share an id (the registry's key), so they can never share a file either."""
    seen = set()
    out: List[str] = []
    for raw in ids:
        base = str(raw)
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}~{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


__all__ = ["safe_name", "unique_names", "distinct_ids", "file_stem_problem", "MAX_NAME_BYTES"]
