"""The real QGIS desktop under Xvfb, driven with real input events (tests/desktop/driver.py):
the dock and the settings at 1366 x 768 inside a network namespace with only a loopback
interface, against a sandbox whose requests take 1.5 s; then QGIS started again on the same
profile at 1920 x 1080 (the job it was closed on resumed, the dock's layout, the Processing
toolbox). Each test reads one step of a session and asserts what the user saw. Screenshots of
every step: the session's ``shots/`` folder (printed on failure); ``EEX_DESKTOP_SHOTS=<dir>``
copies them there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.desktop import harness

pytestmark = [pytest.mark.qgis_desktop, pytest.mark.slow]

REASON = harness.desktop_available()


def _keep_shots(session: harness.Session, name: str) -> None:
    target = os.environ.get("EEX_DESKTOP_SHOTS")
    if target:
        dest = Path(target) / name
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(session.work / "shots", dest)


@pytest.fixture(scope="module")
def dock_session(tmp_path_factory):
    if REASON:
        pytest.skip(REASON)
    work = tmp_path_factory.mktemp("desktop-dock")
    port = harness.free_port()
    netns = harness.netns_available()
    profile = harness.make_profile(work / "profile", {"eeextract": {
        "mode": "custom_url", "custom_url": f"http://127.0.0.1:{port}", "project": "sandbox",
        "concurrency": "2", "output_folder": str(work / "output")}})
    session = harness.run_session("scenario_dock", work / "session", profile, "1366x768", netns=netns,
                                  sandbox_args=["--latency-fixed", "1.5"], sandbox_port=port, timeout_s=300)
    session.netns = netns
    _keep_shots(session, "dock")
    return session


@pytest.fixture(scope="module")
def portuguese_session(tmp_path_factory):
    """QGIS with "Override system locale" set to Brazilian Portuguese, the dock at 1366 x 768
    against a sandbox (no latency), in the loopback-only namespace."""
    if REASON:
        pytest.skip(REASON)
    work = tmp_path_factory.mktemp("desktop-pt-br")
    port = harness.free_port()
    profile = harness.make_profile(work / "profile", {
        "eeextract": {"mode": "custom_url", "custom_url": f"http://127.0.0.1:{port}", "project": "sandbox",
                      "concurrency": "8", "output_folder": str(work / "output")},
        "locale": harness.locale_settings("pt_BR")})
    session = harness.run_session("scenario_dock_pt_br", work / "session", profile, "1366x768",
                                  netns=harness.netns_available(), sandbox_args=[], sandbox_port=port,
                                  timeout_s=300)
    _keep_shots(session, "dock-pt-BR")
    return session


@pytest.fixture(scope="module")
def processing_session(dock_session):
    """QGIS started again on the dock session's profile (it quit with a job running), at
    1920 x 1080, against a sandbox served by another process as a user runs one (`eeextract
    sandbox`): the embedded one needs shapely in QGIS's Python built against QGIS's own GEOS,
    and refuses a PyPI wheel there with one line (tests/qgis covers that message)."""
    if REASON:
        pytest.skip(REASON)
    work = dock_session.work.parent
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"  # the sandbox's new port (the URL Processing reads too)
    harness.update_settings(work / "profile", "eeextract", {"custom_url": url, "url": url})
    session = harness.run_session("scenario_processing", work / "session-processing", work / "profile",
                                  "1920x1080", netns=harness.netns_available(), sandbox_args=["--workers", "0"],
                                  sandbox_port=port, timeout_s=300)
    _keep_shots(session, "processing")
    return session


def _assert_step(session: harness.Session, step: str) -> None:
    problems = session.failed_checks(step)
    assert not problems, f"{step}:\n" + "\n".join(problems) + "\n\n" + harness.summary(session)
    assert session.step(step)["checks"] or step.startswith("quit"), f"{step} checked nothing"


@pytest.mark.parametrize("step", ["open_the_dock", "settings_by_clicking", "pick_type_asset_and_bands",
                                  "wheel_over_the_form", "fold_and_unfold_sections", "draw_a_rectangle",
                                  "run_and_see_the_layer", "an_existing_output_is_refused_before_run",
                                  "cancel_then_resume", "algorithm_dialogs_fit", "quit_with_a_job_running"])
def test_the_dock_by_mouse_and_keyboard(dock_session, step):
    _assert_step(dock_session, step)


def test_qgis_quits_with_a_job_running(dock_session):
    assert dock_session.returncode == 0 and not dock_session.timed_out, harness.summary(dock_session)
    checks = dock_session.step("quit_with_a_job_running")["checks"]
    assert checks and all(c["ok"] for c in checks), checks


def test_nothing_leaves_the_machine_during_a_sandbox_session(dock_session, processing_session, portuguese_session):
    if not getattr(dock_session, "netns", False):
        pytest.skip("cannot make a network namespace here (needs root, unshare and ip)")
    for session in (dock_session, processing_session, portuguese_session):
        assert session.network, "the audit hook saw the sandbox requests"
        assert not session.non_loopback(), session.non_loopback()[:10]


@pytest.mark.parametrize("step", ["open_the_dock_in_portuguese", "a_collection_in_portuguese", "every_choice_fits",
                                  "the_settings_in_portuguese", "the_toolbox_finds_it_in_portuguese"])
def test_the_dock_and_the_toolbox_in_brazilian_portuguese(portuguese_session, step):
    """Labels, choices, messages, the settings and the algorithm in Portuguese; the longer words
    fit at the default dock width in every mode of the form."""
    _assert_step(portuguese_session, step)
    assert portuguese_session.returncode == 0 and not portuguese_session.timed_out, harness.summary(portuguese_session)


@pytest.mark.parametrize("step", ["resume_the_unfinished_job", "open_algorithm", "run_with_temporary_output",
                                  "batch_with_a_failing_row", "algorithm_dialogs_fit"])
def test_processing_by_mouse_and_keyboard(processing_session, step):
    _assert_step(processing_session, step)


def test_qgis_quits_after_a_failed_batch_row(processing_session):
    assert processing_session.returncode == 0 and not processing_session.timed_out, \
        harness.summary(processing_session)


def test_no_python_warning_or_traceback_for_ordinary_use(dock_session, processing_session, portuguese_session):
    """The log panel's Python warnings tab and the plugin's tab stay clean: no ResourceWarning,
    no deprecation, no traceback (a failing batch row is an ordinary user error)."""
    noisy = []
    for session in (dock_session, processing_session, portuguese_session):
        for m in session.messages:
            text = m["message"]
            if m["tag"] == "Python warning" and "eeextract" in text or (
                    m["tag"] == "EE Extract" and "Traceback" in text):
                noisy.append(text[:300])
            if m["tag"] == "EE Extract" and text.startswith(("INFO ", "WARNING ", "ERROR ")):
                noisy.append(f"level word in the text: {text[:120]}")
    assert not noisy, noisy


def test_nothing_on_qgis_stderr_from_proj(dock_session, processing_session):
    """No "proj_create: unrecognized format" (a non-CRS string handed to PROJ) in what QGIS
    printed on its terminal."""
    for session in (dock_session, processing_session):
        lines = [line for line in session.qgis_log.splitlines() if "proj_create" in line or "PROJ:" in line]
        assert not lines, lines[:5]
