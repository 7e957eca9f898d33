"""One ingestion at a time per collection, refused at once when another holds the lock.

With the SQLite default, an advisory file lock in the collection's data directory (`ingest.lock`):
the database is a file there too, so both are shared by exactly the processes that share the folder.
With PostgreSQL (`RAG_DATABASE_URL`), a PostgreSQL advisory lock named after the collection, held by
one connection for the ingestion: every worker on that database sees it, whatever its data
directory, and a worker that dies releases it with its connection.

A hold taken with `nested=True` lets the same thread take the lock again inside it (an upload
checks its name, copies its file and ingests it under one hold); any other second taker, this
thread's included, is refused."""
from __future__ import annotations

import fcntl
import hashlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import IndexBusy

_held = threading.local()  # the lock files this thread holds with nested=True, and how many times each


@contextmanager
def index_lock(home: Path, nested: bool = False) -> Iterator[None]:
    """Hold `home`/ingest.lock for the block; a second holder fails at once, clearly (but see `nested`)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "ingest.lock"
    key = str(path.resolve())
    counts: dict[str, int] = _held.__dict__.setdefault("counts", {})
    if counts.get(key):
        counts[key] += 1
        try:
            yield
        finally:
            counts[key] -= 1
        return
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"another ingestion is running on {home} (lock {path}); wait for it to finish"
            ) from None
        if nested:
            counts[key] = 1
        try:
            yield
        finally:
            counts.pop(key, None)
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def ingestion_lock(settings, nested: bool = False) -> Iterator[None]:
    """The lock of `settings`' collection: PostgreSQL's advisory lock when the database is shared,
    else `index_lock` on its data directory."""
    if not settings.shared_database:
        with index_lock(settings.home, nested=nested):
            yield
        return
    import sqlalchemy as sa

    from rag.database.engine import database

    key = f"pg:{settings.collection}"
    counts: dict[str, int] = _held.__dict__.setdefault("counts", {})
    if counts.get(key):
        counts[key] += 1
        try:
            yield
        finally:
            counts[key] -= 1
        return
    # A signed 64-bit key from the collection's name (advisory locks take a bigint).
    number = int.from_bytes(hashlib.sha256(f"rag-ingest:{settings.collection}".encode()).digest()[:8], "big",
                            signed=True)
    with database(settings).connect() as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": number}).scalar():
            conn.rollback()
            raise IndexBusy(f"another ingestion is running on the collection {settings.collection} "
                            "(a worker sharing this database); wait for it to finish")
        conn.commit()  # the lock is the session's, not the transaction's: it stays held
        if nested:
            counts[key] = 1
        try:
            yield
        finally:
            counts.pop(key, None)
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": number})
            conn.commit()
