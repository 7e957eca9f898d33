"""Keyword-only (BM25) retrieval recall on the multilingual evaluation set.

Indexes every passage of DATASET/passages.jsonl with its language in a throw-away KeywordIndex,
asks every question of DATASET/questions.jsonl in its own language, and prints recall@5 and
recall@10 overall, same-language vs cross-language, and per question -> passage language pair,
then tokenisation time and query latency. Not a test: run it by hand,
`python bench/keyword_recall.py --dataset /work/shared/eval/xquad-piaf`.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rag.evaluation.metrics import median, percentile
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from rag.text.tokenize import tokens

DEFAULT_DATASET = Path("/work/shared/eval/xquad-piaf")


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="folder with passages.jsonl and questions.jsonl")
    args = ap.parse_args()
    passages = load(args.dataset / "passages.jsonl")
    questions = load(args.dataset / "questions.jsonl")

    tokens("warm up 緬甸 nghi phạm arrêtés arrested", None)  # jieba, OpenCC and stemmers load once
    t = time.perf_counter()
    for p in passages:
        tokens(p["text"], p["lang"])
    tokenize_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        index = KeywordIndex(Path(tmp) / "keywords.sqlite")
        t = time.perf_counter()
        index.add([KeywordItem(p["id"], p["id"], p["text"], p["lang"]) for p in passages])
        index_s = time.perf_counter() - t

        hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # group -> (hit@5, hit@10)
        latencies = []
        for q in questions:
            t = time.perf_counter()
            ranked = [chunk_id for chunk_id, _ in index.search(q["question"], 10, q["lang"])]
            latencies.append(time.perf_counter() - t)
            gold = set(q["gold_passage_ids"])
            row = (bool(gold & set(ranked[:5])), bool(gold & set(ranked[:10])))
            same = q["lang"] == q["gold_passage_lang"]
            hits["all"].append(row)
            hits["same-language" if same else "cross-language"].append(row)
            hits[f"{q['lang']} -> {q['gold_passage_lang']}"].append(row)
        index.close()

    print(f"{'questions':<16} {'n':>5} {'R@5':>6} {'R@10':>6}")
    order = ["all", "same-language", "cross-language"] + sorted(k for k in hits if "->" in k)
    for key in order:
        rows = hits[key]
        r5 = sum(a for a, _ in rows) / len(rows)
        r10 = sum(b for _, b in rows) / len(rows)
        print(f"{key:<16} {len(rows):>5} {r5:>6.3f} {r10:>6.3f}")
    ms = [x * 1000 for x in latencies]
    print()
    print(f"tokenize {len(passages)} passages: {tokenize_s * 1000:.0f} ms (after warm-up)")
    print(f"index {len(passages)} passages (tokenize + insert): {index_s * 1000:.0f} ms")
    print(f"query latency (tokenize + search, k=10): p50 {median(ms):.2f} ms, p95 {percentile(ms, 95):.2f} ms")


if __name__ == "__main__":
    main()
