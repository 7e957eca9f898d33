"""A data directory from before the database, upgraded in place: its files imported once.

Before, a data directory kept conversations in `conversations.sqlite`, each document's text in
`texts/<collection>/<sha256>.txt` and uploads in `uploads/`. The first process that opens the
database with such a directory copies them in (rows already there are kept: re-running is harmless)
and records the directory, by host and path, in `imports`. The files are left where they were; the
database is what is read from then on.
"""
from __future__ import annotations

import hashlib
import socket
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from rag.database import schema

CONVERSATIONS_FILE = "conversations.sqlite"
_done: set[tuple[str, str]] = set()  # (database, data directory) pairs this process has seen to
_lock = threading.Lock()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _found(home: Path) -> bool:
    return ((home / CONVERSATIONS_FILE).is_file() or (home / "texts").is_dir() or (home / "uploads").is_dir())


def import_home(engine: sa.Engine, home: Path, collection: str) -> None:
    """Import `home`'s files (its uploads belong to `collection`) unless done before."""
    key = (str(engine.url), str(home))
    if key in _done:
        return
    with _lock:
        if key in _done:
            return
        if _found(home):
            marker = f"{socket.gethostname()}:{home.resolve()}"
            with engine.begin() as conn:
                seen = conn.execute(sa.select(schema.imports.c.home).where(schema.imports.c.home == marker)).first()
                if seen is None:
                    _conversations(conn, home / CONVERSATIONS_FILE)
                    _texts(conn, home / "texts")
                    _uploads(conn, home / "uploads", collection)
                    conn.execute(schema.imports.insert().values(home=marker, imported_at=_now()))
        _done.add(key)


def _insert_missing(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert the rows whose primary key is not there yet (the same in SQLite and PostgreSQL)."""
    keys = [c.name for c in table.primary_key.columns]
    for row in rows:
        where = sa.and_(*(table.c[k] == row[k] for k in keys))
        if conn.execute(sa.select(sa.literal(1)).select_from(table).where(where)).first() is None:
            conn.execute(table.insert().values(**row))


def _conversations(conn: sa.Connection, path: Path) -> None:
    if not path.is_file():
        return
    old = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"conversations", "turns"} <= names:
            return
        columns = ("id", "owner", "title", "collection", "created_at", "updated_at", "touched")
        _insert_missing(conn, schema.conversations, [
            dict(zip(columns, row)) for row in old.execute(f"SELECT {', '.join(columns)} FROM conversations")])
        columns = ("conversation_id", "position", "question", "answer", "created_at")
        _insert_missing(conn, schema.turns, [
            dict(zip(columns, row)) for row in old.execute(f"SELECT {', '.join(columns)} FROM turns")])
    finally:
        old.close()


def _texts(conn: sa.Connection, folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*/*.txt")):
        sha = path.stem
        if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
            with path.open(encoding="utf-8", newline="") as f:  # as written: offsets count "\r\n" as two
                text = f.read()
            _insert_missing(conn, schema.texts, [{"collection": path.parent.name, "sha256": sha, "text": text}])


def _uploads(conn: sa.Connection, folder: Path, collection: str) -> None:
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        _insert_missing(conn, schema.originals, [{
            "collection": collection, "name": path.name, "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "data": data, "stored_at": _now()}])
