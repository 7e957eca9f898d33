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
from rag.backends.llm import OpenAILLM

REPLY = ["Campuchia ", "đã bắt giữ ", "2.141 nghi phạm [1]."]


def _chunk(model: str, content: str | None, finish: str | None = None) -> bytes:
    delta = {"content": content} if content is not None else {}
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    """Modes: ok; error (503); slow (3 s before the headers); stall (two deltas, then 3 s of
    silence); cut (two deltas, then the socket closes: no finish_reason, no [DONE]); cut-chunked
    (the same inside a chunked body, so the client sees a truncated chunk)."""

    mode = "ok"
    seen: list = []
    reply = REPLY  # the reply's pieces, or a function of the request's body giving them

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append(body)
        mode = Handler.mode
        if mode == "error":
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "model is loading"}}')
            return
        if mode == "slow":
            time.sleep(3)
        if mode == "cut-chunked":
            self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if mode == "cut-chunked":
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = Handler.reply(body) if callable(Handler.reply) else Handler.reply
        for i, piece in enumerate(pieces):
            if mode in ("stall", "cut", "cut-chunked") and i == 2:
                if mode == "stall":
                    time.sleep(3)
                elif mode == "cut-chunked":
                    self.wfile.write(b"400\r\ndata: {")  # announces 1024 bytes, sends 7, hangs up
                    self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = _chunk(body["model"], piece)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if mode == "cut-chunked" else data)
            self.wfile.flush()
        self.wfile.write(_chunk(body["model"], None, "stop"))  # servers end with a finish_reason
        self.wfile.write(b"data: [DONE]\n\n")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The "slow" handler writes after the client gave up (that is the point of the test): the
        # broken pipe must not be printed into whichever test runs next.
        pass


def start_server(port: int = 0) -> QuietServer:
    """A loopback OpenAI-compatible server (reused by tests/test_faults.py); Handler.mode picks its behaviour."""
    srv = QuietServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def stop_server(srv: QuietServer) -> None:
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def server():
    Handler.mode, Handler.seen, Handler.reply = "ok", [], REPLY
    srv = start_server()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    stop_server(srv)


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


@pytest.mark.parametrize("mode", ["cut", "cut-chunked"])
def test_stream_cut_mid_answer_is_an_error_not_a_short_answer(server, mode):
    # Without the check, "cut" ends quietly and the two deltas would pass for a whole answer.
    Handler.mode = mode
    got = []
    with pytest.raises(BackendUnavailable, match="closed the connection before the answer was complete|broke off"):
        for piece in llm(server).stream(MESSAGES, 50, 0.0):
            got.append(piece)
    assert got == REPLY[:2]


def test_stall_mid_stream_hits_the_timeout(server):
    Handler.mode = "stall"
    t = time.monotonic()
    with pytest.raises(BackendUnavailable, match="stopped answering for more than 1 s"):
        list(llm(server, llm_timeout=1).stream(MESSAGES, 50, 0.0))
    assert time.monotonic() - t < 2.5
