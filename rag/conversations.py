"""Conversations that last: every question and its checked answer, saved as it happens.

One SQLite file in the data directory. A turn is written in one transaction once its answer is
final, so a process killed mid-answer leaves the conversation as it was before that question, never
a half-written turn. WAL mode lets a reader list conversations while another process writes.
Every call names its owner (a signed-in user, a browser, the terminal), and an owner only ever sees
its own conversations: a conversation asked for under another owner is "not found", not "forbidden",
so ids cannot be probed.
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import ConversationNotFound, InvalidInput
from rag.settings import Settings, get_settings
from rag.types import Answer, Citation, Passage

TITLE_CHARS = 80  # a conversation's default title: its first question, cut here
MIN_PREFIX = 6  # an id may be shortened to a unique prefix this long (as `rag conversations` shows them)
FILE_NAME = "conversations.sqlite"  # in the data directory, beside the index: one file for every collection

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    collection TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    touched INTEGER NOT NULL  -- rises with every write: "most recently used" without clock ties
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, touched);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
"""


@dataclass(frozen=True)
class Turn:
    """One question and the answer that was shown for it (citations, flags and all)."""

    question: str
    answer: Answer
    created_at: str

    def to_dict(self) -> dict:
        return {"question": self.question, "created_at": self.created_at, **self.answer.to_dict()}


@dataclass(frozen=True)
class ConversationInfo:
    """A conversation as a list shows it."""

    id: str
    title: str
    collection: str
    created_at: str
    updated_at: str
    turns: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Conversation:
    """A whole conversation, oldest turn first."""

    id: str
    title: str
    collection: str
    created_at: str
    updated_at: str
    turns: tuple[Turn, ...] = ()

    @property
    def history(self) -> list[tuple[str, str]]:
        """(question, answer text) pairs, oldest first: what `ask(..., history=)` takes to go on."""
        return [(t.question, t.answer.text) for t in self.turns]

    @property
    def answers(self) -> list[Answer]:
        return [t.answer for t in self.turns]

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "collection": self.collection,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "turns": [t.to_dict() for t in self.turns],
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _passage(d: dict) -> Passage:
    # JSON gives lists back; the frozen type holds tuples (and compares equal only as such)
    return Passage(**{**d, "places": tuple(tuple(p) for p in d.get("places") or ())})


def answer_to_json(answer: Answer) -> str:
    """Every field of an answer, so that a reopened conversation shows exactly what was shown."""
    return json.dumps(dataclasses.asdict(answer), ensure_ascii=False)


def answer_from_json(raw: str) -> Answer:
    d = json.loads(raw)
    citations = tuple(
        Citation(**{**c, "passage": _passage(c["passage"]),
                    "unsupported_numbers": tuple(c.get("unsupported_numbers", ()))})
        for c in d.get("citations", ())
    )
    return Answer(**{
        **d,
        "citations": citations,
        "related": tuple(_passage(p) for p in d.get("related", ())),
        "notices": tuple(d.get("notices", ())),
        "flags": tuple(d.get("flags", ())),
    })


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise InvalidInput("a conversation's title cannot be empty")
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


