"""Follow-up questions: "Et Marseille ?" rewritten with the conversation into a standalone question.

The standalone form is what retrieval searches for and what the model answers; the answer still
belongs to the question as asked (`Answer.standalone_question` shows the rewrite).
"""
from __future__ import annotations

from typing import Sequence

from rag.answering.prompts import DEFAULT, NO_ANSWER, Prompts
from rag.backends.llm import LLM, Message

History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first


def _approx_tokens(text: str) -> int:
    cjk = sum(1 for c in text if "\u3000" <= c <= "\u9fff")
    return cjk + (len(text) - cjk) // 4


def recent_history(history: History, budget: int) -> list[tuple[str, str]]:
    """The most recent turns that fit in `budget` tokens (whole turns, oldest first)."""
    kept: list[tuple[str, str]] = []
    used = 0
    for q, a in reversed(list(history)):
        cost = _approx_tokens(q) + _approx_tokens(a)
        if kept and used + cost > budget:
            break
        if not kept and cost > budget:  # even one turn is too long: the question's start, the answer's end
            q, a = q[: budget * 2], a[-budget * 2 :]
            cost = _approx_tokens(q) + _approx_tokens(a)
        kept.append((q, a))
        used += cost
    return list(reversed(kept))


def rewrite_messages(question: str, turns: History, prompts: Prompts = DEFAULT) -> list[Message]:
    """The rewrite conversation: system prompt, worked examples, then this conversation's turn."""

    def turn(history: History, last: str) -> str:
        conversation = "\n".join(f"Q: {q}\nA: {a}" for q, a in history)
        return prompts.rewrite_turn.format(conversation=conversation, question=last)

    messages: list[Message] = [{"role": "system", "content": prompts.rewrite}]
    for ex in prompts.rewrite_examples:
        messages += [{"role": "user", "content": turn(ex.history, ex.question)},
                     {"role": "assistant", "content": ex.reply}]
    return [*messages, {"role": "user", "content": turn(turns, question)}]


def rewrite_followup(question: str, history: History, llm: LLM, budget: int,
                     prompts: Prompts = DEFAULT) -> str | None:
    """The standalone form of a follow-up question, or None without history or a usable rewrite.

    A backend error is raised (RagError): the caller reports it once, after showing the sources."""
    turns = recent_history(history, budget) if budget else []
    if not turns:
        return None
    messages = rewrite_messages(question, turns, prompts)
    out = "".join(llm.stream(messages, max_tokens=80, temperature=0.0)).strip()  # backend errors propagate
    out = out.splitlines()[0].strip().strip('"“”«»') if out else ""
    if not out or NO_ANSWER in out.upper() or len(out) > 4 * len(question) + 200:
        return None
    return out
