"""Opening an answer's source: the whole stored document with the cited span marked, and a machine
translation of the cited text into the answer's language, shown under the original."""
from __future__ import annotations

import html

from rag import RagError
from rag.present.messages import error_message, language_label, message
from rag.present.render import answer_sources, document_html

# After the viewer is filled: scroll the viewer box (only it, not the page) to the cited span.
SCROLL_JS = (
    "() => { const box = document.querySelector('#viewer .doc-text');"
    " const m = document.querySelector('#viewer #cited');"
    " if (box && m) box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3); }"
)


def source_choices(answer) -> list[tuple[str, str]]:
    """(label, value) for the "open a source" radio: the passages the answer cites, else the related."""
    if answer is None:
        return []
    if answer.refused:  # values index answer.related from 0
        return [(f"{p.document} · {p.language}", f"r{n - 1}") for n, p in answer_sources(answer)]
    return [(f"[{n}] {c.document} · {c.language}", f"c{n}") for n, c in answer_sources(answer)]


def _chosen(answer, value: str):
    """The passage and cited spans behind a radio value."""
    if answer is None or not value or value[:1] not in ("r", "c") or not value[1:].isdigit():
        return None, []  # values come from the browser: anything else opens nothing
    if value.startswith("r"):
        i = int(value[1:])
        return (answer.related[i], []) if i < len(answer.related) else (None, [])
    n = int(value[1:])
    cs = [c for c in answer.citations if c.n == n]
    return (cs[0].passage, [(c.start, c.end) for c in cs]) if cs else (None, [])


def open_source(assistant, answer, value: str) -> str:
    """The viewer's HTML: the whole document of the chosen source, its cited span marked."""
    passage, spans = _chosen(answer, value)
    if passage is None:
        return ""
    try:
        chunks = assistant.document(passage.document)
    except RagError as e:
        return f"<p>⚠️ {html.escape(str(e))}</p>"
    return document_html(chunks, spans or [(passage.start, passage.end)], title=passage.document)


def translate_source(assistant, answer, value: str) -> str:
    """The chosen source's cited text (or passage) translated into the answer's language, marked as
    machine-made and shown under the original."""
    passage, spans = _chosen(answer, value)
    if passage is None:
        return f"<p>{message('choose_source', answer.language if answer else 'en')}</p>"
    lang = answer.language
    name = language_label(lang, lang)
    if passage.language == lang:
        return f"<p>{html.escape(message('already_in', lang, name=name))}</p>"
    text = passage.text
    if spans:
        text = " ".join(passage.text[max(0, a - passage.start) : max(0, b - passage.start)] for a, b in spans)
    try:
        out = assistant.translate(text, answer.language)
    except RagError as e:
        return f"<p>⚠️ {html.escape(error_message(e, lang, remote=True))}</p>"
    return (
        f"<blockquote>{html.escape(' '.join(text.split()))}</blockquote>"
        f'<p class="machine">{html.escape(message("machine_translation", lang, name=name))}</p>'
        f"<blockquote>{html.escape(out)}</blockquote>"
    )
