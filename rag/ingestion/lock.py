"""One ingestion at a time per data directory: an advisory file lock, refused at once when held."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import IndexBusy


@contextmanager
def index_lock(home: Path) -> Iterator[None]:
    """Hold `home`/ingest.lock for the block; a second holder fails at once, clearly."""
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
