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
A document's chunks are written last and together (`index_writer.py`), after its sentences and
keyword rows, so retrieval never sees part of a document.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from llama_index.core.embeddings import BaseEmbedding

from store import Record, VectorStore

from rag.ingestion.background import ahead
from rag.ingestion.chunk import chunk_spans
from rag.ingestion.clean import clean
from rag.errors import IndexBusy, PathNotFound, UnreadableFile
from rag.text.language import detect
from rag.ingestion.load import SourceText, read_text
from rag.settings import Settings
from rag.ingestion.write import EMBED_BATCH, IndexWriter, chunk_id, sentence_rows
from rag.retrieval.keywords import KeywordItem
from rag.types import Chunk, IngestReport

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


_chunk_id = chunk_id  # one definition, in index_writer


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


def _identify(files: Sequence[Path], max_bytes: int) -> tuple[dict[str, str], dict[str, str]]:
    """A first pass over the bytes, one file at a time (bounded memory): name -> sha256 for this
    run's files (the first file of a name wins) and sha256 -> the first name holding it. Duplicates
    are judged against the whole run before anything is written."""
    current: dict[str, str] = {}
    first_with: dict[str, str] = {}
    for f in files:
        try:
            if f.name in current or f.stat().st_size > max_bytes:
                continue
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            continue  # read_text reports it with the reason
        current[f.name] = h.hexdigest()
        first_with.setdefault(current[f.name], f.name)
    return current, first_with


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


def _scan(files: Sequence[Path], stored: dict, sig: str, settings: Settings, seen: dict[str, str]) -> Iterator[tuple]:
    """Read, compare with the store and prepare each file: yields ("skipped", path, reason),
    ("notice", text), ("unchanged", name), ("duplicate", path, holder, stale name or None) or
    ("write", PreparedDocument, kind).

    Runs in a background thread (see `background.py`): it only reads the store's state taken
    before, and never writes; deleting and writing stay with the caller, in order.
    """
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    current, first_with = _identify(files, max_bytes)
    for f in files:
        try:
            source = read_text(f, max_bytes=max_bytes)
        except UnreadableFile as e:
            reason = e.reason
            if "over the limit" in reason:
                reason += f" (RAG_MAX_FILE_MB={settings.max_file_mb:g})"
            yield ("skipped", str(f), reason)
            continue
        if source.name in seen:
            yield ("skipped", str(f), f"another file named {source.name} was ingested in this run ({seen[source.name]})")
            continue
        seen[source.name] = str(f)
        entry = stored.get(source.name)
        first_with.setdefault(source.sha256, source.name)  # the file changed since the first pass
        current[source.name] = source.sha256
        holder = _same_content(source, first_with, current, stored)
        if holder is not None:
            # Same bytes under another name: stored once, so a question does not get the same
            # passage twice in its top results. The report names both files.
            stale = source.name if entry is not None and source.sha256 not in entry["by_sha"] else None
            yield ("duplicate", str(source.path), holder, stale)  # stale: its old text is gone from disk
            continue
        if source.encoding not in ("utf-8", "utf_8", "ascii"):
            yield ("notice", f"{source.name}: decoded as {source.encoding}")
        if entry is None:
            yield ("write", prepare(source, settings), "added")
            continue
        metas_same = entry["by_sha"].get(source.sha256, [])
        other_versions = [s for s in entry["by_sha"] if s != source.sha256]
        if _is_complete(metas_same, source.sha256, sig) and not other_versions:
            yield ("unchanged", source.name)
            continue
        if metas_same:
            why = (
                "made with other chunking or embedding settings"
                if any(m.get("signature") != sig for m in metas_same)
                else "incomplete (an interrupted ingestion?) or mixed with another version"
            )
            yield ("notice", f"{source.name}: stored copy was {why}; rebuilt")
            yield ("write", prepare(source, settings), "repaired")
        else:
            yield ("write", prepare(source, settings), "updated")


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
    vectors are centred on their chunk's language (see `centering.py`).

    The next files are read, cleaned and chunked in a background thread while this one embeds
    and writes (`IndexWriter`: large embedding batches, batched writes). `progress(done, total)`
    counts embedded texts, chunks and their sentences; `total` grows while files are prepared.
    """
    paths = [Path(p) for p in paths]
    files, ignored, skipped = find_files(paths, settings.allowed_suffixes)  # skipped: (path, reason)
    sig = signature(settings, embedder, centering)
    with index_lock(settings.home):
        if keywords is not None and keywords.needs_rebuild():
            keywords.reset()  # refilled from the store by sync_keywords at the end of this run
        stored = _stored_state(store)
        done: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "repaired": []}
        notices = [f"ignored {len(ignored)} file(s) of unsupported types: {', '.join(ignored[:5])}"] if ignored else []
        seen: dict[str, str] = {}  # filled by _scan; complete once it is exhausted
        duplicates: list[tuple[str, str]] = []
        writer = IndexWriter(store, embedder, sig, keywords=keywords, sentences=sentences,
                             centering=centering, progress=progress)
        for event in ahead(_scan(files, stored, sig, settings, seen)):
            what = event[0]
            if what == "skipped":
                skipped.append((event[1], event[2]))
            elif what == "notice":
                notices.append(event[1])
            elif what == "unchanged":
                done["unchanged"].append(event[1])
            elif what == "duplicate":
                duplicates.append((event[1], event[2]))
                if event[3] is not None:
                    _delete_everywhere(event[3], store, keywords, sentences)
            else:
                doc, kind = event[1], event[2]
                if kind != "added":
                    # Delete first, then write: see the module docstring for why a crash here loses nothing.
                    _delete_everywhere(doc.source.name, store, keywords, sentences)
                writer.add(doc)
                done[kind].append(doc.source.name)
                if not doc.chunks:
                    notices.append(f"{doc.source.name}: no text left after cleaning; nothing stored")
        writer.flush()

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
        added=tuple(done["added"]),
        updated=tuple(done["updated"]),
        unchanged=tuple(done["unchanged"]),
        removed=tuple(removed),
        repaired=tuple(done["repaired"]),
        skipped=tuple(skipped),
        duplicates=tuple(duplicates),
        chunks=writer.chunks_written,
        notices=tuple(notices),
    )


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
    rows = sentence_rows(text, chunks)
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
