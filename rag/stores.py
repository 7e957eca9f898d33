"""The assistant's vector stores, opened from the settings, with the store layer's errors turned into ours.

Every collection of one index (the chunks, `<collection>_sentences`, `<collection>_state`) is opened
here, so the choice of backend and the error translation are written once; so are the listing and
dropping of whole collections (rag/collection.py says what a collection is).
"""
from __future__ import annotations

from contextlib import closing

from store import StoreError, VectorStore, open_store

from rag.collection import SIDE_SUFFIXES, check_name
from rag.errors import BackendUnavailable, InvalidInput
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


def open_collection(settings: Settings, name: str) -> GuardedStore:
    """The store of collection `name` on the configured backend (nothing is connected yet: a server
    that cannot be reached fails the first call, as BackendUnavailable)."""
    s = settings
    try:
        inner = open_store(path=s.chroma_path, url=s.chroma_url, collection=name, backend=s.store_backend)
    except StoreError as e:
        raise BackendUnavailable(str(e)) from None
    return GuardedStore(inner)


def store_kind(settings: Settings) -> str:
    """Where the vectors live, in one word: `server`, `local` (embedded Chroma) or `memory`."""
    return "server" if settings.chroma_url else "local" if settings.store_backend == "chroma" else "memory"


def collection_names(settings: Settings) -> list[str]:
    """The collections of chunks at the configured place (the default one always), sorted; side
    collections (`_sentences`, `_state`) and names no collection of ours could have are left out."""
    with closing(open_collection(settings, settings.collection)) as store:
        found = store.collections()
    ours = set()
    for name in found:
        try:
            ours.add(check_name(name))
        except InvalidInput:
            continue
    return sorted(ours | {settings.collection})


def drop_collection(settings: Settings, name: str) -> bool:
    """Delete collection `name` and its side collections from the store; False when it was not there."""
    existed = []
    for suffix in ("", *SIDE_SUFFIXES):
        with closing(open_collection(settings, f"{name}{suffix}")) as store:
            existed.append(store.drop())
    return existed[0]


def describe(settings: Settings) -> str:
    """Where the index lives, in words (`rag` prints it after an ingestion)."""
    s = settings
    if s.store_backend == "memory":
        return "in-memory store (for tests and demos: lost when the process ends)"
    return f"Chroma server at {s.chroma_url}" if s.chroma_url else f"embedded Chroma at {s.chroma_path}"


def serving() -> None:
    """Say that this process serves requests (`rag serve`): an embedded store then writes in short
    calls and leaves the GIL free between them, so that no upload stalls the other requests."""
    from store import chroma

    chroma.share_the_gil()
