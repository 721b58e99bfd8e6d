"""How the sandbox serves, as a real front end would (issue 16 item 6, issue 11 item 6):

- request bodies are bounded: over the limit is 413 before the body is read (``Content-Length``,
  ``Expect: 100-continue``, chunked), uploads have their own, larger limit;
- idle keep-alive connections time out, stalled requests are dropped, open connections are
  capped (idle ones are closed first, then newcomers get 503), so threads are bounded;
- interactive computations can run in worker processes (``compute_workers``) with the same
  bytes, the same errors and the limits still counted by the one server.

Driven with raw sockets and ``requests``; no fake timing: time-outs are configured short.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox_fakes import FakeEngine, FakeExports  # noqa: E402

from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402


def _server(**settings):
    config = SandboxConfig(port=0, **settings)
    return SandboxServer(config, engine=FakeEngine(), exports=FakeExports())


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_response(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes (or the time-out)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def _json_body(data: bytes) -> dict:
    return json.loads(data.partition(b"\r\n\r\n")[2])


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------------------ request bodies

def test_a_body_over_the_limit_gets_413_before_it_is_read():
    with _server() as server:
        sock = _connect(server)
        declared = 100 * 1024 * 1024
        head = (f"POST /v1/projects/sandbox/value:compute HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n").encode()
        sock.sendall(head + b"{" + b" " * 65535)  # 64 KiB of the announced 100 MiB, then nothing
        started = time.monotonic()
        data = _read_response(sock)
        assert time.monotonic() - started < 5
        assert _status(data) == 413
        error = _json_body(data)["error"]
        assert error["code"] == 413
        assert error["message"] == "Request payload size exceeds the limit: 10485760 bytes."
        assert _closed_by_server(sock, 5)
        sock.close()
        # The server goes on serving.
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_expect_100_continue_is_refused_before_the_body_is_sent():
    with _server(max_request_bytes=1000) as server:
        sock = _connect(server)
        sock.sendall(b"POST /v1/projects/sandbox/value:compute HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        data = _read_response(sock)
        assert _status(data) == 413 and b"100 Continue" not in data
        sock.close()
        # Within the limit the client is told to go on.
        sock = _connect(server)
        body = json.dumps({"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}}).encode()
        sock.sendall(b"POST /v1/projects/sandbox/value:compute HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        sock.settimeout(10)
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        assert _status(_read_response(sock)) == 200
        sock.close()


def test_a_chunked_body_over_the_limit_gets_413():
    with _server(max_request_bytes=1000) as server:
        sock = _connect(server)
        sock.sendall(b"POST /v1/projects/sandbox/value:compute HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b" " * 1024 + b"\r\n")
        data = _read_response(sock)
        assert _status(data) == 413
        sock.close()


def test_uploads_have_their_own_limit():
    with _server(max_request_bytes=1000, max_upload_bytes=20000) as server:
        url = server.url + "/upload/storage/v1/b/sandbox-public/o?uploadType=media&name=x.bin"
        small_api = requests.post(server.url + "/v1/projects/sandbox/value:compute", data=b" " * 2000, timeout=10)
        assert small_api.status_code == 413
        fits = requests.post(url, data=b"x" * 5000, timeout=10)
        assert fits.status_code != 413
        too_big = requests.post(url, data=b"x" * 30000, timeout=10)
        assert too_big.status_code == 413
        assert too_big.json()["error"]["message"] == "Request payload size exceeds the limit: 20000 bytes."


# ------------------------------------------------------------------------------ connections

def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout():
    with _server(idle_timeout_s=0.5) as server:
        sock = _connect(server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _status(_read_response(sock)) == 200
        assert _closed_by_server(sock, 5)
        sock.close()
        assert server._httpd.open_connections == 0 or _eventually(lambda: server._httpd.open_connections == 0)


def test_a_stalled_request_is_dropped_after_the_request_timeout():
    with _server(request_timeout_s=0.5, idle_timeout_s=30) as server:
        sock = _connect(server)
        sock.sendall(b"POST /v1/projects/sandbox/value:compute HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        data = _read_response(sock, timeout=5)
        assert data == b"" or _status(data) == 408
        assert _closed_by_server(sock, 5)
        sock.close()


def _eventually(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_beyond_the_connection_cap_idle_connections_are_closed_first_then_503():
    with _server(max_connections=4, idle_timeout_s=30) as server:
        idle = []
        for _ in range(4):
            sock = _connect(server)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _status(_read_response(sock)) == 200
            idle.append(sock)
        # A fifth connection: the longest idle one is closed to make room.
        fifth = _connect(server)
        fifth.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _status(_read_response(fifth)) == 200
        assert _eventually(lambda: server._httpd.evicted_connections == 1)
        closed = [sock for sock in idle if _closed_by_server(sock, 0.5)]
        assert len(closed) == 1
        # Four connections busy in the middle of a request: none idle, a newcomer gets 503.
        for sock in [s for s in idle if s is not closed[0]] + [fifth]:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # headers not finished: not idle
        time.sleep(0.2)
        newcomer = _connect(server)
        data = _read_response(newcomer)
        assert _status(data) == 503
        assert _json_body(data)["error"]["status"] == "UNAVAILABLE"
        assert server._httpd.rejected_connections == 1
        for sock in idle + [fifth, newcomer]:
            sock.close()
        assert _eventually(lambda: server._httpd.open_connections == 0)


def test_threads_stay_bounded_by_the_connection_cap():
    before = threading.active_count()
    with _server(max_connections=8, idle_timeout_s=30) as server:
        socks = []
        for _ in range(40):
            sock = _connect(server)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            _read_response(sock, timeout=5)
            socks.append(sock)
        assert _eventually(lambda: server._httpd.open_connections <= 8)
        assert threading.active_count() - before <= 8 + 2  # connections + the accept loop
        for sock in socks:
            sock.close()


# ------------------------------------------------------------------------------ worker processes

@pytest.fixture(scope="module")
def pooled():
    """The real engine computing in one worker process; the same settings in-process."""
    config = SandboxConfig(port=0, compute_workers=1, max_concurrent_requests=2,
                           latency=LatencyModel(0.6, 0.0))
    with SandboxServer(config) as server:
        yield server


def _dem_request(col_offset: int = 0):
    grid = {"crsCode": "EPSG:4326", "dimensions": {"width": 64, "height": 48},
            "affineTransform": {"scaleX": 1 / 3600, "shearX": 0, "translateX": 12.4 + col_offset / 3600,
                                "shearY": 0, "scaleY": -1 / 3600, "translateY": 41.95}}
    expression = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/DEM"}}}}}}
    return {"expression": expression, "fileFormat": "NPY", "grid": grid}


def test_a_worker_computes_the_same_bytes_as_the_server_itself(pooled):
    from eeextract_plugin.sandbox import encoding
    from eeextract_plugin.sandbox.engine import Engine

    body = _dem_request()
    r = requests.post(pooled.url + "/v1/projects/sandbox/image:computePixels", json=body, timeout=60)
    assert r.status_code == 200, r.text
    raster = Engine(SandboxConfig()).compute_pixels(body["expression"], body["grid"], None, None)
    assert r.content == encoding.encode(raster, "NPY").data
    assert pooled.pool is not None and len(pooled.pool._all) == 1 and pooled.pool._all[0].process.is_alive()


def test_a_workers_error_is_the_same_error(pooled):
    body = _dem_request()
    body["grid"]["dimensions"] = {"width": 40000, "height": 10}
    r = requests.post(pooled.url + "/v1/projects/sandbox/image:computePixels", json=body, timeout=60)
    assert r.status_code == 400
    assert "32768" in r.json()["error"]["message"]


def test_limits_are_counted_by_the_one_server_across_workers(pooled):
    """max_concurrent_requests=2 and 0.6 s per request: of three at once, one is refused."""
    url = pooled.url + "/v1/projects/sandbox/image:computePixels"
    requests.post(url, json=_dem_request(), timeout=60)  # the worker is warm

    def post(i):
        return requests.post(url, json=_dem_request(i * 64), timeout=60).status_code

    with ThreadPoolExecutor(3) as pool:
        codes = sorted(pool.map(post, range(3)))
    assert codes == [200, 200, 429]


def test_a_worker_that_dies_fails_its_request_with_500_and_is_replaced():
    import os
    import signal

    with SandboxServer(SandboxConfig(port=0, compute_workers=1)) as server:
        url = server.url + "/v1/projects/sandbox/image:computePixels"
        assert requests.post(url, json=_dem_request(), timeout=120).status_code == 200
        first = server.pool._all[0].process
        os.kill(first.pid, signal.SIGKILL)
        first.join(timeout=10)
        r = requests.post(url, json=_dem_request(64), timeout=120)
        assert r.status_code == 500
        assert r.json()["error"]["message"] == "An internal error has occurred: a compute worker stopped."
        assert requests.post(url, json=_dem_request(128), timeout=120).status_code == 200
        assert len(server.pool._all) == 1 and server.pool._all[0].process.pid != first.pid
