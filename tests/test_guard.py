"""The checks in front of `rag serve` (ui/guard.py, the body limit of ui/http_api.py, the queue's bound
in ui/gate.py), called as ASGI apps with hand-made requests: no server, no model.

The same checks against a real `rag serve` and a real browser: tests/test_http_guard.py."""
from __future__ import annotations

import asyncio
import json

import pytest

from ui.gate import Gate, QueueFull
from ui.guard import HostPolicy, KeyCheck, OriginGuard, split_host
from ui.http_api import MAX_JSON_BYTES, MAX_PAGE_BYTES, BodyLimit


class Inner:
    """The app behind the middleware: answers 200 after reading the whole body; records what it saw."""

    def __init__(self) -> None:
        self.called = 0
        self.body = b""

    async def __call__(self, scope, receive, send) -> None:
        self.called += 1
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(app, method: str = "GET", path: str = "/", headers: dict[str, str] | None = None,
         body: bytes = b"") -> tuple[int, dict, bytes, int]:
    """(status, headers, body, how many body chunks the app asked for) of one request to `app`."""
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": method, "path": path, "scheme": "http", "headers": raw,
             "query_string": b"", "http_version": "1.1"}
    reads = 0
    out: dict = {"headers": {}, "body": b""}

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"], reads


# -- Host ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,parsed", [
    ("127.0.0.1:7860", ("127.0.0.1", 7860)), ("localhost", ("localhost", None)), ("LocalHost.:80", ("localhost", 80)),
    ("[::1]:7860", ("::1", 7860)), ("[::1]", ("::1", None)), ("rag.example.org", ("rag.example.org", None)),
    ("", None), (":80", None), ("a:b", None), ("::1", None), ("[::1", None), ("[::1]x", None), ("h:123456", None),
    ("h:", None),
])
def test_split_host(value, parsed):
    assert split_host(value) == parsed


