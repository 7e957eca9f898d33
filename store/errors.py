"""The store's errors: the only exceptions that leave `store/` (no chromadb or httpx ones)."""
from __future__ import annotations


class StoreError(Exception):
    """The store cannot do what was asked (bad URL, bad record, Chroma refused the request)."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached (nothing listening, timed out, connection dropped)."""
