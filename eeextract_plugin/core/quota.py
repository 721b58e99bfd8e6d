"""Using a project's quota, and giving way when it is shared or restricted.

Earth Engine allows each Cloud project a number of interactive requests in flight (40 by
default) and a request rate (100/s); above either it answers 429. Since April 2026 a
noncommercial project over its monthly compute tier is put in *restricted mode*: every response
carries ``x-earth-engine-quota-status: parallelism_restricted=true`` and the project gets less
parallelism. The numbers are the project's and may change: they are settings
(``execution.max_concurrent_requests``, ``execution.requests_per_second``,
``execution.restricted_concurrency``), never constants here.

- :class:`ConcurrencyController` — how many requests may be in flight. It starts below the
  project's concurrency and grows while requests succeed (one more per success: doubling per
  round of requests, as TCP's slow start), halves on a 429 (at most once a second: one burst of
  429s counts once) and remembers the level that drew it: from then on it climbs back quickly to
  just below that level and holds there. Every ``probe_after_s`` without a 429 it tries one more,
  so quota another tool stopped using is taken back. It never exceeds the project's concurrency.
- :class:`RequestRateLimiter` — a token bucket a little under the project's request rate, so the
  engine itself does not cause "Requests per second" 429s.
- :class:`QuotaStatus` — per session: whether Earth Engine said the project is restricted (read
  from every response's headers); listeners are told once when it happens.
- :class:`ProjectQuota` — per session: the controller and the rate limiter that every job run
  on that session shares, so two jobs at once (the dock runs several; Processing's batch rows
  share the session) stay within the project's quota together instead of each taking all of it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

log = logging.getLogger(__name__)

QUOTA_STATUS_HEADER = "x-earth-engine-quota-status"
RESTRICTED_FLAG = "parallelism_restricted=true"
#: Earth Engine's documented defaults for a project (used when a setting is absent).
DEFAULT_CONCURRENCY = 40
DEFAULT_REQUESTS_PER_SECOND = 100.0
#: How many requests in flight once a project is in restricted mode (not published by Earth
#: Engine: a setting; the controller goes lower on its own if 429s say so).
DEFAULT_RESTRICTED_CONCURRENCY = 4


def restricted_message(project: str, concurrency: int) -> str:
    """The one line a user reads when their project is put in restricted mode."""
    return (f"Earth Engine put project {project} in restricted mode (its noncommercial tier's "
            f"monthly compute is used up): requests in flight cut to {concurrency}; the job goes "
            "on more slowly, or cancel it and resume next month or after changing the tier")


class ConcurrencyController:
    """Requests allowed in flight: slow start, halve on 429, hold just below the 429 level."""

    def __init__(self, maximum: int, initial: Optional[int] = None, minimum: int = 1,
                 adaptive: bool = True, decrease_interval_s: float = 1.0,
                 probe_after_s: float = 20.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = max(1, int(maximum))
        self.minimum = max(1, min(int(minimum), self.maximum))
        start = initial if initial is not None else (max(1, self.maximum // 2) if adaptive else self.maximum)
        self.limit = float(max(self.minimum, min(int(start), self.maximum)))
        self.adaptive = adaptive
        #: The level to hold: just below the last level that drew a 429 (the maximum at first).
        self.target = float(self.maximum)
        self.in_flight = 0
        self.lowest = self.limit
        self.highest = self.limit
        self.decreases = 0
        self._cond = threading.Condition()
        self._clock = clock
        self._last_decrease = -1e18
        self._last_rise = clock()
        self._interval = decrease_interval_s
        self._probe_after = probe_after_s

    # -- slots --------------------------------------------------------------------------------
    def acquire(self, cancelled: Optional[Callable[[], bool]] = None) -> int:
        """Waits for a slot; returns the number in flight with this one (the level the request
        is sent at), or 0 when cancelled while waiting."""
        with self._cond:
            while self.in_flight >= int(self.limit):
                if cancelled is not None and cancelled():
                    return 0
                self._cond.wait(0.1)
            self.in_flight += 1
            return self.in_flight

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    # -- feedback -----------------------------------------------------------------------------
    def on_success(self) -> None:
        if not self.adaptive:
            return
        with self._cond:
            now = self._clock()
            if self.limit >= self.target:
                # Holding. Probe one level higher after a quiet while (quota freed elsewhere).
                if self.target < self.maximum and now - self._last_decrease >= self._probe_after \
                        and now - self._last_rise >= self._probe_after:
                    self.target = min(float(self.maximum), self.target + 1.0)
                    self._last_rise = now
                else:
                    return
            self.limit = min(self.target, self.limit + 1.0)
            self.highest = max(self.highest, self.limit)
            self._cond.notify_all()

    def on_rate_limited(self, level: Optional[int] = None, concurrency: bool = True) -> None:
        """A 429 for a request sent at ``level`` requests in flight. For too many *concurrent*
        requests, the project's level is below ``level``: hold at most ``level - 1`` from now on
        (a burst of 429s sent at 20, 19 … 13 in flight says 12). For the request rate, hold below
        the current limit. Either way the limit halves, at most once per
        ``decrease_interval_s`` (one burst counts once), and climbs back to what is held."""
        if not self.adaptive:
            return
        with self._cond:
            now = self._clock()
            at = float(level) if (concurrency and level) else self.limit
            self.target = max(float(self.minimum), min(self.target, at - 1.0))
            if now - self._last_decrease >= self._interval:
                self._last_decrease = now
                self.limit = max(float(self.minimum), self.limit / 2.0)
                self.decreases += 1
                log.info("429: requests in flight limited to %d (holding at %d)",
                         int(min(self.limit, self.target)), int(self.target))
            self.limit = min(self.limit, self.target)
            self.lowest = min(self.lowest, self.limit)

    def restrict(self, maximum: int) -> None:
        """Earth Engine restricted the project: never more than ``maximum`` from now on."""
        with self._cond:
            self.maximum = max(1, min(self.maximum, int(maximum)))
            self.minimum = min(self.minimum, self.maximum)
            self.target = min(self.target, float(self.maximum))
            self.limit = min(self.limit, float(self.maximum))
            self.lowest = min(self.lowest, self.limit)


class RequestRateLimiter:
    """A token bucket: at most ``rate`` requests a second (a little under, with ``margin``), in
    bursts of at most ``burst`` requests. ``rate`` 0 or less: no limit."""

    def __init__(self, rate: float, margin: float = 0.97, burst: Optional[float] = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = max(0.0, float(rate) * margin)
        self.capacity = float(burst if burst is not None else max(1.0, self.rate / 2.0))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def take(self, cancelled: Optional[Callable[[], bool]] = None, cost: float = 1.0) -> bool:
        """Waits for ``cost`` tokens (the requests one unit makes); False when cancelled while
        waiting."""
        if self.rate <= 0:
            return True
        cost = min(max(float(cost), 0.0), self.capacity)
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= cost - 1e-9:
                    self._tokens = max(0.0, self._tokens - cost)
                    return True
                wait = (cost - self._tokens) / self.rate
            if cancelled is not None and cancelled():
                return False
            wait = min(max(wait, 0.0005), 0.1)
            self.waited_s += wait
            self._sleep(wait)


class ProjectQuota:
    """One project's quota as the jobs of one session share it: one concurrency controller and
    one request-rate limiter for all of them (thread-safe; made on first use).

    Jobs asking with the same settings share them; a job with other settings (another
    concurrency or rate typed for it) gets its own pair, as a separate project would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._controllers: Dict[Tuple[int, bool], ConcurrencyController] = {}
        self._rates: Dict[float, RequestRateLimiter] = {}

    def controller(self, maximum: int, adaptive: bool = True,
                   initial: Optional[int] = None) -> ConcurrencyController:
        key = (max(1, int(maximum)), bool(adaptive))
        with self._lock:
            found = self._controllers.get(key)
            if found is None:
                found = self._controllers[key] = ConcurrencyController(key[0], initial=initial, adaptive=adaptive)
            return found

    def rate(self, requests_per_second: float) -> RequestRateLimiter:
        key = float(requests_per_second)
        with self._lock:
            found = self._rates.get(key)
            if found is None:
                found = self._rates[key] = RequestRateLimiter(key)
            return found


