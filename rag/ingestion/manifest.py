"""What is stored, compared with this run's files: the decision for each file.

The store itself is the manifest: every chunk carries its document's content hash, chunk count and
the chunker/embedder signature. So there is no side file that could disagree with the index, and
each run compares what is on disk with what is stored:
- unchanged hash, complete set of chunks, same signature -> nothing is written;
- changed content -> the old chunks are deleted, then the new ones written (a crash in between
  leaves a partial document, which the next run detects by its chunk count and rebuilds; the file
  on disk still holds the text, so nothing is lost);
- chunks missing, duplicated or made with another chunker/embedder -> the document is rebuilt,
  and the report says so;
- the same bytes as another document -> stored once, and the report names both files;
- a name held by another file that is still on disk (`rag ingest a/` then `rag ingest b/`, both with a
  notes.md) -> the new file is skipped with the reason, never written over the other;
- a document stored by an earlier version (names were bare file names, no pages): rebuilt when its
  file is ingested again, under its new name when that differs (the stored path says it is the same
  file); the report lists those not rebuilt yet (`outdated`).
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from store import VectorStore

from rag.ingestion.discover import FoundFile
from rag.ingestion.events import Duplicate, Skipped, Unchanged
from rag.ingestion.load import SourceText
from rag.settings import Settings


@dataclass(frozen=True)
class StoredDocument:
    """One stored document, from its chunks' metadata."""

    metas: tuple[Mapping, ...]
    by_sha: Mapping[str, tuple[Mapping, ...]]  # content hash -> the chunks made from that content

    def paths(self) -> set[str]:
        return {str(m.get("path", "")) for m in self.metas} - {""}

    def file_exists(self) -> bool:
        return any(os.path.exists(p) for p in self.paths())

    def current(self) -> bool:
        """Made by this version (names relative to the folder, pages and locations stored)."""
        return all(str(m.get("signature", "")).startswith(VERSION + ":") for m in self.metas)


@dataclass(frozen=True)
class Change:
    """A document to write, and for a repair what was wrong with the stored copy."""

    kind: Literal["added", "updated", "repaired"]
    why: str | None = None
    replaces: str | None = None  # the same file's document under its old name (an earlier version's)


def stored_state(store: VectorStore) -> dict[str, StoredDocument]:
    """Per stored document: its chunks' metadata, grouped by content hash."""
    state: dict[str, StoredDocument] = {}
    for doc, metas in store.documents().items():
        by_sha: dict[str, list] = defaultdict(list)
        for m in metas:
            by_sha[str(m.get("sha256", ""))].append(m)
        state[doc] = StoredDocument(tuple(metas), {sha: tuple(ms) for sha, ms in by_sha.items()})
    return state


# The index layout: v2 names documents by their path relative to the folder ingested and stores each
# chunk's page and location. A document stored under another version is rebuilt when met again.
VERSION = "chunk-v2"


def signature(settings: Settings, embedder, centering=None) -> str:
    """What the stored vectors depend on besides the text: a change forces a rebuild."""
    center = f"|center:{centering.name}" if centering is not None else ""
    return f"{VERSION}:{settings.chunk_size}:{settings.chunk_max}|{embedder.model_name}{center}"


def outdated(stored: Mapping[str, StoredDocument]) -> list[str]:
    """Stored documents made by an earlier version of the index."""
    return sorted(doc for doc, entry in stored.items() if not entry.current())


def is_complete(metas: Sequence[Mapping], sha: str, sig: str) -> bool:
    """Every chunk of one version is there, once, made with the current settings."""
    if not metas:
        return False
    indexes = sorted(int(m.get("index", -1)) for m in metas)
    expected = int(metas[0].get("n_chunks", -1))
    return (
        indexes == list(range(expected))
        and all(m.get("signature") == sig and m.get("sha256") == sha for m in metas)
    )


