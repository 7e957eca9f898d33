"""How fast `rag serve` refuses what its guard refuses, from the headers alone (ui/guard.py).

Serves the same app as `rag serve` (fake embedder and LLM, one API key) in this process on a free
loopback port, then times, on the client side:
- the 401 to a keyless upload that announces 50 MB and sends no byte of it (the body is never read);
- `GET /v1/models` with the key, and the 400 to a request with a foreign `Host` (each on a new
  connection: a refusal closes it).

    python -m bench.guard_timing          # docs/reliability.md, "Threat model of rag serve"
"""
from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time


def main() -> None:
    import httpx
    import uvicorn

    from bench.servers import free_port
    from rag import Assistant, load_settings
    from ui.server import build_server

    home = tempfile.mkdtemp(prefix="rag-guard-")
    assistant = Assistant(load_settings(home=home, store_backend="memory", embed_backend="fake", llm_backend="fake"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_server(assistant, keys=frozenset({"k"})), host="127.0.0.1",
                                           port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        waits = []
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(f"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                             "multipart/form-data; boundary=x\r\nContent-Length: 50000000\r\n\r\n".encode())
                started = time.perf_counter()
                reply = sock.recv(4096)
                waits.append(time.perf_counter() - started)
            assert reply.startswith(b"HTTP/1.1 401"), reply[:80]
        print(f"401 to a keyless 50 MB upload, no body sent: median {statistics.median(waits) * 1000:.2f} ms, "
              f"max {max(waits) * 1000:.2f} ms ({len(waits)} tries)")
        with httpx.Client() as client:
            for label, headers, status in (("GET /v1/models with the key", {"Authorization": "Bearer k"}, 200),
                                           ("a foreign Host refused", {"Host": "attacker.example"}, 400)):
                times = []
                for _ in range(200):
                    started = time.perf_counter()
                    r = client.get(f"http://127.0.0.1:{port}/v1/models", headers=headers)
                    times.append(time.perf_counter() - started)
                    assert r.status_code == status, r.text
                print(f"{label}: median {statistics.median(times) * 1000:.2f} ms (200 tries)")
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main()
