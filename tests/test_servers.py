"""The real-server helpers: a test must talk to the server it started, never to another one that
happens to answer on the same port."""
from __future__ import annotations

import http.server
import sys
import threading

import pytest

from bench import servers
from tests.servers import ServerFailed, free_port, running_server


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the handler's API)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def other_server():
    """Another process's server already answering on a port (here: a thread of this one)."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_a_server_that_never_binds_is_not_ready_because_another_answers(other_server, tmp_path):
    """The port is taken, the started program never listens and exits: the readiness URL answers
    (the other server), yet running_server waits for its own process and reports it failing."""
    command = [sys.executable, "-c", "import time; print('Address in use'); time.sleep(1.5)"]
    with pytest.raises(ServerFailed, match="exited with 0: Address in use"):
        with running_server(command, f"http://127.0.0.1:{other_server}/", tmp_path / "log", timeout=20):
            pytest.fail("ready although the process never listened")


def test_a_server_that_binds_is_ready(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with running_server(command, f"http://127.0.0.1:{port}/", tmp_path / "log", timeout=30) as process:
        assert servers._listens(process.pid, port)
        assert not servers._listens(process.pid, free_port())


def test_free_ports_are_not_handed_out_twice_and_stay_below_the_ephemeral_range():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(20000 <= p < 32000 for p in ports)


def test_ports_wrap_round_the_slice_without_coming_back_early(monkeypatch):
    """Past the slice's end the ports start again at its beginning, not anywhere in it."""
    slice_ = servers._slice()
    monkeypatch.setattr(servers, "_taken", [slice_.stop - 2])
    got = [free_port() for _ in range(100)]
    assert len(set(got)) == 100 and all(p in slice_ for p in got)
    assert slice_.start in got[:3]  # stop - 1 (unless busy), then the beginning


def test_parallel_workers_draw_from_separate_slices(monkeypatch):
    seen = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        seen.append(servers._slice())
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            assert not set(a) & set(b)