class QuotaStatus:
    """What Earth Engine said about a project's quota, from response headers (one per session)."""

    def __init__(self) -> None:
        self.restricted = False
        self._listeners: List[Callable[[], None]] = []
        self._lock = threading.Lock()

    def observe(self, headers: object) -> None:
        """Called with every response's headers (a mapping with case-insensitive lookup or not)."""
        value = None
        getter = getattr(headers, "get", None)
        if getter is not None:
            value = getter(QUOTA_STATUS_HEADER) or getter(QUOTA_STATUS_HEADER.title())
        if value and RESTRICTED_FLAG in str(value).replace(" ", "").lower():
            self.set_restricted()

    def set_restricted(self) -> None:
        with self._lock:
            if self.restricted:
                return
            self.restricted = True
            listeners = list(self._listeners)
        log.warning("Earth Engine: the project is in restricted mode (%s)", RESTRICTED_FLAG)
        for listener in listeners:
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener must not break the request path
                log.debug("quota listener raised", exc_info=True)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls ``listener()`` when the project becomes restricted (at once if it is); returns a
        function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)
            already = self.restricted
        if already:
            listener()

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


__all__ = ["ConcurrencyController", "RequestRateLimiter", "QuotaStatus", "restricted_message",
           "QUOTA_STATUS_HEADER", "DEFAULT_CONCURRENCY", "DEFAULT_REQUESTS_PER_SECOND",
           "DEFAULT_RESTRICTED_CONCURRENCY"]
