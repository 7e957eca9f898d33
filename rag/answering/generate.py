"""Generation: passages + question -> the model's messages -> streamed reply -> checked `Answer`.

`stream_answer` yields the sources first (so a UI can show them before the model says a word),
then text deltas, then the final `Answer`, whose citations were checked against what was shown
(checks.py). The prompts themselves are data (prompts.py); this module writes them into messages.
"""
from __future__ import annotations

import re
from typing import Iterator, Sequence

from rag.answering.checks import Similarity, finish, refusal
from rag.answering.evidence import with_evidence
from rag.answering.excerpts import Excerpt
from rag.answering.source_language import back_to_asker, source_language as shared_language
from rag.answering.translate import translate
from rag.answering.prompts import DEFAULT, NO_ANSWER, Prompts
from rag.backends.llm import LLM, Message
from rag.present.messages import message
from rag.settings import Settings
from rag.text.language import name as language_name
from rag.text.patterns import MARKER
from rag.types import Delta, Event, Final, Passage, Sources

# What a document could use to pass for our own structure: a citation marker in any shape the
# reply parser reads, or the delimiters of the sources block.
_DELIMITER = re.compile(r"<\s*/?\s*sources\s*>", re.I)


def quote_source(text: str) -> str:
    """Document text as the model sees it: one line, fake markers as "(n)", no block delimiters.

    Only the prompt's copy is changed; stored text and citation offsets are untouched.
    """
    flat = " ".join(text.split())
    flat = _DELIMITER.sub(" ", flat)
    return MARKER.sub(lambda m: f"({m.group(1)})", flat)


def _user_turn(template: str, question: str, language: str, sources: Sequence[str]) -> str:
    body = "\n".join(f"[{i}] {quote_source(t)}" for i, t in enumerate(sources, 1))
    return template.format(sources=body, question=question, language=language_name(language))


def user_message(question: str, language: str, sources: Sequence[str], prompts: Prompts = DEFAULT) -> str:
    """The user turn: the numbered sources inside their delimiters, then the question."""
    return _user_turn(prompts.user_turn, question, language, sources)


def example_messages(prompts: Prompts = DEFAULT) -> list[Message]:
    """The worked examples as the turns the model sees, each followed by the reply we want."""
    turn = prompts.example_turn or prompts.user_turn
    out: list[Message] = []
    for ex in prompts.examples:
        out += [{"role": "user", "content": _user_turn(turn, ex.question, ex.language, ex.sources)},
                {"role": "assistant", "content": ex.reply}]
    return out


def build_messages(question: str, language: str, excerpts: Sequence[Excerpt | Passage],
                   prompts: Prompts = DEFAULT) -> list[Message]:
    items = [e if isinstance(e, Excerpt) else Excerpt(e) for e in excerpts]
    user = user_message(question, language, [e.prompt_text() for e in items], prompts)
    return [{"role": "system", "content": prompts.system}, *example_messages(prompts),
            {"role": "user", "content": user}]


def stream_answer(
    question: str,
    language: str,
    passages: Sequence[Passage],
    *,
    llm: LLM,
    settings: Settings,
    notices: Sequence[str] = (),
    excerpts: Sequence[Excerpt] | None = None,
    standalone: str | None = None,
    similarity: Similarity | None = None,
    prompts: Prompts = DEFAULT,
    evidence: bool = False,
    source_language: bool = False,
) -> Iterator[Event]:
    """`question` is what the model is asked (the standalone form of a follow-up, if any).
    `evidence`: a refusal after the model was asked quotes the shown sentence closest to the
    question, cited (evidence.py); refusals under the floor never do. `source_language`: when every
    passage shown is in one language other than the asker's, the model reads and answers in that
    language and the answer is translated back (source_language.py)."""
    passages = tuple(passages)
    yield Sources(passages)
    if not passages:
        yield Final(refusal(question, language, (), (*notices, message("empty_index", language)), standalone))
        return
    if max(p.score for p in passages) < settings.min_score:
        # Nothing close enough: refusing here is honest and saves a model call. (The best score,
        # not the first passage's: anchors may rank a less similar passage first.)
        yield Final(refusal(question, language, passages, notices, standalone))
        return
    context = list(excerpts) if excerpts else [Excerpt(p) for p in passages[: settings.context_k]]
    src = shared_language(language, context) if source_language else None
    if src is not None:
        answer = _answer_in(src, question, language, context, passages, llm=llm, settings=settings,
                            notices=notices, standalone=standalone, similarity=similarity, prompts=prompts)
        if evidence and answer.refused:
            answer = with_evidence(answer, context, similarity)
        if not answer.refused:
            yield Delta(answer.text)  # whole: it could be shown only once translated back
        yield Final(answer)
        return
    raw = ""
    shown = 0  # how much of `raw` has been yielded
    for piece in llm.stream(
        build_messages(question, language, context, prompts),
        max_tokens=settings.max_answer_tokens,
        temperature=settings.temperature,
    ):
        raw += piece
        head = raw.strip().upper()
        # Hold text back while it is (or could still become) the refusal sentinel: it never flashes.
        if NO_ANSWER.startswith(head) or head.startswith(NO_ANSWER):
            continue
        yield Delta(raw[shown:])
        shown = len(raw)
    answer = finish(question, language, prompts.read_reply(raw), context, passages, notices, standalone,
                    refuse_ungrounded=settings.refuse_ungrounded, similarity=similarity,
                    min_similarity=settings.attribution_min_score)
    if evidence and answer.refused:
        answer = with_evidence(answer, context, similarity)
    yield Final(answer)


def _answer_in(src: str, question: str, language: str, context: Sequence[Excerpt], passages: Sequence[Passage], *,
               llm: LLM, settings: Settings, notices: Sequence[str], standalone: str | None,
               similarity: Similarity | None, prompts: Prompts):
    """Ask in the passages' language `src`, check the reply there, translate the answer back."""
    def to(text: str, lang: str) -> str:
        return translate(text, lang, llm, settings.max_answer_tokens, prompts)

    asked = to(question, src)
    raw = "".join(llm.stream(build_messages(asked, src, context, prompts), max_tokens=settings.max_answer_tokens,
                             temperature=settings.temperature))
    found = finish(asked, src, prompts.read_reply(raw), context, passages, (), standalone,
                   refuse_ungrounded=settings.refuse_ungrounded, similarity=similarity,
                   min_similarity=settings.attribution_min_score)
    return back_to_asker(found, language, question, to, notices)
