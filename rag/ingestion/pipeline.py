"""Ingestion: files -> clean paragraphs -> chunks -> embeddings -> store, idempotently.

The steps, one module each: `discover` finds the files, `lock` keeps ingestions of one data
directory apart, `manifest` compares each file with what is stored (see its docstring for why a
crash loses nothing), `prepare` cleans and chunks, `write` embeds and writes (a document's chunks
last and together, after its sentences and keyword rows, so retrieval never sees part of a
document), and `repair` brings the side indexes back in step at the end of a run.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from store import VectorStore

from rag.errors import UnreadableFile
from rag.ingestion.background import ahead
from rag.ingestion.discover import FoundFile, find_files
from rag.ingestion.events import Duplicate, Event, Notice, Skipped, Unchanged, Write
from rag.ingestion.lock import ingestion_lock
from rag.ingestion.manifest import Manifest, outdated, signature, stored_state
from rag.ingestion.prepare import PreparedDocument
from rag.ingestion.repair import stored_chunk_ids, sync_keywords, sync_sentences
from rag.ingestion.texts import text_store
from rag.ingestion.worker import Limits, Worker, worker
from rag.ingestion.write import IndexWriter, Progress, remove_document
from rag.settings import Settings
from rag.types import IngestReport

def scan(files: Sequence[FoundFile], manifest: Manifest, settings: Settings, w: Worker) -> Iterator[Event]:
    """Read, compare with the store and prepare each file, in order.

    Runs in a background thread (see `background.py`): it only reads the store's state taken
    before, and never writes; deleting and writing stay with the caller, in order. Reading and
    chunking run in the worker process `w`, each file within its budget of time and memory
    (worker.py): whatever a file holds, this process only waits, without holding the GIL.
    """
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    limits = Limits(settings.parse_timeout_s, settings.parse_memory_mb)
    for f in files:
        deadline = time.monotonic() + settings.parse_timeout_s
        try:
            # The worker has its own working directory: it gets the absolute path, the source the path as given.
            source = replace(w.call("read", (os.path.abspath(f.path), max_bytes, f.name, settings.max_document_chars),
                                    deadline=deadline, limits=limits, where=str(f.path)), path=f.path)
        except UnreadableFile as e:
            reason = e.reason
            if "over the limit" in reason:
                reason += f" (RAG_MAX_FILE_MB={settings.max_file_mb:g})"
            yield Skipped(str(f.path), reason)
            continue
        verdict = manifest.compare(source)
        if isinstance(verdict, (Skipped, Duplicate)):
            yield verdict
            continue
        if source.encoding not in ("utf-8", "utf_8", "ascii"):
            yield Notice(f"{source.name}: decoded as {source.encoding}")
        if isinstance(verdict, Unchanged):
            yield verdict
            continue
        if verdict.replaces is not None:
            yield Notice(f"{verdict.replaces} is now {source.name}: documents are named by their path in the "
                         "folder ingested")
        elif verdict.why:
            yield Notice(f"{source.name}: stored copy was {verdict.why}; rebuilt")
        try:
            chunks, language = w.call("prepare", (source.sha256, settings.chunk_size, settings.chunk_max),
                                      deadline=deadline, limits=limits, where=str(f.path))
        except UnreadableFile as e:
            yield Skipped(str(f.path), e.reason)
            continue
        yield Write(PreparedDocument(source, chunks, language), verdict.kind, verdict.replaces)


def ingest_paths(
    paths: Iterable[Path],
    *,
    store: VectorStore,
    embedder,
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
    found = find_files([Path(p) for p in paths], settings.allowed_suffixes, data_dir=settings.home)
    sig = signature(settings, embedder, centering)
    texts = text_store(settings)
    # Started first: the worker loads its readers while the store is opened and read.
    with worker(settings.parse_memory_mb) as parser, ingestion_lock(settings):
        if keywords is not None and keywords.needs_rebuild():
            keywords.reset()  # refilled from the store by sync_keywords at the end of this run
        stored = stored_state(store)
        manifest = Manifest(stored, sig, found.files, int(settings.max_file_mb * 1024 * 1024))
        done: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "repaired": []}
        skipped = list(found.refused)
        ignored = [p for p, _ in found.ignored]
        notices = ([f"ignored {len(ignored)} file(s) of unsupported types: {', '.join(ignored[:5])}"]
                   if ignored else [])
        duplicates: list[tuple[str, str]] = []
        warnings: list[tuple[str, str]] = []

        def remove(doc: str) -> None:
            remove_document(doc, store, keywords, sentences)
            for sha in stored[doc].by_sha if doc in stored else ():
                texts.drop(sha)

        writer = IndexWriter(store, embedder, sig, keywords=keywords, sentences=sentences,
                             centering=centering, progress=progress)
        for event in ahead(scan(found.files, manifest, settings, parser)):
            if isinstance(event, Skipped):
                skipped.append((event.path, event.reason))
            elif isinstance(event, Notice):
                notices.append(event.text)
            elif isinstance(event, Unchanged):
                done["unchanged"].append(event.name)
            elif isinstance(event, Duplicate):
                duplicates.append((event.path, event.holder))
                if event.stale is not None:
                    remove(event.stale)
            else:
                source = event.doc.source
                name = source.name
                if event.kind != "added":
                    # Delete first, then write: see manifest.py for why a crash here loses nothing.
                    remove(name)
                if event.replaces is not None:
                    remove(event.replaces)
                warnings += [(name, w) for w in source.warnings]
                if not event.doc.chunks:
                    skipped.append((str(source.path), "no text left after cleaning (nothing to index)"))
                    continue
                texts.put(source.sha256, source.text)  # before the chunks: a visible document has its text
                writer.add(event.doc)
                done[event.kind].append(name)
        writer.flush()

        removed = manifest.gone() if prune else []  # read once the scan is over: it fills `seen`
        for doc in removed:
            remove(doc)
        left = [d for d in outdated(stored) if d not in manifest.seen and d not in removed]
        if left:
            notices.append(
                f"{len(left)} document(s) were indexed by an earlier version (named by file name alone, no pages): "
                f"ingest their folders again to update them: {', '.join(left[:5])}" + (" …" if len(left) > 5 else ""))
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
        ignored=found.ignored,
        warnings=tuple(warnings),
    )


def delete_document(
    document: str, *, store: VectorStore, settings: Settings, keywords=None, sentences=None
) -> bool:
    """Remove one document from the store and both side indexes; False when it was not there."""
    with ingestion_lock(settings):
        metas = store.documents().get(document)
        if metas is None:
            return False
        remove_document(document, store, keywords, sentences)
        texts = text_store(settings)
        for sha in {str(m.get("sha256", "")) for m in metas} - {""}:
            texts.drop(sha)
        return True
