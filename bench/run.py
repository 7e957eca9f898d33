"""The benchmark suite: ingestion, retrieval scaling, answers (ours vs naive llama-index), memory.

    python -m bench.run --quick     # a small run that checks every part works (a few minutes)
    python -m bench.run             # the full run (tens of minutes on 2 cores)
    python -m bench.run --distractors --sections ingest    # ingestion on the larger corpus

Prints a table per section and writes everything, with the machine, to bench/results/run.json
(--out). Not a test: numbers depend on the machine and on what else it runs. Needs the `local` and
`bench` extras (pip install -e '.[local,bench]') and the benchmark corpus (--dataset).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, XQUAD, fresh_home, ingest_seeds, machine, say, table

SECTIONS = ("retrieval", "ingest", "memory", "answers")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: validates the script, numbers are not meaningful")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    ap.add_argument("--dataset", type=Path, default=XQUAD, help="the xquad-piaf benchmark folder")
    ap.add_argument("--distractors", action="store_true", help="ingest extra/distractors.jsonl too (2,445 more passages)")
    ap.add_argument("--questions", type=int, default=None, help="seed questions timed per pipeline (default 8, quick 2)")
    ap.add_argument("--no-naive", action="store_true", help="skip the llama-index comparison")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "run.json")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    quick = args.quick
    n_questions = args.questions or (2 if quick else 8)
    result: dict = {"machine": machine(), "quick": quick, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    m = result["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Python {m['python']}, "
          f"load average {m['load_avg_1min_at_start']:.2f} at start")

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if "retrieval" in sections:
            from bench.retrieval import bench_retrieval

            sizes = [1000, 2000] if quick else [1000, 10_000, 100_000]
            rows = result["retrieval"] = bench_retrieval(tmp, sizes, queries=20 if quick else 100)
            print("\nretrieval: store query for 30 candidates, synthetic 384-d unit vectors")
            print(table([[r["backend"], r["chunks"], r["p50_ms"], r["p95_ms"], r["insert_s"]] for r in rows],
                        ["chroma", "chunks", "p50 ms", "p95 ms", "insert s"]))
        if "ingest" in sections:
            from bench.ingestion import bench_ingestion

            r = result["ingest"] = bench_ingestion(tmp, args.dataset, 20 if quick else None, args.distractors)
            print(f"\ningestion: {r['passages']} passages -> {r['chunks']} chunks + {r['sentences']} sentences "
                  f"= {r['texts_embedded']} texts embedded")
            print(table([["pipeline, end to end", r["pipeline_s"], r["pipeline_passages_per_s"], r["pipeline_texts_per_s"]],
                         ["embedder alone, same texts and batches", r["embedder_alone_s"], None, r["embedder_texts_per_s"]]],
                        ["", "seconds", "passages/s", "texts/s"]))
            print(f"pipeline throughput = {100 * r['pipeline_share_of_embedder_throughput']:.0f}% of the embedder's")
        home = None
        if "memory" in sections or "answers" in sections:
            home = fresh_home(tmp / "seeds-home")
            say("ingesting the seeds (rag ingest)...")
            ingest_seeds(home)
        if "memory" in sections:
            from bench.answers import bench_memory, seed_questions

            r = result["memory"] = bench_memory(home, seed_questions()[0]["question"])
            print("\nmemory of `rag serve` (local model)")
            print(table([["idle after start", r["idle_rss_mb"], r["idle_peak_rss_mb"]],
                         ["answering one question", r["answering_max_sampled_rss_mb"], r["peak_rss_mb_after_answer"]]],
                        ["", "RSS MB", "peak RSS MB (VmHWM)"]))
        if "answers" in sections:
            from bench.answers import bench_answers

            naive = not args.no_naive
            if naive:
                try:
                    import llama_index.vector_stores.chroma  # noqa: F401
                except ImportError:
                    say("llama-index-vector-stores-chroma is missing (pip install -e '.[bench]'): no naive comparison")
                    naive = False
            r = result["answers"] = bench_answers(home, n_questions, naive)
            print(f"\nanswers with the local model: {r['questions_timed']} seed questions timed; "
                  f"recall@{r['top_k']} (gold document retrieved) over {r['questions_for_recall']}")
            k = r["top_k"]
            rows = []
            for name in ("ours", "naive"):
                if name in r:
                    x = r[name]
                    label = f"ours (k={k})" if name == "ours" else f"naive llama-index (k={x['similarity_top_k']})"
                    rows.append([label, x["sources_s_p50"], x["sources_s_p90"], x["first_token_s_p50"],
                                 x["first_token_s_p90"], x["total_s_p50"], x["total_s_p90"], x["recall_at_k"],
                                 x.get(f"recall_at_{k}", x["recall_at_k"])])
            print(table(rows, ["pipeline", "sources p50 s", "p90", "first token p50 s", "p90", "full p50 s", "p90",
                               "recall (its k)", f"recall@{k}"]))
            if "naive" in r:
                print(f"naive LLM calls per question: {r['naive']['llm_calls_per_question']}")
            if r.get("first_token_speedup_p50"):
                print(f"first token, naive / ours (p50): {r['first_token_speedup_p50']:.2f}x")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
