"""Keeping each worker's keyword index in step with a vector store that several workers share.

The chunks and sentence vectors live in Chroma; the keyword index (BM25 in SQLite) lives in each
worker's RAG_HOME (docs/deploy.md). Whoever ingests or deletes writes a fresh random token to a
one-record collection beside the chunks (`<collection>_state`). Before retrieving, a worker reads
that token (at most once per `interval` seconds: one small Chroma read) and, when it differs from
the one its index was last brought in step with, rebuilds in a background thread the keyword rows
of every document that is out of step, from the chunk texts already in the store (no embedding).
Until that finishes it retrieves as before: the vectors already find a new document, and the
keyword hits of a deleted one are dropped because the store no longer has them.

A worker's first check syncs unless its index records that it was in step with the store's current
token (`mark_in_step`, kept in the index and removed by any write to it), so a worker started on a
stale index, or on one of an older format, catches up by itself, and one restarted on an unchanged
store is ready at once. A write announces twice: a WRITING token when it starts, a final one when it
ends; an index is marked in step only with a final token that did not change during its resync, so a
write killed half-way (its WRITING token stays) makes every worker resync, as before.
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import uuid
from typing import Callable, Iterator

from store import Record, VectorStore

from rag.ingestion.repair import stored_chunk_ids, sync_keywords

log = logging.getLogger(__name__)

STATE_ID = "keyword-generation"
WRITING = "writing-"  # a token's prefix while a write is under way (or was killed)


class KeywordSync:
    """The change token of a shared store, and the background resync of one keyword index.

    `keywords` may be None (the keyword stage is off): changes are still announced, for workers
    that have the stage on, and `check` does nothing.
    """

    def __init__(self, store: VectorStore, state: VectorStore, keywords=None, *,
                 interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.state = state
        self.keywords = keywords
        self.interval = interval
        self._clock = clock
        self._checked = -math.inf
        self._synced: str | None = None  # the token the index was last brought in step with
        self._busy = threading.Lock()  # held by a resync, and by this process's own writes
        self._thread: threading.Thread | None = None
        self.notices: tuple[str, ...] = ()  # what the last resync rebuilt
        self.error: Exception | None = None  # why the last check or resync failed, if it did

    def token(self) -> str:
        hits = self.state.get([STATE_ID])
        return hits[0].text if hits else ""

    def announce(self, *, starting: bool = False) -> None:
        """Say that the store changed, so that every worker resyncs (this one included: a resync
        that was running while this process wrote may have read the store half-written).
        `starting`: a write begins; the token says so until the write's final announce."""
        self.state.add([Record(STATE_ID, "", (WRITING if starting else "") + uuid.uuid4().hex, [1.0])])

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around an ingestion or a delete: waits for a running resync, keeps new ones from starting,
        and announces the change before (a write killed half-way is never taken for a finished one)
        and after, even when the write failed part-way."""
        with self._busy:
            self.announce(starting=True)
            try:
                yield
            except BaseException:
                with contextlib.suppress(Exception):  # the write's own error is the one to report
                    self.announce()
                raise
            self.announce()

    def check(self, wait: bool = False) -> None:
        """Start a resync if the store changed since the last one. Never raises: a store that
        cannot be reached is retrieval's to report. `wait` blocks until the resync is done (tests,
        the CLI) instead of leaving it to a background thread, and skips the interval."""
        if self.keywords is None:
            return
        now = self._clock()
        if not wait and now - self._checked < self.interval:
            return
        self._checked = now
        if not self._busy.acquire(blocking=wait):
            return  # a resync or this process's own write is under way
        try:
            token = self.token()
        except Exception as e:
            self.error = e
            self._busy.release()
            return
        if token == self._synced or (self._synced is None and self._marked(token)):
            self._synced = token
            self._busy.release()
            return
        if wait:
            self._resync(token)
        else:
            # Not a daemon: the interpreter waits for it at exit. A daemon thread still inside embedded
            # Chroma's native code when the interpreter finalises crashes the process (SIGSEGV).
            self._thread = threading.Thread(target=self._resync, args=(token,), name="keyword-sync")
            self._thread.start()

    def _resync(self, token: str) -> None:
        """Bring the index in step with the store (the lock is held, and released here)."""
        try:
            if self.keywords.needs_rebuild():
                self.keywords.reset()  # an older format: every document is then out of step
            self.notices = tuple(sync_keywords(self.store, self.keywords, stored_chunk_ids(self.store)))
            self._synced = token
            self._mark(token)
            self.error = None
            for notice in self.notices:
                log.info("%s", notice)
        except Exception as e:  # retried at the next check
            self.error = e
            log.warning("keyword index resync failed: %s", e)
        finally:
            self._busy.release()

    def _mark(self, token: str) -> None:
        """After a resync to `token`: record it in the index if the store did not change meanwhile
        (what the resync read is then the store as of `token`). Best effort: unmarked, the next
        worker to start resyncs."""
        mark = getattr(self.keywords, "mark_in_step", None)
        if mark is None or not _final(token):
            return
        try:
            if self.token() == token:
                mark(token)
        except Exception as e:
            log.info("keyword index not marked in step: %s", e)

    def _marked(self, token: str) -> bool:
        """The index records that it was in step with the store as of `token` (a final one)."""
        in_step_with = getattr(self.keywords, "in_step_with", None)
        if in_step_with is None or not _final(token):
            return False
        try:
            return in_step_with() == token
        except Exception:  # unreadable: resync, which reports what is wrong
            return False

    def join(self, timeout: float | None = None) -> None:
        """Wait for a background resync to end."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def _final(token: str) -> bool:
    """A token a finished write left: not empty (a store nothing announced yet) nor a write's start."""
    return bool(token) and not token.startswith(WRITING)
