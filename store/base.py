"""The vector-store protocol: what `rag` needs from a store, and nothing of Chroma's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence, runtime_checkable

Scalar = str | int | float | bool
# A filter on metadata: every field named must hold one of its values (`{"document": ["a.txt", "b.md"]}`).
Where = Mapping[str, Sequence[Scalar]]


@dataclass(frozen=True)
class Record:
    """One chunk to store: its id, the document it belongs to, its text, vector and metadata."""

    id: str
    document: str
    text: str
    embedding: Sequence[float]
    metadata: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One query result. `score` is cosine similarity (1 is identical)."""

    id: str
    document: str
    text: str
    score: float
    metadata: Mapping[str, Scalar] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    def add(self, records: Sequence[Record]) -> None:
        """Insert or replace records by id (an existing id is overwritten, never ignored)."""

    def query(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[Hit]:
        """The k nearest records, best first; with `where`, the k nearest of those it lets through
        (the filter is applied inside the search, so there are k whenever k records match)."""

    def delete_document(self, document: str) -> int:
        """Remove every record of `document`; return how many were removed."""

    def count(self) -> int:
        """Number of records stored."""

    def documents(self) -> dict[str, list[Mapping[str, Scalar]]]:
        """Every stored document with the metadata of each of its records."""

    def get_document(self, document: str) -> list[Hit]:
        """All records of one document (score 1.0), in no particular order."""

    def get(self, ids: Sequence[str], embedding: Sequence[float] | None = None) -> list[Hit]:
        """The records with these ids, in the order asked (missing ids are left out). With
        `embedding`, each hit's score is its cosine similarity to it, as `query` would give."""

    def nearest(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[tuple[str, float]]:
        """`query`'s (id, score) pairs alone: no texts or metadata read, which is most of a query's
        time when k is large."""

    def scores(self, ids: Sequence[str], embedding: Sequence[float]) -> dict[str, float]:
        """The cosine similarity to `embedding` of each record of `ids` (missing ids are left out),
        as `get` would score them, without reading texts or metadata."""


@runtime_checkable
class Collections(Protocol):
    """What a store knows of the other collections at its place (a directory, a server, a process)."""

    def collections(self) -> list[str]:
        """The names of every collection at this store's place, sorted (its own from its first use on)."""

    def drop(self) -> bool:
        """Delete this store's collection and its records; False when it did not exist."""
