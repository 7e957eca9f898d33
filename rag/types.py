"""The result types of the public API: small, frozen, and free of framework objects."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Union


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, with its exact place in the original file: text == original[start:end]."""

    document: str
    language: str
    text: str
    start: int
    end: int
    index: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its similarity score, and where it sits in its document: `page` (the
    1-based PDF page or pptx slide, else None) and `location` (a label for people: "p. 12", "slide 3",
    the chapter or heading, else None)."""

    id: str
    document: str
    language: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    location: str | None = None
    # For a passage over several pages or sections: (start, end, page, label) of each, in text order.
    places: tuple[tuple[int, int, int | None, str | None], ...] = ()

    def place_of(self, start: int, end: int) -> tuple[int | None, str | None]:
        """(page, label) of the span [start, end) of this passage's document: the page it lies on,
        or "pp. 1–2" when it crosses pages; the passage's own when it has one place."""
        if not self.places:
            return self.page, self.location
        from rag.ingestion.locations import Location, locations_in, span_label

        segments = [Location(*place) for place in self.places]
        inside = locations_in(segments, start, end) or segments[:1]
        return inside[0].page, span_label(inside)

    def to_dict(self) -> dict:
        return {
            "document": self.document,
            "language": self.language,
            "text": self.text,
            "score": round(self.score, 4),
            "start": self.start,
            "end": self.end,
            "page": self.page,
            "location": self.location,
        }


@dataclass(frozen=True)
class Citation:
    """One `[n]` of an answer: the passage it cites and the exact span (document[start:end] == text)."""

    n: int
    document: str
    language: str
    text: str
    start: int
    end: int
    score: float
    passage: Passage
    unsupported_numbers: tuple[str, ...] = ()  # numbers of the claim that the cited span does not hold
    page: int | None = None  # of the cited span (see Passage.place_of)
    location: str | None = None

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "document": self.document,
            "language": self.language,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "page": self.page,
            "location": self.location,
            "score": round(self.score, 4),
            "passage": {"start": self.passage.start, "end": self.passage.end},
            "unsupported_numbers": list(self.unsupported_numbers),
        }


@dataclass(frozen=True)
class Answer:
    """What `ask` returns. `refused` answers carry no citations; `related` holds the closest passages."""

    question: str
    text: str
    language: str
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    related: tuple[Passage, ...] = ()
    notices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # checks the answer failed, e.g. "ungrounded_number"
    standalone_question: str | None = None  # a follow-up rewritten with the conversation

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "language": self.language,
            "refused": self.refused,
            "flags": list(self.flags),
            "standalone_question": self.standalone_question,
            "citations": [c.to_dict() for c in self.citations],
            "related": [p.to_dict() for p in self.related],
            "notices": list(self.notices),
        }


# The events of `ask_stream`, in order: one `Sources`, `Delta`s while the model writes, one `Final`.

@dataclass(frozen=True)
class Sources:
    """First event: the passages the answer will be drawn from (may be empty)."""

    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Delta:
    """A piece of the model's reply as it is generated (raw: markers are checked only at the end)."""

    text: str


@dataclass(frozen=True)
class Final:
    """Last event: the checked answer."""

    answer: Answer


Event = Union[Sources, Delta, Final]


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the index knows it."""

    document: str
    language: str
    chunks: int
    sha256: str
    ingested_at: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion changed. Lists hold document names (a file's path relative to the folder
    ingested); every file found and not indexed is in `skipped`, `duplicates` or `ignored`, with why."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason): files we could not read
    duplicates: tuple[tuple[str, str], ...] = ()  # (path, document): same bytes already indexed; not stored again
    chunks: int = 0  # chunks written by this run
    notices: tuple[str, ...] = field(default=())
    ignored: tuple[tuple[str, str], ...] = ()  # (path, reason): of a type not ingested, met in a folder
    warnings: tuple[tuple[str, str], ...] = ()  # (document, what): indexed, but part left out (a scanned page)

    def to_dict(self) -> dict:
        return {
            "added": list(self.added),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "removed": list(self.removed),
            "repaired": list(self.repaired),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "duplicates": [{"path": p, "same_as": d} for p, d in self.duplicates],
            "ignored": [{"path": p, "reason": r} for p, r in self.ignored],
            "warnings": [{"document": d, "warning": w} for d, w in self.warnings],
            "chunks": self.chunks,
            "notices": list(self.notices),
        }
