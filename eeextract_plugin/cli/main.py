"""``eeextract``: plan, run, watch, resume and cancel extraction jobs from a shell.

Exit codes:

====  =====================================================================================
0     success (``run``/``resume``: every output written)
1     the job failed: Earth Engine's message, units failed after retries, disk full…
      (finished units are kept: ``eeextract resume JOB_ID``); or an internal error: one line
      naming the log file that holds its traceback
2     bad input: malformed job file, bad field, unknown asset, region outside the source,
      unwritable output folder, unknown job id, bad command line, a job already running, an
      output another running job writes, a damaged or unusable job registry
3     a huge job that was not confirmed (add ``--yes``)
4     cancelled (Ctrl-C or ``eeextract cancel``); resumable
5     Earth Engine could not be reached or initialised (credentials, URL)
====  =====================================================================================

The registry and staging files live in ``--workdir`` (default ``$EEEXTRACT_HOME`` or
``~/.local/share/eeextract``), so ``status``, ``resume`` and ``cancel`` work from any folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from eeextract_plugin.cli.progress_bar import ProgressBar
from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.errors import (
    BadInput,
    Cancelled,
    EEExtractError,
    JobNotFound,
    RegistryError,
    SessionError,
)
from eeextract_plugin.core.export.status import export_tasks, format_tasks
from eeextract_plugin.core.progress import CancelToken
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.runner import JobRunner, cancel_job, with_execution
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.status import job_status, list_jobs
from eeextract_plugin.core.wording import format_bytes, format_duration

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_CONFIRMED, EXIT_CANCELLED, EXIT_CONNECTION = 0, 1, 2, 3, 4, 5


def default_home() -> Path:
    env = os.environ.get("EEEXTRACT_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eeextract"


# ------------------------------------------------------------------------------- arguments
def _connection_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Earth Engine connection")
    g.add_argument("--sandbox", action="store_true",
                   help="start an embedded sandbox (local Earth Engine emulator) for this command")
    g.add_argument("--project", default=os.environ.get("EEEXTRACT_PROJECT"),
                   help="Google Cloud project (default $EEEXTRACT_PROJECT)")
    g.add_argument("--credentials", default=os.environ.get("EEEXTRACT_CREDENTIALS"),
                   help="'persistent' (earthengine authenticate; the default), 'none', or the path "
                        "of a service-account key file")
    g.add_argument("--url", default=os.environ.get("EEEXTRACT_URL"),
                   help="Earth Engine API base URL (e.g. a sandbox's)")
    g.add_argument("--high-volume", action="store_true",
                   help="use the high-volume endpoint (recommended for automated, parallel requests)")


def _quota_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the project's quota (override the job file's execution section)")
    g.add_argument("--concurrency", type=int, default=_env_number("EEEXTRACT_CONCURRENCY", int),
                   help="requests the project may have in flight (Earth Engine's default 40; "
                        "default $EEEXTRACT_CONCURRENCY or the job file's)")
    g.add_argument("--rate", type=float, default=_env_number("EEEXTRACT_RATE", float),
                   help="requests per second the project may make (default 100; $EEEXTRACT_RATE)")
    g.add_argument("--request-kind", choices=("auto", "pixels", "url"), default=None,
                   help="computePixels/getPixels requests, or thumbnail/download URLs")
    g.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the units as tasks on a Dask cluster, one quota for all its workers: a "
                        "scheduler address (tcp://host:8786), or local:N for N worker processes here "
                        "(output and working folders must be on storage every worker shares)")


def _env_number(name: str, kind: Any) -> Any:
    value = os.environ.get(name)
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _quota_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The command line's quota and engine settings, as ``execution`` fields."""
    execution: Dict[str, Any] = {}
    if getattr(args, "concurrency", None):
        execution["max_concurrent_requests"] = args.concurrency
    if getattr(args, "rate", None):
        execution["requests_per_second"] = args.rate
    if getattr(args, "request_kind", None):
        execution["request_kind"] = args.request_kind
    if getattr(args, "dask", None):
        execution["engine"] = "dask"
        execution["dask_scheduler"] = args.dask
    return execution


def _apply_quota_args(spec: JobSpec, args: argparse.Namespace) -> JobSpec:
    """The command line's quota settings over the job file's (validated as the file is)."""
    return with_execution(spec, _quota_overrides(args))


