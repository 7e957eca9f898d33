"""One ingestion at a time per data directory: an advisory file lock, refused at once when held.

A hold taken with `nested=True` lets the same thread take the lock again inside it (an upload
checks its name, copies its file and ingests it under one hold); any other second taker, this
thread's included, is refused."""
from __future__ import annotations

import fcntl
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
