"""Named collections: separate libraries in one data directory.

Each collection has its own index (a Chroma collection named after it, with `<name>_sentences` and
`<name>_state` beside it), keyword index, uploads folder and ingestion lock. The default collection
(`RAG_COLLECTION`, `rag_chunks` unless set) keeps the data directory's own paths, so an index made
before collections existed is that collection; any other lives under `<home>/collections/<name>/`.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import InvalidInput

if TYPE_CHECKING:  # the name rule is read by `rag --help`, which loads no settings
    from rag.settings import Settings

# Chroma's own rule (3 to 63 characters of [a-zA-Z0-9._-]) narrowed to what also makes a safe folder
# name on every file system: lowercase, no dots.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]")
NAME_RULE = "3 to 63 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit"
# The side collections of an index; a collection named like one would collide with another's.
SIDE_SUFFIXES = ("_sentences", "_state")


class CollectionNotFound(InvalidInput):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"no collection named {name!r} (collections: {', '.join(known)}); "
                         f"create it with `rag collections create {name}`")


def check_name(name: object) -> str:
    """`name` if it is a usable collection name, else InvalidInput naming the value and the rule."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(f"not a collection name: {name!r}; use {NAME_RULE}")
    if name.endswith(SIDE_SUFFIXES):
        raise InvalidInput(f"not a collection name: {name!r}; names ending in "
                           f"{' or '.join(SIDE_SUFFIXES)} are kept for the index's side collections")
    return name


@dataclass(frozen=True)
class Place:
    """Where one collection's files live."""

    name: str  # the Chroma collection of its chunks
    folder: Path  # its keyword index, uploads and ingestion lock
    default: bool

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    def keywords(self, store_kind: str) -> Path:
        """Its keyword index for one place the vectors live (`server`, `local`, `memory`): one file
        each, so that switching between them never mixes rows."""
        return self.folder / f"keywords.{store_kind}.{self.name}.sqlite"


def place(settings: Settings, name: str | None = None) -> Place:
    """The place of collection `name` (None: the default one). Names other than the default are
    checked against the rule; the default is whatever RAG_COLLECTION says, as before."""
    if name is None or name == settings.collection:
        return Place(settings.collection, settings.home, True)
    return Place(check_name(name), settings.home / "collections" / name, False)


@dataclass(frozen=True)
class CollectionInfo:
    """One collection as `rag collections` lists it."""

    name: str
    documents: int
    chunks: int
    default: bool

    def to_dict(self) -> dict:
        return asdict(self)
