"""What the model is shown of the retrieved passages: for each one, its sentences closest to the
question (`Excerpt`), each with its exact place in the document (`Span`).

Showing sentences rather than whole chunks keeps the prompt short (prompt processing is the slow part
on a CPU) and lets every citation point at the exact sentence it rests on (`document[start:end]`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from rag.types import Passage

if TYPE_CHECKING:
    from store import Hit


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    id: str | None = None  # the sentence's record in the sentence store, when it has one


@dataclass(frozen=True)
class Excerpt:
    """What the model is shown of one passage: some of its sentences, with their offsets."""

    passage: Passage
    spans: tuple[Span, ...] = field(default=())
    # Another wording shown to the model in place of the sentences (a machine translation, say);
    # citations and the checks still read the sentences themselves.
    shown_as: str | None = None

    @property
    def shown(self) -> tuple[Span, ...]:
        return self.spans or (Span(self.passage.start, self.passage.end, self.passage.text),)

    def text(self) -> str:
        parts, last_end = [], None
        for sp in self.shown:
            if last_end is not None and sp.start > last_end + 2:
                parts.append("…")  # sentences that are not adjacent in the document
            parts.append(" ".join(sp.text.split()))
            last_end = sp.end
        return " ".join(parts)

    def prompt_text(self) -> str:
        """The text the model reads for this excerpt."""
        return self.text() if self.shown_as is None else " ".join(self.shown_as.split())


def with_sentences(passages: Sequence[Passage], best: Mapping[str, Sequence[Hit]]) -> list[Excerpt]:
    """Each passage as an excerpt of the sentences picked for it (`best`: passage id -> sentence
    records of the sentence store, whose metadata give their offsets in the document)."""
    return [
        Excerpt(p, tuple(Span(int(h.metadata["start"]), int(h.metadata["end"]), h.text, h.id)
                         for h in best.get(p.id, [])))
        for p in passages
    ]
