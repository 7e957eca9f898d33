"""Checks every store makes on what it is given, so that each backend refuses the same things."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Hit, Record, Scalar
from .errors import StoreError

SCALARS = (str, int, float, bool)


def as_vector(embedding: Sequence[float], what: str) -> np.ndarray:
    """`embedding` as a flat float32 array; StoreError naming `what` when it is not one."""
    try:
        v = np.asarray(embedding, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what}: the embedding is not a sequence of numbers") from exc
    if v.ndim != 1 or v.size == 0:
        raise StoreError(f"{what}: the embedding must be a non-empty flat vector, got shape {v.shape}")
    return v


def stored_metadata(record: Record) -> dict[str, Scalar]:
    """The metadata a store keeps for `record`: its own (scalars only) plus the document's name."""
    for key, value in record.metadata.items():
        if not isinstance(key, str) or not isinstance(value, SCALARS):
            raise StoreError(
                f"record {record.id!r}: metadata {key!r} must be a str, int, float or bool, "
                f"got {type(value).__name__}"
            )
    return {**record.metadata, "document": record.document}


def latest_by_id(records: Sequence[Record]) -> dict[str, Record]:
    """One record per id, the last given winning, as if they had been added one by one."""
    latest: dict[str, Record] = {}
    for record in records:
        latest[record.id] = record
    return latest


def make_hit(id_: str, text: str | None, metadata: Mapping[str, Any] | None, score: float) -> Hit:
    metadata = dict(metadata or {})
    return Hit(id=id_, document=str(metadata.get("document", "")), text=text or "", score=score,
               metadata=metadata)
