"""Ingestion: files -> clean paragraphs -> chunks -> embeddings -> store, idempotently.

The store itself is the manifest: every chunk carries its document's content hash, chunk count and
the chunker/embedder signature. So there is no side file that could disagree with the index, and
each run compares what is on disk with what is stored:
- unchanged hash, complete set of chunks, same signature -> nothing is written;
- changed content -> the old chunks are deleted, then the new ones written (a crash in between
  leaves a partial document, which the next run detects by its chunk count and rebuilds; the file
  on disk still holds the text, so nothing is lost);
- chunks missing, duplicated or made with another chunker/embedder -> the document is rebuilt,
  and the report says so.
"""
from __future__ import annotations

import fcntl
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from llama_index.core.embeddings import BaseEmbedding

from store import Record, VectorStore

from .chunking import chunk_spans, split_sentences
from .cleaning import clean
from .errors import IndexBusy, PathNotFound, UnreadableFile
from .language import detect
from .loading import SourceText, read_text
from .settings import Settings
from .keywords import KeywordItem
from .types import Chunk, IngestReport

EMBED_BATCH = 16

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PreparedDocument:
    source: SourceText
    chunks: tuple[Chunk, ...]
    language: str


def find_files(paths: Sequence[Path], suffixes: Iterable[str]) -> tuple[list[Path], list[str], list[tuple[str, str]]]:
    """Expand directories; return (files to read, files of other types found while walking, files
    named explicitly whose type is not allowed, with the reason). `suffixes`: allowed, like ".txt"."""
    allowed = frozenset(s.lower() for s in suffixes)
    files: list[Path] = []
    ignored: list[str] = []
    refused: list[tuple[str, str]] = []
    for p in paths:
        if not p.exists():
            raise PathNotFound(str(p))
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if f.suffix.lower() in allowed:
                    files.append(f)
                else:
                    ignored.append(str(f))
        elif p.suffix.lower() in allowed:
            files.append(p)
        else:
            # Named explicitly, so the user expects it in: say why it is not (a notice would be missed).
            kind = f"type {p.suffix.lower()}" if p.suffix else "a file without an extension"
            types = ", ".join(sorted(s.lstrip(".") for s in allowed))
            refused.append((str(p), f"{kind} is not allowed (RAG_UPLOAD_TYPES: {types})"))
    # The seeds' README describes the corpus; it is not part of it.
    files = [f for f in files if not (f.name.lower() == "readme.md" and f not in paths)]
    return files, ignored, refused


def prepare(source: SourceText, settings: Settings) -> PreparedDocument:
    text = source.text
    paragraphs = clean(text).kept
    spans = chunk_spans(text, paragraphs, size=settings.chunk_size, max_size=settings.chunk_max)
    body = " ".join(text[p.start : p.end] for p in paragraphs)
    doc_lang = detect(body[:4000])
    chunks = []
    for i, s in enumerate(spans):
        piece = text[s.start : s.end]
        lang = detect(piece)
        # Short chunks (a title, a byline) are unreliable to classify: trust the document's language.
        if lang == "und" or (len(piece) < 80 and lang != doc_lang):
            lang = doc_lang
        chunks.append(Chunk(source.name, lang, piece, s.start, s.end, i))
    return PreparedDocument(source, tuple(chunks), doc_lang)


def signature(settings: Settings, embedder: BaseEmbedding, centering=None) -> str:
    """What the stored vectors depend on besides the text: a change forces a rebuild."""
    center = f"|center:{centering.name}" if centering is not None else ""
    return f"chunk-v1:{settings.chunk_size}:{settings.chunk_max}|{embedder.model_name}{center}"


def _chunk_id(doc: str, sha: str, index: int) -> str:
    return f"{doc}:{sha[:16]}:{index}"


