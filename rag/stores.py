"""The assistant's vector stores, opened from the settings, with the store layer's errors turned into ours.

Every collection of one index (the chunks, `<collection>_sentences`, `<collection>_state`) is opened
here, so the choice of backend and the error translation are written once.
"""
from __future__ import annotations

from store import StoreError, VectorStore, open_store

from rag.errors import BackendUnavailable
from rag.settings import Settings


class GuardedStore:
    """A store whose errors are `BackendUnavailable`, so callers see one family of exceptions."""

    def __init__(self, inner: VectorStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except StoreError as e:
                raise BackendUnavailable(str(e)) from None

        return call


def open_collection(settings: Settings, suffix: str = "") -> GuardedStore:
    """The store of collection `<settings.collection><suffix>` on the configured backend (nothing is
    connected yet: a server that cannot be reached fails the first call, as BackendUnavailable)."""
    s = settings
    try:
        inner = open_store(path=s.chroma_path, url=s.chroma_url, collection=f"{s.collection}{suffix}",
                           backend=s.store_backend)
    except StoreError as e:
        raise BackendUnavailable(str(e)) from None
    return GuardedStore(inner)


def describe(settings: Settings) -> str:
    """Where the index lives, in words (`rag` prints it after an ingestion)."""
    s = settings
    if s.store_backend == "memory":
        return "in-memory store (for tests and demos: lost when the process ends)"
    return f"Chroma server at {s.chroma_url}" if s.chroma_url else f"embedded Chroma at {s.chroma_path}"
