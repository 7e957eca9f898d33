"""Checks every store makes on what it is given, so that each backend refuses the same things."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Hit, Record, Scalar, Where
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


def checked_where(where: Where | None) -> dict[str, list[Scalar]] | None:
    """`where` as field -> list of values, checked; None for no filter. A field with no values lets
    nothing through (the caller returns no hits rather than asking the backend)."""
    if where is None:
        return None
    out: dict[str, list[Scalar]] = {}
    for key, values in where.items():
        if not isinstance(key, str) or isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise StoreError(f"where: {key!r} must map to a list of values, got {values!r}")
        bad = [v for v in values if not isinstance(v, SCALARS)]
        if bad:
            raise StoreError(f"where: {key!r} values must be str, int, float or bool, got {bad[0]!r}")
        out[key] = list(dict.fromkeys(values))
    return out


def matches(metadata: Mapping[str, Any], where: Mapping[str, Sequence[Scalar]] | None) -> bool:
    """Whether a record's metadata passes a checked `where`."""
    return where is None or all(metadata.get(key) in values for key, values in where.items())
