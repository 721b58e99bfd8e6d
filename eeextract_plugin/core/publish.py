"""Putting a job's finished files in place: only the job that owns an output writes it.

Every final file (raster, table, footprint index, VRT) is written under a temporary name of its
job (``.<name>.<job tag>.part<ext>``, beside the output) and then *published*:

- ``output.overwrite`` false: published without ever replacing a file — ``os.link`` of the
  temporary file to the final name fails if a file is there (on a file system without hard
  links: ``os.rename``, which never replaces on Windows; on POSIX a check just before it). A
  file there that this job did not write is left alone and the output fails with one line.
- the job recognises its own earlier files: before publishing, the temporary file's identity
  (device, inode, size, modification time — a hard link and a rename keep all four) is recorded
  in the registry, so a job killed between publishing and recording "done" finds its file on
  resume and takes it as its own instead of refusing it or writing it twice.
- ``output.overwrite`` true: ``os.replace`` (atomic).

Small files written whole (PNG/JPEG chips) are published the same way without a registry write
per chip: a chip already there with exactly the bytes this job would write is this job's (a run
killed between publishing and recording it), any other content is refused.

Durability: the temporary file is flushed to disk (``fsync``) before it is published and the
folder after (POSIX), so a published file survives a power cut whole or not at all.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from eeextract_plugin.core.errors import EEExtractError
from eeextract_plugin.core.writer import DiskFullError

log = logging.getLogger(__name__)


class OutputExists(EEExtractError, FileExistsError):  # noqa: N818 - a state, named like FileExistsError
    """An output's final file is there and this job did not write it (``output.overwrite`` is
    false): it is left as it is."""


def file_identity(path: Union[str, Path]) -> Dict[str, int]:
    st = os.stat(path)
    return {"dev": int(st.st_dev), "ino": int(st.st_ino), "size": int(st.st_size),
            "mtime_ns": int(st.st_mtime_ns)}


def fsync_file(path: Union[str, Path]) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Union[str, Path]) -> None:
    """Makes a rename or link in ``path`` durable (POSIX; Windows has no directory handles)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS,
                  errno.EACCES}


def _place_without_replacing(tmp: Path, dest: Path) -> None:
    """``tmp`` becomes ``dest``, or :class:`FileExistsError` if ``dest`` exists (atomically
    where the file system allows)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except (OSError, AttributeError, NotImplementedError) as exc:
        if isinstance(exc, OSError) and exc.errno not in _NO_HARD_LINKS:
            raise
        if os.name != "nt" and os.path.lexists(dest):  # Windows' rename never replaces
            raise FileExistsError(errno.EEXIST, "file exists", str(dest)) from None
        os.rename(tmp, dest)
        return
    os.unlink(tmp)


class Publisher:
    """Publishes the files of one job (see the module docstring). ``registry`` records the
    identities of what this job published (None: no record, e.g. a job outside a registry)."""

    def __init__(self, registry: Any, job_id: str, overwrite: bool, durable: bool = True) -> None:
        self.registry = registry
        self.job_id = job_id
        self.overwrite = overwrite
        self.durable = durable
        self.tag = hashlib.sha256(job_id.encode()).hexdigest()[:8]

    def temp_path(self, dest: Union[str, Path]) -> Path:
        """This job's temporary name for ``dest`` (two jobs never share one)."""
        dest = Path(dest)
        return dest.with_name(f".{dest.name}.{self.tag}.part{dest.suffix}")

    def _identities(self, dest: Path) -> List[Dict[str, int]]:
        return self.registry.published(self.job_id, str(dest)) if self.registry is not None else []

    def owns(self, dest: Union[str, Path]) -> bool:
        """Whether the file at ``dest`` is one this job published."""
        try:
            ident = file_identity(dest)
        except OSError:
            return False
        return ident in self._identities(Path(dest))

    def problem(self, dest: Union[str, Path]) -> Optional[str]:
        """Why this job may not write ``dest`` (a file it did not write is there), or None."""
        dest = Path(dest)
        if self.overwrite or not os.path.lexists(dest) or self.owns(dest):
            return None
        return (f"{dest} exists and was not written by this job (output.overwrite is false): "
                "move it away and resume, or run the job again with output.overwrite")

    def _put(self, tmp: Path, dest: Path, replace: bool, same_as: Optional[bytes] = None) -> None:
        """``tmp`` becomes ``dest``: replacing it, or never (:class:`OutputExists`, unless the
        file there holds exactly ``same_as``)."""
        if replace:
            os.replace(tmp, dest)
            return
        try:
            _place_without_replacing(tmp, dest)
        except FileExistsError:
            _unlink(tmp)
            if same_as is not None and _same_bytes(dest, same_as):
                return
            raise OutputExists(self.problem(dest) or f"{dest} exists") from None

    def publish(self, tmp: Union[str, Path], dest: Union[str, Path]) -> Path:
        """Moves the finished ``tmp`` to ``dest`` under the rules above."""
        tmp, dest = Path(tmp), Path(dest)
        try:
            if self.durable:
                fsync_file(tmp)
            replace = self.overwrite or self.owns(dest)
            if self.registry is not None:
                self.registry.record_published(self.job_id, str(dest), file_identity(tmp))
            self._put(tmp, dest, replace)
            if self.durable:
                fsync_dir(dest.parent)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(exc.errno, f"disk full writing {dest}") from exc
            raise
        return dest

    def publish_bytes(self, dest: Union[str, Path], data: bytes) -> int:
        """A small file written whole (a chip): temporary file, then published; an existing file
        with exactly these bytes is taken as this job's own (see the module docstring)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.temp_path(dest)
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                if self.durable:
                    f.flush()
                    os.fsync(f.fileno())
            self._put(tmp, dest, self.overwrite, same_as=data)
        except OSError as exc:
            _unlink(tmp)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(exc.errno, f"disk full writing {dest}") from exc
            raise
        return len(data)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


__all__ = ["Publisher", "OutputExists", "file_identity", "fsync_file", "fsync_dir"]
