"""Answering: passages + question -> prompt -> streamed reply -> checked, cited `Answer`.

`stream_answer` yields the sources first (so a UI can show them before the model says a word),
then text deltas, then the final `Answer` whose citations were checked against what was retrieved.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence, Union

from .citations import attribute, parse_reply, verify
from .language import name as language_name
from .llm import LLM, Message
from .messages import message
from .settings import Settings
from .types import Answer, Citation, Passage

# Kept identical for every question so llama.cpp can reuse its evaluated prefix (the KV cache).
SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources the user gives you. "
    "Answer in one or two short, complete sentences. End every sentence with the number of the "
    "source it comes from, in square brackets, like [2]. Do not use any outside knowledge. "
    "If the sources do not contain the answer, reply with exactly: NO_ANSWER"
)
# One worked example (cross-lingual on purpose). With it the 1.5B local model writes complete
# sentences with markers far more often; being a fixed prefix, it costs nothing after the first call.
EXAMPLE = [
    {
        "role": "user",
        "content": "Sources:\n[1] Le pont a été inauguré en 1932 et a coûté 4,5 millions de dollars.\n"
        "[2] The museum welcomed 12,000 visitors in May.\n\n"
        "Question: How many visitors did the museum have in May?\nAnswer in English.",
    },
    {"role": "assistant", "content": "The museum welcomed 12,000 visitors in May [2]."},
]
_REFUSAL_SENTINEL = "NO_ANSWER"


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
    answer: Answer


Event = Union[Sources, Delta, Final]


def build_messages(question: str, language: str, passages: Sequence[Passage]) -> list[Message]:
    sources = "\n".join(f"[{i}] {' '.join(p.text.split())}" for i, p in enumerate(passages, 1))
    user = f"Sources:\n{sources}\n\nQuestion: {question}\nAnswer in {language_name(language)}."
    return [{"role": "system", "content": SYSTEM_PROMPT}, *EXAMPLE, {"role": "user", "content": user}]


def refusal(question: str, language: str, related: Sequence[Passage], notices: Sequence[str] = ()) -> Answer:
    return Answer(
        question=question,
        text=message("refusal", language),
        language=language,
        refused=True,
        related=tuple(related),
        notices=tuple(notices),
    )


def stream_answer(
    question: str,
    language: str,
    passages: Sequence[Passage],
    *,
    llm: LLM,
    settings: Settings,
    notices: Sequence[str] = (),
) -> Iterator[Event]:
    passages = tuple(passages)
    yield Sources(passages)
    if not passages:
        yield Final(refusal(question, language, (), (*notices, message("empty_index", language))))
        return
    if passages[0].score < settings.min_score:
        # Nothing close enough: refusing here is honest and saves a model call.
        yield Final(refusal(question, language, passages, notices))
        return
    context = passages[: settings.context_k]
    raw = ""
    shown = 0  # how much of `raw` has been yielded
    for piece in llm.stream(
        build_messages(question, language, context),
        max_tokens=settings.max_answer_tokens,
        temperature=settings.temperature,
    ):
        raw += piece
        head = raw.strip().upper()
        # Hold text back while it is (or could still become) the refusal sentinel: it never flashes.
        if _REFUSAL_SENTINEL.startswith(head) or head.startswith(_REFUSAL_SENTINEL):
            continue
        yield Delta(raw[shown:])
        shown = len(raw)
    yield Final(finish(question, language, raw, context, passages, notices))


def finish(
    question: str,
    language: str,
    raw: str,
    context: Sequence[Passage],
    retrieved: Sequence[Passage],
    notices: Sequence[str] = (),
) -> Answer:
    parsed = parse_reply(raw, len(context))
    if parsed.refused or not parsed.text:
        return refusal(question, language, retrieved, notices)
    text, cited = parsed.text, parsed.cited
    if not cited:
        # The model quoted without citing: attribute sentences copied from a passage (checked by overlap).
        text, cited = attribute(text, [p.text for p in context])
    if cited:
        # Small models often cite the wrong number: move markers to the passage holding the evidence.
        text, cited, _ = verify(text, [p.text for p in context])
    if not cited:
        return refusal(question, language, retrieved, (*notices, message("uncited", language)))
    citations = tuple(
        Citation(
            n=n,
            document=p.document,
            language=p.language,
            text=p.text,
            start=p.start,
            end=p.end,
            score=p.score,
            passage=p,
        )
        for n in cited
        for p in [context[n - 1]]
    )
    return Answer(
        question=question,
        text=text,
        language=language,
        citations=citations,
        refused=False,
        related=tuple(p for p in retrieved if p not in {c.passage for c in citations}),
        notices=tuple(notices),
    )
