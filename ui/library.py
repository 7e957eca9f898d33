"""The Documents tab: the table of what is indexed, upload, delete (asked first, in the browser's
language), and the one-line summary of the library that the chat shows while it is empty.

Every reply is in the page's language; an error's own detail (naming a file or a server) stays as
raised.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rag import SUPPORTED_LANGUAGES, RagError
from rag.present.messages import error_message, language_label, public_detail

from .labels import browser_text_js, say


def library_headers(language: str = "en") -> list[str]:
    return [say(k, language) for k in ("col_document", "col_language", "col_passages", "col_ingested")]


def library_rows(assistant, language: str = "en") -> list[list]:
    try:
        docs = assistant.documents()
    except RagError as e:
        # Said in the table itself: an empty list would read as "your library is empty".
        return [[say("library_unreadable", language, detail=public_detail(e)), "", "", ""]]
    return [[d.document, language_label(d.language, language), d.chunks, d.ingested_at[:19].replace("T", " ")]
            for d in docs]


def library_summary(assistant, language: str = "en") -> str:
    """What is indexed, for the chat's empty state: how many documents, in which languages (most
    documents first), and the languages a question may be asked in. Empty when the library cannot
    be read: the Documents tab says why."""
    try:
        docs = assistant.documents()
    except RagError:
        return ""
    if not docs:
        return say("library_empty", language)
    counts = Counter(d.language for d in docs)
    order = {code: i for i, code in enumerate(SUPPORTED_LANGUAGES)}
    codes = sorted(counts, key=lambda c: (-counts[c], order.get(c, len(order)), c))
    names = say("list_separator", language).join(language_label(c, language) for c in codes)
    key = "library_one" if len(docs) == 1 else "library_many"
    return say(key, language, n=len(docs), languages=names)


def add_files(assistant, paths: list[str], progress=None, language: str = "en") -> str:
    """Upload handler: each file through `Assistant.add_file`; one line per file, good or bad, in
    the page's `language` (an error's own detail, which names the file, stays as raised)."""
    if not paths:
        return say("choose_files", language)
    lines = []
    for i, p in enumerate(paths):
        name = Path(p).name
        if progress is not None:
            progress((i, len(paths)), desc=say("indexing", language, name=name))
        try:
            report = assistant.add_file(p, name)
        except RagError as e:
            lines.append(f"✗ {say('not_added', language, detail=public_detail(e))}")
            continue
        if report.added or report.updated or report.repaired:
            lines.append(f"✓ {say('added', language, name=name, n=report.chunks)}")
        elif report.unchanged:
            lines.append(f"✓ {say('unchanged', language, name=name)}")
        else:
            lines.append(f"✗ {say('nothing_stored', language, name=name)}")
        # What the loader left out (a scanned page, a cut table), as it said it: it names the page.
        lines += [f"⚠ {doc}: {warning}" for doc, warning in report.warnings]
    return "\n\n".join(lines)


def delete_document(assistant, name: str, language: str = "en") -> str:
    if not name:
        return say("nothing_deleted", language)
    try:
        return say("deleted" if assistant.delete(name) else "not_in_library", language, name=name)
    except RagError as e:
        return f"⚠️ {error_message(e, language, remote=True)}"


def _confirm_delete_js() -> str:
    """Asks before deleting, in the browser's language (the page's own, as gr.I18n picks it). The
    event's other inputs (the chosen collection) pass through as they are."""
    return (
        "(name, ...rest) => { const kept = name && confirm("
        + browser_text_js("confirm_delete", name="{name}") + ".replace('{name}', name)) ? name : '';"
        " return rest.length ? [kept, ...rest] : kept; }"
    )


CONFIRM_DELETE_JS = _confirm_delete_js()
