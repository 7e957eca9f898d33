"""The stores by name: `open_store` opens the one the settings choose."""
from __future__ import annotations

from pathlib import Path

from .base import VectorStore
from .chroma import DEFAULT_COLLECTION, ChromaStore
from .errors import StoreError
from .memory import MemoryStore

BACKENDS = ("chroma", "memory")


def open_store(
    path: Path | str | None,
    url: str | None,
    collection: str = DEFAULT_COLLECTION,
    timeout: float = 10.0,
    backend: str = "chroma",
) -> VectorStore:
    """The store the settings name. `chroma`: the server when `url` is set, else embedded Chroma at
    `path`. `memory`: records kept in this process, shared by every store opened on the same `path`
    and collection (for tests and demos; `url` must then be unset). Nothing is connected here."""
    if backend == "memory":
        if url:
            raise StoreError(f"the memory store keeps records in this process: it cannot use the server at {url}")
        return MemoryStore(location=str(path or ""), collection=collection)
    if backend != "chroma":
        raise StoreError(f"unknown store backend {backend!r}; known: {', '.join(BACKENDS)}")
    if url:
        return ChromaStore(url=url, collection=collection, timeout=timeout)
    if path is None:
        raise StoreError("no vector store configured: set a directory or a Chroma server URL")
    return ChromaStore(path=path, collection=collection, timeout=timeout)
