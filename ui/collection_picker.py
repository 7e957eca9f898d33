"""The page's collection picker: the collections with their document counts, creating one, deleting
one (asked first, in the browser's language; never the default one), what a question in the
chosen collection may be limited to (its documents, their languages), and which one the page chooses
when it loads: the one this browser chose last, kept in its localStorage, while it still exists.

The chosen collection's name comes back from the browser with every event, so it is only ever used
through `Assistant.in_collection`, which checks it. Kept free of Gradio so it can be tested directly.
"""
from __future__ import annotations

from collections.abc import Collection

from rag import SUPPORTED_LANGUAGES, RagError
from rag.present.messages import error_message, language_label

from .labels import browser_text_js, say

COLLECTION_KEY = "rag-collection"  # the localStorage key of the collection this browser chose last


def collection_choices(assistant, language: str = "en") -> list[tuple[str, str]]:
    """(label, name) for the picker: each collection with its document count, the default one marked.
    Only the assistant's own when the store cannot list them (the Documents tab then says why)."""
    try:
        infos = assistant.collections()
    except RagError:
        return [(assistant.collection, assistant.collection)]
    infos = sorted(infos, key=lambda c: (not c.default, c.name))  # the default one first
    return [(say("collection_choice_one" if c.documents == 1 else "collection_choice", language,
                 name=c.name, n=c.documents) + (say("collection_default_mark", language) if c.default else ""),
             c.name) for c in infos]


def collection_on_load(stored, existing: Collection[str] | None, default: str) -> tuple[str, str]:
    """(the collection the page chooses on load, the name the browser keeps) given the name it kept
    (`stored`: anything, it comes from the browser), the collections that exist (None: the store
    cannot list them) and the assistant's default one.

    The stored one while it exists. One deleted meanwhile (in another tab, by the CLI) gives the
    default, which replaces the stored name: Gradio's BrowserState never writes an empty value, so
    forgetting is keeping the default's name. A browser that never chose keeps nothing (it follows
    the default), and a store that cannot list its collections forgets nothing."""
    if not isinstance(stored, str) or not stored:
        return default, ""
    if existing is None:
        return default, stored
    if stored in existing:
        return stored, stored
    return default, default


def create_collection(assistant, name: str, language: str = "en") -> tuple[str, str | None]:
    """(the reply, the new collection's name, or None when none was made: the reply says why)."""
    name = (name or "").strip()
    if not name:
        return say("collection_name_needed", language), None
    try:
        assistant.create_collection(name)
    except RagError as e:  # a name that breaks the rule or is taken: said with the rule or the name
        return f"⚠️ {error_message(e, language, remote=True)}", None
    return say("collection_created", language, name=name), name


def delete_collection(assistant, name: str, language: str = "en") -> tuple[str, bool]:
    """(the reply, whether it was deleted). The default collection is refused before asking `rag`."""
    if not name:
        return say("nothing_deleted", language), False
    if name == assistant.settings.collection:
        return say("collection_default_kept", language, name=name), False
    try:
        deleted = assistant.delete_collection(name)
    except RagError as e:  # an ingestion running on it, a store that cannot be reached
        return f"⚠️ {error_message(e, language, remote=True)}", False
    return say("collection_deleted" if deleted else "collection_not_found", language, name=name), deleted


def scope_choices(library, language: str = "en") -> tuple[list[str], list[tuple[str, str]]]:
    """What a question in this collection may be limited to: its documents, and the languages they are
    in as (name for the reader, code), in the page's order. Nothing when it cannot be read."""
    try:
        docs = library.documents()
    except RagError:
        return [], []
    order = {code: i for i, code in enumerate(SUPPORTED_LANGUAGES)}
    codes = sorted({d.language for d in docs}, key=lambda c: (order.get(c, len(order)), c))
    return [d.document for d in docs], [(language_label(c, language), c) for c in codes]


# Asked in the browser before the event reaches the server: a declined confirmation sends an empty
# name (nothing deleted); the event's other inputs (the browser's id) pass through as they are.
CONFIRM_DELETE_JS = (
    "(name, ...rest) => { const kept = name && confirm("
    + browser_text_js("confirm_delete_collection", name="{name}") + ".replace('{name}', name)) ? name : '';"
    " return rest.length ? [kept, ...rest] : kept; }"
)
