"""The hostile corpus (tests/hostile_files.py) uploaded to a real `rag serve` while a heartbeat request
(GET /v1/models) is timed: every upload ends in a 2xx or a 4xx within 30 s, the heartbeat stays under
1 s and the server's memory (its own and its worker's) under 1.5 GiB.

Run with `-s` to print the figures docs/reliability.md quotes:
    python -m pytest tests/test_hostile_server.py -m slow -s -p no:cacheprovider
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.hostile_files import corpus
from tests.servers import free_port, running_server

pytestmark = pytest.mark.slow

UPLOAD_S = 30
# Reading and chunking run in the worker; what stays in the server's process is the embedded Chroma
# store, whose every call holds the GIL: it is called in short calls with a pause after each
# (store/chroma.py). Measured worst here: 0.2 to 0.5 s on a loaded 2-core machine (docs/reliability.md).
HEARTBEAT_S = 1.0
MEMORY_MIB = 1536


def tree_rss_mib(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, in MiB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Watch:
    """Times a heartbeat request and samples the server's memory until stopped."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.heartbeats: list[float] = []
        self.memory: list[float] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._beat, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]

    def __enter__(self) -> Watch:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)

    def _beat(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                start = time.perf_counter()
                r = client.get(f"{self.url}/v1/models")
                self.heartbeats.append(time.perf_counter() - start)
                assert r.status_code == 200
                self.stop.wait(0.1)

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.memory.append(tree_rss_mib(self.pid))
            self.stop.wait(0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile")
    # A budget of 500,000 characters (the default is 5 million): every bomb still runs into it, and no
    # upload is a long document to index, whose writes into the embedded store (not its reading) would
    # take most of the upload's time: docs/reliability.md gives those figures.
    env = {"RAG_HOME": str(home / "home"), "RAG_EMBED_BACKEND": "fake", "RAG_LLM_BACKEND": "fake",
           "HOME": str(home / "userhome"), "RAG_MAX_DOCUMENT_CHARS": "500000"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)
        with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], f"{url}/v1/models",
                            home / "serve.log", env=env, cwd=ROOT, timeout=120) as process:
            yield url, process.pid
    assert "Traceback" not in (home / "serve.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def uploads(server) -> dict[str, tuple]:
    """Each hostile file uploaded once: name -> (bytes, status, seconds, worst heartbeat, peak RSS, outcome)."""
    url, pid = server
    rows = {}
    with httpx.Client(timeout=UPLOAD_S + 30) as client:
        for name, raw in corpus().items():
            with Watch(url, pid) as watch:
                start = time.perf_counter()
                r = client.post(f"{url}/v1/documents", files={"file": (name, raw)})
                seconds = time.perf_counter() - start
            reply = r.json()
            if r.status_code >= 300:  # a refused file (an unreadable upload is a 4xx naming the reason)
                outcome = "refused: " + reply.get("error", {}).get("message", "")
            else:
                warnings = reply["report"]["warnings"]
                outcome = "indexed" + (f", {warnings[0]['warning']}" if warnings else "")
            rows[name] = (len(raw), r.status_code, seconds, max(watch.heartbeats, default=0.0),
                          max(watch.memory, default=0.0), outcome)
    print(f"\n{'file':26} {'bytes':>9} {'status':>6} {'upload s':>8} {'heartbeat s':>11} {'RSS MiB':>8}  outcome")
    for name, (size, status, seconds, beat, rss, outcome) in rows.items():
        print(f"{name:26} {size:9} {status:6} {seconds:8.2f} {beat:11.3f} {rss:8.0f}  {outcome[:110]}")
    return rows


def test_hostile_uploads_end_in_time_within_memory(uploads):
    for name, (size, status, seconds, beat, rss, outcome) in uploads.items():
        assert 200 <= status < 500, (name, status, outcome)
        assert seconds < UPLOAD_S, (name, seconds)
        assert rss < MEMORY_MIB, (name, rss)
    # Not vacuous: the bombs were really stopped by their bounds.
    assert "RAG_MAX_DOCUMENT_CHARS" in uploads["repeated-table.odt"][5]
    assert uploads["space-bomb.odt"][5] == "indexed"


def test_the_heartbeat_stays_under_a_second(uploads):
    worst = max(uploads.items(), key=lambda kv: kv[1][3])
    assert worst[1][3] < HEARTBEAT_S, (worst[0], worst[1][3])
