"""Rendering answers and passages for people: plain text (CLI) and Markdown (web UI).

Pure functions over the result types. Document text is untrusted: in Markdown it is HTML-escaped so
a document can never inject markup into the page.
"""
from __future__ import annotations

import html
import re
from typing import Sequence

from .language import name as language_name
from .types import Answer, Passage


def _snippet(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def passage_line(n: int, p: Passage, width: int = 160) -> str:
    return f"[{n}] {p.document} ({p.language}, score {p.score:.3f}, chars {p.start}-{p.end})\n    {_snippet(p.text, width)}"


def answer_text(a: Answer) -> str:
    """The CLI's human output: the answer, then its numbered sources (or the related passages)."""
    lines = [a.text]
    lines += [f"note: {n}" for n in a.notices]
    if a.citations:
        lines.append("")
        lines.append("Sources:")
        lines += [passage_line(c.n, c.passage) for c in a.citations]
    elif a.related:
        lines.append("")
        lines.append("Possibly related (not used as sources):")
        lines += [passage_line(i, p) for i, p in enumerate(a.related, 1)]
    return "\n".join(lines)


def escape_md(text: str) -> str:
    """Untrusted text -> safe Markdown: no HTML, and no Markdown syntax that changes the layout."""
    t = html.escape(" ".join(text.split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]#|~>])", r"\\\1", t)


def sources_markdown(passages: Sequence[Passage], cited: Sequence[int] = (), title: str = "Sources") -> str:
    """The sources panel: each passage with document, language, score; cited ones marked."""
    if not passages:
        return f"**{title}**\n\n_No passage found._"
    out = [f"**{title}**"]
    for i, p in enumerate(passages, 1):
        mark = " ✓ cited" if i in cited else ""
        out.append(
            f"\n**[{i}] {escape_md(p.document)}** · {language_name(p.language)} · "
            f"score {p.score:.3f}{mark}\n\n> {escape_md(p.text)}"
        )
    return "\n".join(out)
