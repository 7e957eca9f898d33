"""The `openai` LLM backend against a real HTTP server on loopback speaking the OpenAI protocol.

The server is a few lines of stdlib (it streams Server-Sent Events like llama.cpp's server and
vLLM do); the client side is the real `openai` package, so streaming, the timeout and the error
mapping are exercised for real.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag import load_settings
from rag.errors import BackendUnavailable
from rag.llm import OpenAILLM

REPLY = ["Campuchia ", "đã bắt giữ ", "2.141 nghi phạm [1]."]


class Handler(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append(body)
        if Handler.mode == "error":
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "model is loading"}}')
            return
        if Handler.mode == "slow":
            time.sleep(3)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in REPLY:
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The "slow" handler writes after the client gave up (that is the point of the test): the
        # broken pipe must not be printed into whichever test runs next.
        pass


@pytest.fixture
def server():
    srv = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Handler.mode, Handler.seen = "ok", []
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def llm(url, **kw):
    return OpenAILLM(load_settings(llm_backend="openai", llm_base_url=url, llm_model="m1", **kw))


MESSAGES = [{"role": "user", "content": "hi"}]


def test_streams_deltas_and_sends_settings(server):
    assert list(llm(server).stream(MESSAGES, max_tokens=50, temperature=0.0)) == REPLY
    sent = Handler.seen[0]
    assert (sent["model"], sent["max_tokens"], sent["stream"]) == ("m1", 50, True)


def test_http_error_is_reported_with_status(server):
    Handler.mode = "error"
    with pytest.raises(BackendUnavailable, match="answered 503"):
        list(llm(server).stream(MESSAGES, 50, 0.0))
    assert len(Handler.seen) == 1  # no retries


def test_timeout_is_explicit_and_not_retried(server):
    Handler.mode = "slow"
    t = time.monotonic()
    with pytest.raises(BackendUnavailable, match="did not answer within 1 s"):
        list(llm(server, llm_timeout=1).stream(MESSAGES, 50, 0.0))
    assert time.monotonic() - t < 2.5 and len(Handler.seen) == 1


def test_dead_endpoint_fails_fast():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    with pytest.raises(BackendUnavailable, match=f"cannot reach the LLM server at http://127.0.0.1:{port}/v1"):
        list(llm(f"http://127.0.0.1:{port}/v1").stream(MESSAGES, 50, 0.0))
    assert time.monotonic() - t < 2
