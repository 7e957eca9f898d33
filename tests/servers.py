"""The real-server helpers the tests share with the bench scripts; written once, in bench/servers.py
(lab code imports nothing from tests/, so the helpers live on its side). `served` is the tests' own:
`rag serve`'s app (ui.server.build_server) over a given Assistant, in this process, on a real port."""
from __future__ import annotations

import contextlib
import threading
import time

from bench.servers import BIN, ServerFailed, chroma_server, free_port, llama_server, running_server, stop  # noqa: F401


@contextlib.contextmanager
def served(assistant, **kw):
    import uvicorn

    from ui.server import build_server

    app = build_server(assistant, **kw)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        # Forced: a client still connected (the Gradio client's event stream) would hold a graceful
        # shutdown for its whole timeout, and nothing after the test needs its connections closed kindly.
        srv.should_exit = srv.force_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the server did not stop"
