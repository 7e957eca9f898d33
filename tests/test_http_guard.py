"""`rag serve` answers only its own origin, checks keys before bodies, bounds what clients send, and
says what to fix and nothing more: tested against a real `rag serve` (curl-like requests, and a page
of another origin in headless Chromium), and against the server built in this process where a test
needs a scripted model (the queue's bound, a failing backend).

The same checks one by one, without a server: tests/test_guard.py.
"""
from __future__ import annotations

import fcntl
import http.server
import os
import shutil
import socket
import sys
import threading
import time
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.servers import free_port, running_server, served

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Served:
    def __init__(self, url: str, home: Path, log: Path) -> None:
        self.url, self.home, self.log = url, home, log
        self.port = int(url.rsplit(":", 1)[1])

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", timeout=60, **kw)

    def documents(self) -> list[str]:
        return [d["document"] for d in self.request("GET", "/v1/documents").json()["data"]]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Served:
    """`rag serve` on its defaults (loopback, no keys), fake models, an empty library."""
    home = tmp_path_factory.mktemp("guard")
    env = {"RAG_HOME": str(home / "home"), "RAG_EMBED_BACKEND": "fake", "RAG_LLM_BACKEND": "fake",
           "RAG_MAX_FILE_MB": "1", "HOME": str(home / "userhome"), "RAG_CONFIG": str(home / "none.toml")}
    (home / "none.toml").touch()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)  # a developer's own settings never reach the server
        with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], f"{url}/",
                            home / "serve.log", env=env, cwd=ROOT, timeout=120):
            yield Served(url, home / "home", home / "serve.log")
    assert "Traceback" not in (home / "serve.log").read_text(errors="replace")


# -- the server answers only its own origin -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/v1/documents", "/gradio_api/info", "/config"])
def test_a_dns_rebinding_page_is_refused_on_the_page_and_the_api(server, path):
    """A page that rebinds its own name to 127.0.0.1 reaches the server with its name as Host."""
    r = server.request("GET", path, headers={"Host": f"attacker.example:{server.port}"})
    assert r.status_code == 400 and "RAG_ALLOWED_HOSTS" in r.text
    for own in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        assert server.request("GET", "/v1/documents", headers={"Host": own}).status_code == 200


