"""Where in a document a span of its extracted text sits: the PDF page or pptx slide, and a label for
people ("p. 12", "slide 3", the chapter or heading it sits under).

Loaders of structured formats build their text with `TextBuilder`, which records the segments as it
goes, so `text[start:end]` of a segment is exactly what its page, slide or section holds."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Location:
    """A segment of the extracted text: `text[start:end]` is what page `page` (or the section named
    `label`) holds. `page` is the 1-based PDF page or pptx slide, else None; `confidence` the mean
    OCR word confidence (0-100) of a page read from its image, else None."""

    start: int
    end: int
    page: int | None = None
    label: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Extracted:
    """What a loader gets out of a file: the text citations index into, where each part of it comes
    from, and what the reader should know about what was left out (empty pages, cut tables)."""

    text: str
    locations: tuple[Location, ...] = ()
    warnings: tuple[str, ...] = ()


def location_at(locations: Sequence[Location], start: int, end: int | None = None) -> Location | None:
    """The location of the span [start, end): the segment holding its start; when the start falls
    between segments (on a blank line between pages), the first segment that begins inside the span.
    `locations` are in text order and do not overlap, as every loader here makes them."""
    if not locations:
        return None
    i = bisect_right([loc.start for loc in locations], start) - 1
    if i >= 0 and start < locations[i].end:
        return locations[i]
    following = locations[i + 1] if i + 1 < len(locations) else None
    if following is not None and end is not None and following.start < end:
        return following
    return None


def locations_in(locations: Sequence[Location], start: int, end: int) -> tuple[Location, ...]:
    """The segments the span [start, end) overlaps, in text order (none for a span between them)."""
    return tuple(loc for loc in locations if loc.start < end and start < loc.end)


# How a label of one page or slide reads for a run of them: "p. 1" ... "p. 2" -> "pp. 1–2".
_RUNS = {"p.": "pp.", "slide": "slides"}


def span_label(segments: Sequence[Location]) -> str | None:
    """A label for people of what a span covers: the one segment's label, "pp. 1–2" (or "slides
    3–4") for a span over several pages or slides, else the label of the segment it starts in."""
    if not segments:
        return None
    first, last = segments[0], segments[-1]
    if len(segments) > 1 and first.page is not None and last.page is not None and last.page != first.page:
        word = (first.label or "").rsplit(" ", 1)[0]
        if first.label == f"{word} {first.page}" and last.label == f"{word} {last.page}" and word in _RUNS:
            return f"{_RUNS[word]} {first.page}–{last.page}"
    return first.label


# The default text budget of one document (RAG_MAX_DOCUMENT_CHARS): the longest books run to about
# 4 million characters (the Bible, "War and Peace" in French).
MAX_DOCUMENT_CHARS = 5_000_000


def over_budget(limit: int) -> str:
    """The warning of a document cut at its text budget."""
    return (f"the text is longer than the budget of {limit} characters (RAG_MAX_DOCUMENT_CHARS): only the "
            f"first {limit} are indexed")


class TextBuilder:
    """Paragraphs in, text out: a blank line between paragraphs, a segment per page or section.

    Call `section(page, label)` before the paragraphs of each page, slide, chapter or heading; a
    section that gets no text leaves no segment. Paragraphs are taken as given (only stripped): the
    loaders decide what a paragraph is.

    `limit` is the document's text budget: the paragraph that reaches it is cut there, with a warning,
    and later ones are ignored; loaders stop reading once `full` is set, so a hostile file costs no
    more than its budget."""

    def __init__(self, limit: int | None = MAX_DOCUMENT_CHARS) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._locations: list[Location] = []
        self._open: tuple[int | None, str | None, float | None] | None = None  # the current section's
        self._open_start: int | None = None  # where its first paragraph starts, once it has one
        self.warnings: list[str] = []
        self.limit = limit
        self.full = False

    @property
    def room(self) -> int:
        """Characters left in the budget (a paragraph's text is cut to this)."""
        return max(0, self.limit - self._length) if self.limit is not None else 2**62

    def section(self, page: int | None = None, label: str | None = None, confidence: float | None = None) -> None:
        self._close()
        self._open = (page, label, confidence)

    def paragraph(self, text: str) -> None:
        if self.full:
            return
        text = text.strip()
        if not text:
            return
        if self.limit is not None and self._length + 2 + len(text) > self.limit:
            self.full = True
            self.warn(over_budget(self.limit))
            text = text[: max(0, self.limit - self._length - 2)].rstrip()
            if not text:
                return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        if self._open is not None and self._open_start is None:
            self._open_start = self._length
        self._parts.append(text)
        self._length += len(text)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @property
    def empty(self) -> bool:
        return not self._parts

    def build(self) -> Extracted:
        self._close()
        return Extracted("".join(self._parts), tuple(self._locations), tuple(self.warnings))

    def _close(self) -> None:
        if self._open is not None and self._open_start is not None:
            page, label, confidence = self._open
            self._locations.append(Location(self._open_start, self._length, page, label, confidence))
        self._open, self._open_start = None, None
