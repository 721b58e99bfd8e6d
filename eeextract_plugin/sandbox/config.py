"""The sandbox's settings. Defaults equal Earth Engine's documented limits; each is configurable
(from the command line, ``python -m eeextract_plugin.sandbox --help``, or in tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple

from eeextract_plugin.sandbox.quota import QuotaModel

MIB = 1024 * 1024


@dataclass
class LatencyModel:
    """Time an interactive request takes: fixed + per megapixel of output (seconds).

    Off by default (both zero). Benchmarks turn it on, e.g. 0.3 s + 0.1 s per megapixel, so that
    they are latency-bound as on the real service.
    """

    fixed_s: float = 0.0
    per_megapixel_s: float = 0.0

    def seconds_for(self, pixels: int) -> float:
        return self.fixed_s + self.per_megapixel_s * pixels / 1e6


@dataclass
class FaultInjection:
    """Seeded faults on interactive requests, each a probability in 0..1.

    ``slow_s`` is the extra delay of a slow response. ``export_memory_failure`` is the probability
    that an export ends FAILED with "User memory limit exceeded.".
    """

    seed: int = 0
    error_500: float = 0.0
    error_503: float = 0.0
    connection_reset: float = 0.0
    truncated_body: float = 0.0
    slow_response: float = 0.0
    slow_s: float = 5.0
    export_memory_failure: float = 0.0


@dataclass
class ExportTiming:
    """How long the sandbox's batch exports take: queue wait, then compute at a pixel rate."""

    startup_s: float = 0.5
    megapixels_per_s: float = 50.0


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Optional[Path] = None
    # Where exports are written: <state_dir>/buckets/<bucket>/..., <state_dir>/drive/<folder>/...
    state_dir: Optional[Path] = None

    # Interactive request limits (Earth Engine documentation; error texts show 50,331,648 bytes).
    max_payload_bytes: int = 48 * MIB
    max_grid_dimension: int = 32768
    max_bands: int = 1024
    max_concurrent_requests: int = 40
    max_requests_per_second: float = 100.0
    # getThumbURL / getDownloadURL results (Earth Engine: 32 MB and 10,000 px a side, texts
    # "Total request size (N bytes) must be less than or equal to 33554432 bytes." and
    # "Pixel grid dimensions (WxH) must be less than or equal to 10000.").
    max_download_bytes: int = 32 * MIB
    max_download_dimension: int = 10000
    # Listing an unfiltered collection larger than this fails like Earth Engine.
    max_collection_elements: int = 5000
    # Batch.
    max_pending_tasks: int = 3000
    max_running_tasks: int = 2
    export_timing: ExportTiming = field(default_factory=ExportTiming)

    # The 2026 noncommercial quota model: tier, monthly EECU budget, restricted mode (quota.py).
    quota: QuotaModel = field(default_factory=QuotaModel)

    latency: LatencyModel = field(default_factory=LatencyModel)
    faults: FaultInjection = field(default_factory=FaultInjection)

    # Cloud Storage buckets: public ones are readable without a token; private ones need a bearer
    # token (any token is accepted as "the user's" credentials; no token gets 401).
    public_buckets: Tuple[str, ...] = ("sandbox-public",)
    private_buckets: Tuple[str, ...] = ("sandbox-private",)
    # Buckets that exist but refuse Earth Engine's writes (to rehearse "no write access").
    readonly_buckets: Tuple[str, ...] = ()
    drive_folders: Tuple[str, ...] = ("EEExtract",)

    # Serving: the HTTP front end and its processes.
    # > 0: interactive computations (value:compute, computePixels, getPixels, computeFeatures) run
    # in that many worker processes; the limits above stay counted by the one server.
    compute_workers: int = 0
    # Request bodies: an API request (Google's front end refuses more than 10,485,760 bytes) and a
    # Cloud Storage / Drive upload request; larger ones get 413 before the body is read.
    max_request_bytes: int = 10 * MIB
    max_upload_bytes: int = 256 * MIB
    # Client connections: at most this many open (beyond it, idle keep-alive connections are
    # closed first, then new ones get 503); an idle keep-alive connection is closed after
    # idle_timeout_s, a request whose headers or body stall for request_timeout_s is dropped.
    max_connections: int = 256
    idle_timeout_s: float = 120.0
    request_timeout_s: float = 60.0
