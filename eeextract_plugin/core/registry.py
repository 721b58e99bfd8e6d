"""The job registry: every job, output and work unit, in SQLite (WAL).

A unit is marked ``done`` only after its pixels are durably in the staging file, so after a
cancel, ``kill -9`` or crash, running the job again fetches only what is not ``done``. Job ids
are unique (name + UTC time + random suffix): two jobs with the same name never collide.
Nothing secret is stored: job specs carry no credentials, and the session is never written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from eeextract_plugin.core.errors import BadInput, DiskFullError, EEExtractError, RegistryError
from eeextract_plugin.core.naming import safe_name

log = logging.getLogger(__name__)

# Job states.
PLANNED, RUNNING, CANCELLED, FAILED, COMPLETED = "planned", "running", "cancelled", "failed", "completed"
COMPLETED_WITH_FAILURES = "completed_with_failures"
# Unit / output states.
PENDING, DONE, SPLIT = "pending", "done", "split"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT,
  summary TEXT,
  created REAL NOT NULL,
  updated REAL NOT NULL,
  pid INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS outputs (
  job_id TEXT NOT NULL,
  output_id TEXT NOT NULL,
  path TEXT NOT NULL,
  state TEXT NOT NULL,
  info TEXT NOT NULL,
  message TEXT,
  PRIMARY KEY (job_id, output_id)
);
CREATE TABLE IF NOT EXISTS units (
  job_id TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  output_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  updated REAL NOT NULL,
  PRIMARY KEY (job_id, unit_id)
);
CREATE INDEX IF NOT EXISTS units_state ON units (job_id, state);
CREATE TABLE IF NOT EXISTS claims (
  path TEXT NOT NULL,
  job_id TEXT NOT NULL,
  PRIMARY KEY (path, job_id)
);
CREATE INDEX IF NOT EXISTS claims_job ON claims (job_id);
CREATE TABLE IF NOT EXISTS published (
  job_id TEXT NOT NULL,
  path TEXT NOT NULL,
  identities TEXT NOT NULL,
  PRIMARY KEY (job_id, path)
);
"""


#: SQLite's synchronous mode for the registry. FULL: a commit is on disk when it returns (what
#: the registry says is done survives a power cut). Benchmarks set NORMAL to measure the cost.
SYNCHRONOUS = "FULL"


class OutputClaimed(BadInput):
    """An output path of the job is claimed by another job that is running now."""


def path_key(path: Union[str, Path]) -> str:
    """How output paths are compared: absolute, normalised, case-insensitive (two jobs writing
    ``A.tif`` and ``a.tif`` on Windows or macOS write one file)."""
    return os.path.normcase(os.path.abspath(str(path))).casefold()


@dataclass
class JobRecord:
    id: str
    name: str
    kind: str
    spec: Dict[str, Any]
    state: str
    message: Optional[str]
    summary: Dict[str, Any]
    created: float
    updated: float
    pid: Optional[int]
    cancel_requested: bool


@dataclass
class UnitRecord:
    job_id: str
    unit_id: str
    output_id: str
    seq: int
    state: str
    params: Dict[str, Any]
    attempts: int
    bytes: int
    error: Optional[str]


@dataclass
class OutputRecord:
    job_id: str
    output_id: str
    path: str
    state: str
    info: Dict[str, Any]
    message: Optional[str]


def new_job_id(name: str) -> str:
    """``<name>-<UTC time>-<random>``: unique, and safe as a file name (its lock file, its job
    file and its staging folder are named after it)."""
    return f"{safe_name(name, 60)}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}"


