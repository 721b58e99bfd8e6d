"""How the sandbox behaves like the service under load (issue item 8).

- **Concurrency**: at most ``max_concurrent_requests`` interactive requests (value:compute,
  computePixels, getPixels, thumbnails getPixels, computeFeatures, listFeatures) in flight per
  project, as Earth Engine counts them (fewer for a project in restricted mode: ``quota.py``); one more gets 429 RESOURCE_EXHAUSTED "Too many concurrent
  aggregations." at once (the service rejects, it does not queue). ``0`` disables the limit.
- **Rate**: every Earth Engine API call (not the discovery document) takes a token from its
  project's bucket, which refills at ``max_requests_per_second`` and holds one second's worth; an
  empty bucket is 429 RESOURCE_EXHAUSTED with the quota text. ``0`` disables the limit.
- **Latency**: an interactive request takes ``latency.fixed_s + latency.per_megapixel_s *
  megapixels`` where the pixels are those of the computed output (``raster.grid.width *
  height``, known once the engine has answered; value:compute counts 0 pixels). The server
  sleeps the remainder after computing — computing time counts toward it — while the request
  still holds its concurrency slot, and never while holding a lock.
- **Faults**: each interactive request draws one number from a ``random.Random(seed)`` stream, in
  arrival order, and gets at most one fault: 500, 503, a connection reset (the socket closed
  with no response), a truncated body (Content-Length announced, fewer bytes sent), or a slow
  response (``slow_s`` more). Same seed and same request sequence, same faults.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, internal, resource_exhausted, unavailable

TOO_MANY_CONCURRENT = "Too many concurrent aggregations."


def rate_limit_message(project: str, limit: float) -> str:
    return (
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per second per project' "
        f"of service 'earthengine.googleapis.com' for consumer '{project}' (limit {limit:g}/s). "
        "Too Many Requests."
    )


class Fault(enum.Enum):
    ERROR_500 = "error_500"
    ERROR_503 = "error_503"
    CONNECTION_RESET = "connection_reset"
    TRUNCATED_BODY = "truncated_body"
    SLOW_RESPONSE = "slow_response"

    def error(self) -> Optional[EEError]:
        if self is Fault.ERROR_500:
            return internal("An internal error has occurred (injected fault).")
        if self is Fault.ERROR_503:
            return unavailable("The service is currently unavailable (injected fault).")
        return None


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity``; ``take()`` never blocks."""

    def __init__(self, rate: float, capacity: Optional[float] = None, clock=time.monotonic):
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, rate))
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class FaultPlan:
    """The seeded sequence of faults, one draw per interactive request."""

    def __init__(self, config: SandboxConfig):
        f = config.faults
        self._rng = random.Random(f.seed)
        self._lock = threading.Lock()
        self._table = [
            (Fault.ERROR_500, f.error_500),
            (Fault.ERROR_503, f.error_503),
            (Fault.CONNECTION_RESET, f.connection_reset),
            (Fault.TRUNCATED_BODY, f.truncated_body),
            (Fault.SLOW_RESPONSE, f.slow_response),
        ]
        self.enabled = any(p > 0 for _, p in self._table)
        self.slow_s = f.slow_s
        self.drawn = 0

    def next(self) -> Optional[Fault]:
        if not self.enabled:
            return None
        with self._lock:
            x = self._rng.random()
            self.drawn += 1
        for fault, probability in self._table:
            if x < probability:
                return fault
            x -= probability
        return None


class LoadLimiter:
    """Admission control, latency and faults for one server (shared by all its threads)."""

    def __init__(self, config: SandboxConfig, sleep=time.sleep, clock=time.monotonic,
                 concurrency_for: Optional[Callable[[str], int]] = None):
        self.config = config
        # A project's concurrent-request limit (the quota model lowers it in restricted mode).
        self._concurrency_for = concurrency_for or (lambda project: config.max_concurrent_requests)
        self._sleep = sleep
        self._clock = clock
        self._in_flight: Dict[str, int] = {}
        self._peak = 0
        self._lock = threading.Lock()
        self._buckets: Dict[str, TokenBucket] = {}
        self.faults = FaultPlan(config)
        self.rejected_concurrency = 0
        self.rejected_rate = 0

    # -- rate ----------------------------------------------------------------------------------

    def check_rate(self, project: str = "projects/sandbox") -> None:
        """Take one of ``project``'s request tokens, or raise 429."""
        with self._lock:
            bucket = self._buckets.get(project)
            if bucket is None:
                bucket = self._buckets[project] = TokenBucket(self.config.max_requests_per_second,
                                                              clock=self._clock)
        if not bucket.take():
            with self._lock:
                self.rejected_rate += 1
            raise resource_exhausted(rate_limit_message(project, self.config.max_requests_per_second))

    # -- concurrency ---------------------------------------------------------------------------

    @contextmanager
    def interactive(self, project: str = "projects/sandbox") -> Iterator[InteractiveRequest]:
        """Hold one of ``project``'s ``max_concurrent_requests`` slots (fewer in restricted
        mode), or raise 429 at once."""
        limit = self._concurrency_for(project)
        with self._lock:
            current = self._in_flight.get(project, 0)
            if limit and current >= limit:
                self.rejected_concurrency += 1
                raise resource_exhausted(TOO_MANY_CONCURRENT)
            self._in_flight[project] = current + 1
            self._peak = max(self._peak, sum(self._in_flight.values()))
        try:
            yield InteractiveRequest(self, self._clock())
        finally:
            with self._lock:
                self._in_flight[project] -= 1
                if not self._in_flight[project]:
                    del self._in_flight[project]

    @property
    def in_flight(self) -> int:
        """Interactive requests in flight, all projects."""
        with self._lock:
            return sum(self._in_flight.values())

    @property
    def peak_in_flight(self) -> int:
        with self._lock:
            return self._peak

    # -- latency -------------------------------------------------------------------------------

    def latency_for(self, pixels: int) -> float:
        return self.config.latency.seconds_for(pixels)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)


class InteractiveRequest:
    """One admitted interactive request: its start time, to pad it to the modelled latency."""

    def __init__(self, limiter: LoadLimiter, started: float):
        self._limiter = limiter
        self.started = started

    def wait_latency(self, pixels: int) -> None:
        """Sleep until ``latency(pixels)`` has passed since the request was admitted."""
        target = self._limiter.latency_for(pixels)
        if target <= 0:
            return
        elapsed = self._limiter._clock() - self.started
        self._limiter.sleep(target - elapsed)
