"""Quick end-to-end numbers on the real packaged models: ingest, retrieval, answer latency.

Prints a table and writes JSON (default bench/results/quick.json). Not a test: run it by hand,
`python bench/quick.py`, on an otherwise idle machine. Uses a throw-away data directory but
reuses the assembled model from .rag/models when present.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from rag import Assistant, Delta, Final, Sources, load_settings
from rag.evaluation.metrics import median, percentile

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Combien de cas de fraude les organes de sécurité publique ont-ils résolus en 2022 ?",
    "Combien de repaires l'opération Première Lumière a-t-elle détruits ?",
    "What share of telecom fraud originates overseas according to Sun Maoli?",
    "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?",
    "緬甸向中方移交了多少名涉詐犯罪嫌疑人？",
    "印尼巴淡岛抓获了多少名电信网络诈骗犯罪嫌疑人？",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, help="ingest repetitions")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "quick.json"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    models = ROOT / ".rag" / "models"
    if models.is_dir():
        shutil.copytree(models, tmp / f"ingest{args.runs - 1}" / "models")
    ingest_s = []
    for i in range(args.runs):
        # A fresh directory per run: Chroma caches its client per path inside a process, so deleting
        # and reusing one path would leave that cache pointing at removed files.
        a = Assistant(load_settings(home=tmp / f"ingest{i}"))
        a.embedder.get_query_embedding("warm up")  # exclude the one-off model load
        t = time.perf_counter()
        report = a.ingest([ROOT / "seeds"])
        ingest_s.append(time.perf_counter() - t)
    chunks = report.chunks
    a = Assistant(load_settings(home=tmp / f"ingest{args.runs - 1}"))
    a.search("warm up", k=5)
    search_ms = []
    for _ in range(5):
        for q in QUESTIONS:
            t = time.perf_counter()
            a.search(q, k=5)
            search_ms.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    a.llm.warm_up() if hasattr(a.llm, "warm_up") else None
    load_s = time.perf_counter() - t
    rows = []
    for q in QUESTIONS:
        t = time.perf_counter()
        sources = first = None
        for ev in a.ask_stream(q):
            now = time.perf_counter() - t
            if isinstance(ev, Sources):
                sources = now
            elif isinstance(ev, Delta) and first is None:
                first = now
            elif isinstance(ev, Final):
                rows.append({"question": q, "sources_s": sources, "first_token_s": first, "total_s": now,
                             "answer": ev.answer.text, "refused": ev.answer.refused,
                             "cited": sorted({c.document for c in ev.answer.citations})})
    result = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, {platform.python_version()}",
        "ingest_seeds_s_median": median(ingest_s), "ingest_runs_s": ingest_s, "chunks": chunks,
        "chunks_per_s": chunks / median(ingest_s),
        "search_ms_median": median(search_ms), "search_ms_p95": percentile(search_ms, 95),
        "llm_load_s": load_s,
        "sources_s_median": median([r["sources_s"] for r in rows]),
        "first_token_s_median": median([r["first_token_s"] for r in rows]),
        "total_s_median": median([r["total_s"] for r in rows]),
        "answers": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    for k, v in result.items():
        if k != "answers":
            print(f"{k:24} {v}")
    for r in rows:
        print(f"{r['first_token_s'] or 0:5.1f}s {r['total_s']:5.1f}s {r['cited']} {r['answer'][:90]}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
