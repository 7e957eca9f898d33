"""Conversations that last: every question and its checked answer, saved as it happens.

In the SQL database (`rag.database`: SQLite in the data directory by default, PostgreSQL shared by
every worker with `RAG_DATABASE_URL`). A turn is written in one transaction once its answer is
final, so a process killed mid-answer leaves the conversation as it was before that question, never
a half-written turn; a conversation saved through one worker goes on through any other.
Every call names its owner (a signed-in user, a browser, the terminal), and an owner only ever sees
its own conversations: a conversation asked for under another owner is "not found", not "forbidden",
so ids cannot be probed.
"""
from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from rag.database import schema
from rag.database.engine import reading
from rag.errors import ConversationNotFound, InvalidInput
from rag.settings import Settings, get_settings
from rag.types import Answer, Citation, Passage

TITLE_CHARS = 80  # a conversation's default title: its first question, cut here
MIN_PREFIX = 6  # an id may be shortened to a unique prefix this long (as `rag conversations` shows them)

_C, _T = schema.conversations, schema.turns
# The next value of the "most recently used" counter, read in the writing transaction.
_NEXT_TOUCH = sa.select(sa.func.coalesce(sa.func.max(_C.c.touched), 0) + 1).scalar_subquery()


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
    """Conversations in the SQL database; safe to share between threads and processes. Built from
    an engine, a database URL, or the path of a SQLite file."""

    def __init__(self, where: sa.Engine | str | Path) -> None:
        if isinstance(where, sa.Engine):
            self._engine = where
        else:
            from rag.database.engine import engine_for

            url = where if isinstance(where, str) and "://" in where else f"sqlite:///{Path(where)}"
            self._engine = engine_for(url)

    # -- writing ------------------------------------------------------------------------------
    def create(self, owner: str, collection: str, title: str | None = None) -> ConversationInfo:
        """A new, empty conversation; its title defaults to its first question."""
        now = _now()
        cid = uuid.uuid4().hex
        title = _title(title) if title is not None else ""
        with self._engine.begin() as db:
            db.execute(_C.insert().values(id=cid, owner=owner, title=title, collection=collection,
                                          created_at=now, updated_at=now, touched=_NEXT_TOUCH))
        return ConversationInfo(cid, title, collection, now, now, 0)

    def add_turn(self, conversation_id: str, owner: str, question: str, answer: Answer,
                 replaces_last: bool = False) -> Turn:
        """Append one answered question, in one transaction (all of it or nothing). `replaces_last`:
        the question was asked again (the page's Retry), so its new answer takes the last turn's place."""
        now = _now()
        with self._engine.begin() as db:
            query = sa.select(_C.c.title).where(_C.c.id == conversation_id, _C.c.owner == owner)
            if db.dialect.name == "postgresql":
                query = query.with_for_update()  # two turns of one conversation at once take turns
            row = db.execute(query).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            position = db.execute(sa.select(sa.func.count()).select_from(_T)
                                  .where(_T.c.conversation_id == conversation_id)).scalar_one()
            if replaces_last and position:
                position -= 1
                db.execute(_T.delete().where(_T.c.conversation_id == conversation_id, _T.c.position == position))
            db.execute(_T.insert().values(conversation_id=conversation_id, position=position, question=question,
                                          answer=answer_to_json(answer), created_at=now))
            db.execute(_C.update().where(_C.c.id == conversation_id)
                       .values(updated_at=now, title=row.title or _title(question), touched=_NEXT_TOUCH))
        return Turn(question, answer, now)

    def rename(self, conversation_id: str, owner: str, title: str) -> None:
        with self._engine.begin() as db:
            done = db.execute(_C.update().where(_C.c.id == conversation_id, _C.c.owner == owner)
                              .values(title=_title(title)))
        if done.rowcount == 0:
            raise ConversationNotFound(conversation_id)

    def delete(self, conversation_id: str, owner: str) -> bool:
        """Remove a conversation and its turns; False when the owner has no such conversation."""
        with self._engine.begin() as db:
            db.execute(_T.delete().where(_T.c.conversation_id == conversation_id,
                                         _T.c.conversation_id.in_(sa.select(_C.c.id).where(_C.c.owner == owner))))
            done = db.execute(_C.delete().where(_C.c.id == conversation_id, _C.c.owner == owner))
        return done.rowcount > 0

    # -- reading ------------------------------------------------------------------------------
    def list(self, owner: str, collection: str | None = None, limit: int | None = None) -> list[ConversationInfo]:
        """The owner's conversations, most recently used first."""
        count = (sa.select(sa.func.count()).select_from(_T).where(_T.c.conversation_id == _C.c.id)
                 .scalar_subquery())
        query = (sa.select(_C.c.id, _C.c.title, _C.c.collection, _C.c.created_at, _C.c.updated_at, count)
                 .where(_C.c.owner == owner).order_by(_C.c.touched.desc()))
        if collection is not None:
            query = query.where(_C.c.collection == collection)
        if limit is not None:
            query = query.limit(int(limit))
        with reading(self._engine) as db:
            return [ConversationInfo(*row) for row in db.execute(query)]

    def resolve(self, id_or_prefix: str, owner: str) -> str:
        """The full id of the owner's conversation that `id_or_prefix` names: the id itself, or a prefix
        of at least MIN_PREFIX characters shared by no other of the owner's conversations."""
        key = id_or_prefix.strip().lower()
        if len(key) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in key):
            with reading(self._engine) as db:
                found = list(db.execute(sa.select(_C.c.id).where(_C.c.owner == owner, _C.c.id.startswith(key))
                                        .limit(2)).scalars())
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidInput(f"{id_or_prefix!r} names several conversations: give more of its id")
        raise ConversationNotFound(id_or_prefix)

    def get(self, conversation_id: str, owner: str) -> Conversation:
        with reading(self._engine) as db:
            row = db.execute(sa.select(_C.c.id, _C.c.title, _C.c.collection, _C.c.created_at, _C.c.updated_at)
                             .where(_C.c.id == conversation_id, _C.c.owner == owner)).first()
            if row is None:
                raise ConversationNotFound(conversation_id)
            rows = db.execute(sa.select(_T.c.question, _T.c.answer, _T.c.created_at)
                              .where(_T.c.conversation_id == conversation_id).order_by(_T.c.position)).all()
        return Conversation(*row, turns=tuple(Turn(q, answer_from_json(a), at) for q, a, at in rows))

    def close(self) -> None:
        """Nothing to release: connections go back to the process's pool after each call."""


def open_conversations(settings: Settings | None = None) -> ConversationStore:
    """The conversation store of the configured database (RAG_DATABASE_URL, or SQLite in RAG_HOME)."""
    from rag.database.engine import database

    return ConversationStore(database(settings or get_settings()))
