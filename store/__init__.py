"""The vector-store layer: a small protocol and its Chroma implementation.

Importing this package makes the process offline (see `offline`) and imports no chromadb:
`ChromaStore` imports it on first use.
"""
from __future__ import annotations

from . import offline

offline.apply()

from .base import Hit, Record, VectorStore  # noqa: E402
from .chroma import ChromaStore, open_store  # noqa: E402
from .errors import StoreError, StoreUnavailable  # noqa: E402

__all__ = [
    "ChromaStore",
    "Hit",
    "Record",
    "StoreError",
    "StoreUnavailable",
    "VectorStore",
    "open_store",
]
