"""Starts the real QGIS desktop under Xvfb with the plugin installed in a fresh profile, plays a
scenario in it (driver.py) and collects what happened: the steps' checks, the screenshots, QGIS's
message log, every network connection attempt of its Python, how QGIS ended.

Optionally the whole session runs in a network namespace that has only a loopback interface
(``unshare -n``, as root), with a sandbox server started inside it: nothing can leave the
machine, and every attempt to reach another address is recorded by an audit hook.

Run one scenario by hand (screenshots under the printed folder)::

    .venv/bin/python tests/desktop/harness.py scenario_dock [--screen 1366x768] [--netns]
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLUGIN = REPO / "eeextract_plugin"

LOOPBACK_PREFIXES = ("127.", "::1", "0:0:0:0:0:0:0:1", "localhost")

#: The audit hook, installed by sitecustomize at the start of QGIS's Python: every connection
#: attempt, name lookup and HTTP request of the process, with the time and thread.
SITECUSTOMIZE = '''
import json, os, sys, threading, time
_OUT = open(os.path.join(os.environ["EEX_DESKTOP_WORK"], "network.jsonl"), "a", buffering=1)
_LOCK = threading.Lock()

def _write(event, host, port, extra=""):
    try:
        with _LOCK:
            _OUT.write(json.dumps({"t": time.monotonic(), "event": event, "host": str(host),
                                   "port": port if isinstance(port, int) else str(port),
                                   "extra": extra, "thread": threading.current_thread().name}) + "\\n")
    except Exception:
        pass

def _hook(event, args):
    try:
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and len(address) >= 2:
                _write(event, address[0], address[1])
        elif event == "socket.getaddrinfo":
            _write(event, args[0], args[1])
        elif event == "http.client.connect":
            _write(event, args[1], args[2])
        elif event == "http.client.send":
            data = args[1]
            if isinstance(data, (bytes, bytearray)) and data[:8].split(b" ")[0] in (
                    b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"HEAD"):
                conn = args[0]
                line = bytes(data[:200]).split(b"\\r\\n", 1)[0].decode("latin-1")
                _write(event, getattr(conn, "host", "?"), getattr(conn, "port", "?"), line)
        elif event == "urllib.Request":
            _write(event, args[0], "", "")
    except Exception:
        pass

sys.addaudithook(_hook)
'''


@dataclass
class Session:
    work: Path
    returncode: Optional[int]
    elapsed_s: float
    timed_out: bool
    report: Dict = field(default_factory=dict)
    network: List[Dict] = field(default_factory=list)
    messages: List[Dict] = field(default_factory=list)
    qgis_log: str = ""

    def step(self, name: str) -> Dict:
        for record in self.report.get("steps", []):
            if record["step"] == name:
                return record
        raise KeyError(f"step {name} did not run; steps: {[s['step'] for s in self.report.get('steps', [])]}")

    def failed_checks(self, name: str) -> List[str]:
        record = self.step(name)
        problems = [f"{c['name']}: {c['detail']}" for c in record["checks"] if not c["ok"]]
        if record.get("error"):
            problems.append(record["error"])
        return problems

    def non_loopback(self) -> List[Dict]:
        """Connection attempts, name lookups and requests to anything but this machine."""
        out = []
        for event in self.network:
            host = event["host"]
            if host.startswith(LOOPBACK_PREFIXES) or host.startswith("/") or host in ("", "None"):
                continue
            out.append(event)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def netns_available() -> bool:
    """Whether this process may make a network namespace (root, unshare, ip)."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True)
    return probe.returncode == 0


