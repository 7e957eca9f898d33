"""An in-memory `VectorStore`, for tests and demos: Chroma's behaviour without Chroma.

Records are kept in this process only and are lost when it ends. Like two `ChromaStore`s opened on
one directory, two `MemoryStore`s opened on the same (location, collection) share their records, so
what one Assistant ingests the next one finds. Scores are cosine similarities computed with numpy
over every record (exact, where Chroma's index is approximate), ties kept in insertion order.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence

import numpy as np

from .base import Hit, Record, Scalar, Where
from .errors import StoreError
from .records import as_vector, checked_where, latest_by_id, make_hit, matches, stored_metadata

DEFAULT_COLLECTION = "rag_chunks"


class _Collection:
    """The records of one (location, collection): what a Chroma collection holds on disk."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, tuple[str, np.ndarray, dict[str, Scalar]]] = {}  # id -> text, unit vector, metadata
        self.dim: int | None = None  # fixed by the first record, as Chroma's is
        self._matrix: tuple[list[str], np.ndarray] | None = None  # rebuilt after a write

    def matrix(self) -> tuple[list[str], np.ndarray]:
        if self._matrix is None:
            ids = list(self.records)
            rows = np.stack([self.records[i][1] for i in ids]) if ids else np.zeros((0, self.dim or 0), np.float32)
            self._matrix = ids, rows
        return self._matrix

    def changed(self) -> None:
        self._matrix = None


# The process's collections by (location, name). It plays the part of the directory Chroma writes to,
# so it is shared on purpose; tests empty it with `forget()` after each test.
_COLLECTIONS: dict[tuple[str, str], _Collection] = {}
_COLLECTIONS_LOCK = threading.Lock()


def forget(folder: str | None = None) -> None:
    """Drop the records of every collection (or of those at or under `folder`), as deleting the
    directory would."""
    def doomed(location: str) -> bool:
        return folder is None or location == str(folder) or location.startswith(os.path.join(str(folder), ""))

    with _COLLECTIONS_LOCK:
        for key in [k for k in _COLLECTIONS if doomed(k[0])]:
            del _COLLECTIONS[key]


class MemoryStore:
    """Records of one collection kept in this process (see the module's docstring)."""

    def __init__(self, location: str = "", collection: str = DEFAULT_COLLECTION) -> None:
        self.location = str(location)
        self.collection = collection

    def __repr__(self) -> str:
        return f"MemoryStore(location={self.location!r}, collection={self.collection!r})"

    def describe(self) -> str:
        return f"in-memory store ({self.location})" if self.location else "in-memory store"

    # -- the VectorStore protocol ------------------------------------------------------------

    def add(self, records: Sequence[Record]) -> None:
        latest = latest_by_id(records)
        rows = {}
        for id_, record in latest.items():  # everything checked before anything is written
            v = _unit(as_vector(record.embedding, f"record {id_!r}"))
            rows[id_] = (record.text, v, stored_metadata(record))
        if not rows:
            return
        data = self._data()
        with data.lock:
            dims = {v.size for _text, v, _meta in rows.values()} | ({data.dim} if data.dim else set())
            if len(dims) > 1:
                raise StoreError(f"{self.describe()}: upsert failed: expecting embeddings with dimension of "
                                 f"{data.dim or min(dims)}, got {sorted(dims)}")
            data.dim = dims.pop()
            data.records.update(rows)
            data.changed()

    def query(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[Hit]:
        if k <= 0:
            return []
        q = as_vector(embedding, "query embedding")
        allowed = checked_where(where)
        data = self._data()
        with data.lock:
            if not data.records:
                return []
            self._check_dimension(data, q, "query")
            ids, rows = data.matrix()
            scores = rows @ _unit(q)
            if allowed is not None:  # filtered before ranking, as Chroma's `where` is
                keep = np.array([matches(data.records[i][2], allowed) for i in ids], dtype=bool)
                scores = np.where(keep, scores, -np.inf)
                k = min(k, int(keep.sum()))
            order = np.argsort(-scores, kind="stable")[:k]  # stable: ties in insertion order
            return [self._hit(data, ids[i], float(scores[i])) for i in order]

    def nearest(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[tuple[str, float]]:
        return [(h.id, h.score) for h in self.query(embedding, k, where)]

    def scores(self, ids: Sequence[str], embedding: Sequence[float]) -> dict[str, float]:
        return {h.id: h.score for h in self.get(ids, embedding)}

    def delete_document(self, document: str) -> int:
        data = self._data()
        with data.lock:
            doomed = [i for i, (_t, _v, meta) in data.records.items() if meta.get("document") == document]
            for i in doomed:
                del data.records[i]
            if doomed:
                data.changed()
            return len(doomed)

    def count(self) -> int:
        data = self._data()
        with data.lock:
            return len(data.records)

    def documents(self) -> dict[str, list[Mapping[str, Scalar]]]:
        found: dict[str, list[Mapping[str, Scalar]]] = {}
        data = self._data()
        with data.lock:
            for _text, _v, meta in data.records.values():
                found.setdefault(str(meta.get("document", "")), []).append(dict(meta))
        return found

    def get_document(self, document: str) -> list[Hit]:
        data = self._data()
        with data.lock:
            return [self._hit(data, i, 1.0) for i, (_t, _v, meta) in data.records.items()
                    if meta.get("document") == document]

    def get(self, ids: Sequence[str], embedding: Sequence[float] | None = None) -> list[Hit]:
        if not ids:
            return []
        q = None if embedding is None else as_vector(embedding, "query embedding")
        data = self._data()
        with data.lock:
            if q is not None and data.records:
                self._check_dimension(data, q, "get")
            out = []
            for i in ids:
                if i in data.records:
                    score = 1.0 if q is None else float(data.records[i][1] @ _unit(q))
                    out.append(self._hit(data, i, score))
            return out

    # -- the other collections at this location ---------------------------------------------

    def collections(self) -> list[str]:
        with _COLLECTIONS_LOCK:
            return sorted(name for location, name in _COLLECTIONS if location == self.location)

    def drop(self) -> bool:
        with _COLLECTIONS_LOCK:
            return _COLLECTIONS.pop((self.location, self.collection), None) is not None

    # -- lifecycle: nothing to release; the records stay for the next store opened here -------

    def close(self) -> None:
        pass

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _data(self) -> _Collection:
        with _COLLECTIONS_LOCK:
            return _COLLECTIONS.setdefault((self.location, self.collection), _Collection())

    def _check_dimension(self, data: _Collection, q: np.ndarray, action: str) -> None:
        if data.dim is not None and q.size != data.dim:
            raise StoreError(f"{self.describe()}: {action} failed: expecting embedding with dimension of "
                             f"{data.dim}, got {q.size}")

    @staticmethod
    def _hit(data: _Collection, id_: str, score: float) -> Hit:
        text, _v, meta = data.records[id_]
        return make_hit(id_, text, meta, score)  # a copy of the metadata: callers cannot edit what is stored


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v
