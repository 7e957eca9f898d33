"""The page's saved conversations: whose they are, the list a user sees, and what reopening one puts
back on the page (the chat, the answers, the sources panel).

An owner is the signed-in user where the page has a password (`gr.Request.username`), else the
browser: a random id made on its first visit and kept in its localStorage (`gr.BrowserState`). A
browser id keeps users apart on a shared machine, it does not authenticate: a page reachable by
strangers has a password (`rag serve` insists off 127.0.0.1). Kept free of Gradio so that it can be
tested directly.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from pathlib import Path

import rag
from rag import ConversationNotFound
from rag.present.messages import message

from .chat import answer_markdown, answer_panel, retrieved_passages
from .labels import browser_text_js

BROWSER_KEY = "rag-browser-id"  # the localStorage key of the browser's id
SECRET_FILE = "page-secret"  # where a data directory kept the key before the database
LIST_LIMIT = 200  # conversations listed in the sidebar, most recent first


def owner_of(request, browser_id: str | None) -> str | None:
    """Whose conversations the page shows: `user:NAME` when signed in, else `browser:ID`, else None
    (a browser whose id is not made yet)."""
    user = getattr(request, "username", None) if request is not None else None
    if user:
        return f"user:{user}"
    return f"browser:{browser_id}" if browser_id else None


def new_browser_id() -> str:
    return uuid.uuid4().hex


def browser_secret(settings) -> str:
    """The key BrowserState encrypts the browser's id with, kept in the database, so that every
    worker sharing it reads the same browser's id (Gradio's default is new at every start, which
    would lose every browser's conversations on a restart). A data directory's former key file
    becomes the database's key, so its browsers keep their conversations."""
    def make() -> str:
        try:
            return (Path(settings.home) / SECRET_FILE).read_text(encoding="utf-8").strip() or secrets.token_urlsafe(24)
        except OSError:
            return secrets.token_urlsafe(24)

    return rag.shared_value("page_secret", make, settings)


def _when(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def listed(store, owner: str | None) -> list:
    """The owner's conversations (ConversationInfo), most recently used first; none without an owner."""
    return store.list(owner, limit=LIST_LIMIT) if owner is not None else []


def choices(infos, language: str = "en", default: str | None = None) -> list[tuple[str, str]]:
    """(label, id) for the sidebar's list: the title, and on a second line when it was last used and,
    unless it is `default`, the collection it was asked in (reopening it switches to that one)."""
    return [(f"{c.title or message('conversation', language)}\n{_when(c.updated_at)}"
             + (f" · {c.collection}" if default is not None and c.collection != default else ""), c.id)
            for c in infos]


def _confirm_delete_js() -> str:
    """Asks before deleting, in the browser's language. The open conversation's id is server-side
    state, which the browser cannot change, so a declined deletion sends an empty title instead."""
    return (
        "(cid, browser, title) => [cid, browser, confirm("
        + browser_text_js("confirm_delete_conversation", name="{name}")
        + ".replace('{name}', title || '')) ? (title || ' ') : '']"
    )


CONFIRM_DELETE_JS = _confirm_delete_js()


def restore(store, owner: str, conversation_id: str) -> tuple[list[dict], list, str, object]:
    """A saved conversation as the page shows it: (chat messages, answers, sources panel of the last
    answer, the conversation). ConversationNotFound for another owner's id."""
    conversation = store.get(conversation_id, owner)
    messages: list[dict] = []
    for turn in conversation.turns:
        messages += [{"role": "user", "content": turn.question},
                     {"role": "assistant", "content": answer_markdown(turn.answer)}]
    answers = list(conversation.answers)
    panel = answer_panel(answers[-1], retrieved_passages(answers[-1])) if answers else ""
    return messages, answers, panel, conversation


def save_turn(store, owner: str | None, conversation_id: str | None, collection: str, question: str, answer,
              replaces_last: bool = False) -> str | None:
    """Save one answered turn (a new conversation on the first); the conversation's id."""
    if owner is None:
        return conversation_id
    if conversation_id is not None:
        try:
            store.add_turn(conversation_id, owner, question, answer, replaces_last=replaces_last)
            return conversation_id
        except ConversationNotFound:
            pass  # deleted meanwhile (in another tab): this turn starts a new one
    conversation_id = store.create(owner, collection).id
    store.add_turn(conversation_id, owner, question, answer)
    return conversation_id