def test_a_cross_site_form_post_plants_nothing(server):
    for headers in ({"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},  # what a browser sends
                    {"Origin": f"http://127.0.0.1:{server.port + 1}"},  # another port: another origin
                    {"Sec-Fetch-Site": "cross-site"}):  # an Origin stripped by some proxy
        r = server.request("POST", "/v1/documents", files={"file": ("planted.txt", b"Planted text.\n")},
                           headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", r.text
        # Gradio's own upload and queue routes are state-changing too.
        for path in ("/gradio_api/upload", "/gradio_api/queue/join"):
            assert server.request("POST", path, files={"files": ("planted.txt", b"x")},
                                  headers=headers).status_code == 403
        assert server.request("DELETE", "/v1/documents/seed.txt", headers=headers).status_code == 403
    assert "planted.txt" not in server.documents()
    assert not (server.home / "uploads" / "planted.txt").exists()


def test_same_origin_and_clients_without_origin_still_work(server):
    own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    for name, headers in (("own-page.txt", own), ("curl.txt", {})):
        r = server.request("POST", "/v1/documents", files={"file": (name, f"Sent by {name}.\n".encode())},
                           headers=headers)
        assert r.status_code == 201, r.text
        assert server.request("DELETE", f"/v1/documents/{name}", headers=headers).status_code == 200


# -- errors say what to fix and nothing more ----------------------------------------------------------

def _multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so that a file name can hold any byte."""
    boundary = "guardboundary"
    body = (f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + filename
            + b'"\r\nContent-Type: text/plain\r\n\r\n' + content + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename,rule", [
    (b"a" * 296 + b".txt", "the file name is 300 bytes long (UTF-8); the limit is 255"),
    (b"note\x00.txt", "a file name cannot hold NUL or other control characters"),
])
def test_a_bad_file_name_is_a_400_naming_the_rule(server, filename, rule):
    body, content_type = _multipart(filename, b"Some text.\n")
    r = server.request("POST", "/v1/documents", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 400 and rule in r.json()["error"]["message"], r.text


def test_index_busy_says_what_to_do_and_not_where_the_index_is(server):
    server.home.mkdir(parents=True, exist_ok=True)
    with (server.home / "ingest.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process ingesting
        try:
            r = server.request("POST", "/v1/documents", files={"file": ("busy.txt", b"Busy text.\n")})
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert r.status_code == 409 and r.json()["error"]["code"] == "index_busy"
    assert "try again" in r.text and str(server.home) not in r.text and "ingest.lock" not in r.text
    assert str(server.home) in server.log.read_text()  # the server's log keeps it


def test_the_pages_routes_have_bounded_bodies_too(server):
    """A body sent in chunks, with no length to refuse it by, is cut at the page's bound: a 413."""
    def endless():
        for _ in range(10):
            yield b"x" * (1 << 20)

    r = httpx.post(f"{server.url}/gradio_api/queue/join", content=endless(),
                   headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413 and "over the limit of 8 MB" in r.text
    r = httpx.post(f"{server.url}/gradio_api/upload", content=endless(),
                   headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=60)
    assert r.status_code == 413 and "RAG_MAX_FILE_MB" in r.text


def test_two_uploads_of_one_new_name_at_once_lose_neither(server):
    texts = {w: f"Version {w} of the plan: {n} lines.\n".encode() for w, n in (("A", 3), ("B", 7))}
    results: dict[str, httpx.Response] = {}
    start = threading.Barrier(2)

    def upload(who: str) -> None:
        start.wait()
        results[who] = server.request("POST", "/v1/documents", files={"file": ("plan.txt", texts[who])})

    threads = [threading.Thread(target=upload, args=(w,)) for w in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results.values())
    assert codes in ([201, 400], [201, 409]), {w: r.text for w, r in results.items()}  # the other told why
    winner = next(w for w, r in results.items() if r.status_code == 201)
    text = server.request("GET", "/v1/documents/plan.txt").json()["text"]
    assert text.encode() == texts[winner]
    assert server.request("DELETE", "/v1/documents/plan.txt").status_code == 200


# -- a real page of another origin, in Chromium -------------------------------------------------------

HOSTILE_PAGE = """<!doctype html><meta charset="utf-8"><title>a page of another site</title>
<form id="form" method="post" enctype="multipart/form-data" action="TARGET/v1/documents">
  <input type="file" name="file"></form>
<script>
async function tryFetch() {
  const data = new FormData();
  data.append("file", new Blob(["Planted by fetch.\\n"], {type: "text/plain"}), "fetched.txt");
  try {
    const r = await fetch("TARGET/v1/documents", {method: "POST", body: data, mode: "no-cors"});
    return "sent: " + r.type;
  } catch (e) { return "failed: " + e; }
}
</script>"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed: run `make browser-deps` for browser tests")
def test_a_page_of_another_origin_can_neither_post_a_form_nor_fetch(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    (tmp_path / "index.html").write_text(HOSTILE_PAGE.replace("TARGET", server.url), encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html")
            # The form post: a real file, a real submission, the browser's own headers.
            page.set_input_files("input[name=file]", files=[
                {"name": "formed.txt", "mimeType": "text/plain", "buffer": b"Planted by a form.\n"}])
            with page.expect_navigation() as navigation:
                page.evaluate("document.getElementById('form').submit()")
            assert navigation.value.status == 403
            assert "another site" in page.content()
            # The fetch: no-cors, so the browser sends it and shows the page nothing of the reply.
            page.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html")
            assert page.evaluate("tryFetch()") == "sent: opaque"
            browser.close()
    finally:
        other.shutdown()
    time.sleep(0.5)  # what the server might still be writing
    assert not {"formed.txt", "fetched.txt"} & set(server.documents())
    assert not any((server.home / "uploads").glob("*ed.txt"))


# -- the server built in this process: keys, the queue's bound, a failing backend ---------------------

def test_keys_are_checked_before_the_body_is_read(make):
    assistant, _ = make()
    with served(assistant, keys=frozenset({"k"})) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            # Headers that announce 50 MB, and not one byte of it: the 401 must come anyway.
            sock.sendall(f"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 50000000\r\n\r\n".encode())
            started = time.monotonic()
            reply = sock.recv(4096).decode("latin-1")
            waited = time.monotonic() - started
        assert reply.startswith("HTTP/1.1 401") and "invalid_api_key" in reply and waited < 2
        for path in ("/openapi.json", "/docs", "/redoc", "/v1/models"):
            assert httpx.get(f"{url}{path}").status_code == 401, path
            assert httpx.get(f"{url}{path}", headers={"Authorization": "Bearer k"}).status_code == 200, path
        assert httpx.get(f"{url}/").status_code == 200  # the page: its own login (RAG_AUTH), none here


class SlowLLM:
    name = "slow"

    def stream(self, messages, max_tokens, temperature):
        for i in range(400):
            time.sleep(0.05)
            yield f"mot{i} "


def _stream(url: str) -> httpx.Response:
    client = httpx.Client(timeout=30)
    return client.send(client.build_request("POST", f"{url}/v1/chat/completions", json={
        "model": "fake", "stream": True, "messages": [{"role": "user", "content": "Combien de suspects ?"}]}),
        stream=True)


def test_a_full_queue_is_a_429_with_retry_after(make):
    from rag import Assistant

    base, _ = make(max_queue=1)
    assistant = Assistant(base.settings, store=base.store, embedder=base.embedder, llm=SlowLLM())
    with served(assistant) as (url, _):
        holder = _stream(url)  # has the model
        lines = holder.iter_lines()
        next(line for line in lines if '"content": "mot' in line)
        waiting = _stream(url)  # the one place in the queue
        assert waiting.status_code == 200
        full = httpx.post(f"{url}/v1/chat/completions", timeout=30, json={
            "model": "fake", "messages": [{"role": "user", "content": "Et la Thaïlande ?"}]})
        assert full.status_code == 429 and full.json()["error"]["code"] == "queue_full"
        assert 1 <= int(full.headers["Retry-After"]) <= 600 and "RAG_MAX_QUEUE" in full.json()["error"]["message"]
        waiting.close()
        holder.close()


class DownLLM:
    name = "down"

    def stream(self, messages, max_tokens, temperature):
        from rag.errors import BackendUnavailable

        raise BackendUnavailable("cannot reach the LLM server at http://10.9.8.7:8080/v1")
        yield  # a generator, as the real ones


def test_a_failing_backend_is_a_503_without_its_url(make, caplog):
    from rag import Assistant

    base, _ = make()
    assistant = Assistant(base.settings, store=base.store, embedder=base.embedder, llm=DownLLM())
    with served(assistant) as (url, _):
        r = httpx.post(f"{url}/v1/chat/completions", timeout=30, json={
            "model": "fake", "messages": [{"role": "user", "content": "Combien de suspects le Cambodge a-t-il arrêtés ?"}]})
    assert r.status_code == 503 and r.json()["error"]["code"] == "backend_unavailable"
    assert "10.9.8.7" not in r.text and "http" not in r.json()["error"]["message"]
    assert "http://10.9.8.7:8080/v1" in caplog.text
