"""Rendering answers and passages for people: plain text (CLI) and Markdown (web UI).

Pure functions over the result types. Document text is untrusted: in Markdown it is HTML-escaped so
a document can never inject markup into the page.
"""
from __future__ import annotations

import html
from dataclasses import replace
import re
from typing import Mapping, Sequence

from rag.present.messages import language_label, message
from rag.types import Answer, Citation, Passage


def _snippet(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def where(p) -> str:
    """"notes.pdf, p. 3": a passage's or citation's document and, when known, where in it."""
    return f"{p.document}, {p.location}" if p.location else p.document


def passage_line(n: int, p: Passage, width: int = 160) -> str:
    return f"[{n}] {where(p)} ({p.language}, score {p.score:.3f}, chars {p.start}-{p.end})\n    {_snippet(p.text, width)}"


def flag_text(flag: str, language: str) -> str:
    """What a flag on an answer means, in the answer's language (an unknown flag as its name)."""
    try:
        return message(f"flag_{flag}", language)
    except KeyError:
        return flag


def answer_text(a: Answer) -> str:
    """The CLI's human output: the answer, then its numbered sources (or the related passages).
    What is said to the reader is in the answer's language; the sources' lines are technical."""
    lines = []
    if a.standalone_question:
        lines.append(f"({message('understood_as', a.language, question=a.standalone_question)})")
    lines.append(a.text)
    footer = answer_footer(a)
    return "\n".join(lines) + ("\n" + footer if footer else "")


def answer_footer(a: Answer) -> str:
    """What follows an answer's text in plain text: its flags, notices and sources (for a terminal
    that has already streamed the text itself)."""
    lang = a.language
    lines = [f"⚠ {flag_text(f, lang)}" for f in a.flags]
    lines += [f"note: {n}" for n in a.notices]
    if a.citations:
        lines.append("")
        lines.append(f"{message('sources', lang)}:")
        for c in a.citations:
            # located by the cited sentence: "p. 2" in a passage over pages 1-2
            lines.append(passage_line(c.n, replace(c.passage, location=c.location)))
            lines.append(f"    {message('cited', lang)}: {_snippet(c.text, 200)} (chars {c.start}-{c.end})")
    elif a.related:
        lines.append("")
        lines.append(f"{message('related', lang)}:")
        lines += [passage_line(i, p) for i, p in enumerate(a.related, 1)]
    return "\n".join(lines)


def answer_sources(a: Answer) -> list[tuple[int, Citation | Passage]]:
    """The sources a reader can open for an answer, by the number shown: the first citation of each
    `[n]`; for a refusal, its possibly related passages, numbered from 1."""
    if a.refused:
        return list(enumerate(a.related, 1))
    first: dict[int, Citation] = {}
    for c in a.citations:
        first.setdefault(c.n, c)
    return list(first.items())


def escape_md(text: str) -> str:
    """Untrusted text -> safe Markdown: no HTML, and no Markdown syntax that changes the layout."""
    t = html.escape(" ".join(text.split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]#|~>])", r"\\\1", t)


def _highlighted(p: Passage, spans: Sequence[tuple[int, int]]) -> str:
    """The passage, escaped, with the cited sentences (document offsets) wrapped in <mark>."""
    out, pos = [], 0
    for start, end in sorted(spans):
        a, b = max(start - p.start, pos), min(end - p.start, len(p.text))
        if a >= b:
            continue
        out += [escape_md(p.text[pos:a]), " <mark>", escape_md(p.text[a:b]), "</mark> "]
        pos = b
    out.append(escape_md(p.text[pos:]))
    return "".join(out).strip()


def sources_markdown(
    passages: Sequence[Passage],
    cited: Sequence[int] | Mapping[int, Sequence[tuple[int, int]]] = (),
    language: str = "en",
    related: bool = False,
) -> str:
    """The sources panel, its words in `language`: each passage with document (and where in it:
    "p. 3", "slide 2", a heading), language and score.
    `cited` maps a passage number to the cited spans (document offsets) to highlight, or just lists
    numbers. `related`: the passages of a refusal, "possibly related", not sources."""
    title = message("related" if related else "sources", language)
    if not passages:
        return f"**{title}**\n\n_{message('no_passage', language)}_"
    spans = cited if isinstance(cited, Mapping) else {n: () for n in cited}
    out = [f"**{title}**"]
    for i, p in enumerate(passages, 1):
        mark = f" ✓ {message('cited', language)}" if i in spans else ""
        body = _highlighted(p, spans.get(i, ())) if spans.get(i) else escape_md(p.text)
        out.append(
            f"\n**[{i}] {escape_md(_cited_where(p, spans.get(i, ())))}** · {language_label(p.language, language)} · "
            f"{message('score', language)} {p.score:.3f}{mark}\n\n> {body}"
        )
    return "\n".join(out)


def _cited_where(p: Passage, spans: Sequence[tuple[int, int]]) -> str:
    """where(p), but of what is cited in it when something is: "p. 2" for a sentence on page 2 of a
    passage over pages 1-2 ("pp. 1–2")."""
    if not spans:
        return where(p)
    _, label = p.place_of(min(a for a, _ in spans), max(b for _, b in spans))
    return f"{p.document}, {label}" if label else p.document


def document_html(chunks: Sequence, spans: Sequence[tuple[int, int]] = (), title: str = "") -> str:
    """A whole ingested document for the viewer: its stored text in reading order, escaped, with
    the cited spans (document offsets) in <mark>. Text that cleaning removed (spam, page furniture)
    is not stored and shows as a "[…]" gap (a gap of a few characters is a paragraph break). The first mark carries id="cited" to scroll to."""
    marks = sorted((a, b) for a, b in spans if b > a)
    out, pos, first = [], None, True
    for c in sorted(chunks, key=lambda c: c.start):
        start = c.start if pos is None else max(c.start, pos)  # chunks may overlap: show text once
        if pos is not None and c.start - pos > 4:  # more than a paragraph break lies between
            out.append('\n<span class="gap" title="not indexed: removed by cleaning">[…]</span>\n')
        elif pos is not None and c.start > pos:
            out.append("\n\n")
        if start >= c.end:
            continue
        cuts = sorted({start, c.end, *(x for a, b in marks for x in (a, b) if start < x < c.end)})
        for a, b in zip(cuts, cuts[1:]):
            piece = html.escape(c.text[a - c.start : b - c.start])
            if any(ma <= a and b <= mb for ma, mb in marks):
                anchor = ' id="cited"' if first else ""
                first = False
                piece = f"<mark{anchor}>{piece}</mark>"
            out.append(piece)
        pos = c.end
    head = f'<div class="doc-title">{html.escape(title)}</div>' if title else ""
    return f'{head}<div class="doc-text">{"".join(out)}</div>'


def conversation_markdown(answers: Sequence[Answer], when: str = "") -> str:
    """A conversation as Markdown: each question and answer, its [n] markers as footnotes that give
    the document (and where in it: "p. 3"), language, character span and the cited text."""
    first = answers[0].language if answers else "en"
    lines = [f"# {message('conversation', first)}" + (f" ({when})" if when else ""), ""]
    for t, a in enumerate(answers, 1):
        text = a.text
        notes = []
        for n in sorted({c.n for c in a.citations}):
            text = text.replace(f"[{n}]", f"[^{t}-{n}]")
            cs = [c for c in a.citations if c.n == n]
            quote = " … ".join(" ".join(c.text.split()) for c in cs)
            spans = ", ".join(f"{c.start}-{c.end}" for c in cs)
            notes.append(f'[^{t}-{n}]: {where(cs[0])} ({language_label(cs[0].language, a.language)}, chars {spans}): '
                         f'"{quote}"')
        lines += [f"## {t}. {' '.join(a.question.split())}", ""]
        if a.standalone_question:
            lines += [f"_{message('understood_as', a.language, question=a.standalone_question)}_", ""]
        lines += [text, ""]
        lines += [f"> ⚠️ {flag_text(f, a.language)}" for f in a.flags]
        lines += [f"> {n}" for n in a.notices]
        if a.refused and a.related:
            lines.append(f"{message('related', a.language)}: " + ", ".join(sorted({p.document for p in a.related})))
        lines += (["", *notes, ""] if notes else [""])
    return "\n".join(lines).rstrip() + "\n"