class Registry:
    """Thread-safe access to one registry file (one connection, one lock)."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        if os.path.lexists(self.path) and not self.path.is_file():
            raise RegistryError(f"the job registry {self.path} is not a file (a folder?): move it away "
                                "(a new registry is then started) or use another working folder")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"cannot create the folder of the job registry {self.path} "
                                f"({exc.strerror or exc}): choose a writable working folder") from None
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30,
                                       isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk when it returns, so what the registry says is done
            # survives a power cut too (staging bytes are flushed before their unit is marked).
            self._db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> EEExtractError:
        """A sqlite error as one line saying what to do (the file is left as it is)."""
        msg = str(exc) or type(exc).__name__
        low = msg.lower()
        where = f"the job registry {self.path}"
        if "full" in low:
            return DiskFullError(errno.ENOSPC, f"disk full writing {where}: free space and try again")
        if "readonly" in low or "read-only" in low:
            return RegistryError(f"{where} is read-only ({msg}): make it and its folder writable, "
                                 "or use another working folder")
        if "locked" in low or "busy" in low:
            return RegistryError(f"{where} stayed locked by another process ({msg}); try again")
        if "unable to open" in low or "cannot open" in low:
            return RegistryError(f"cannot open {where} ({msg}): check that its folder exists and "
                                 "is writable")
        return RegistryError(f"{where} is damaged ({msg}); it was left as it is: move it away "
                             "(a new registry is then started) or restore it from a backup")

    def _json(self, text: Optional[str], what: str) -> Any:
        try:
            return json.loads(text) if text else {}
        except ValueError:
            raise RegistryError(f"the job registry {self.path} is damaged: {what} is not readable "
                                "JSON; it was left as it is: move the registry away or restore it "
                                "from a backup") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _row(self, sql: str, args: Sequence[Any] = ()) -> Any:
        rows = self._rows(sql, args)
        return rows[0] if rows else None

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> List[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``: the registry's write lock from the start,
        so a check and the write it allows are one step); nested uses join the outer one."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._exec("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise self._error(exc) from None

    # ------------------------------------------------------------------------------ jobs
    def create_job(self, name: str, kind: str, spec: Dict[str, Any],
                   job_id: Optional[str] = None) -> str:
        job_id = job_id or new_job_id(name)
        now = time.time()
        self._exec("INSERT INTO jobs (id, name, kind, spec, state, summary, created, updated) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (job_id, name, kind, json.dumps(spec), PLANNED, "{}", now, now))
        return job_id

    def job(self, job_id: str) -> Optional[JobRecord]:
        row = self._row("SELECT id, name, kind, spec, state, message, summary, created, updated, "
                         "pid, cancel_requested FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else JobRecord(row[0], row[1], row[2],
                                                   self._json(row[3], f"the spec of job {row[0]}"),
                                                   row[4], row[5],
                                                   self._json(row[6], f"the summary of job {row[0]}"),
                                                   row[7], row[8], row[9], bool(row[10]))

    def find_job(self, prefix: str) -> Optional[JobRecord]:
        """A job by id, or by unique id prefix, or the newest job of that name."""
        j = self.job(prefix)
        if j:
            return j
        rows = self._rows("SELECT id FROM jobs WHERE id LIKE ? ORDER BY created DESC",
                          (prefix.replace("%", "") + "%",))
        if len(rows) == 1:
            return self.job(rows[0][0])
        rows = self._rows("SELECT id FROM jobs WHERE name = ? ORDER BY created DESC LIMIT 1",
                          (prefix,))
        return self.job(rows[0][0]) if rows else None

    def jobs(self) -> List[JobRecord]:
        ids = [r[0] for r in self._rows("SELECT id FROM jobs ORDER BY created")]
        return [j for j in (self.job(i) for i in ids) if j]

    def set_job_state(self, job_id: str, state: str, message: Optional[str] = None,
                      pid: Optional[int] = None) -> None:
        self._exec("UPDATE jobs SET state = ?, message = ?, updated = ?, pid = ? WHERE id = ?",
                   (state, message, time.time(), pid, job_id))

    def set_job_summary(self, job_id: str, summary: Dict[str, Any]) -> None:
        self._exec("UPDATE jobs SET summary = ?, updated = ? WHERE id = ?",
                   (json.dumps(summary), time.time(), job_id))

    def request_cancel(self, job_id: str) -> None:
        """Asks a job running in another process to stop (it polls this flag)."""
        self._exec("UPDATE jobs SET cancel_requested = 1, updated = ? WHERE id = ?",
                   (time.time(), job_id))

    def clear_cancel(self, job_id: str) -> None:
        self._exec("UPDATE jobs SET cancel_requested = 0 WHERE id = ?", (job_id,))

    def cancel_requested(self, job_id: str) -> bool:
        row = self._row("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
        return bool(row and row[0])

    # --------------------------------------------------------------------------- outputs
    def add_outputs(self, job_id: str, outputs: Iterable[OutputRecord]) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT INTO outputs (job_id, output_id, path, state, info) VALUES (?, ?, ?, ?, ?)",
                [(job_id, o.output_id, o.path, o.state, json.dumps(o.info)) for o in outputs])

    def outputs(self, job_id: str) -> List[OutputRecord]:
        rows = self._rows("SELECT job_id, output_id, path, state, info, message FROM outputs "
                          "WHERE job_id = ? ORDER BY rowid", (job_id,))
        return [OutputRecord(r[0], r[1], r[2], r[3], self._json(r[4], f"output {r[1]} of job {r[0]}"), r[5])
                for r in rows]

    def set_output_state(self, job_id: str, output_id: str, state: str,
                         message: Optional[str] = None) -> None:
        self._exec("UPDATE outputs SET state = ?, message = ? WHERE job_id = ? AND output_id = ?",
                   (state, message, job_id, output_id))

    # ----------------------------------------------------------------------------- units
    def add_units(self, job_id: str, units: Iterable[UnitRecord]) -> None:
        now = time.time()
        with self.transaction():
            self._db.executemany(
                "INSERT INTO units (job_id, unit_id, output_id, seq, state, params, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(job_id, u.unit_id, u.output_id, u.seq, u.state, json.dumps(u.params), now)
                 for u in units])

    def units(self, job_id: str, states: Optional[Sequence[str]] = None) -> List[UnitRecord]:
        sql = ("SELECT job_id, unit_id, output_id, seq, state, params, attempts, bytes, error "
               "FROM units WHERE job_id = ?")
        args: List[Any] = [job_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        rows = self._rows(sql + " ORDER BY seq, unit_id", args)
        return [UnitRecord(r[0], r[1], r[2], r[3], r[4], self._json(r[5], f"unit {r[1]} of job {r[0]}"),
                           r[6], r[7], r[8])
                for r in rows]

    def unit_counts(self, job_id: str) -> Dict[str, int]:
        rows = self._rows("SELECT state, COUNT(*), COALESCE(SUM(bytes), 0) FROM units "
                          "WHERE job_id = ? GROUP BY state", (job_id,))
        counts = {r[0]: r[1] for r in rows}
        counts["bytes_done"] = sum(r[2] for r in rows if r[0] == DONE)
        return counts

    def mark_unit(self, job_id: str, unit_id: str, state: str, *, nbytes: int = 0,
                  error: Optional[str] = None, attempts: int = 0) -> None:
        self._exec("UPDATE units SET state = ?, bytes = ?, error = ?, attempts = attempts + ?, "
                   "updated = ? WHERE job_id = ? AND unit_id = ?",
                   (state, nbytes, error, attempts, time.time(), job_id, unit_id))

    def mark_units_done(self, job_id: str, done: Sequence[Tuple[str, int, int]]) -> None:
        """Many units done at once, ``(unit_id, bytes, attempts)`` each: one transaction (one
        disk flush) for a whole batch."""
        if not done:
            return
        now = time.time()
        with self.transaction():
            self._db.executemany(
                "UPDATE units SET state = ?, bytes = ?, error = NULL, attempts = attempts + ?, updated = ? "
                "WHERE job_id = ? AND unit_id = ?",
                [(DONE, nbytes, attempts, now, job_id, unit_id) for unit_id, nbytes, attempts in done])

    def set_unit_params(self, job_id: str, unit_id: str, params: Dict[str, Any]) -> None:
        """Replaces a unit's params (an export unit records its request id, operation name and
        downloaded parts there, each step durably before the next)."""
        self._exec("UPDATE units SET params = ?, updated = ? WHERE job_id = ? AND unit_id = ?",
                   (json.dumps(params), time.time(), job_id, unit_id))

    def split_unit(self, job_id: str, unit_id: str, children: Sequence[UnitRecord]) -> None:
        """Replaces a unit by smaller ones, atomically (a crash leaves one or the other)."""
        now = time.time()
        with self.transaction():
            self._db.execute("UPDATE units SET state = ?, updated = ? WHERE job_id = ? AND "
                             "unit_id = ?", (SPLIT, now, job_id, unit_id))
            self._db.executemany(
                "INSERT OR IGNORE INTO units (job_id, unit_id, output_id, seq, state, params, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(job_id, u.unit_id, u.output_id, u.seq, PENDING, json.dumps(u.params), now)
                 for u in children])

    def reset_failed(self, job_id: str) -> int:
        """Failed units back to pending (``eeextract resume`` retries them)."""
        cur = self._exec("UPDATE units SET state = ?, error = NULL WHERE job_id = ? AND state = ?",
                         (PENDING, job_id, FAILED))
        return cur.rowcount


    # ---------------------------------------------------------------------- output claims
    def claim_paths(self, job_id: str, paths: Iterable[Union[str, Path]],
                    is_running: Callable[[str], bool]) -> None:
        """Reserves ``paths`` for ``job_id``, in one write transaction; raises
        :class:`OutputClaimed` (and reserves nothing) when another job that ``is_running``
        claims one of them. Claims of jobs not running are no obstacle: a job that stopped does
        not hold its files for ever (its own resume claims them again, and finds out then)."""
        keys = sorted({path_key(p) for p in paths})
        with self.transaction():
            others: Dict[str, str] = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                rows = self._db.execute(
                    f"SELECT job_id, path FROM claims WHERE job_id != ? AND path IN "
                    f"({','.join('?' * len(chunk))})", [job_id, *chunk]).fetchall()
                for other, path in rows:
                    others.setdefault(other, path)
            for other, path in sorted(others.items()):
                if is_running(other):
                    raise OutputClaimed(
                        field="output.directory",
                        reason=f"{path} is an output of job {other}, which is running now: wait for "
                               "it to end (or cancel it), or choose another output.name or folder")
            self._db.executemany("INSERT OR IGNORE INTO claims (path, job_id) VALUES (?, ?)",
                                 [(k, job_id) for k in keys])

    def release_claims(self, job_id: str) -> None:
        self._exec("DELETE FROM claims WHERE job_id = ?", (job_id,))

    def record_published(self, job_id: str, path: str, identity: Dict[str, int]) -> None:
        """Remembers a file identity this job is publishing at ``path`` (before it does)."""
        with self.transaction():
            known = self.published(job_id, path)
            if identity not in known:
                known = (known + [identity])[-4:]
            self._db.execute("INSERT OR REPLACE INTO published (job_id, path, identities) VALUES (?, ?, ?)",
                             (job_id, path_key(path), json.dumps(known)))

    def published(self, job_id: str, path: str) -> List[Dict[str, int]]:
        row = self._row("SELECT identities FROM published WHERE job_id = ? AND path = ?",
                         (job_id, path_key(path)))
        return list(self._json(row[0], f"the published files of job {job_id}") or []) if row else []


def default_registry_path(workdir: Union[str, Path]) -> Path:
    return Path(workdir) / "registry.sqlite"
