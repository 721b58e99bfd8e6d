"""Command line of the sandbox: ``python -m eeextract_plugin.sandbox [options]``.

The first line printed on stdout is the base URL (``http://127.0.0.1:8765``), flushed at once, so
a parent process can read it; the server then serves until SIGINT or SIGTERM and exits 0.
``--port 0`` picks a free port. ``add_arguments`` / ``config_from_args`` / ``run`` are reused by
the ``eeextract sandbox`` subcommand.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional, Tuple

from eeextract_plugin.sandbox.config import FaultInjection, LatencyModel, SandboxConfig
from eeextract_plugin.sandbox.quota import TIER_EECU_HOURS, QuotaModel


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    d = SandboxConfig()
    f = FaultInjection()
    parser.add_argument("--host", default=d.host, help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=d.port, help="port; 0 picks a free one (default %(default)s)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="GeoTIFFs become image assets, GeoPackage/GeoJSON files table assets")
    parser.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                        help="where exports are written (buckets/, drive/); default ./sandbox-state")
    parser.add_argument("--bucket", action="append", type=bucket_argument, default=[],
                        metavar="NAME[:public|:readonly]",
                        help="a Cloud Storage bucket that exists from the start: private (needs a token "
                             "to read) unless :public; :readonly refuses Earth Engine's writes. "
                             "Repeatable. Buckets can also be created through the API (buckets.insert).")
    g = parser.add_argument_group("latency model (off by default)")
    g.add_argument("--latency-fixed", type=float, default=0.0, metavar="S", help="seconds per interactive request")
    g.add_argument("--latency-per-mp", type=float, default=0.0, metavar="S", help="extra seconds per megapixel of output")
    g = parser.add_argument_group("fault injection (probabilities 0..1 per interactive request)")
    g.add_argument("--fault-seed", type=int, default=f.seed, metavar="N")
    g.add_argument("--fault-500", type=float, default=0.0, metavar="P")
    g.add_argument("--fault-503", type=float, default=0.0, metavar="P")
    g.add_argument("--fault-reset", type=float, default=0.0, metavar="P", help="connection closed with no response")
    g.add_argument("--fault-truncate", type=float, default=0.0, metavar="P", help="body shorter than its Content-Length")
    g.add_argument("--fault-slow", type=float, default=0.0, metavar="P")
    g.add_argument("--slow-seconds", type=float, default=f.slow_s, metavar="S", help="delay of a slow response")
    g.add_argument("--fault-export-memory", type=float, default=0.0, metavar="P",
                   help='exports that end FAILED with "User memory limit exceeded."')
    g = parser.add_argument_group("service limits (defaults: Earth Engine's)")
    g.add_argument("--max-concurrent", type=int, default=d.max_concurrent_requests, metavar="N")
    g.add_argument("--max-rps", type=float, default=d.max_requests_per_second, metavar="N",
                   help="requests per second; 0 = unlimited")
    g.add_argument("--max-payload-bytes", type=int, default=d.max_payload_bytes, metavar="B")
    g.add_argument("--max-download-bytes", type=int, default=d.max_download_bytes, metavar="B",
                   help="thumbnail / download URL size (default %(default)s)")
    g.add_argument("--max-download-dimension", type=int, default=d.max_download_dimension, metavar="PX",
                   help="thumbnail / download URL side (default %(default)s)")
    g.add_argument("--max-grid-dimension", type=int, default=d.max_grid_dimension, metavar="PX")
    g.add_argument("--max-bands", type=int, default=d.max_bands, metavar="N")
    g.add_argument("--max-pending-tasks", type=int, default=d.max_pending_tasks, metavar="N")
    g.add_argument("--max-running-tasks", type=int, default=d.max_running_tasks, metavar="N")
    q = QuotaModel()
    g = parser.add_argument_group("quota model (2026 noncommercial tiers; docs/sandbox-fidelity.md)")
    g.add_argument("--tier", choices=sorted(TIER_EECU_HOURS), default=q.tier,
                   help="the project's noncommercial tier: its monthly EECU-hours "
                        + ", ".join(f"{k} {v:,.0f}" for k, v in TIER_EECU_HOURS.items()) + " (default %(default)s)")
    g.add_argument("--monthly-eecu-hours", type=float, default=None, metavar="H",
                   help="monthly budget instead of the tier's (a tiny one rehearses restricted mode)")
    g.add_argument("--eecu-per-megapixel", type=float, default=q.eecu_seconds_per_megapixel, metavar="S",
                   help="EECU-seconds per megapixel read or produced (default %(default)s)")
    g.add_argument("--restricted-max-concurrent", type=int, default=q.restricted_max_concurrent, metavar="N",
                   help="concurrent interactive requests of a project in restricted mode (default %(default)s)")
    g = parser.add_argument_group("serving")
    g.add_argument("--workers", type=int, default=default_workers(), metavar="N",
                   help="processes computing interactive requests (default: one per CPU, at most 4; "
                        "0 computes in the server's threads)")
    g.add_argument("--max-request-bytes", type=int, default=d.max_request_bytes, metavar="B",
                   help="largest API request body; larger ones get 413 (default %(default)s)")
    g.add_argument("--max-upload-bytes", type=int, default=d.max_upload_bytes, metavar="B",
                   help="largest Cloud Storage / Drive upload request body (default %(default)s)")
    g.add_argument("--max-connections", type=int, default=d.max_connections, metavar="N",
                   help="open client connections (default %(default)s)")
    g.add_argument("--idle-timeout", type=float, default=d.idle_timeout_s, metavar="S",
                   help="close a keep-alive connection idle this long (default %(default)s)")
    g.add_argument("--request-timeout", type=float, default=d.request_timeout_s, metavar="S",
                   help="drop a request whose headers or body stall this long (default %(default)s)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def bucket_argument(text: str) -> Tuple[str, str]:
    """``NAME[:public|:readonly]`` → (name, access); a clear error for a bad name or access."""
    from eeextract_plugin.sandbox.storage import ACCESS_MODES, BucketError, check_bucket_name

    name, _, access = text.partition(":")
    access = access or "private"
    if access not in ACCESS_MODES:
        raise argparse.ArgumentTypeError(f"bucket access must be public or readonly, not {access!r}")
    try:
        check_bucket_name(name)
    except BucketError as error:
        raise argparse.ArgumentTypeError(error.message) from None
    return name, access


def default_workers() -> int:
    import os

    return max(1, min(4, os.cpu_count() or 1))


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    defaults = SandboxConfig()
    extra = list(getattr(args, "bucket", None) or [])
    return SandboxConfig(
        public_buckets=defaults.public_buckets + tuple(n for n, a in extra if a == "public"),
        private_buckets=defaults.private_buckets + tuple(n for n, a in extra if a == "private"),
        readonly_buckets=defaults.readonly_buckets + tuple(n for n, a in extra if a == "readonly"),
        host=args.host,
        port=args.port,
        data_dir=args.data,
        # The standalone server keeps its exports in ./sandbox-state unless told otherwise.
        state_dir=args.state_dir or Path("sandbox-state"),
        max_payload_bytes=args.max_payload_bytes,
        max_grid_dimension=args.max_grid_dimension,
        max_bands=args.max_bands,
        max_concurrent_requests=args.max_concurrent,
        max_requests_per_second=args.max_rps,
        max_download_bytes=args.max_download_bytes,
        max_download_dimension=args.max_download_dimension,
        max_pending_tasks=args.max_pending_tasks,
        max_running_tasks=args.max_running_tasks,
        compute_workers=max(0, args.workers),
        max_request_bytes=args.max_request_bytes,
        max_upload_bytes=args.max_upload_bytes,
        max_connections=args.max_connections,
        idle_timeout_s=args.idle_timeout,
        request_timeout_s=args.request_timeout,
        latency=LatencyModel(args.latency_fixed, args.latency_per_mp),
        quota=QuotaModel(tier=args.tier, monthly_eecu_hours=args.monthly_eecu_hours,
                         eecu_seconds_per_megapixel=args.eecu_per_megapixel,
                         restricted_max_concurrent=args.restricted_max_concurrent),
        faults=FaultInjection(
            seed=args.fault_seed, error_500=args.fault_500, error_503=args.fault_503,
            connection_reset=args.fault_reset, truncated_body=args.fault_truncate,
            slow_response=args.fault_slow, slow_s=args.slow_seconds,
            export_memory_failure=args.fault_export_memory,
        ),
    )


def run(args: argparse.Namespace, stop: Optional[threading.Event] = None) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set); print the URL first. Returns 0."""
    from eeextract_plugin.sandbox.server import SandboxServer

    logging.basicConfig(level=getattr(logging, args.log_level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    server = SandboxServer(config_from_args(args))
    try:
        try:
            server.start()
        except OSError as exc:
            print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr, flush=True)
            return 2
        print(server.url, flush=True)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eeextract_plugin.sandbox",
        description="A local server speaking the Earth Engine REST API v1 (and the Cloud Storage and "
                    "Drive APIs exports write to), for the unmodified earthengine-api client: "
                    'ee.Initialize(credentials=None, url=URL, project="sandbox").')
    add_arguments(parser)
    return run(parser.parse_args(argv))
