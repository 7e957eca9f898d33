"""Ingestion's embedding throughput against an OpenAI-compatible server that takes a fixed time per
request, with 1, 2, 4 and 8 requests in flight (RAG_EMBED_CONCURRENCY).

    python -m bench.embed_concurrency [--delay 0.2] [--requests 32] [--runs 3]

The server stands for a GPU server that batches concurrent requests (vLLM, text-embeddings-inference):
each request takes `delay` seconds whatever else is in flight. Prints texts per second (median of
`runs`) and the speed-up over one request at a time.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class FixedTimeServer(BaseHTTPRequestHandler):
    """`/v1/embeddings` that answers each text "passage N" with [N, 1] after `delay` seconds, and
    counts the requests it holds at once."""

    delay = 0.2
    protocol_version = "HTTP/1.1"
    in_flight = most_in_flight = 0
    _lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.in_flight = cls.most_in_flight = 0

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        cls = FixedTimeServer
        with cls._lock:
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(cls.delay)
            data = [{"object": "embedding", "index": i, "embedding": [float(t.split()[-1]), 1.0]}
                    for i, t in enumerate(body["input"])]
        finally:
            with cls._lock:
                cls.in_flight -= 1
        send_embeddings(self, data, body["model"])


def send_embeddings(handler: BaseHTTPRequestHandler, data: list[dict], model: str) -> None:
    """Answer an OpenAI `/v1/embeddings` request with `data` (its list of embedding objects)."""
    out = json.dumps({"object": "list", "data": data, "model": model,
                      "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(out)))
    handler.end_headers()
    handler.wfile.write(out)


@contextlib.contextmanager
def serve(delay: float = 0.2) -> Iterator[str]:
    FixedTimeServer.delay = delay
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FixedTimeServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        srv.shutdown()
        srv.server_close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8, help="texts per request")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    from rag import load_settings
    from rag.backends.embeddings import make_embedder

    texts = [f"passage {i}" for i in range(args.requests * args.batch)]
    rates = {}
    with serve(args.delay) as url:
        for concurrency in (1, 2, 4, 8):
            e = make_embedder("openai", load_settings(embed_backend="openai", embed_base_url=url,
                                                      embed_concurrency=concurrency))
            e.embed_batch_size = args.batch
            e.get_text_embedding_batch(texts[: args.batch * concurrency])  # connections open
            seconds = []
            for _ in range(args.runs):
                t = time.perf_counter()
                vectors = e.get_text_embedding_batch(texts)
                seconds.append(time.perf_counter() - t)
                assert [v[0] for v in vectors] == [float(i) for i in range(len(texts))]
            rates[concurrency] = len(texts) / statistics.median(seconds)
            print(f"{concurrency} in flight: {rates[concurrency]:7.1f} texts/s "
                  f"(x{rates[concurrency] / rates[1]:.2f}), {args.requests} requests of {args.batch} texts, "
                  f"{args.delay * 1000:.0f} ms each, median of {args.runs}", flush=True)


if __name__ == "__main__":
    main()
