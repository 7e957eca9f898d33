"""Abstain with evidence: a refusal after the model was asked quotes the sentence closest to the question.

When the best passage cleared the refusal floor (the model was asked) and the answer was still
refused (the model declined, or a check refused its reply), the question looked answerable: the
reader gets the shown sentence closest to it, as a real citation of its exact span, rather than
nothing. The answer stays refused (it is no claim of ours), and the flag `closest_passage` says why
it carries a citation. Pure but for `similarity`, the scorer the checks use too.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from rag.answering.checks import Similarity
from rag.answering.excerpts import Excerpt, Span
from rag.present.messages import message
from rag.text.overlap import bigrams
from rag.text.patterns import SENTENCE
from rag.types import Answer, Citation

FLAG = "closest_passage"
QUOTE_CHARS = 300  # longer sentences are cut in the text; the citation keeps the whole span


def closest(question: str, excerpts: Sequence[Excerpt], similarity: Similarity | None = None
            ) -> tuple[Excerpt, Span] | None:
    """The shown sentence closest to the question: by meaning when the sentences have stored
    vectors and a scorer is given (any language), else by shared word pairs; ties and no signal go
    to the first shown sentence of the best-ranked passage."""
    shown = [(ex, sp) for ex in excerpts for sp in (ex.spans or sentences(ex))]
    if not shown:
        return None
    scores: dict[str, float] = {}
    ids = [sp.id for _, sp in shown if sp.id]
    if similarity is not None and ids:
        scores = similarity(question, ids)
    asked = bigrams(question)

    def key(item: tuple[int, tuple[Excerpt, Span]]) -> tuple:
        i, (_, sp) = item
        by_meaning = scores.get(sp.id, float("-inf")) if sp.id else float("-inf")
        by_words = len(asked & bigrams(sp.text))
        return (by_meaning, by_words, -i)

    _, best = max(enumerate(shown), key=key)
    return best


def sentences(ex: Excerpt) -> tuple[Span, ...]:
    """A whole passage shown (no sentence stage) as its sentences, each with its document offsets."""
    p, out = ex.passage, []
    for m in SENTENCE.finditer(p.text):
        body = m.group(0)
        lead = len(body) - len(body.lstrip())
        text = body.strip()
        if text:
            start = p.start + m.start() + lead
            out.append(Span(start, start + len(text), text))
    return tuple(out) or ex.shown


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def with_evidence(answer: Answer, excerpts: Sequence[Excerpt], similarity: Similarity | None = None) -> Answer:
    """`answer` (refused) with the closest shown sentence quoted and cited; other answers unchanged.

    The marker is the passage's number in `answer.related` (the list a refusal shows as possibly
    related), so "[1]" is the first passage of that list."""
    if not answer.refused or not excerpts or FLAG in answer.flags:
        return answer
    found = closest(answer.standalone_question or answer.question, excerpts, similarity)
    if found is None:
        return answer
    ex, span = found
    p = ex.passage
    related = answer.related if p in answer.related else (p, *answer.related)
    n = related.index(p) + 1
    page, location = p.place_of(span.start, span.end)
    citation = Citation(n=n, document=p.document, language=p.language, text=span.text, start=span.start,
                        end=span.end, score=p.score, passage=p, page=page, location=location)
    said = message("closest_passage", answer.language, quote=quote(span.text), n=n)
    return dataclasses.replace(answer, text=f"{answer.text} {said}", citations=(citation,), related=related,
                               flags=(*answer.flags, FLAG))