GUARDED = [
    # (id, bound address, RAG_ALLOWED_HOSTS, method, headers, expected status)
    ("loopback-ip", "127.0.0.1", "", "GET", {"Host": "127.0.0.1:7860"}, 200),
    ("localhost-any-port", "127.0.0.1", "", "GET", {"Host": "localhost:9999"}, 200),
    ("ipv6-loopback", "127.0.0.1", "", "GET", {"Host": "[::1]:7860"}, 200),
    ("dns-rebinding", "127.0.0.1", "", "GET", {"Host": "attacker.example:7860"}, 400),
    ("rebinding-a-post", "127.0.0.1", "", "POST", {"Host": "attacker.example"}, 400),
    ("no-host", "127.0.0.1", "", "GET", {}, 400),
    ("garbage-host", "127.0.0.1", "", "GET", {"Host": "a b"}, 400),
    ("lan-ip-on-loopback", "127.0.0.1", "", "GET", {"Host": "192.168.1.5:7860"}, 400),
    ("bound-address", "192.168.1.5", "", "GET", {"Host": "192.168.1.5:7860"}, 200),
    ("wildcard-takes-ips", "0.0.0.0", "", "GET", {"Host": "10.0.0.7:7860"}, 200),
    ("wildcard-not-names", "0.0.0.0", "", "GET", {"Host": "attacker.example:7860"}, 400),
    ("proxy-name", "127.0.0.1", "rag.example.org", "GET", {"Host": "rag.example.org"}, 200),
    ("proxy-name-case", "127.0.0.1", "rag.example.org", "GET", {"Host": "RAG.Example.Org."}, 200),
    ("star", "127.0.0.1", "*", "GET", {"Host": "anything.example"}, 200),
    # Origin and Sec-Fetch-Site
    ("same-origin-post", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Origin": "http://127.0.0.1:7860"}, 200),
    ("no-origin-post", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860"}, 200),
    ("other-site-post", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Origin": "https://evil.example"}, 403),
    ("other-port-post", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Origin": "http://127.0.0.1:8000"}, 403),
    ("other-loopback-name", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Origin": "http://localhost:7860"}, 403),
    ("null-origin", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Origin": "null"}, 403),
    ("other-site-get", "127.0.0.1", "", "GET", {"Host": "127.0.0.1:7860", "Origin": "https://evil.example"}, 403),
    ("other-site-delete", "127.0.0.1", "", "DELETE", {"Host": "127.0.0.1:7860", "Origin": "http://evil.example"}, 403),
    ("cross-site-post", "127.0.0.1", "", "POST", {"Host": "127.0.0.1:7860", "Sec-Fetch-Site": "cross-site"}, 403),
    ("cross-site-link", "127.0.0.1", "", "GET", {"Host": "127.0.0.1:7860", "Sec-Fetch-Site": "cross-site"}, 200),
    ("same-origin-fetch", "127.0.0.1", "", "POST",
     {"Host": "127.0.0.1:7860", "Origin": "http://127.0.0.1:7860", "Sec-Fetch-Site": "same-origin"}, 200),
    ("default-port", "127.0.0.1", "", "POST", {"Host": "localhost", "Origin": "http://localhost:80"}, 200),
    ("proxy-origin", "127.0.0.1", "rag.example.org", "POST",
     {"Host": "127.0.0.1:7860", "Origin": "https://rag.example.org"}, 200),
]


@pytest.mark.parametrize("bound,extra,method,headers,status", [g[1:] for g in GUARDED], ids=[g[0] for g in GUARDED])
def test_origin_guard(bound, extra, method, headers, status):
    inner = Inner()
    app = OriginGuard(inner, HostPolicy(bound, extra.split(",")))
    got, out_headers, body, reads = call(app, method, "/v1/documents", headers, b"planted")
    assert got == status, body
    if status != 200:
        assert inner.called == 0 and reads == 0  # refused from the headers: nothing read, nothing run
        error = json.loads(body)["error"]
        assert ("RAG_ALLOWED_HOSTS" in error["message"]) == (status == 400 or "Origin" in headers)
        assert out_headers["connection"] == "close"


def test_a_refused_page_request_is_plain_text_naming_the_setting():
    status, headers, body, _ = call(OriginGuard(Inner(), HostPolicy()), "GET", "/", {"Host": "attacker.example"})
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert body.decode().startswith("the Host 'attacker.example' is not a name of this server (127.0.0.1, [::1], "
                                    "localhost)") and "RAG_ALLOWED_HOSTS" in body.decode()


# -- keys before bodies ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/documents", "/v1/chat/completions", "/v1", "/openapi.json", "/docs", "/redoc"])
def test_without_a_key_the_api_refuses_before_reading_the_body(path):
    inner = Inner()
    status, headers, body, reads = call(KeyCheck(inner, ["k1", "k2"]), "POST", path,
                                        {"Content-Type": "multipart/form-data; boundary=x"}, b"x" * 1000)
    assert (status, reads, inner.called) == (401, 0, 0)
    assert json.loads(body)["error"]["code"] == "invalid_api_key" and headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization,status", [
    ("Bearer k2", 200), ("bearer k1", 200), ("Bearer wrong", 401), ("Basic k1", 401), ("Bearer ", 401), ("", 401),
    ("Bearer é", 401),
])
def test_key_check(authorization, status):
    headers = {"Authorization": authorization} if authorization else {}
    assert call(KeyCheck(Inner(), ["k1", "k2"]), "GET", "/v1/models", headers)[0] == status


def test_without_keys_or_off_the_api_nothing_is_asked():
    assert call(KeyCheck(Inner(), []), "GET", "/v1/models")[0] == 200
    assert call(KeyCheck(Inner(), ["k"]), "GET", "/")[0] == 200  # the page has its own login
    assert call(KeyCheck(Inner(), ["k"]), "POST", "/gradio_api/queue/join")[0] == 200


# -- the upload limit is the upload routes' only; every route has a bound ----------------------------------------------------

@pytest.mark.parametrize("method,path,content_type,size,status", [
    ("POST", "/v1/documents", "multipart/form-data; boundary=x", 3 << 20, 200),  # under the 5 MB upload limit
    ("POST", "/v1/documents", "multipart/form-data; boundary=x", 6 << 20, 413),
    ("POST", "/v1/chat/completions", "multipart/form-data; boundary=x", 3 << 20, 413),  # not an upload route
    ("POST", "/v1/search", "multipart/mixed", MAX_JSON_BYTES + 1, 413),
    ("POST", "/v1/chat/completions", "application/json", MAX_JSON_BYTES, 200),
    # the page's routes: Gradio's upload gets the file limit, its queue the page's own bound
    ("POST", "/gradio_api/upload", "multipart/form-data; boundary=x", 3 << 20, 200),
    ("POST", "/gradio_api/upload", "multipart/form-data; boundary=x", 6 << 20, 413),
    ("POST", "/gradio_api/queue/join", "application/json", MAX_JSON_BYTES + 1, 200),
    ("POST", "/gradio_api/queue/join", "application/json", MAX_PAGE_BYTES + 1, 413),
    ("POST", "/gradio_api/queue/join", "multipart/form-data; boundary=x", 9 << 20, 413),  # not an upload route
])
def test_body_limits(method, path, content_type, size, status):
    inner = Inner()
    got, _, body, _ = call(BodyLimit(inner, upload_limit=5 << 20), method, path,
                           {"Content-Type": content_type, "Content-Length": str(size)}, b"")
    assert got == status, body
    if status == 413:
        assert inner.called == 0


# -- the queue's bound ------------------------------------------------------------------------------

def test_a_bounded_place_is_refused_when_the_queue_is_full():
    gate = Gate(limit=1, max_waiting=2)
    holder = gate.enter(poll=0)
    assert next(holder, "in") == "in"  # runs at once
    waiting = [gate.enter(poll=0, bounded=True) for _ in range(2)]
    assert [next(w) for w in waiting] == [1, 2]
    with pytest.raises(QueueFull) as e:
        next(gate.enter(poll=0, bounded=True))
    assert e.value.waiting == 2 and 1 <= e.value.retry_after <= 600
    page = gate.enter(poll=0)  # the page's own queue is bounded by Gradio, not here
    assert next(page) == 3
    page.close()
    waiting[0].close()  # one gives up: a place frees
    assert next(gate.enter(poll=0, bounded=True)) == 2


# -- errors say what to fix and nothing more ---------------------------------------------------------

def test_a_client_hears_no_path_and_no_backend_url_the_log_keeps_them(caplog):
    from rag.errors import BackendUnavailable, IndexBusy, InvalidInput, ModelUnavailable
    from rag.present.messages import error_message
    from ui.api_errors import from_rag_error

    busy = IndexBusy("another ingestion is running on /srv/rag (lock /srv/rag/ingest.lock); wait for it to finish")
    down = BackendUnavailable("the LLM server at http://10.9.8.7:8080/v1 answered 500: secret detail")
    broken = ModelUnavailable("cannot assemble /srv/rag/models/qwen.gguf")
    expected = {busy: (409, "index_busy"), down: (503, "backend_unavailable"), broken: (500, None)}
    for error, (status, code) in expected.items():
        api = from_rag_error(error)
        page = error_message(error, "fr", remote=True)
        assert (api.status, api.code) == (status, code)
        for said in (api.message, page):
            assert "/srv" not in said and "10.9.8.7" not in said and "http" not in said and "secret" not in said, said
    assert "try again when it is done" in from_rag_error(busy).message
    assert "/srv/rag/ingest.lock" in caplog.text and "http://10.9.8.7:8080/v1" in caplog.text
    assert "/srv/rag" in error_message(busy, "en")  # the CLI's user ran the command: they see it all
    wrong = InvalidInput("no document named 'x.txt'")
    assert from_rag_error(wrong).message == error_message(wrong, "en", remote=True).split(": ", 1)[1] == str(wrong)
