"""Keeping the side indexes (keywords, sentence vectors) in step with the chunk store.

The chunk store is the reference. A side index that is missing, of an old format or out of step
(an interrupted run, a deleted file, a sentence index made with other settings) is rebuilt per
document from what the store holds: the keyword rows from the chunk texts (no embedding), the
sentence vectors from the file when it still holds the chunks' text, else from the chunks alone.
Records are built and embedded as `write.IndexWriter` builds them (`write.py`'s helpers).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from store import VectorStore

from rag.errors import UnreadableFile
from rag.ingestion.load import read_text
from rag.ingestion.write import chunk_id, embed_batches, sentence_records, sentence_rows
from rag.retrieval.keywords import KeywordItem


def stored_chunk_ids(store: VectorStore) -> dict[str, set[str]]:
    """Every stored document's chunk ids, rebuilt from its chunks' metadata."""
    return {
        doc: {chunk_id(doc, str(m.get("sha256", "")), int(m.get("index", 0))) for m in metas}
        for doc, metas in store.documents().items()
    }


def sync_keywords(store: VectorStore, keywords, in_store: dict[str, set[str]]) -> list[str]:
    """Make the keyword index hold exactly the store's chunks; say what had to be rebuilt."""
    notices = []
    in_keywords = keywords.ids_by_document()
    for doc in sorted(set(in_store) | set(in_keywords)):
        if in_store.get(doc, set()) == in_keywords.get(doc, set()):
            continue
        keywords.delete_document(doc)
        hits = store.get_document(doc)
        if hits:
            keywords.add([KeywordItem(h.id, doc, h.text, str(h.metadata.get("language", "und"))) for h in hits])
        notices.append(f"{doc}: keyword index was out of step with the vector store; rebuilt")
    return notices


def add_sentences(sentences: VectorStore, text: str, chunks: Sequence[tuple], embedder, centering,
                  sig: str) -> None:
    """Embed and store the sentences of `chunks` ((chunk id, document, start, end, language)) of `text`."""
    rows = sentence_rows(text, chunks)
    done = 0
    for vectors in embed_batches(embedder, [r[2] for r in rows], [r[5] for r in rows], centering):
        sentences.add(sentence_records(rows[done : done + len(vectors)], vectors, sig))
        done += len(vectors)


def sync_sentences(store: VectorStore, sentences: VectorStore, embedder, centering, sig: str,
                   chunk_ids: dict[str, set[str]]) -> list[str]:
    """Make the sentence index cover exactly the store's chunks, made with the same settings."""
    notices = []
    covered: dict[str, set[str]] = {}
    stale: set[str] = set()
    for doc, metas in sentences.documents().items():
        covered[doc] = {str(m.get("chunk_id", "")) for m in metas}
        if any(m.get("signature") != sig for m in metas):
            stale.add(doc)
    for doc in sorted(set(chunk_ids) | set(covered)):
        if chunk_ids.get(doc, set()) == covered.get(doc, set()) and doc not in stale:
            continue
        sentences.delete_document(doc)
        hits = store.get_document(doc)
        if hits:
            path = str(hits[0].metadata.get("path", ""))
            try:
                text = read_text(Path(path)).text
            except (UnreadableFile, OSError):
                text = None
            if text is not None and all(text[int(h.metadata["start"]) : int(h.metadata["end"])] == h.text
                                        for h in hits):
                add_sentences(sentences, text, [
                    (h.id, doc, int(h.metadata["start"]), int(h.metadata["end"]),
                     str(h.metadata.get("language", "und"))) for h in hits], embedder, centering, sig)
            else:
                # The file changed or vanished since: index each chunk's own text, offsets relative to it.
                for h in hits:
                    base = int(h.metadata.get("start", 0))
                    add_sentences(sentences, " " * base + h.text, [
                        (h.id, doc, base, base + len(h.text), str(h.metadata.get("language", "und")))],
                        embedder, centering, sig)
        notices.append(f"{doc}: sentence index was out of step with the vector store; rebuilt")
    return notices
