"""Load test of `rag serve`: N simultaneous chat sessions on its Gradio API, bounded in count and time.

    python -m bench.load                # 20 sessions, the scripted fake LLM (tests the serving path)
    python -m bench.load --local        # the packaged local model (slow: answers queue one at a time)
    python -m bench.load --url URL      # an already running server (e.g. behind the proxy of docs/deploy.md)

It starts `rag serve` on a free loopback port (fresh data directory, the seeds ingested), opens one
`gradio_client.Client` per session (each its own Gradio session) and submits one question each to
the `/ask` endpoint at the same moment. It only relies on that endpoint: inputs (question, chat
history as a list of {role, content}), first output the updated history, whose last message is the
answer. Reports errors (must be 0), answers received (must be N), latency, and the queue positions
the jobs reported while waiting (Gradio's job status: rank / queue size), so queueing is visible.
Exit status 1 when an error occurred or an answer is missing. Writes JSON to bench/results/load.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import ROOT, fresh_home, ingest_seeds, machine, say, table
from bench.servers import rag_serve
from rag.evaluation.metrics import percentile

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "seeds" / "questions.jsonl").open()]


def session(url: str, i: int, start: threading.Barrier, deadline: float) -> dict:
    from gradio_client import Client
    from gradio_client.utils import Status

    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    question = QUESTIONS[i % len(QUESTIONS)]
    start.wait()  # every session submits at the same moment
    t0 = time.perf_counter()
    job = client.submit(question, [], api_name="/ask")
    ranks: list[tuple[int, int]] = []
    while not job.done():
        st = job.status()
        if st.code == Status.IN_QUEUE and st.rank is not None:
            seen = (int(st.rank), int(st.queue_size or 0))
            if not ranks or ranks[-1] != seen:  # record changes only, not every poll
                ranks.append(seen)
        if time.monotonic() > deadline:
            job.cancel()
            return {"session": i, "error": "timed out", "ranks": ranks}
        time.sleep(0.05)
    try:
        outputs = job.result(timeout=max(1.0, deadline - time.monotonic()))
    except Exception as e:  # whatever the client raises is an error to count, with its message
        return {"session": i, "error": f"{type(e).__name__}: {e}", "ranks": ranks}
    finally:
        client.close() if hasattr(client, "close") else None
    history = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    answer = _text(history[-1]["content"]) if history else ""
    # The chat's own queue for the model (ui.app.Gate): "⏳ ... N ahead" shown while the sources are up.
    told = [_text(o[0][-1]["content"]) for o in job.outputs() if isinstance(o, (list, tuple)) and o and o[0]]
    queued_in_chat = any(t.startswith("⏳") for t in told)
    error = None
    if not answer.strip() or answer.startswith("⚠️"):
        error = f"no answer: {answer[:200]!r}"
    return {"session": i, "question": question, "seconds": time.perf_counter() - t0, "answer": answer[:300],
            "ranks": ranks, "queued_in_chat": queued_in_chat, "error": error}


def _text(content) -> str:
    """A chat message's text: a string, or (Gradio 6) a list of parts such as {"type": "text", "text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return json.dumps(content, ensure_ascii=False)


def run_load(url: str, sessions: int, timeout: float) -> dict:
    barrier = threading.Barrier(sessions)
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        results = list(pool.map(lambda i: session(url, i, barrier, deadline), range(sessions)))
    errors = [r for r in results if r["error"]]
    ranks = sorted({rank for r in results for rank, _ in r["ranks"]})
    secs = [r["seconds"] for r in results if not r["error"]]
    return {
        "sessions": sessions, "answers": len(results) - len(errors), "errors": len(errors),
        "error_messages": sorted({r["error"] for r in errors})[:10],
        "latency_s_p50": percentile(secs, 50), "latency_s_p90": percentile(secs, 90),
        "latency_s_max": max(secs, default=None),
        "queue_ranks_seen": ranks,
        "max_queue_size_seen": max((q for r in results for _, q in r["ranks"]), default=0),
        "sessions_that_waited_in_queue": sum(1 for r in results if r["ranks"]),
        "sessions_shown_the_chat_queue_notice": sum(1 for r in results if r.get("queued_in_chat")),
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=None, help="seconds for the whole run (default 120, 1200 with --local)")
    ap.add_argument("--local", action="store_true", help="answer with the packaged local model instead of the fake LLM")
    ap.add_argument("--url", help="load an already running server instead of starting one")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = ap.parse_args(argv)
    timeout = args.timeout or (1200.0 if args.local else 120.0)
    backend = "local" if args.local else "fake"
    if args.url:
        result = run_load(args.url, args.sessions, timeout)
    else:
        with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
            home = fresh_home(Path(tmp) / "home")
            env = {"RAG_LLM_BACKEND": backend}
            say("ingesting the seeds into a fresh data directory...")
            ingest_seeds(home, env)
            with rag_serve(home, env, Path(tmp) / "serve.log") as (url, _pid):
                say(f"rag serve at {url} (LLM backend: {backend}); {args.sessions} sessions...")
                result = run_load(url, args.sessions, timeout)
    result = {"machine": machine(), "llm_backend": backend if not args.url else "(external server)", **result}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(table([[result["sessions"], result["answers"], result["errors"], result["latency_s_p50"],
                  result["latency_s_p90"], result["latency_s_max"], result["sessions_that_waited_in_queue"],
                  result["max_queue_size_seen"]]],
                ["sessions", "answers", "errors", "p50 s", "p90 s", "max s", "queued sessions", "max queue"]))
    print(f"queue ranks seen: {result['queue_ranks_seen']}")
    print(f"sessions shown the in-chat queue notice (waiting for the model): "
          f"{result['sessions_shown_the_chat_queue_notice']}")
    for m in result["error_messages"]:
        print(f"error: {m}")
    print(f"written to {args.out}")
    return 0 if result["errors"] == 0 and result["answers"] == result["sessions"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
