"""Credentials never enter the task graph (issue 13).

The session here holds real-looking secrets: a service-account key file (an RSA private key)
whose token endpoint, a local stand-in for Google's, hands out an access token. The client uses
them for Earth Engine and for listing the bucket; the workers fetch URLs (no credential) and
load the key *file* themselves to download export parts from the private bucket. Every task
the scheduler received is pickled again as the scheduler holds it (what it sends to workers)
and searched for the token and the key; the dashboard's task names and the logs too.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _dask_helpers import example, start_sandbox  # noqa: E402

from eeextract_plugin.core.runner import run_job  # noqa: E402
from eeextract_plugin.core.session import SessionConfig, initialise  # noqa: E402
from eeextract_plugin.core.spec import JobSpec  # noqa: E402

ACCESS_TOKEN = "ya29.SECRET-access-token-of-the-test-7f3a9c"


class _TokenEndpoint:
    """Answers the service account's JWT grant with :data:`ACCESS_TOKEN`; counts grants."""

    def __init__(self) -> None:
        outer = self
        self.grants = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.grants += 1
                body = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                   "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _key_file(path: Path, token_uri: str) -> str:
    """A service-account key file with a fresh RSA key; returns the key's PEM body."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "sandbox", "private_key_id": "test-key-1",
        "private_key": pem, "client_email": "extractor@sandbox.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri}))
    return pem


@pytest.fixture()
def recorded_graph(dask_cluster):
    """Every task the scheduler receives, as (key, its run spec pickled as the scheduler sends it)."""
    from distributed.diagnostics.plugin import SchedulerPlugin
    from distributed.protocol import pickle

    class Recorder(SchedulerPlugin):
        name = "eeextract-test-graph-recorder"

        def __init__(self) -> None:
            self.records = []

        def update_graph(self, scheduler, *, tasks=(), **kwargs) -> None:
            for key in tasks:
                ts = scheduler.tasks.get(key)
                if ts is not None and ts.run_spec is not None:
                    self.records.append((str(key), pickle.dumps(ts.run_spec)))

    recorder = Recorder()
    dask_cluster.scheduler.add_plugin(recorder)
    try:
        yield recorder.records
    finally:
        dask_cluster.scheduler.remove_plugin(name=recorder.name)


def test_no_credential_reaches_the_task_graph_the_dashboard_or_the_logs(dask_cluster, dask_client,
                                                                        recorded_graph, tmp_path):
    server = start_sandbox(tmp_path)
    tokens = _TokenEndpoint()
    try:
        key_path = tmp_path / "service-account.json"
        pem = _key_file(key_path, tokens.url)
        session = initialise(SessionConfig(url=server.url, credentials=str(key_path), project="sandbox"))
        assert session.ee.data._get_state().credentials is not None  # noqa: SLF001 - a real secret here
        address = dask_cluster.scheduler_address
        mosaic = example("dem-mosaic", tmp_path / "mosaic", tile_size=256, engine="dask", dask_scheduler=address)
        d = example("dem-mosaic", tmp_path / "export", engine="dask", dask_scheduler=address).to_dict()
        d["region"] = {"type": "bbox", "bbox": [-8.5, 38.3, -8.35, 38.38], "crs": "EPSG:4326"}
        d["method"] = {"type": "export_gcs", "bucket": "sandbox-private", "file_dimensions": 256,
                       "shard_size": 256}
        grants_before = None
        for spec in (mosaic, JobSpec.from_dict(d)):
            result = run_job(spec, session, workdir=tmp_path / spec.output.directory.rsplit("/", 1)[-1] / ".w")
            assert result.ok, result.message
            if grants_before is None:
                grants_before = tokens.grants
        # The client held the token; the workers got one of their own from the key file they
        # loaded by its path (only the path travelled), to read the private bucket.
        assert grants_before >= 1 and tokens.grants > grants_before
        kinds = {key.split("-")[1] for key, _ in recorded_graph}
        assert {"tile", "cog", "part", "mosaic"} <= kinds, kinds
        secrets = [ACCESS_TOKEN.encode(), pem.splitlines()[1].encode(), pem.splitlines()[-2].encode()]
        for key, blob in recorded_graph:
            for secret in secrets:
                assert secret not in blob and secret.decode() not in key, key
        # What did travel: URLs, paths, and the key file's path for the part downloads.
        assert any(str(key_path).encode() in blob for key, blob in recorded_graph if "-part-" in key)
        logs = json.dumps([dask_client.get_scheduler_logs(), dask_client.get_worker_logs()])
        assert ACCESS_TOKEN not in logs and pem.splitlines()[1] not in logs
    finally:
        tokens.stop()
        server.stop()
