"""The vector-store layer: a small protocol, its Chroma implementation and an in-memory one.

Importing this package makes the process offline (see `offline`) and imports no chromadb:
`ChromaStore` imports it on first use.
"""
from __future__ import annotations

from . import offline

offline.apply()

from .base import Collections, Hit, Record, VectorStore  # noqa: E402
from .chroma import ChromaStore  # noqa: E402
from .errors import StoreError, StoreUnavailable  # noqa: E402
from .memory import MemoryStore  # noqa: E402
from .registry import BACKENDS, open_store  # noqa: E402

__all__ = [
    "BACKENDS",
    "ChromaStore",
    "Collections",
    "Hit",
    "MemoryStore",
    "Record",
    "StoreError",
    "StoreUnavailable",
    "VectorStore",
    "open_store",
]
