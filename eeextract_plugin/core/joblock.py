"""Who runs a job: an exclusive lock on a file that the operating system releases when the process
dies, however it dies (``kill -9``, a crash, a power cut, a reboot).

A job is *running* exactly while some process holds its lock, ``<workdir>/<job id>.lock``
(``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows). Claiming is one atomic step: of two
processes that try at once, one gets the lock, the other is told the job is running. No process
id is ever consulted, so a reused PID after a reboot can neither block a job nor make a dead one
look alive. Lock files are never deleted (deleting a lock file another process may be opening is
the classic way two processes both "hold" it); each is a few bytes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional, Union

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)


class JobRunning(BadInput):
    """The job is being run by another process (or another task of this one)."""


def lock_path(workdir: Union[str, Path], job_id: str) -> Path:
    return Path(workdir) / f"{job_id}.lock"


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            pass
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class JobLock:
    """The lock of one job, held from :meth:`acquire` until :meth:`release` (or the process's end)."""

    def __init__(self, workdir: Union[str, Path], job_id: str) -> None:
        self.job_id = job_id
        self.path = lock_path(workdir, job_id)
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> JobLock:
        """Takes the lock now or raises :class:`JobRunning` (never waits)."""
        if self._fd is not None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as exc:
            raise BadInput(f"cannot lock job {self.job_id} in {self.path.parent} "
                           f"({exc.strerror or exc})") from None
        if not _try_lock(fd):
            os.close(fd)
            raise JobRunning(f"job {self.job_id} is already running (another process, or another "
                             "task of this one, holds it); wait for it or `eeextract cancel` it")
        try:  # for people looking at the file; nothing reads it back
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_running(workdir: Union[str, Path], job_id: str) -> bool:
    """Whether a process holds the job's lock right now. Opens the lock file read-only and never
    creates it, so a read-only working folder can be asked too. (A job that is starting at this
    very instant may be seen as not running: the claim itself is :meth:`JobLock.acquire`.)"""
    path = lock_path(workdir, job_id)
    try:
        fd = os.open(path, (os.O_RDWR if os.name == "nt" else os.O_RDONLY) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return False
    except OSError:
        try:  # Windows: a read-only file
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            log.debug("cannot open %s (%s): the job is taken as not running", path, exc)
            return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


__all__ = ["JobLock", "JobRunning", "is_running", "lock_path"]
