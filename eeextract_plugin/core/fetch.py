"""Parallel direct requests: a bounded pool, retries, splitting, adaptive concurrency.

- **Pool**: ``max_concurrency`` worker threads — the project's concurrent-request quota (Earth
  Engine's documented default is 40; a setting, see :mod:`.quota`); a
  :class:`~.quota.ConcurrencyController` decides how many may be in flight (it starts below the
  quota, grows while requests succeed and settles just below the level that draws 429s) and a
  :class:`~.quota.RequestRateLimiter` keeps under the project's request rate. When Earth Engine
  says the project is in restricted mode (:class:`~.quota.QuotaStatus`), the pool drops to
  ``restricted_concurrency`` at once.
- **Retries** (this is the only retry layer; the session sets ``ee.data.setMaxRetries(0)``):
  429, 5xx, 403 rate-limit, connection errors, time-outs and truncated or corrupt bodies are
  retried with exponential backoff and *full jitter* (``uniform(0, min(cap, base * 2**n))``),
  at least the server's ``Retry-After``. A waiting unit holds no request slot.
- **Split**: "memory limit exceeded", "computation timed out" and "request too large" answers
  are not retried as they are: the unit is split (``splitter``) and its parts queued.
- **Deterministic errors** (missing asset, invalid argument…) stop the job with Earth Engine's
  message; units already finished stay finished.
- **429**: each 429 halves the number allowed in flight (at most once per second, so one burst
  counts once) and the controller then holds just below the level that drew it.
"""

from __future__ import annotations

import http.client
import logging
import queue
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, List, Optional, TypeVar

from eeextract_plugin.core.errors import Cancelled, JobAborted
from eeextract_plugin.core.progress import CancelToken
from eeextract_plugin.core.quota import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RESTRICTED_CONCURRENCY,
    ConcurrencyController,
    ProjectQuota,
    QuotaStatus,
    RequestRateLimiter,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY, SPLIT, FATAL = "retry", "split", "fatal"

_SPLIT_PATTERNS = re.compile(
    r"memory limit exceeded|computation timed out|too many pixels|request (payload |size )?"
    r"(is )?too large|total request size|exceeds? .*(limit|bytes)|grid dimension",
    re.IGNORECASE)
_CONCURRENCY_PATTERN = re.compile(r"concurrent", re.IGNORECASE)
_RATE_PATTERNS = re.compile(r"too many (concurrent )?requests|rate limit|quota exceeded",
                            re.IGNORECASE)


class CorruptResponse(Exception):  # noqa: N818 - a response, not an error of ours
    """A body that is truncated or does not decode (retried like a connection error)."""


@dataclass(frozen=True)
class Classification:
    action: str  # RETRY | SPLIT | FATAL
    status: Optional[int] = None
    retry_after: Optional[float] = None
    message: str = ""
    rate_limited: bool = False
    #: A 429 for too many requests in flight (not for the request rate).
    concurrency_limited: bool = False


def _http_error_of(exc: BaseException) -> Any:
    """The googleapiclient HttpError behind an ``ee.EEException`` (its ``__context__``)."""
    seen = 0
    cur: Optional[BaseException] = exc
    while cur is not None and seen < 5:
        if hasattr(cur, "resp") and hasattr(cur.resp, "status"):
            return cur
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def classify(exc: BaseException) -> Classification:
    """What to do about one failed attempt."""
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, CorruptResponse):
        return Classification(RETRY, message=msg)
    http_err = _http_error_of(exc)
    status: Optional[int] = None
    retry_after: Optional[float] = None
    if http_err is not None:
        try:
            status = int(http_err.resp.status)
            ra = http_err.resp.get("retry-after")
            retry_after = float(ra) if ra is not None else None
        except (TypeError, ValueError, AttributeError):
            pass
    if _SPLIT_PATTERNS.search(msg):
        return Classification(SPLIT, status, message=msg)
    if status == 429 or (status == 403 and _RATE_PATTERNS.search(msg)):
        return Classification(RETRY, status, retry_after, msg, rate_limited=True,
                              concurrency_limited=bool(_CONCURRENCY_PATTERN.search(msg)))
    if status is not None and status >= 500:
        return Classification(RETRY, status, retry_after, msg)
    if status is not None:
        return Classification(FATAL, status, message=msg)
    if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError, http.client.HTTPException)):
        return Classification(RETRY, message=msg)
    name = type(exc).__module__ + "." + type(exc).__name__
    if any(k in name for k in ("requests.exceptions", "urllib3.exceptions", "httplib2",
                               "ssl.", "IncompleteRead", "ChunkedEncodingError")):
        return Classification(RETRY, message=msg)
    if _RATE_PATTERNS.search(msg):
        return Classification(RETRY, message=msg, rate_limited=True)
    if type(exc).__name__ == "EEException" and re.search(
            r"internal error|service unavailable|backend error|deadline", msg, re.IGNORECASE):
        return Classification(RETRY, message=msg)
    return Classification(FATAL, status, message=msg)


