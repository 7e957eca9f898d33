"""What the HTTP API adds over `rag.ask_stream`, measured in the same run on the same Assistant.

For each question, in turn: the time to the sources and to the first word of the answer, once
through `Assistant.ask_stream` in process and once through `POST /v1/chat/completions` (streamed,
over loopback HTTP, from the same server `rag serve` runs). Prints the median and p95 of each and
of the per-question differences (what the API adds).

    python -m bench.api_overhead                  # fake embedder and LLM: the API's own cost
    python -m bench.api_overhead --configured     # the configured backends (RAG_*), e.g. the real model

With the fakes, retrieval and "generation" take milliseconds, so the differences are the API's own
cost (HTTP, JSON, SSE, the queue, threads). Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.servers import free_port
from rag import Assistant, Delta, Sources, load_dataset, load_settings
from rag.evaluation.metrics import median, percentile

ROOT = Path(__file__).resolve().parent.parent


def direct(assistant: Assistant, question: str) -> tuple[float, float]:
    """Seconds to the Sources event and to the first Delta, in process."""
    started = time.perf_counter()
    sources = first = None
    events = assistant.ask_stream(question)
    for event in events:
        now = time.perf_counter() - started
        if isinstance(event, Sources) and sources is None:
            sources = now
        elif isinstance(event, Delta) and event.text and first is None:
            first = now
    return sources, first if first is not None else time.perf_counter() - started


def through_api(client: httpx.Client, url: str, model: str, question: str) -> tuple[float, float]:
    """Seconds to the chunk carrying the sources and to the first content delta, over HTTP."""
    started = time.perf_counter()
    sources = first = None
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": question}]}
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            now = time.perf_counter() - started
            chunk = json.loads(line[6:])
            if "sources" in chunk and sources is None:
                sources = now
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content") and first is None:
                first = now
    return sources, first if first is not None else time.perf_counter() - started


def serve_in_thread(assistant: Assistant):
    """The server `rag serve` runs (page and API), on a free loopback port in this process."""
    import uvicorn

    from ui.server import build_server

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_server(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"median_ms": round(median(ms), 1), "p95_ms": round(percentile(ms, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--configured", action="store_true", help="use the configured backends, not the fakes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api_overhead.json")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="rag-api-bench-"))
    try:
        backends = {} if args.configured else {"embed_backend": "fake", "llm_backend": "fake", "min_score": -1.0}
        assistant = Assistant(load_settings(home=home, **backends))
        assistant.ingest([ROOT / "seeds"])
        questions = [q.text for q in load_dataset(ROOT / "eval" / "seeds").questions][: args.questions]
        server, thread, url = serve_in_thread(assistant)
        model = httpx.get(f"{url}/v1/models").json()["data"][0]["id"]
        rows = []
        with httpx.Client(timeout=600) as client:
            direct(assistant, questions[0]), through_api(client, url, model, questions[0])  # warm both paths
            for q in questions:
                d, a = direct(assistant, q), through_api(client, url, model, q)
                rows.append({"question": q, "direct": d, "api": a})
        server.should_exit = True
        thread.join(10)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    result = {"questions": len(rows), "backends": "configured" if args.configured else "fake"}
    for i, what in enumerate(("sources", "first_token")):
        result[what] = {
            "direct": summary([r["direct"][i] for r in rows]),
            "api": summary([r["api"][i] for r in rows]),
            "added": summary([r["api"][i] - r["direct"][i] for r in rows]),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(rows)} questions, {result['backends']} backends (ms)")
    print(f"{'':14}{'direct p50':>12}{'api p50':>10}{'added p50':>11}{'added p95':>11}")
    for what in ("sources", "first_token"):
        r = result[what]
        print(f"{what:14}{r['direct']['median_ms']:>12}{r['api']['median_ms']:>10}"
              f"{r['added']['median_ms']:>11}{r['added']['p95_ms']:>11}")


if __name__ == "__main__":
    main()