def desktop_available() -> str:
    """"" when the QGIS desktop can run here, else why not."""
    for tool in ("qgis", "xvfb-run"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return ""


def make_profile(root: Path, settings: Dict[str, Dict[str, str]]) -> Path:
    """A fresh QGIS profile folder with the plugin installed (copied, as the plugin manager
    unpacks it, with its compiled translations as the ZIP carries them) and enabled, QGIS's
    start-up tips and version check off. ``settings`` may set QGIS's own, e.g.
    ``{"locale": {"userLocale": "pt_BR", "overrideFlag": "true"}}``."""
    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    target = plugins / "eeextract_plugin"
    if not target.exists():
        shutil.copytree(PLUGIN, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        install_translations(target)
    (profile / "QGIS").mkdir(exist_ok=True)
    ini = profile / "QGIS" / "QGIS3.ini"
    sections: Dict[str, Dict[str, str]] = {
        "PythonPlugins": {"eeextract_plugin": "true"},
        "qgis": {"showTips322": "false", "checkVersion": "false", "allowVersionCheck": "false"},
        "core": {"NewsFeed\\\\httpsfeedqgisorg\\\\disabled": "true"},
    }
    if ini.exists():  # a second session with the same profile: keep what QGIS wrote
        return root
    for section, values in settings.items():
        sections.setdefault(section, {}).update(values)
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k}={v}" for k, v in values.items()]
        lines.append("")
    ini.write_text("\n".join(lines), encoding="utf-8")
    return root


def install_translations(plugin: Path) -> None:
    """The .qm files ``make package`` puts into the ZIP, compiled from the repository's .ts."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import translations
    finally:
        sys.path.remove(str(REPO / "scripts"))
    translations.compile_all(plugin / "i18n")


def update_settings(root: Path, section: str, values: Dict[str, str]) -> None:
    """Change the profile's settings between two sessions (QGIS is not running)."""
    ini = root / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    text = ini.read_text(encoding="utf-8").splitlines()
    out: List[str] = []
    in_section = False
    pending = dict(values)
    for line in text:
        if line.startswith("["):
            if in_section and pending:
                out += [f"{k}={v}" for k, v in pending.items()]
                pending = {}
            in_section = line.strip() == f"[{section}]"
        elif in_section and "=" in line and line.split("=", 1)[0] in pending:
            key = line.split("=", 1)[0]
            out.append(f"{key}={pending.pop(key)}")
            continue
        out.append(line)
    if pending:
        if not in_section:
            out.append(f"[{section}]")
        out += [f"{k}={v}" for k, v in pending.items()]
    ini.write_text("\n".join(out) + "\n", encoding="utf-8")


def locale_settings(locale: str) -> Dict[str, str]:
    """QGIS's settings for "Override system locale" with ``locale`` (language and numbers)."""
    return {"overrideFlag": "true", "userLocale": locale, "globalLocale": locale}


def python_path(work: Path) -> str:
    """QGIS runs the system Python: the audit hook first, then the venv's packages
    (earthengine-api, ...) as a user's pip install would provide them."""
    hook = work / "pyhook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    venv_site = [str(p) for p in (REPO / ".venv" / "lib").glob("python3*/site-packages")]
    return os.pathsep.join([str(hook), *venv_site])


def run_session(scenario: str, work: Path, profile: Path, screen: str = "1366x768",
                netns: bool = False, sandbox_args: Optional[Sequence[str]] = None,
                sandbox_port: int = 0, env: Optional[Dict[str, str]] = None,
                timeout_s: float = 300, quit_grace_s: float = 40) -> Session:
    """Plays ``scenario`` (a module of this folder) in a fresh QGIS; returns what happened."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "network.jsonl", "messages.log"):
        (work / name).unlink(missing_ok=True)
    shutil.rmtree(work / "shots", ignore_errors=True)
    scenario_path = HERE / f"{scenario}.py"
    environ = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "PYTHONDONTWRITEBYTECODE")}
    environ.update({
        "EEX_DESKTOP_WORK": str(work),
        "EEX_DESKTOP_SCENARIO": str(scenario_path),
        "PYTHONPATH": python_path(work),
        "PYTHONDONTWRITEBYTECODE": "1",
        "XDG_RUNTIME_DIR": str(work / "xdg"),
        "EEX_DESKTOP_SCREEN": screen,
        **(env or {}),
    })
    (work / "xdg").mkdir(exist_ok=True, mode=0o700)
    sandbox_cmd = ""
    if sandbox_args is not None:
        port = sandbox_port or free_port()
        environ["EEX_SANDBOX_URL"] = f"http://127.0.0.1:{port}"
        args = " ".join(sandbox_args)
        sandbox_cmd = (f"{REPO / '.venv' / 'bin' / 'python'} -m eeextract_plugin.sandbox --port {port} "
                       f"--state-dir {work / 'sandbox-state'} {args} >{work / 'sandbox.log'} 2>&1 & SANDBOX=$!")
    qgis = (f"xvfb-run -a -s '-screen 0 {screen}x24 -nolisten tcp' qgis --profiles-path {profile} "
            f"--noversioncheck --nologo --code {HERE / 'driver.py'} >{work / 'qgis.log'} 2>&1")
    script = textwrap.dedent(f"""
        set -u
        {'ip link set lo up' if netns else ''}
        {sandbox_cmd}
        {qgis}
        status=$?
        {'kill $SANDBOX 2>/dev/null; wait $SANDBOX 2>/dev/null' if sandbox_cmd else ''}
        exit $status
    """)
    command = (["unshare", "-n"] if netns else []) + ["bash", "-c", script]
    started = time.monotonic()
    process = subprocess.Popen(command, env=environ, cwd=str(work), start_new_session=True)
    timed_out = False
    returncode: Optional[int] = None
    done_at: Optional[float] = None
    while True:
        try:
            returncode = process.wait(timeout=1)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if done_at is None and _scenario_done(work):
            done_at = now
        # QGIS has a while to quit once the scenario is over; past that it hangs.
        if now - started > timeout_s or (done_at is not None and now - done_at > quit_grace_s):
            timed_out = True
            os.killpg(process.pid, 9)
            process.wait()
            returncode = None
            break
    elapsed = time.monotonic() - started
    session = Session(work, returncode, elapsed, timed_out)
    report = work / "report.json"
    if report.exists():
        session.report = json.loads(report.read_text(encoding="utf-8"))
    for name, target in (("network.jsonl", session.network), ("messages.log", session.messages)):
        path = work / name
        if path.exists():
            target += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    log = work / "qgis.log"
    session.qgis_log = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return session


def _scenario_done(work: Path) -> bool:
    try:
        return bool(json.loads((work / "report.json").read_text(encoding="utf-8")).get("done"))
    except (OSError, ValueError):
        return False


def summary(session: Session) -> str:
    lines = [f"QGIS exit code {session.returncode} after {session.elapsed_s:.0f} s"
             f"{' (killed: timed out)' if session.timed_out else ''}; work folder {session.work}"]
    for record in session.report.get("steps", []):
        took = (record["ended"] or record["started"]) - record["started"]
        status = "FAILED" if record.get("error") or any(not c["ok"] for c in record["checks"]) else "ok"
        lines.append(f"  {record['step']}: {status} ({took:.1f} s)")
        for c in record["checks"]:
            lines.append(f"    {'ok ' if c['ok'] else 'NO '} {c['name']}: {str(c['detail'])[:300]}")
        if record.get("error"):
            lines.append("    " + record["error"].strip().replace("\n", "\n    "))
    outside = session.non_loopback()
    lines.append(f"  network events: {len(session.network)}, outside this machine: {len(outside)}")
    lines += [f"    {e}" for e in outside[:10]]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--screen", default="1366x768")
    parser.add_argument("--netns", action="store_true")
    parser.add_argument("--work", default="")
    parser.add_argument("--profile", default="")
    parser.add_argument("--sandbox", default=None, help="sandbox arguments, e.g. '--latency-fixed 0.5'")
    parser.add_argument("--mode", default="custom_url")
    parser.add_argument("--concurrency", default="32")
    parser.add_argument("--locale", default="", help="QGIS's locale, e.g. pt_BR (Override system locale)")
    a = parser.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="eex-desktop-"))
    profile = Path(a.profile) if a.profile else work / "profile"
    port = free_port()
    settings = {"eeextract": {"mode": a.mode, "project": "sandbox", "custom_url": f"http://127.0.0.1:{port}",
                              "concurrency": a.concurrency, "output_folder": str(work / "output")}}
    if a.locale:
        settings["locale"] = locale_settings(a.locale)
    make_profile(profile, settings)
    s = run_session(a.scenario, work / "session", profile, a.screen, a.netns,
                    sandbox_args=a.sandbox.split() if a.sandbox is not None else None,
                    sandbox_port=port)
    print(summary(s))
    sys.exit(0 if s.returncode == 0 else 1)
