"""What the scan of an ingestion's files hands to the writer, one event per decision, in order.

The scan runs ahead in a background thread (`background.py`) and never writes; the writer acts
on these events in the order they come (delete, then write) and builds the report from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from rag.ingestion.prepare import PreparedDocument


@dataclass(frozen=True)
class Skipped:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Notice:
    """Something the report should say (a repair, a guessed encoding)."""

    text: str


@dataclass(frozen=True)
class Unchanged:
    """A document stored complete, with the same bytes and settings: nothing to write."""

    name: str


@dataclass(frozen=True)
class Duplicate:
    """A file whose exact bytes another document already holds: stored once, under `holder`."""

    path: str
    holder: str
    stale: str | None = None  # this file's own stored document, whose old text is gone from disk


@dataclass(frozen=True)
class Write:
    """A document to (re)write: "added" (new), "updated" (new content), "repaired" (broken copy)."""

    doc: PreparedDocument
    kind: Literal["added", "updated", "repaired"]
    replaces: str | None = None  # the same file's document under the name an earlier version gave it


Event = Union[Skipped, Notice, Unchanged, Duplicate, Write]