def _workdir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workdir", type=Path, default=None,
                   help=f"registry and staging folder (default {default_home()})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eeextract",
        description="Bulk extraction of Google Earth Engine data: plan, run, resume.",
        epilog="Exit codes: 0 ok, 1 job failed, 2 bad input, 3 huge job not confirmed (--yes), "
               "4 cancelled, 5 cannot reach / initialise Earth Engine.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plan", help="print pixels, bytes, requests, files and the time bound of a job",
                       description="Asks Earth Engine what the source is (no pixels) and prints the plan.")
    p.add_argument("job", type=Path, help="job spec (JSON)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _quota_args(p)
    _connection_args(p)

    p = sub.add_parser("run", help="run a job", description="Plans and runs a job; prints its id.")
    p.add_argument("job", type=Path, help="job spec (JSON)")
    p.add_argument("--output", type=Path, default=None, help="override output.directory")
    p.add_argument("--yes", "-y", action="store_true", help="run a huge job without asking")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _workdir_arg(p)
    _quota_args(p)
    _connection_args(p)

    p = sub.add_parser("status", help="list jobs, or show one", description="Shows job states from the registry.")
    p.add_argument("job_id", nargs="?", help="job id, unique prefix, or name (newest)")
    p.add_argument("--json", action="store_true")
    _workdir_arg(p)

    p = sub.add_parser("resume", help="finish an interrupted, cancelled or failed job",
                       description="Fetches only the units not done; retries failed ones.")
    p.add_argument("job_id")
    p.add_argument("--no-progress", action="store_true")
    _workdir_arg(p)
    _quota_args(p)  # this run's quota and engine, over the job's
    _connection_args(p)

    p = sub.add_parser("cancel", help="ask a running job to stop (it stays resumable)")
    p.add_argument("job_id")
    _workdir_arg(p)

    p = sub.add_parser("sandbox", help="run the local Earth Engine sandbox server")
    try:
        from eeextract_plugin.sandbox import cli as sandbox_cli

        sandbox_cli.add_arguments(p)
    except ImportError:  # pragma: no cover
        pass

    p = sub.add_parser("demo", help="run the example jobs against an embedded sandbox",
                       description="Starts an embedded sandbox and runs a DEM mosaic (COG), an S2 "
                                   "NDVI composite and RGB chips through the real client.")
    p.add_argument("--output", type=Path, default=Path("demo-output"))
    p.add_argument("--no-progress", action="store_true")
    return parser


# ----------------------------------------------------------------------------- sessions
@contextlib.contextmanager
def session_for(args: argparse.Namespace) -> Iterator[Any]:
    server = None
    try:
        if getattr(args, "sandbox", False):
            from eeextract_plugin.sandbox.config import SandboxConfig
            from eeextract_plugin.sandbox.server import SandboxServer

            # Its buckets and Drive live in a temporary folder removed when it stops.
            server = SandboxServer(SandboxConfig(port=0)).start()
            cfg = SessionConfig(project="sandbox", credentials="none", url=server.url)
        else:
            url = args.url
            creds = args.credentials or ("none" if url and ("127.0.0.1" in url or "localhost" in url)
                                         else "persistent")
            cfg = SessionConfig(project=args.project, credentials=creds, url=url,
                                high_volume=args.high_volume)
        yield initialise(cfg)
    finally:
        if server is not None:
            server.stop()


def _print_result(result: JobResult) -> None:
    print(f"job {result.job_id}: {result.state}")
    if result.message:
        print(f"  {result.message}")
    print(f"  units {result.units_done}/{result.units_total} done, {result.units_failed} failed, "
          f"{format_bytes(result.bytes)} in {format_duration(result.elapsed_s)}")
    for notice in result.notices:
        print(f"  note: {notice}")
    st = result.stats
    if st.attempts:
        print(f"  requests {st.attempts}, retries {st.retries}, 429s {st.rate_limited}, splits {st.splits}; "
              f"in flight up to {st.highest_limit:.0f}, settled at {st.final_limit:.0f}")
    for label, paths in (("rasters", result.rasters), ("tables", result.tables),
                         ("zonal statistics", result.zonal_tables),
                         ("index", [result.index] if result.index else []),
                         ("VRT", [result.vrt] if result.vrt else [])):
        if not paths:
            continue
        print(f"  {label} ({len(paths)}):")
        for p in paths[:20]:
            print(f"    {p}")
        if len(paths) > 20:
            print(f"    … and {len(paths) - 20} more")


def _exit_for(result: Any) -> int:
    return {reg.COMPLETED: EXIT_OK, reg.CANCELLED: EXIT_CANCELLED}.get(result.state, EXIT_FAILED)


def _run_interruptibly(fn: Any) -> Any:
    """Runs ``fn(cancel_token)`` in a thread; Ctrl-C cancels it (and waits for a clean stop)."""
    token = CancelToken()
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = fn(token)
        except BaseException as exc:  # re-raised in the main thread
            box["error"] = exc

    t = threading.Thread(target=target, name="eeextract-job", daemon=True)
    t.start()
    while t.is_alive():
        try:
            t.join(0.2)
        except KeyboardInterrupt:
            print("\ncancelling… (finished units are kept; `eeextract resume` finishes the job)",
                  file=sys.stderr)
            token.cancel()
    if "error" in box:
        raise box["error"]
    return box["result"]


# ------------------------------------------------------------------------------ commands
def cmd_plan(args: argparse.Namespace) -> int:
    spec = _apply_quota_args(JobSpec.from_file(args.job), args)
    with session_for(args) as session, tempfile.TemporaryDirectory() as tmp:
        runner = JobRunner(session, tmp)
        try:
            plan = runner.plan(spec)
        finally:
            runner.close()
    summary = plan.summary()
    if args.json:
        print(json.dumps(summary.__dict__, indent=2))
    else:
        print(f"job {spec.name} ({spec.kind}, {spec.source.asset_id or spec.source.type})")
        for line in summary.lines():
            print("  " + line)
        if summary.huge:
            print("  this is a huge job: `eeextract run` will ask for --yes")
    return EXIT_OK


@contextlib.contextmanager
def _runner(args: argparse.Namespace, workdir: Path, label: str) -> Iterator[JobRunner]:
    """A job runner on the command line's session, with its progress display; both closed after."""
    with session_for(args) as session:
        bar = ProgressBar(not args.no_progress, label)
        runner = JobRunner(session, workdir, progress=bar)
        try:
            yield runner
        finally:
            bar.close()
            runner.close()


def _run_and_report(runner: JobRunner, job_id: str, execution: Optional[Dict[str, Any]] = None) -> int:
    """Runs a recorded job (Ctrl-C cancels it, keeping what is done), prints its result and
    returns its exit code. ``execution``: this run's quota and engine over the job's."""
    def go(token: Any) -> Any:
        runner.cancel = token
        return runner.run(job_id, execution=execution)

    result = _run_interruptibly(go)
    _print_result(result)
    return _exit_for(result)


def cmd_run(args: argparse.Namespace) -> int:
    spec = _apply_quota_args(JobSpec.from_file(args.job), args)
    if args.output:
        spec.output.directory = str(args.output.resolve())
    workdir = args.workdir or default_home()
    with _runner(args, workdir, spec.name) as runner:
        plan = runner.plan(spec)
        summary = plan.summary()
        for line in summary.lines():
            print("  " + line)
        if summary.huge and not args.yes:
            print(f"eeextract: huge job ({summary.bytes / 1e9:.1f} GB, {summary.requests:,} requests); "
                  "add --yes to run it", file=sys.stderr)
            return EXIT_NOT_CONFIRMED
        job_id = runner.create(spec, plan)
        print(f"job {job_id} (workdir {workdir})", flush=True)
        return _run_and_report(runner, job_id)


def cmd_resume(args: argparse.Namespace) -> int:
    workdir = args.workdir or default_home()
    with _runner(args, workdir, args.job_id) as runner:
        job = runner.registry.find_job(args.job_id)
        if job is None:
            raise JobNotFound(args.job_id)
        return _run_and_report(runner, job.id, _quota_overrides(args))


def cmd_status(args: argparse.Namespace) -> int:
    workdir = args.workdir or default_home()
    if args.job_id:
        st = job_status(args.job_id, workdir)
        with reg.Registry(reg.default_registry_path(workdir)) as r:
            tasks = export_tasks(r, st.id)
        if args.json:
            print(json.dumps({**st.to_dict(), "tasks": tasks}, indent=2))
            return EXIT_OK
        print(st.line())
        if st.message:
            print(f"  {st.message}")
        if tasks:
            print(f"  export tasks ({len(tasks)}):")
            print("\n".join(format_tasks(tasks)))
        return EXIT_OK
    rows = list_jobs(workdir)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    elif not rows:
        print(f"no jobs in {workdir}")
    else:
        for row in rows:
            print(row.line())
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    job_id = cancel_job(args.job_id, args.workdir or default_home())
    print(f"cancel requested for {job_id}")
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    from eeextract_plugin.sandbox import cli as sandbox_cli

    return int(sandbox_cli.run(args) or 0)


def cmd_demo(args: argparse.Namespace) -> int:
    from eeextract_plugin.cli import demo  # needs the sandbox: imported on use

    return demo.run_demo(args.output, progress=not args.no_progress)


COMMANDS = {"plan": cmd_plan, "run": cmd_run, "status": cmd_status, "resume": cmd_resume,
            "cancel": cmd_cancel, "sandbox": cmd_sandbox, "demo": cmd_demo}


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (BadInput, JobNotFound, RegistryError) as exc:
        return _say(exc, EXIT_BAD_INPUT)
    except SessionError as exc:
        return _say(exc, EXIT_CONNECTION)
    except (KeyboardInterrupt, Cancelled):
        print("eeextract: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except EEExtractError as exc:  # disk full, a job that cannot go on
        return _say(exc, EXIT_FAILED)
    except Exception as exc:  # a bug: one line here, the traceback in a log file
        log_file = write_crash_log(exc, argv if argv is not None else sys.argv[1:],
                                   getattr(args, "workdir", None) or default_home())
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        print(f"eeextract: internal error ({type(exc).__name__}{': ' + first if first else ''}); "
              f"the details are in {log_file}", file=sys.stderr)
        return EXIT_FAILED


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _say(exc: BaseException, code: int) -> int:
    print(f"eeextract: {_one_line(str(exc))}", file=sys.stderr)
    return code


def write_crash_log(exc: BaseException, argv: List[str], home: Path) -> Path:
    """The traceback of an unexpected error, in ``<home>/logs/`` (or the temporary folder when
    that cannot be written). Holds the command line and the traceback, never credentials (the
    command line names a key file at most)."""
    import time
    import traceback

    text = (f"eeextract {' '.join(argv)}\n{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    name = f"eeextract-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    for folder in (Path(home) / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(no log could be written)")


if __name__ == "__main__":
    sys.exit(main())
