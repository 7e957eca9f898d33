"""Read in the source's language: the question translated into the language of the passages shown, the
answer found there, then its sentences translated back into the asker's language.

The small local model reads text in the question's own language far better than across languages
(docs/answers.md), so when every passage shown is in one language other than the asker's, the model
can be asked in that language instead. Citations still point at the source spans: every check runs
on the reply in the source's language, against the question as translated; only the final sentences
are translated back, their markers kept, and a translation that changes a number is refused.

Off by default (`stream_answer(source_language=True)` turns it on): two more model calls per such
question, and the answer can only be shown once it has been translated back.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

from rag.answering.checks import refusal
from rag.answering.excerpts import Excerpt
from rag.answering.citations import claims
from rag.present.messages import message
from rag.text.language import SUPPORTED
from rag.text.numbers import all_found
from rag.types import Answer

# text, target language -> text in that language (rag.answering.translate.translate with an LLM bound)
Translate = Callable[[str, str], str]


def _group(code: str) -> str:
    return "zh" if code.startswith("zh") else code


def source_language(question_language: str, excerpts: Sequence[Excerpt]) -> str | None:
    """The one language every shown passage is written in, when it is not the asker's; else None
    (mixed languages, or the asker's own: nothing to gain)."""
    langs = {ex.passage.language for ex in excerpts}
    if len(langs) != 1:
        return None
    (lang,) = langs
    if lang not in SUPPORTED or _group(lang) == _group(question_language):
        return None
    return lang


# The refusal reasons `finish` writes as notices, each a message of the same key.
_REASONS = ("uncited", "echo", "ungrounded_number", "ungrounded_place")


def back_to_asker(answer: Answer, language: str, question: str, translate: Translate,
                  notices: Sequence[str] = ()) -> Answer:
    """`answer` (written in the source's language) with each cited sentence translated into `language`
    and its markers kept; refused with `ungrounded_number` when a translation carries a number its
    sentence did not. `notices`: the caller's own, already in `language`; a refusal's reason is
    written again in `language`."""
    if answer.refused:
        reasons = [message(k, language) for k in _REASONS if message(k, answer.language) in answer.notices]
        return dataclasses.replace(refusal(question, language, answer.related, (*notices, *reasons),
                                           answer.standalone_question), flags=answer.flags)
    parts = []
    for claim, ns in claims(answer.text):
        body = re.sub(r"\s+([.!?。！？])", r"\1", claim.strip())
        rendered = translate(body, language).strip()
        if not all_found(rendered, body):
            # The translation invented or changed a number: the checks passed the original, not this.
            return dataclasses.replace(
                refusal(question, language, answer.related, (*notices, message("ungrounded_number", language)),
                        answer.standalone_question), flags=("ungrounded_number",))
        parts.append(_with_markers(rendered, "".join(f"[{n}]" for n in ns)))
    return dataclasses.replace(answer, question=question, text=" ".join(parts), language=language,
                               notices=tuple(notices))


def _with_markers(sentence: str, markers: str) -> str:
    """"Il a 5 ans." + "[1]" -> "Il a 5 ans [1].", "他五岁。" + "[1]" -> "他五岁[1]。"."""
    body = re.sub(r"\s+([.!?。！？])", r"\1", sentence.strip())
    if not markers:
        return body
    end = len(body.rstrip(".!?。！？"))
    cjk = end > 0 and "\u3000" <= body[end - 1] <= "\u9fff"
    return f"{body[:end]}{'' if cjk else ' '}{markers}{body[end:]}"