@dataclass
class RetryPolicy:
    max_retries: int = 8
    base_s: float = 0.5
    cap_s: float = 32.0

    def delay(self, attempt: int, retry_after: Optional[float] = None,
              rng: Optional[random.Random] = None) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**attempt)), at least Retry-After."""
        r = (rng or random).uniform(0.0, min(self.cap_s, self.base_s * (2 ** attempt)))
        return max(r, retry_after or 0.0)


@dataclass
class FetchStats:
    attempts: int = 0
    successes: int = 0
    retries: int = 0
    rate_limited: int = 0
    splits: int = 0
    failures: int = 0
    lowest_limit: float = 0.0
    highest_limit: float = 0.0
    final_limit: float = 0.0
    restricted: bool = False
    rate_wait_s: float = 0.0
    errors: List[str] = field(default_factory=list)


class TileFetcher(Generic[T]):
    """Runs ``handler(unit)`` for every unit on a bounded pool with retries and splitting.

    ``handler`` makes the request(s) of one unit, checks and writes the result, and returns
    the bytes it produced; it raises on failure (``classify`` decides). Callbacks, called from
    worker threads: ``on_done(unit, nbytes, attempts)``, ``on_failed(unit, message, attempts)``
    (transient errors after ``max_retries``), ``splitter(unit, message)`` → smaller units (or
    ``None``: cannot split → job aborted). A :class:`JobAborted` or any non-Earth-Engine
    exception raised by ``handler`` (e.g. disk full) stops the pool and is re-raised by
    :meth:`run`.
    """

    def __init__(self, handler: Callable[[T], int], *, max_concurrency: int = DEFAULT_CONCURRENCY,
                 policy: Optional[RetryPolicy] = None, adaptive: bool = True,
                 cancel: Optional[CancelToken] = None,
                 on_done: Optional[Callable[[T, int, int], None]] = None,
                 on_failed: Optional[Callable[[T, str, int], None]] = None,
                 splitter: Optional[Callable[[T, str], Optional[List[T]]]] = None,
                 on_start: Optional[Callable[[T], None]] = None,
                 rng: Optional[random.Random] = None,
                 initial_concurrency: Optional[int] = None,
                 requests_per_second: float = 0.0,
                 quota_status: Optional[QuotaStatus] = None,
                 restricted_concurrency: int = DEFAULT_RESTRICTED_CONCURRENCY,
                 on_restricted: Optional[Callable[[int], None]] = None,
                 shared_quota: Optional[ProjectQuota] = None,
                 requests_per_unit: float = 1.0) -> None:
        self.handler = handler
        self.workers = max(1, int(max_concurrency))
        if shared_quota is not None:  # the project's, shared with the session's other jobs
            self.limiter = shared_quota.controller(self.workers, adaptive, initial_concurrency)
            self.rate = shared_quota.rate(requests_per_second)
        else:
            self.limiter = ConcurrencyController(self.workers, initial=initial_concurrency, adaptive=adaptive)
            self.rate = RequestRateLimiter(requests_per_second)
        self._requests_per_unit = max(1.0, float(requests_per_unit))
        self._rate_waited_at_start = self.rate.waited_s
        self.policy = policy or RetryPolicy()
        self.cancel = cancel or CancelToken()
        self.on_done = on_done
        self.on_failed = on_failed
        self.splitter = splitter
        self.on_start = on_start
        self.stats = FetchStats()
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._abort: Optional[BaseException] = None
        self._quota_status = quota_status
        self._restricted_concurrency = max(1, int(restricted_concurrency))
        self._on_restricted = on_restricted

    def _restricted(self) -> None:
        """Earth Engine put the project in restricted mode: fewer requests in flight at once."""
        self.limiter.restrict(self._restricted_concurrency)
        with self._lock:
            self.stats.restricted = True
        if self._on_restricted is not None:
            self._on_restricted(self.limiter.maximum)

    def _stop(self) -> bool:
        return self._abort is not None or self.cancel.cancelled

    def run(self, units: Iterable[T]) -> FetchStats:
        q: queue.Queue[Optional[T]] = queue.Queue()
        pending = [0]
        cond = threading.Condition()
        for u in units:
            q.put(u)
            pending[0] += 1
        if pending[0] == 0:
            return self.stats

        def finish_one(children: Optional[List[T]] = None) -> None:
            with cond:
                for c in children or ():
                    q.put(c)
                    pending[0] += 1
                pending[0] -= 1
                if pending[0] == 0:
                    cond.notify_all()

        def worker() -> None:
            while True:
                try:
                    unit = q.get(timeout=0.1)
                except queue.Empty:
                    with cond:
                        if pending[0] == 0 or self._stop():
                            return
                    continue
                if self._stop():
                    finish_one()
                    continue
                try:
                    children = self._process(unit)
                except BaseException as exc:  # abort: remember the first, stop everybody
                    with self._lock:
                        if self._abort is None:
                            self._abort = exc
                    children = None
                finish_one(children)

        unsubscribe = self._quota_status.subscribe(self._restricted) if self._quota_status else None
        threads = [threading.Thread(target=worker, name=f"eeextract-fetch-{i}", daemon=True)
                   for i in range(self.workers)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            if unsubscribe is not None:
                unsubscribe()
        self.stats.lowest_limit = self.limiter.lowest
        self.stats.highest_limit = self.limiter.highest
        self.stats.final_limit = self.limiter.limit
        self.stats.rate_wait_s = self.rate.waited_s - self._rate_waited_at_start
        if self._abort is not None:
            raise self._abort
        return self.stats

    def _process(self, unit: T) -> Optional[List[T]]:
        attempt = 0
        if self.on_start:
            self.on_start(unit)
        while True:
            if self._stop():
                return None
            level = self.limiter.acquire(lambda: self._stop())
            if not level:
                return None
            if not self.rate.take(lambda: self._stop(), self._requests_per_unit):
                self.limiter.release()
                return None
            with self._lock:
                self.stats.attempts += 1
            try:
                nbytes = self.handler(unit)
            except BaseException as exc:
                self.limiter.release()
                if isinstance(exc, Cancelled):  # stopped in flight by cancel: the unit stays pending
                    return None
                if isinstance(exc, (JobAborted, KeyboardInterrupt, SystemExit, MemoryError)):
                    raise
                c = classify(exc)
                if c.action == FATAL:
                    if type(exc).__name__ == "EEException" or c.status is not None:
                        raise JobAborted(c.message) from exc
                    raise
                if c.action == SPLIT:
                    children = self.splitter(unit, c.message) if self.splitter else None
                    if not children:
                        raise JobAborted(c.message) from exc
                    with self._lock:
                        self.stats.splits += 1
                    log.info("split a unit into %d after: %s", len(children), c.message)
                    return children
                if c.rate_limited:
                    with self._lock:
                        self.stats.rate_limited += 1
                    self.limiter.on_rate_limited(level, concurrency=c.concurrency_limited)
                if attempt >= self.policy.max_retries:
                    with self._lock:
                        self.stats.failures += 1
                        if len(self.stats.errors) < 20:
                            self.stats.errors.append(c.message)
                    log.warning("unit failed after %d attempts: %s", attempt + 1, c.message)
                    if self.on_failed:
                        self.on_failed(unit, c.message, attempt + 1)
                    return None
                delay = self.policy.delay(attempt, c.retry_after, self._rng)
                attempt += 1
                with self._lock:
                    self.stats.retries += 1
                log.debug("retry %d in %.2fs after: %s", attempt, delay, c.message)
                if self.cancel.wait(delay):
                    return None
                continue
            self.limiter.release()
            self.limiter.on_success()
            with self._lock:
                self.stats.successes += 1
            if self.on_done:
                self.on_done(unit, nbytes, attempt + 1)
            return None


def json_object(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` (a metadata call: ``getAsset``, ``getInfo``) checked to answer a JSON object. A
    truncated body reaches the client as a raw string (its JSON parser gives up and hands the
    text on): the client then fails with a ``TypeError`` or returns the string. Both become a
    :class:`CorruptResponse`, retried like a dropped connection, never a fatal error."""
    def call() -> Any:
        try:
            out = fn()
        except TypeError as exc:
            if "indices must be integers" not in str(exc):
                raise
            raise CorruptResponse(f"truncated or corrupt response ({exc})") from exc
        if not isinstance(out, dict):
            raise CorruptResponse(f"truncated or corrupt response (a {type(out).__name__}, "
                                  "not a JSON object)")
        return out

    return call


def call_with_retries(fn: Callable[[], Any], policy: Optional[RetryPolicy] = None,
                      cancel: Optional[CancelToken] = None) -> Any:
    """One call (metadata, planning) with the same retry rules as the pool; a deterministic
    error or a split-worthy one is raised as it is."""
    policy = policy or RetryPolicy(max_retries=6, base_s=0.25, cap_s=8.0)
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            c = classify(exc)
            if c.action != RETRY or attempt >= policy.max_retries:
                raise
            delay = policy.delay(attempt, c.retry_after)
            attempt += 1
            log.debug("retrying a call in %.2fs after: %s", delay, c.message)
            if cancel is not None and cancel.wait(delay):
                raise
            if cancel is None:
                time.sleep(delay)
