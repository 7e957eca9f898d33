"""One chat turn as the page shows it: the question, the sources as soon as retrieval has them,
the place in the queue for the model, the answer streaming in, then the checked answer.

Kept free of Gradio so it can be tested directly with the fake backends.
"""
from __future__ import annotations

from typing import Iterator

from rag import Delta, RagError, Sources
from rag.present.messages import error_message, message
from rag.present.render import escape_md, flag_text, sources_markdown

from .gate import Gate

SKIP = object()  # "leave this output as it is"


def chat_turn(assistant, question: str, history: list[dict], gate: Gate | None = None, *,
              collection: str | None = None, documents: list[str] | None = None,
              languages: list[str] | None = None) -> Iterator[tuple]:
    """One chat turn as a stream of (history, textbox, sources panel, answer or None); SKIP leaves an
    output as is. The answer (an `rag.Answer`) comes with the last output when there is one.

    The question is asked in `collection` (None: the assistant's own), limited to `documents` and/or
    `languages` when given; an unknown collection or a scope that matches nothing is said in the chat."""
    history = list(history or [])
    language = assistant.language_of(question) if question and question.strip() else "en"
    if not question or not question.strip():
        yield _copy(history), question, message("empty_question", language), None
        return
    prior = _pairs(history)
    history += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield _copy(history), "", f"_{message('searching', language)}_", None
    passages: tuple = ()
    gate = gate or Gate(limit=1 << 30)
    events = None
    inside = False

    def show(event) -> tuple:
        nonlocal passages
        if isinstance(event, Sources):
            passages = event.passages
            return _copy(history), "", sources_markdown(passages, language=language), None
        if isinstance(event, Delta):
            current = history[-1]["content"]
            fresh = current == "…" or current.startswith("⏳")
            history[-1]["content"] = ("" if fresh else current) + event.text
            return _copy(history), "", SKIP, None
        answer = event.answer  # the Final event: the checked answer
        history[-1]["content"] = answer_markdown(answer)
        return _copy(history), "", answer_panel(answer, passages), answer

    try:
        # The collection's name and the scope come from the browser: rag checks them (InvalidInput).
        events = assistant.in_collection(collection).ask_stream(
            question, prior, documents=documents or None, languages=languages or None)
        if not prior:
            # Retrieval needs no model: show the sources before waiting for a turn at the model.
            yield show(next(events))
        for ahead in gate.enter():
            history[-1]["content"] = message("queued", language, n=ahead)
            yield _copy(history), "", SKIP, None
        inside = True
        for event in events:  # lazily: deltas must stream
            yield show(event)
    except RagError as e:
        history[-1]["content"] = f"⚠️ {error_message(e, language, remote=True)}"
        yield _copy(history), "", SKIP, None
    finally:
        if events is not None:
            events.close()
        if inside:
            gate.leave()


def answer_panel(answer, passages) -> str:
    """The sources panel for an answer: the retrieved passages with the cited spans marked, or a
    refusal's possibly related ones."""
    if answer.refused:
        return sources_markdown(answer.related, language=answer.language, related=True)
    return sources_markdown(passages, cited=_spans_by_passage(answer), language=answer.language)


def retrieved_passages(answer) -> list:
    """The passages retrieved for a saved answer, in their order: a citation's number is its
    passage's place, and `related` holds the others in order (what a reopened conversation shows)."""
    if answer.refused:
        return list(answer.related)
    by_number = {c.n: c.passage for c in answer.citations}
    rest = iter(answer.related)
    out = []
    for n in range(1, len(by_number) + len(answer.related) + 1):
        p = by_number.get(n) or next(rest, None)
        if p is not None:
            out.append(p)
    return out


def answer_markdown(answer) -> str:
    """The answer as the chat shows it: the rewritten question, the text, its flags and notices."""
    text = escape_md(answer.text)
    # escape_md protects brackets; the markers we checked ourselves are safe to show plainly.
    for c in answer.citations:
        text = text.replace(f"\\[{c.n}\\]", f"[{c.n}]")
    lang = answer.language
    head = (f"_({message('understood_as', lang, question=escape_md(answer.standalone_question))})_\n\n"
            if answer.standalone_question else "")
    flags = "".join(f"\n\n⚠️ _{flag_text(f, lang)}_" for f in answer.flags)
    notes = "".join(f"\n\n_{escape_md(n)}_" for n in answer.notices)
    return head + text + flags + notes


def _pairs(history: list[dict]) -> list[tuple[str, str]]:
    """Chat messages -> (question, answer) pairs for `ask`."""
    pairs, question = [], None
    for m in history:
        if m.get("role") == "user":
            question = str(m.get("content", ""))
        elif m.get("role") == "assistant" and question is not None:
            pairs.append((question, str(m.get("content", ""))))
            question = None
    return pairs


def _copy(history: list[dict]) -> list[dict]:
    # Each output is a snapshot: later deltas must not rewrite what was already handed out.
    return [dict(m) for m in history]


def _spans_by_passage(answer) -> dict[int, list[tuple[int, int]]]:
    spans: dict[int, list] = {}
    for c in answer.citations:
        # citations number the passages shown to the model, which are the first ones
        spans.setdefault(c.n, []).append((c.start, c.end))
    return spans