@contextmanager
def index_lock(home: Path) -> Iterator[None]:
    """One ingestion at a time on this data directory; a second one fails at once, clearly."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "ingest.lock"
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"another ingestion is running on {home} (lock {path}); wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stored_state(store: VectorStore) -> dict[str, dict]:
    """Per stored document: its hashes, chunk counts, signature and path, from chunk metadata."""
    state: dict[str, dict] = {}
    for doc, metas in store.documents().items():
        by_sha: dict[str, list] = defaultdict(list)
        for m in metas:
            by_sha[str(m.get("sha256", ""))].append(m)
        state[doc] = {"by_sha": by_sha, "metas": metas}
    return state


def _is_complete(metas: list, sha: str, sig: str) -> bool:
    if not metas:
        return False
    indexes = sorted(int(m.get("index", -1)) for m in metas)
    expected = int(metas[0].get("n_chunks", -1))
    return (
        indexes == list(range(expected))
        and all(m.get("signature") == sig and m.get("sha256") == sha for m in metas)
    )


def ingest_paths(
    paths: Iterable[Path],
    *,
    store: VectorStore,
    embedder: BaseEmbedding,
    settings: Settings,
    prune: bool = False,
    progress: Progress | None = None,
    keywords=None,
    centering=None,
    sentences: VectorStore | None = None,
) -> IngestReport:
    """Ingest `paths`. Side indexes, when given, are kept in step with the chunk store: `keywords`
    (a KeywordIndex) and `sentences` (a store of sentence vectors); with `centering`, stored
    vectors are centred on their chunk's language (see `centering.py`)."""
    paths = [Path(p) for p in paths]
    files, ignored, skipped = find_files(paths, settings.allowed_suffixes)  # skipped: (path, reason)
    sig = signature(settings, embedder, centering)
    with index_lock(settings.home):
        if keywords is not None and keywords.needs_rebuild():
            keywords.reset()  # refilled from the store by sync_keywords at the end of this run
        stored = _stored_state(store)
        added, updated, unchanged, repaired = [], [], [], []
        duplicates: list[tuple[str, str]] = []
        notices = [f"ignored {len(ignored)} file(s) of unsupported types: {', '.join(ignored[:5])}"] if ignored else []
        todo: list[tuple[PreparedDocument, str]] = []  # (document, what happened to it)
        seen: dict[str, str] = {}
        max_bytes = int(settings.max_file_mb * 1024 * 1024)
        sources: list[SourceText] = []
        for f in files:
            try:
                source = read_text(f, max_bytes=max_bytes)
            except UnreadableFile as e:
                reason = e.reason
                if "over the limit" in reason:
                    reason += f" (RAG_MAX_FILE_MB={settings.max_file_mb:g})"
                skipped.append((str(f), reason))
                continue
            if source.name in seen:
                other = seen[source.name]
                skipped.append((str(f), f"another file named {source.name} was ingested in this run ({other})"))
                continue
            seen[source.name] = str(f)
            sources.append(source)
        # All files are read before anything is decided, so a duplicate is judged against what the
        # index will hold after this run (a stored copy whose file changes in this run holds nothing).
        current = {src.name: src.sha256 for src in sources}
        first_with: dict[str, str] = {}
        for src in sources:
            first_with.setdefault(src.sha256, src.name)
        for source in sources:
            entry = stored.get(source.name)
            holder = _same_content(source, first_with, current, stored)
            if holder is not None:
                # Same bytes under another name: stored once, so a question does not get the same
                # passage twice in its top results. The report names both files.
                duplicates.append((str(source.path), holder))
                if entry is not None and source.sha256 not in entry["by_sha"]:
                    _delete_everywhere(source.name, store, keywords, sentences)  # its old text is gone from disk
                continue
            if source.encoding not in ("utf-8", "utf_8", "ascii"):
                notices.append(f"{source.name}: decoded as {source.encoding}")
            if entry is None:
                todo.append((prepare(source, settings), "added"))
                continue
            metas_same = entry["by_sha"].get(source.sha256, [])
            other_versions = [s for s in entry["by_sha"] if s != source.sha256]
            if _is_complete(metas_same, source.sha256, sig) and not other_versions:
                unchanged.append(source.name)
                continue
            if metas_same:
                why = (
                    "made with other chunking or embedding settings"
                    if any(m.get("signature") != sig for m in metas_same)
                    else "incomplete (an interrupted ingestion?) or mixed with another version"
                )
                notices.append(f"{source.name}: stored copy was {why}; rebuilt")
                kind = "repaired"
            else:
                kind = "updated"
            # Delete first, then write: see the module docstring for why a crash here loses nothing.
            _delete_everywhere(source.name, store, keywords, sentences)
            todo.append((prepare(source, settings), kind))

        total = sum(len(d.chunks) for d, _ in todo)
        done = 0
        if progress:
            progress(0, total)
        written = 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for doc, kind in todo:
            src = doc.source
            chunks = doc.chunks
            for b in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[b : b + EMBED_BATCH]
                vectors = embedder.get_text_embedding_batch([c.text for c in batch])
                if centering is not None:
                    vectors = centering.apply_many(vectors, [c.language for c in batch]).tolist()
                store.add(
                    [
                        Record(
                            id=_chunk_id(src.name, src.sha256, c.index),
                            document=src.name,
                            text=c.text,
                            embedding=v,
                            metadata={
                                "path": str(src.path.resolve()),
                                "sha256": src.sha256,
                                "encoding": src.encoding,
                                "index": c.index,
                                "n_chunks": len(chunks),
                                "start": c.start,
                                "end": c.end,
                                "language": c.language,
                                "doc_language": doc.language,
                                "signature": sig,
                                "ingested_at": now,
                            },
                        )
                        for c, v in zip(batch, vectors)
                    ]
                )
                if keywords is not None:
                    keywords.add([KeywordItem(_chunk_id(src.name, src.sha256, c.index), src.name, c.text,
                                              c.language) for c in batch])
                if sentences is not None:
                    add_sentences(sentences, src.text, [
                        (_chunk_id(src.name, src.sha256, c.index), src.name, c.start, c.end, c.language)
                        for c in batch], embedder, centering, sig)
                done += len(batch)
                written += len(batch)
                if progress:
                    progress(done, total)
            {"added": added, "updated": updated, "repaired": repaired}[kind].append(src.name)
            if not chunks:
                notices.append(f"{src.name}: no text left after cleaning; nothing stored")

        removed = []
        if prune:
            for doc, entry in stored.items():
                if doc in seen:
                    continue
                doc_paths = {str(m.get("path", "")) for m in entry["metas"]}
                if not any(p and os.path.exists(p) for p in doc_paths):
                    _delete_everywhere(doc, store, keywords, sentences)
                    removed.append(doc)
        if keywords is not None or sentences is not None:
            in_store = stored_chunk_ids(store)  # one scan of the store serves both checks
            if keywords is not None:
                notices += sync_keywords(store, keywords, in_store)
            if sentences is not None:
                notices += sync_sentences(store, sentences, embedder, centering, sig, in_store)

    return IngestReport(
        added=tuple(added),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        removed=tuple(removed),
        repaired=tuple(repaired),
        skipped=tuple(skipped),
        duplicates=tuple(duplicates),
        chunks=written,
        notices=tuple(notices),
    )



