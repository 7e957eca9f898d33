"""Search at scale: a synthetic corpus of N chunks in the four languages, searched with every stage.

    python -m bench.scale --chunks 100000 --home /tmp/scale-100k            # build, then measure
    python -m bench.scale --chunks 100000 --home /tmp/scale-100k --runs 3   # reuse it: measure only
    python -m bench.scale --chunks 100000 --home /tmp/scale-100k --processes 2   # two searching processes

The corpus: the benchmark's passages (xquad-piaf and its distractors) cut into sentences and the
sentences into clauses, per language; each synthetic sentence is 1 to 3 clauses of one language drawn
at random, each chunk 4 to 6 sentences, each document 10 chunks of one language. So the vocabulary
and its frequencies are the benchmark's, but postings are spread over many more distinct texts than
the ~700 sentences per language the passages hold.

Vectors: random unit vectors (384 dimensions), from a stand-in embedder given to the ingestion's own
`IndexWriter`, which writes the chunks, the sentence vectors and the keyword rows exactly as `rag
ingest` does, minus parsing and embedding (write throughput is the indexes' alone). Searches run
with `RAG_EMBED_BACKEND=fake` (the hash embedder): only retrieval is timed, and recall is
meaningless here (`--recall` measures it on the benchmark instead, with the real embedder).

Measured: whole `Assistant.search` p50/p95 over 60 benchmark questions (15 per language), then
each stage set alone through `Retriever` (dense+center, +keyword, +sentence, all defaults), and
`best_sentences` for the top 5 (what `ask` adds); the process's RSS after the searches (and the
`chroma run`'s, with --backend server); the time a worker restarted on an unchanged store takes
to check its keyword index; the Chroma directory and the keyword index on disk, per chunk. Prints a table and writes
bench/results/scale-<N>.json. The index is kept in --home: run again with the same --home to
measure without building.

At a million chunks with ~5 sentence vectors each, writing is hours here (40 chunks/s at 100k):
`--sentence-chunks N` gives sentence vectors to the first N chunks only, and a --home holding the
corpus's first chunks (a smaller build) gets the rest written onto it:

    python -m bench.scale --chunks 1000000 --home /tmp/scale-100k-copy --sentence-chunks 100000

--backend server runs the vectors in a `chroma run` started here (bench/servers.py); --keywords
postgres keeps the keyword index in PostgreSQL (--database URL, or a throw-away cluster), as
`RAG_DATABASE_URL` does. `--keywords-only --keywords postgres --database URL` loads the keyword rows
of N chunks alone (minutes, not hours) into the collection a whole search reads, so a Chroma index
built with the SQLite default is searched with PostgreSQL's keywords without writing it again.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from bench.common import ROOT, XQUAD, machine, rss_mb, say, table

DIM = 384
CHUNKS_PER_DOC = 10
QUESTIONS_PER_LANGUAGE = 15
LANGUAGES = ("en", "fr", "vi", "zh")
STAGE_SETS = {
    "dense": "dense,center",
    "+keyword": "dense,center,keyword",
    "+sentence": "dense,center,sentence",
    "all": "dense,center,sentence,keyword,anchor",
}
KEYWORD_BACKENDS = ("sqlite", "postgres")  # postgres: on a throw-away cluster, or --database
_CLAUSE = re.compile(r"(?<=[,;:，；：、])\s*")


class RandomVectors:
    """A stand-in embedder for writing: seeded random unit vectors, no model."""

    model_name = "bench-random"
    call_size = 0

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def get_text_embedding_batch(self, texts):
        v = self.rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()


# --- the corpus --------------------------------------------------------------------------------

def clause_pools(dataset: Path) -> dict[str, list[str]]:
    """The benchmark's passages' clauses, per language (zh-Hans and zh-Hant together)."""
    from rag.ingestion.chunk import split_sentences
    from rag.ingestion.clean import Span

    pools: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    files = [dataset / "passages.jsonl", dataset / "extra" / "distractors.jsonl"]
    for f in files:
        if not f.exists():
            continue
        for line in f.open(encoding="utf-8"):
            p = json.loads(line)
            lang = p["lang"].split("-")[0]
            if lang not in pools:
                continue
            text = p["text"]
            for sp in split_sentences(text, Span(0, len(text)), max_size=400):
                sentence = text[sp.start:sp.end].rstrip(".。!?！？")
                pools[lang] += [c.strip() for c in _CLAUSE.split(sentence) if len(c.strip()) > 3]
    return {lang: sorted(set(c)) for lang, c in pools.items()}


def corpus(n_chunks: int, pools: dict[str, list[str]], seed: int = 0):
    """(document name, language, text, chunk spans, chunk clauses): CHUNKS_PER_DOC chunks a
    document, languages in turn, until n_chunks chunks; a chunk is 4 to 6 sentences of 1 to 3 clauses."""
    rng = random.Random(seed)
    made = d = 0
    while made < n_chunks:
        lang = LANGUAGES[d % len(LANGUAGES)]
        comma, stop, space = ("，", "。", "") if lang == "zh" else (", ", ".", " ")
        parts, spans, clauses = [], [], []
        pos = 0
        for _ in range(min(CHUNKS_PER_DOC, n_chunks - made)):
            sentences = [rng.sample(pools[lang], rng.randint(1, 3)) for _ in range(rng.randint(4, 6))]
            text = space.join(comma.join(c) + stop for c in sentences)
            spans.append((pos, pos + len(text)))
            parts.append(text)
            clauses.append([c for sentence in sentences for c in sentence])
            pos += len(text) + 2
        yield f"synthetic/{lang}/{d:07d}.txt", lang, "\n\n".join(parts), spans, clauses
        made += len(spans)
        d += 1


def documents(n_chunks: int, pools: dict[str, list[str]]):
    """The corpus as the PreparedDocuments ingestion writes."""
    from rag.ingestion.load import SourceText
    from rag.ingestion.prepare import PreparedDocument
    from rag.types import Chunk

    for name, lang, text, spans, _clauses in corpus(n_chunks, pools):
        sha = hashlib.sha256(text.encode()).hexdigest()
        chunks = tuple(Chunk(name, lang, text[s:e], s, e, i) for i, (s, e) in enumerate(spans))
        yield PreparedDocument(SourceText(name, Path("/synthetic") / name, text, "utf-8", sha), chunks, lang)


def keyword_rows(n_chunks: int, pools: dict[str, list[str]]):
    """The corpus as keyword rows (chunk id, document, language, tokens), each clause tokenised
    once: the tokenizer makes no token across a comma, so a chunk's tokens are its clauses'."""
    from rag.ingestion.write import chunk_id
    from rag.text.tokenize import tokens

    cache: dict[tuple[str, str], list[str]] = {}
    for name, lang, text, spans, clauses in corpus(n_chunks, pools):
        sha = hashlib.sha256(text.encode()).hexdigest()
        for i, chunk in enumerate(clauses):
            out: list[str] = []
            for c in chunk:
                if (lang, c) not in cache:
                    cache[lang, c] = tokens(c, lang)
                out += cache[lang, c]
            yield chunk_id(name, sha, i), name, lang, " ".join(out)


def questions(dataset: Path) -> list[dict]:
    """QUESTIONS_PER_LANGUAGE benchmark questions per language, the same every run."""
    rows = [json.loads(line) for line in (dataset / "questions.jsonl").open(encoding="utf-8")]
    out = []
    for lang in LANGUAGES:
        mine = [r for r in rows if r["lang"].split("-")[0] == lang]
        out += random.Random(lang).sample(mine, min(QUESTIONS_PER_LANGUAGE, len(mine)))
    return out


# --- the indexes -------------------------------------------------------------------------------

def settings_for(home: Path, chroma_url: str | None = None, retrieval: str | None = None,
                 database_url: str | None = None):
    from rag.settings import Settings

    extra = {"chroma_url": chroma_url} if chroma_url else {}
    if database_url:
        extra["database_url"] = database_url
    if retrieval:
        extra["retrieval"] = retrieval
    return Settings(home=home, embed_backend="fake", **extra)


def open_keywords(kind: str, assistant):
    """The keyword index to write and search: the assistant's own, as the settings choose it (SQLite
    beside the store, or PostgreSQL in the database of --database)."""
    from rag.retrieval.keywords_pg import PostgresKeywordIndex

    index = assistant.keywords
    if (kind == "postgres") != isinstance(index, PostgresKeywordIndex):
        raise SystemExit(f"--keywords {kind}: the assistant's keyword index is {type(index).__name__}")
    return index


class ClauseTokens:
    """The keyword index given each chunk's tokens from its clauses, each clause tokenised once (as
    `keyword_rows` does), not each chunk tokenised whole: snowball stemming in Python is about 3.5 ms
    a chunk, most of a write without sentence vectors. The first chunks are checked against the
    tokenizer run on their whole text."""

    CHECKED = 200

    def __init__(self, index, rows) -> None:
        self.index, self.rows, self.checked = index, rows, 0

    def add(self, items) -> None:
        from rag.text.tokenize import tokens

        out = []
        for it in items:
            cid, _doc, _lang, joined = next(self.rows)
            if cid != it.id:
                raise SystemExit(f"keyword rows out of step with the documents: {cid} for {it.id}")
            toks = joined.split()
            if self.checked < self.CHECKED:
                self.checked += 1
                if toks != tokens(it.text, it.language):
                    raise SystemExit(f"a chunk's tokens are not its clauses' tokens: {it.id}")
            out.append((it.id, it.document, it.language, toks))
        self.index.add_tokens(out)

    def __getattr__(self, name):
        return getattr(self.index, name)


def build(assistant, keywords, n_chunks: int, dataset: Path, group_texts: int,
          sentence_chunks: int | None = None) -> dict:
    """Write the corpus's first n_chunks chunks; an index holding its first chunks already (a build
    stopped, or a smaller size) gets the rest. With `sentence_chunks`, only the first that many
    chunks get sentence vectors (the rest: chunk vectors and keyword rows)."""
    from rag.ingestion.write import IndexWriter

    have = assistant.store.count()
    if have >= n_chunks:
        say(f"scale: {have} chunks already in {assistant.settings.home}: not building")
        return {"chunks_before": have}
    if have % CHUNKS_PER_DOC:
        raise SystemExit(f"{assistant.settings.home} holds {have} chunks, not whole documents: use a fresh --home")
    pools = clause_pools(dataset)
    say("scale: clauses per language: " + ", ".join(f"{k} {len(v)}" for k, v in pools.items()))
    if have:
        say(f"scale: {have} chunks already there: writing chunks {have} to {n_chunks} of the same corpus")

    rows = keyword_rows(n_chunks, pools)
    for _ in range(have):
        next(rows)
    keywords = ClauseTokens(keywords, rows)

    def writer(sentences: bool) -> IndexWriter:
        return IndexWriter(assistant.store, RandomVectors(), "bench-scale", keywords=keywords,
                           sentences=assistant.sentences if sentences else None, group_texts=group_texts)

    current = writer(sentence_chunks is None or have < sentence_chunks)
    t = time.perf_counter()
    last, seen, written = t, 0, 0
    for doc in documents(n_chunks, pools):
        start, seen = seen, seen + len(doc.chunks)
        if start < have:  # written by an earlier build: the corpus is the same every time
            continue
        if sentence_chunks is not None and start >= sentence_chunks and current.sentences is not None:
            current.flush()
            written += current.chunks_written
            current = writer(False)
        current.add(doc)
        if time.perf_counter() - last > 30:
            last = time.perf_counter()
            done = written + current.chunks_written
            say(f"scale: {have + done} chunks written, {done / (last - t):.0f}/s")
    current.flush()
    written += current.chunks_written
    seconds = time.perf_counter() - t
    sentences = assistant.sentences.count()
    say(f"scale: wrote {written} chunks in {seconds:.0f} s; {sentences} sentences in the index")
    return {"chunks_before": have, "chunks_written": written, "sentences_written": sentences, "write_s": seconds,
            "chunks_per_s": written / seconds, "sentence_chunks": sentence_chunks,
            "clauses_per_language": {k: len(v) for k, v in pools.items()}}


def disk(chroma: Path, keywords) -> dict:
    def size(p: Path) -> int:
        if p.is_file():
            return p.stat().st_size
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0

    kw = getattr(keywords, "path", None)
    if kw:
        kw_bytes = sum(size(Path(f"{kw}{s}")) for s in ("", "-wal", "-shm"))
    else:  # PostgreSQL: its keyword tables, with their indexes (every collection's: one here)
        kw_bytes = postgres_keyword_bytes(keywords._engine)
    return {"chroma_bytes": size(chroma), "keyword_bytes": kw_bytes}


def postgres_keyword_bytes(engine) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return sum(conn.execute(sa.text(f"SELECT pg_total_relation_size('{t}')")).scalar()
                   for t in ("keyword_chunks", "keyword_terms", "keyword_stats"))


# --- measuring ---------------------------------------------------------------------------------

def timed_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def measure(assistant, keywords, qs: list[dict], runs: int) -> dict:
    from rag.evaluation.metrics import median, percentile
    from rag.retrieval.stages import Retriever
    from rag.text.language import detect

    from rag.ingestion.keyword_sync import KeywordSync

    sync = assistant.keyword_sync
    if sync.keywords is not None:
        sync.announce()  # as an ingestion ends: the index is then out of step until a resync
    t = time.perf_counter()
    sync.check(wait=True)  # a worker's first check after a change: the resync against the store
    first_sync_s = time.perf_counter() - t
    t = time.perf_counter()
    KeywordSync(sync.store, sync.state, sync.keywords).check(wait=True)  # a worker restarted since
    restart_check_s = time.perf_counter() - t
    settings = assistant.settings
    texts = [q["question"] for q in qs]
    for q in texts[::QUESTIONS_PER_LANGUAGE]:  # open the collections, load the indexes and each language's tokenizer
        assistant.search(q)
    out: dict = {"first_keyword_sync_s": first_sync_s, "restart_keyword_check_s": restart_check_s,
                 "runs": runs, "questions": len(texts)}
    rows: dict[str, list[tuple[float, float]]] = {}

    def record(name: str, ms: list[float]) -> None:
        rows.setdefault(name, []).append((percentile(ms, 50), percentile(ms, 95)))

    for _ in range(runs):
        record("search", [timed_ms(lambda q=q: assistant.search(q)) for q in texts])
        for name, stages in STAGE_SETS.items():
            r = Retriever.from_settings(settings, store=assistant.store, embedder=assistant.embedder,
                                        keywords=keywords, centering=assistant.centering,
                                        sentences=assistant.sentences, stages=stages.split(","))
            record(name, [timed_ms(lambda q=q: r.search(q, settings.top_k, language=detect(q))) for q in texts])
        r = assistant.retriever
        found = [r.retrieve(q, settings.top_k, language=detect(q)) for q in texts]
        record("best_sentences", [timed_ms(lambda p=p, v=v: r.best_sentences(p[:settings.context_k], v))
                                  for p, v in found])
    for name, pairs in rows.items():
        out[name] = {"p50_ms": median([a for a, _ in pairs]), "p95_ms": median([b for _, b in pairs]),
                     "p50_runs": [round(a, 1) for a, _ in pairs], "p95_runs": [round(b, 1) for _, b in pairs]}
    rss, peak = rss_mb(os.getpid())
    out["rss_mb"], out["peak_rss_mb"] = rss, peak
    return out


def keywords_only(args) -> int:
    """`--keywords-only`: the keyword index alone at N chunks (no vectors: minutes, not hours, to
    build), its search timed on the same questions as a whole search asks it."""
    import sqlite3

    from rag.evaluation.metrics import median, percentile
    from rag.retrieval.keywords import KeywordIndex
    from rag.text.language import detect

    result: dict = {"machine": machine(), "chunks": args.chunks, "keywords_only": True, "keywords": args.keywords}
    if args.keywords == "postgres":
        index, size = _postgres_keywords(args, result)
    else:
        path = args.home / "keywords-only.sqlite"
        index = KeywordIndex(path)
        if index.count() < args.chunks:
            if index.count():
                raise SystemExit(f"{path} holds fewer than {args.chunks} chunks: use a fresh --home")
            pools = clause_pools(args.dataset)
            conn = sqlite3.connect(path, isolation_level=None)
            t = time.perf_counter()
            rows = keyword_rows(args.chunks, pools)
            while True:
                batch = [r for _, r in zip(range(10_000), rows)]
                if not batch:
                    break
                conn.execute("BEGIN")
                for rowid, (cid, doc, lang, joined) in enumerate(batch, start=index_rows(conn) + 1):
                    conn.execute("INSERT INTO chunks (rowid, id, document, language) VALUES (?, ?, ?, ?)", (rowid, cid, doc, lang))
                    conn.execute("INSERT INTO chunk_tokens (rowid, tokens) VALUES (?, ?)", (rowid, joined))
                conn.execute("COMMIT")
            conn.close()
            result["write_s"] = time.perf_counter() - t
            say(f"scale: keyword rows of {args.chunks} chunks written in {result['write_s']:.0f} s")
        size = lambda: disk(Path("/nonexistent"), index)["keyword_bytes"]  # noqa: E731
    qs = [q["question"] for q in questions(args.dataset)]
    k = 30  # RAG_CANDIDATES: what the pipeline asks the keyword index for
    for q in qs[::QUESTIONS_PER_LANGUAGE]:
        index.search(q, k, detect(q))
    runs = []
    for _ in range(args.runs):
        ms = [timed_ms(lambda q=q: index.search(q, k, detect(q))) for q in qs]
        runs.append((percentile(ms, 50), percentile(ms, 95), max(ms)))
    result["keyword_search"] = {"p50_ms": median([r[0] for r in runs]), "p95_ms": median([r[1] for r in runs]),
                                "max_ms": median([r[2] for r in runs])}
    result["keyword_bytes_per_chunk"] = size() / args.chunks
    result["load_avg"] = os.getloadavg()
    ks = result["keyword_search"]
    print(f"keyword index alone, {args.chunks} chunks: search p50 {ks['p50_ms']:.1f} ms, p95 {ks['p95_ms']:.1f} ms, "
          f"max {ks['max_ms']:.0f} ms; {result['keyword_bytes_per_chunk']:.0f} B/chunk on disk; "
          f"load average {result['load_avg'][0]:.2f}")
    out = args.out or ROOT / "bench" / "results" / f"scale-keywords-{args.keywords}-{args.chunks}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    index.close()
    return 0


def _postgres_keywords(args, result: dict):
    """The PostgreSQL keyword index of --keywords-only: on --database, or on a throw-away cluster
    kept for the process's life; filled with N chunks' rows when it holds fewer."""
    import atexit
    import contextlib

    import sqlalchemy as sa

    from bench.servers import postgres_server
    from rag.retrieval.keywords_pg import PostgresKeywordIndex

    url = args.database
    if url is None:
        stack = contextlib.ExitStack()
        url = stack.enter_context(postgres_server(args.home / "pg"))
        atexit.register(stack.close)
    # The collection a whole search's assistant uses: rows loaded here serve `--keywords postgres` runs.
    index = PostgresKeywordIndex(url, settings_for(args.home).collection)
    if index.count() < args.chunks:
        if index.count():
            raise SystemExit(f"the database holds fewer than {args.chunks} chunks: use a fresh one")
        t = time.perf_counter()
        rows = keyword_rows(args.chunks, clause_pools(args.dataset))
        while batch := [(cid, doc, lang, joined.split()) for _, (cid, doc, lang, joined) in zip(range(5_000), rows)]:
            index.add_tokens(batch)
        result["write_s"] = time.perf_counter() - t
        say(f"scale: keyword rows of {args.chunks} chunks written in {result['write_s']:.0f} s")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum would have done by then

    return index, lambda: postgres_keyword_bytes(engine)


def index_rows(conn) -> int:
    return conn.execute("SELECT coalesce(max(rowid), 0) FROM chunks").fetchone()[0]


def recall(dataset: Path) -> dict:
    """Recall of the default stages on the benchmark with the real embedder, on both halves that
    bench/ranking_lab.py tunes and checks on (split by question group, seeded)."""
    from bench.ranking_lab import split
    from rag import Assistant, load_settings
    from rag.backends.embed_cache import EmbeddingCache
    from rag.evaluation.datasets import load_dataset
    from rag.evaluation.retrieval import run_eval

    s = load_settings()
    ds = load_dataset(dataset)
    groups = {r["id"]: r.get("group", r["id"]) for r in map(json.loads, (dataset / "questions.jsonl").open())}
    cache = EmbeddingCache(s.home / "cache" / "embeddings.sqlite")
    run = run_eval(ds, s, Assistant(s).embedder, s.retrieval.split(","), ds.questions, cache)
    rows = [{**r, "group": groups[r["id"]]} for r in run.results]
    out: dict = {"stages": s.retrieval, "latency_ms": run.latency_ms}
    for name, part in zip(("tuning", "held_out", "all"), (*split(rows), rows)):
        out[name] = {"questions": len(part), **{
            f"R@{k}": round(sum(1 for r in part if r["rank"] and r["rank"] <= k) / len(part), 4) for k in (1, 2, 5, 10)}}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000, help="chunks in the corpus (default 100000)")
    ap.add_argument("--home", type=Path, help="the data directory; an index built there before is reused")
    ap.add_argument("--backend", choices=("embedded", "server"), default="embedded")
    ap.add_argument("--keywords", choices=KEYWORD_BACKENDS, default="sqlite", help="the keyword index")
    ap.add_argument("--runs", type=int, default=1, help="passes over the questions; medians are reported")
    ap.add_argument("--processes", type=int, default=1, help="searching processes at once (their exit codes)")
    ap.add_argument("--group-texts", type=int, default=2048, help="texts per write group (ingestion's default: 256)")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--sentence-chunks", type=int, default=None,
                    help="sentence vectors for the first N chunks only (5 a chunk at 1M is hours of writing here)")
    ap.add_argument("--keywords-only", action="store_true", help="the keyword index alone (fast to build at 1M)")
    ap.add_argument("--database", help="with --keywords postgres: an existing PostgreSQL URL (default: a throw-away cluster)")
    ap.add_argument("--recall", action="store_true", help="recall on the benchmark's two halves, real embedder")
    ap.add_argument("--dataset", type=Path, default=XQUAD)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.recall:
        r = recall(args.dataset)
        print(json.dumps(r, indent=2))
        return 0
    if args.home is None or args.chunks < 1 or args.runs < 1 or args.processes < 1:
        ap.error("--home is required; --chunks, --runs and --processes must be at least 1")
    if args.keywords_only:
        args.home.mkdir(parents=True, exist_ok=True)
        return keywords_only(args)
    if args.processes > 1:
        return several(args)
    return run(args)


def run(args) -> int:
    from rag import Assistant

    home = args.home
    home.mkdir(parents=True, exist_ok=True)
    result: dict = {"machine": machine(), "chunks": args.chunks, "backend": args.backend, "keywords": args.keywords}
    with ExitStack() as stack:
        url = database = None
        if args.keywords == "postgres":
            database = args.database
            if database is None:
                from bench.servers import postgres_server

                database = stack.enter_context(postgres_server(home / "pg"))
        if args.backend == "server":
            from bench.servers import chroma_server

            url, server = stack.enter_context(chroma_server(home / "server"))
        assistant = Assistant(settings_for(home, url, database_url=database))
        stack.callback(assistant.close)
        keywords = open_keywords(args.keywords, assistant)
        result["build"] = build(assistant, keywords, args.chunks, args.dataset, args.group_texts,
                                args.sentence_chunks)
        result["sentences"] = assistant.sentences.count()
        if not args.build_only:
            result.update(measure(assistant, keywords, questions(args.dataset), args.runs))
            if url:  # the `chroma run` holds the vectors' graphs: its memory, beside the worker's
                result["server_rss_mb"], result["server_peak_rss_mb"] = rss_mb(server.pid)
        result["disk"] = disk(home / "server" / "db" if url else assistant.settings.chroma_path, keywords)
    n = args.chunks
    d = result["disk"]
    d["chroma_bytes_per_chunk"] = d["chroma_bytes"] / n
    d["keyword_bytes_per_chunk"] = d["keyword_bytes"] / n
    result["load_avg"] = os.getloadavg()
    print(report(result))
    out = args.out or ROOT / "bench" / "results" / f"scale-{n}-{args.backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if "chunks_per_s" not in result["build"] and out.exists():  # a reused index: keep how it was written
        result["build"] = json.loads(out.read_text()).get("build", result["build"])
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    say(f"written to {out}")
    return 0


def report(r: dict) -> str:
    m = r["machine"]
    lines = [f"{r['chunks']} chunks, {r['sentences']} sentences, {r['backend']} Chroma, {r['keywords']} keywords; "
             f"{m['cpu']}, {m['cores']} cores; load average {r['load_avg'][0]:.2f} (1 min) at the end"]
    b = r.get("build", {})
    if "chunks_per_s" in b:
        lines.append(f"{b['chunks_written']} chunks written in {b['write_s']:.0f} s: {b['chunks_per_s']:.0f} chunks/s "
                     "(sentences and keyword rows included)" + (f", onto {b['chunks_before']} already there"
                                                                 if b.get("chunks_before") else ""))
    if b.get("sentence_chunks") is not None:
        lines.append(f"sentence vectors for the first {b['sentence_chunks']} chunks only")
    names = ["search", *STAGE_SETS, "best_sentences"]
    if "search" in r:
        lines.append(table([[n, r[n]["p50_ms"], r[n]["p95_ms"], " ".join(map(str, r[n]["p95_runs"]))] for n in names],
                           ["", "p50 ms", "p95 ms", "p95 per run"]))
        lines.append(f"first keyword sync {r['first_keyword_sync_s']:.1f} s, a restarted worker's check "
                     f"{r.get('restart_keyword_check_s', float('nan')):.2f} s; RSS after the searches "
                     f"{r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f} MB)"
                     + (f"; the Chroma server's {r['server_rss_mb']:.0f} MB (peak {r['server_peak_rss_mb']:.0f} MB)"
                        if "server_rss_mb" in r else ""))
    d = r["disk"]
    lines.append(f"disk: Chroma {d['chroma_bytes'] / 2**20:.0f} MiB ({d['chroma_bytes_per_chunk']:.0f} B/chunk), keyword "
                 f"index {d['keyword_bytes'] / 2**20:.0f} MiB ({d['keyword_bytes_per_chunk']:.0f} B/chunk)")
    return "\n".join(lines)


def several(args) -> int:
    """`--processes N`: N searching processes on one index at once; each one's exit code (a crash
    at interpreter exit shows as a negative one) and its whole-search figures."""
    base = [sys.executable, "-X", "faulthandler", "-m", "bench.scale", "--chunks", str(args.chunks), "--home",
            str(args.home), "--backend", args.backend, "--runs", str(args.runs)]
    procs = [subprocess.Popen([*base, "--out", str(args.home / f"process-{i}.json")], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(args.processes)]
    codes = []
    for i, p in enumerate(procs):
        out, err = p.communicate()
        codes.append(p.returncode)
        print(f"process {i}: exit code {p.returncode}")
        if p.returncode != 0:
            print(err[-3000:])
    for i in range(args.processes):
        f = args.home / f"process-{i}.json"
        if f.exists():
            s = json.loads(f.read_text())["search"]
            print(f"process {i}: search p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms")
    return 0 if all(c == 0 for c in codes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