class ConversationStore:
    """Conversations in one SQLite file; safe to share between threads of one process and between
    processes (each thread has its own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._ready = False
        self._ready_lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash loses no committed turn
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        if not self._ready:
            with self._ready_lock:
                if not self._ready:
                    db.executescript(_SCHEMA)
                    self._ready = True
        return db

    # -- writing ------------------------------------------------------------------------------
    def create(self, owner: str, collection: str, title: str | None = None) -> ConversationInfo:
        """A new, empty conversation; its title defaults to its first question."""
        now = _now()
        cid = uuid.uuid4().hex
        title = _title(title) if title is not None else ""
        self._db().execute(
            "INSERT INTO conversations (id, owner, title, collection, created_at, updated_at, touched)"
            " VALUES (?,?,?,?,?,?, (SELECT COALESCE(MAX(touched), 0) + 1 FROM conversations))",
            (cid, owner, title, collection, now, now),
        )
        return ConversationInfo(cid, title, collection, now, now, 0)

    def add_turn(self, conversation_id: str, owner: str, question: str, answer: Answer,
                 replaces_last: bool = False) -> Turn:
        """Append one answered question, in one transaction (all of it or nothing). `replaces_last`:
        the question was asked again (the page's Retry), so its new answer takes the last turn's place."""
        db = self._db()
        now = _now()
        with _transaction(db):
            row = db.execute("SELECT title FROM conversations WHERE id = ? AND owner = ?",
                             (conversation_id, owner)).fetchone()
            if row is None:
                raise ConversationNotFound(conversation_id)
            (position,) = db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?",
                                     (conversation_id,)).fetchone()
            if replaces_last and position:
                position -= 1
                db.execute("DELETE FROM turns WHERE conversation_id = ? AND position = ?", (conversation_id, position))
            db.execute("INSERT INTO turns (conversation_id, position, question, answer, created_at) VALUES (?,?,?,?,?)",
                       (conversation_id, position, question, answer_to_json(answer), now))
            title = row[0] or _title(question)
            db.execute("UPDATE conversations SET updated_at = ?, title = ?,"
                       " touched = (SELECT MAX(touched) + 1 FROM conversations) WHERE id = ?",
                       (now, title, conversation_id))
        return Turn(question, answer, now)

    def rename(self, conversation_id: str, owner: str, title: str) -> None:
        cur = self._db().execute("UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                                 (_title(title), conversation_id, owner))
        if cur.rowcount == 0:
            raise ConversationNotFound(conversation_id)

    def delete(self, conversation_id: str, owner: str) -> bool:
        """Remove a conversation and its turns; False when the owner has no such conversation."""
        cur = self._db().execute("DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner))
        return cur.rowcount > 0

    # -- reading ------------------------------------------------------------------------------
    def list(self, owner: str, collection: str | None = None, limit: int | None = None) -> list[ConversationInfo]:
        """The owner's conversations, most recently used first."""
        sql = ("SELECT c.id, c.title, c.collection, c.created_at, c.updated_at,"
               " (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id)"
               " FROM conversations c WHERE c.owner = ?")
        args: list = [owner]
        if collection is not None:
            sql += " AND c.collection = ?"
            args.append(collection)
        sql += " ORDER BY c.touched DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [ConversationInfo(*row) for row in self._db().execute(sql, args)]

    def resolve(self, id_or_prefix: str, owner: str) -> str:
        """The full id of the owner's conversation that `id_or_prefix` names: the id itself, or a prefix
        of at least MIN_PREFIX characters shared by no other of the owner's conversations."""
        key = id_or_prefix.strip().lower()
        if len(key) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in key):
            found = [r[0] for r in self._db().execute(
                "SELECT id FROM conversations WHERE owner = ? AND id LIKE ? LIMIT 2", (owner, key + "%"))]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidInput(f"{id_or_prefix!r} names several conversations: give more of its id")
        raise ConversationNotFound(id_or_prefix)

    def get(self, conversation_id: str, owner: str) -> Conversation:
        db = self._db()
        row = db.execute("SELECT id, title, collection, created_at, updated_at FROM conversations"
                         " WHERE id = ? AND owner = ?", (conversation_id, owner)).fetchone()
        if row is None:
            raise ConversationNotFound(conversation_id)
        turns = tuple(
            Turn(q, answer_from_json(a), at)
            for q, a, at in db.execute("SELECT question, answer, created_at FROM turns WHERE conversation_id = ?"
                                       " ORDER BY position", (conversation_id,))
        )
        return Conversation(*row, turns=turns)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def open_conversations(settings: Settings | None = None) -> ConversationStore:
    """The conversation store of the data directory (`RAG_HOME`); the file is created on first write."""
    return ConversationStore((settings or get_settings()).home / FILE_NAME)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")