def _same_content(source: SourceText, first_with: dict[str, str], current: dict[str, str],
                  stored: dict[str, dict]) -> str | None:
    """The document that already holds `source`'s exact bytes under another name, or None.

    In this run the first file (in path order) wins. A stored document counts when its file is
    still on disk and is not being changed by this run; a name stored with these bytes keeps them.
    """
    first = first_with[source.sha256]
    if first != source.name:
        return first
    own = stored.get(source.name)
    if own is not None and source.sha256 in own["by_sha"]:
        return None
    for doc, entry in sorted(stored.items()):
        if doc == source.name or source.sha256 not in entry["by_sha"]:
            continue
        if doc in current:
            continue  # its file was read in this run with other content (same content: caught above)
        if any(os.path.exists(str(m.get("path", ""))) for m in entry["metas"] if m.get("path")):
            return doc
    return None


def stored_chunk_ids(store: VectorStore) -> dict[str, set[str]]:
    """Every stored document's chunk ids, rebuilt from its chunks' metadata."""
    return {
        doc: {_chunk_id(doc, str(m.get("sha256", "")), int(m.get("index", 0))) for m in metas}
        for doc, metas in store.documents().items()
    }


def sync_keywords(store: VectorStore, keywords, in_store: dict[str, set[str]]) -> list[str]:
    """Make the keyword index hold exactly the store's chunks; say what had to be rebuilt.

    The store is the reference. A keyword index that is missing, of an old format or out of step
    (an interrupted run, a deleted file) is rebuilt from the texts already in the store, per
    document; no re-embedding is needed.
    """
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


def delete_document(
    document: str, *, store: VectorStore, settings: Settings, keywords=None, sentences=None
) -> bool:
    """Remove one document from the store and both side indexes; False when it was not there."""
    with index_lock(settings.home):
        if document not in store.documents():
            return False
        _delete_everywhere(document, store, keywords, sentences)
        return True


def _delete_everywhere(document: str, store: VectorStore, keywords, sentences) -> None:
    store.delete_document(document)
    if keywords is not None:
        keywords.delete_document(document)
    if sentences is not None:
        sentences.delete_document(document)


def add_sentences(sentences: VectorStore, text: str, chunks, embedder, centering, sig: str) -> None:
    """Embed and store the sentences of `chunks` ((chunk id, document, start, end, language))."""
    from .cleaning import Span

    rows = []
    for chunk_id, doc, start, end, lang in chunks:
        for j, sp in enumerate(split_sentences(text, Span(start, end), max_size=400)):
            rows.append((f"{chunk_id}#{j}", doc, text[sp.start : sp.end], sp.start, sp.end, lang, chunk_id))
    for b in range(0, len(rows), EMBED_BATCH):
        part = rows[b : b + EMBED_BATCH]
        vectors = embedder.get_text_embedding_batch([r[2] for r in part])
        if centering is not None:
            vectors = centering.apply_many(vectors, [r[5] for r in part]).tolist()
        sentences.add([
            Record(id_, doc, t, v, {"start": s0, "end": e0, "language": lang, "chunk_id": cid, "signature": sig})
            for (id_, doc, t, s0, e0, lang, cid), v in zip(part, vectors)
        ])


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
