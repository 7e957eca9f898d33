"""What keeping a worker's keyword index in step costs (rag/keyword_sync.py), on embedded Chroma
and on a `chroma run` server.

Prints, per backend: the median time to read the change token (what a search pays at most once a
second), the median resync when nothing is out of step (the scan every worker does after any
change), and the resync that rebuilds one edited document. Run by hand on an idle machine:
`python bench/keyword_sync.py [--docs DIR] [--runs N]`. Uses the fake embedder (the cost measured
is the store's and the keyword index's, not the embedder's) and throw-away directories.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant, load_settings  # noqa: E402
from rag.ingestion.keyword_sync import KeywordSync  # noqa: E402
from rag.retrieval.keywords import KeywordIndex  # noqa: E402
from bench.servers import chroma_server  # noqa: E402


def ms(samples: list[float]) -> str:
    return f"{1000 * statistics.median(samples):.1f} ms"


def measure(label: str, docs: Path, work: Path, runs: int) -> None:
    writer = Assistant(load_settings(retrieval="dense,keyword", embed_backend="fake", home=work / "w1"))
    writer.ingest([docs])
    other = KeywordSync(writer.store, writer.keyword_sync.state, KeywordIndex(work / "w2" / "keywords.sqlite"))
    t = time.perf_counter()
    other.check(wait=True)
    first = time.perf_counter() - t
    token, idle, rebuild = [], [], []
    for _ in range(runs * 20):
        t = time.perf_counter()
        other.token()
        token.append(time.perf_counter() - t)
    one = sorted(writer.store.documents())[0]
    for _ in range(runs):
        writer.keyword_sync.announce()
        t = time.perf_counter()
        other.check(wait=True)
        idle.append(time.perf_counter() - t)
        other.keywords.delete_document(one)  # as if another worker had changed it
        writer.keyword_sync.announce()
        t = time.perf_counter()
        other.check(wait=True)
        rebuild.append(time.perf_counter() - t)
    chunks = writer.store.count()
    print(f"{label:9} {chunks:6} chunks | token read {ms(token)} | resync, nothing out of step {ms(idle)}"
          f" | one document rebuilt {ms(rebuild)} | empty index filled {1000 * first:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=Path, default=ROOT / "seeds")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ.pop("RAG_CHROMA_URL", None)
    print(f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores; documents: {args.docs}")
    tmp = Path(tempfile.mkdtemp())
    try:
        measure("embedded", args.docs, tmp / "embedded", args.runs)
        with chroma_server(tmp / "server") as (url, _process):
            os.environ["RAG_CHROMA_URL"] = url
            measure("server", args.docs, tmp / "server-workers", args.runs)
    finally:
        os.environ.pop("RAG_CHROMA_URL", None)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
