"""The keyword stage alone on a benchmark, SQLite FTS5 vs PostgreSQL: recall@2, recall@5, latency.

Indexes every passage of DATASET/passages.jsonl (with `--distractors`, also extra/distractors.jsonl)
into a throw-away KeywordIndex and a PostgresKeywordIndex (on a throw-away PostgreSQL cluster, or
`--database URL`), asks every question in its own language, and prints recall@2 and recall@5 of
each index on the tuning and held-out halves (split by the question's `group`, seeded, as
bench/ranking_lab.py splits them), how often the two top-5 lists are the same, and the query latency
(tokenise + search, k=5) p50 / p95 of each (PostgreSQL after an ANALYZE, as autovacuum
would run it). Not a test: run it by hand,
`python -m bench.keywords_pg --dataset /work/shared/eval/xquad-piaf`.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.ranking_lab import split
from bench.servers import postgres_server
from rag.evaluation.datasets import load_dataset, read_jsonl
from rag.evaluation.metrics import median, percentile
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from rag.retrieval.keywords_pg import PostgresKeywordIndex
from rag.text.tokenize import tokens

DEFAULT_DATASET = Path("/work/shared/eval/xquad-piaf")


def run(index, rows: list[dict]) -> tuple[dict[str, list[str]], list[float]]:
    """Each question's top 5 ids, and each search's latency in ms."""
    tops, ms = {}, []
    for r in rows:
        t = time.perf_counter()
        tops[r["id"]] = [chunk_id for chunk_id, _ in index.search(r["question"], 5, r["lang"])]
        ms.append((time.perf_counter() - t) * 1000)
    return tops, ms


def recall(rows: list[dict], tops: dict[str, list[str]], k: int) -> float:
    return sum(bool(r["gold"] & set(tops[r["id"]][:k])) for r in rows) / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                    help="folder with passages.jsonl and questions.jsonl")
    ap.add_argument("--database", help="a PostgreSQL URL to use (default: a throw-away cluster)")
    ap.add_argument("--distractors", action="store_true", help="also index extra/distractors.jsonl")
    ap.add_argument("--seed", type=int, default=7, help="the split's seed (bench/ranking_lab.py's default)")
    args = ap.parse_args()
    ds = load_dataset(args.dataset)
    groups = {r["id"]: r.get("group", r["id"]) for r in read_jsonl(args.dataset / "questions.jsonl")}
    rows = [{"id": q.id, "group": groups[q.id], "question": q.text, "lang": q.lang, "gold": set(q.gold_ids)}
            for q in ds.questions]
    passages = list(ds.passages)
    if args.distractors:
        passages += read_jsonl(args.dataset / "extra" / "distractors.jsonl")
    items = [KeywordItem(p["id"], p["id"], p["text"], p["lang"]) for p in passages]
    tokens("warm up 緬甸 nghi phạm arrêtés arrested", None)  # jieba, OpenCC and stemmers load once

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = args.database or stack.enter_context(postgres_server(Path(tmp) / "pg"))
        indexes = {"sqlite": KeywordIndex(Path(tmp) / "keywords.sqlite"),
                   "postgres": PostgresKeywordIndex(url, "bench_keywords")}
        results = {}
        for name, index in indexes.items():
            index.reset()
            t = time.perf_counter()
            index.add(items)
            add_s = time.perf_counter() - t
            if name == "postgres":
                analyze(url)  # as autovacuum soon does on a live server: the planner then knows the tables
            run(index, rows[:20])  # warm: connections, caches
            results[name] = (*run(index, rows), add_s)
        plan = explain(url, rows[0]["question"], rows[0]["lang"])
        for index in indexes.values():
            index.reset()
            index.close()

    tune, held = split(rows, args.seed)
    print(f"{args.dataset.name}: {len(items)} passages, {len(rows)} questions; "
          f"tuning half {len(tune)}, held-out half {len(held)} (seed {args.seed})")
    print(f"{'index':10} {'tune R@2':>8} {'R@5':>6}   {'held R@2':>8} {'R@5':>6}   "
          f"{'p50 ms':>7} {'p95 ms':>7}   {'add s':>6}")
    for name, (tops, ms, add_s) in results.items():
        print(f"{name:10} {recall(tune, tops, 2):8.3f} {recall(tune, tops, 5):6.3f}   {recall(held, tops, 2):8.3f} "
              f"{recall(held, tops, 5):6.3f}   {median(ms):7.2f} {percentile(ms, 95):7.2f}   {add_s:6.2f}")
    same = sum(results["sqlite"][0][r["id"]] == results["postgres"][0][r["id"]] for r in rows)
    print(f"identical top-5 lists: {same}/{len(rows)}")
    print("PostgreSQL's plan for the first question (it reads the chunks through the GIN index when the terms are")
    print("selective enough; on a small table, or for terms most chunks hold, it scans instead):")
    print(plan)


def _engine(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def analyze(url: str) -> None:
    import sqlalchemy as sa

    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE keyword_chunks, keyword_terms, keyword_stats"))
    engine.dispose()


def explain(url: str, question: str, language: str) -> str:
    """The plan of one search (scope-free), as the planner chooses it."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import ARRAY

    from rag.retrieval import keywords_pg

    expression, unique = keywords_pg.tsquery_text(tokens(question, language))
    params = dict(collection="bench_keywords", terms=unique, query=expression, k=5, k1=keywords_pg.K1, b=keywords_pg.B)
    statement = sa.text("EXPLAIN " + keywords_pg.SEARCH_SQL.format(scope="")).bindparams(
        sa.bindparam("terms", type_=ARRAY(sa.Text)))
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            return "\n".join(row[0] for row in conn.execute(statement, params))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