class Manifest:
    """One run's comparison of its files with the store's state, taken before anything is written.

    `compare` is called once per file read, in path order (from the scan's thread); `gone` after
    the last one.
    """

    def __init__(self, stored: dict[str, StoredDocument], sig: str, files: Sequence[FoundFile],
                 max_bytes: int) -> None:
        self.stored, self.sig = stored, sig
        self._current, self._first_with = _identify(files, max_bytes)
        self.seen: dict[str, str] = {}  # name -> path of the file ingested under it in this run
        # An earlier version's documents by their file's path: met again, they move to their new name.
        self._old_by_path = {p: doc for doc, entry in stored.items() if not entry.current() for p in entry.paths()}

    def compare(self, source: SourceText) -> Skipped | Duplicate | Unchanged | Change:
        if source.name in self.seen:
            return Skipped(str(source.path),
                           f"another file named {source.name} was ingested in this run ({self.seen[source.name]}); "
                           "ingest their common folder to keep both")
        entry = self.stored.get(source.name)
        here = str(source.path.resolve())
        if entry is not None and here not in entry.paths() and source.sha256 not in entry.by_sha:
            others = sorted(p for p in entry.paths() if os.path.exists(p))
            if others:
                # Another file, still on disk, holds the name: replacing it would lose it in silence.
                return Skipped(str(source.path), f"the name {source.name} is taken by another file ({others[0]}); "
                                                 "ingest their common folder to keep both")
        self.seen[source.name] = str(source.path)
        old_name = self._old_by_path.get(here)
        replaces = old_name if old_name not in (None, source.name) else None
        if replaces is not None:
            self.seen[replaces] = str(source.path)  # not "gone": it moves to its new name
        self._first_with.setdefault(source.sha256, source.name)  # the file changed since the first pass
        self._current[source.name] = source.sha256
        holder = self._same_content(source, replaces)
        if holder is not None:
            # Same bytes under another name: stored once, so a question does not get the same
            # passage twice in its top results.
            stale = source.name if entry is not None and source.sha256 not in entry.by_sha else None
            return Duplicate(str(source.path), holder, stale)
        if replaces is not None:
            return Change("updated" if entry is not None else "added",
                          f"stored as {replaces} by an earlier version", replaces)
        if entry is None:
            return Change("added")
        metas_same = entry.by_sha.get(source.sha256, ())
        other_versions = [s for s in entry.by_sha if s != source.sha256]
        if is_complete(metas_same, source.sha256, self.sig) and not other_versions:
            return Unchanged(source.name)
        if metas_same:
            why = (
                "made by an earlier version (no pages or locations)" if not entry.current()
                else "made with other chunking or embedding settings"
                if any(m.get("signature") != self.sig for m in metas_same)
                else "incomplete (an interrupted ingestion?) or mixed with another version"
            )
            return Change("repaired", why)
        return Change("updated")

    def gone(self) -> list[str]:
        """Stored documents not read in this run whose files are no longer on disk."""
        return [doc for doc, entry in self.stored.items() if doc not in self.seen and not entry.file_exists()]

    def _same_content(self, source: SourceText, replaces: str | None = None) -> str | None:
        """The document that already holds `source`'s exact bytes under another name, or None.

        In this run the first file (in path order) wins. A stored document counts when its file is
        still on disk and is not being changed by this run; a name stored with these bytes keeps them.
        """
        first = self._first_with[source.sha256]
        if first != source.name:
            return first
        own = self.stored.get(source.name)
        if own is not None and source.sha256 in own.by_sha:
            return None
        for doc, entry in sorted(self.stored.items()):
            if doc in (source.name, replaces) or source.sha256 not in entry.by_sha:
                continue
            if doc in self._current:
                continue  # its file was read in this run with other content (same content: caught above)
            if entry.file_exists():
                return doc
        return None


def _identify(files: Sequence[FoundFile], max_bytes: int) -> tuple[dict[str, str], dict[str, str]]:
    """A first pass over the bytes, one file at a time (bounded memory): name -> sha256 for this
    run's files (the first file of a name wins) and sha256 -> the first name holding it. Duplicates
    are judged against the whole run before anything is written."""
    current: dict[str, str] = {}
    first_with: dict[str, str] = {}
    for found in files:
        f = found.path
        try:
            if found.name in current or f.stat().st_size > max_bytes:
                continue
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            continue  # read_text reports it with the reason
        current[found.name] = h.hexdigest()
        first_with.setdefault(current[found.name], found.name)
    return current, first_with
