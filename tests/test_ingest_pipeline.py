"""The ingestion pipeline's machinery: preparation ahead in a thread, batched embedding and writes
in the order that keeps a half-written document invisible, and the progress it reports."""
from __future__ import annotations

import itertools
import threading

import pytest

from rag import Assistant, load_settings
from rag.ingestion.background import ahead


def test_ahead_yields_everything_in_order():
    assert list(ahead(iter(range(100)), size=3)) == list(range(100))


def test_ahead_reraises_the_producers_error():
    def produce():
        yield 1
        raise ValueError("bad file")

    got = []
    with pytest.raises(ValueError, match="bad file"):
        for x in ahead(produce()):
            got.append(x)
    assert got == [1]


def test_ahead_stops_the_producer_when_the_consumer_stops():
    produced = itertools.count()
    seen = []

    def produce():
        for i in produced:
            seen.append(i)
            yield i

    it = ahead(produce(), size=2)
    assert next(it) == 0
    it.close()  # the consumer gives up (an embedding error, say)
    n = len(seen)
    threading.Event().wait(0.3)
    assert len(seen) == n and n < 10  # bounded look-ahead, and no more work after the stop


class Recording:
    """Wraps a store or the keyword index; logs (name, documents, n) for every add."""

    def __init__(self, inner, name, log):
        self._inner, self._name, self._log = inner, name, log

    def add(self, items):
        items = list(items)
        self._log.append((self._name, sorted({i.document for i in items}), len(items)))
        return self._inner.add(items)

    def __getattr__(self, attr):
        return getattr(self._inner, attr)


def test_chunks_are_written_last_and_each_document_in_one_call(seeds_copy):
    a = Assistant(load_settings())
    log: list = []
    rec = Assistant(a.settings, store=Recording(a.store, "chunks", log), embedder=a.embedder)
    rec._sentences = Recording(a.sentences, "sentences", log)
    rec._keywords = Recording(a.keywords, "keywords", log)
    result = rec.ingest([seeds_copy])
    assert result.chunks == 50
    chunk_calls = [e for e in log if e[0] == "chunks"]
    # Every document's chunks arrive in exactly one call (visible all at once) ...
    docs = [d for _, ds, _ in chunk_calls for d in ds]
    assert len(docs) == len(set(docs)) == 5
    # ... and after that document's sentences and keyword rows.
    for i, (name, ds, _) in enumerate(log):
        if name == "chunks":
            before = {d for n, dd, _ in log[:i] if n != "chunks" for d in dd}
            assert set(ds) <= before


def test_progress_counts_chunks_and_sentences(seeds_copy):
    a = Assistant(load_settings())
    calls = []
    report = a.ingest([seeds_copy], progress=lambda done, total: calls.append((done, total)))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and all(d <= t for d, t in calls)
    assert calls[-1][0] == calls[-1][1] == report.chunks + a.sentences.count()
