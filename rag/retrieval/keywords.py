"""The keyword index: BM25 over pre-tokenised chunks, in SQLite FTS5, beside the vector store.

Chunks are tokenised by rag.text.tokenize (language-aware: stems, Vietnamese syllable bigrams, Chinese
words and bigrams, normalised numbers) and stored as space-joined tokens. FTS5 only splits them
again on spaces: its unicode61 tokenizer keeps diacritics and treats "_" and "." as part of a token,
so "nghi_phạm" and "2.141" stay whole.

The file holds a schema version (PRAGMA user_version) and the tokenizer version it was built with.
When either differs from this code's, `needs_rebuild()` is true and every other operation raises
KeywordIndexStale until `reset()` empties the index; the caller then adds every chunk again.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Sequence

from rag.text import tokenize
from rag.errors import KeywordIndexStale

SCHEMA_VERSION = 1
MAX_QUERY_TOKENS = 256  # a pasted page as a question: enough to rank, bounded in cost

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE INDEX chunks_document ON chunks (document);
CREATE VIRTUAL TABLE chunk_tokens USING fts5 (
    tokens,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_.'"
);
"""
_TABLES = ("meta", "chunks", "chunk_tokens")


@dataclass(frozen=True)
class KeywordItem:
    """One chunk to index: its id (the vector store's id), document, text and language code."""

    id: str
    document: str
    text: str
    language: str


class KeywordIndex:
    """BM25 keyword search over chunks, stored in one SQLite file. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._stale: bool | None = None  # the version check, done once per connection
        self._lock = threading.RLock()

    # --- lifecycle --------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            try:
                if not self._has_tables(conn) and conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                    self._create(conn, replace=False)
            except sqlite3.DatabaseError:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    @staticmethod
    def _has_tables(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0

    @classmethod
    def _create(cls, conn: sqlite3.Connection, *, replace: bool) -> None:
        """Create the tables; unless `replace`, leave them be if another process has just made them."""
        conn.execute("PRAGMA journal_mode = WAL")  # readers in other processes while one writes
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not replace and cls._has_tables(conn):
                conn.execute("COMMIT")
                return
            for name in _TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('tokenizer', ?)", (str(tokenize.VERSION),))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._stale = None

    def needs_rebuild(self) -> bool:
        """True when the file was made by another schema or tokenizer version, or is no index at all."""
        with self._lock:
            if self._stale is None:
                try:
                    conn = self._connect()
                    if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                        self._stale = True
                    else:
                        row = conn.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
                        self._stale = row is None or row[0] != str(tokenize.VERSION)
                except sqlite3.DatabaseError:
                    self._stale = True
            return self._stale

    def reset(self) -> None:
        """Empty the index and give it this code's versions (deleting the file if it is not SQLite)."""
        with self._lock:
            self.close()
            try:
                self._create(self._connect(), replace=True)
            except sqlite3.DatabaseError:
                self.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                self._connect()

    def _ready(self) -> sqlite3.Connection:
        if self.needs_rebuild():
            raise KeywordIndexStale(
                f"the keyword index {self.path} was built by another version; run `rag ingest` to rebuild it"
            )
        return self._connect()

    # --- writing ----------------------------------------------------------------------------

    def add(self, items: Sequence[KeywordItem]) -> None:
        """Insert or replace items by id, all in one transaction."""
        rows = [(it, " ".join(tokenize.tokens(it.text, it.language))) for it in items]
        with self._lock:
            conn = self._ready()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for it, joined in rows:
                    self._delete_ids(conn, [it.id])
                    rowid = conn.execute(
                        "INSERT INTO chunks (id, document, language) VALUES (?, ?, ?)",
                        (it.id, it.document, it.language),
                    ).lastrowid
                    conn.execute("INSERT INTO chunk_tokens (rowid, tokens) VALUES (?, ?)", (rowid, joined))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def delete_document(self, document: str) -> int:
        """Remove every chunk of `document`; return how many were removed."""
        with self._lock:
            conn = self._ready()
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [r[0] for r in conn.execute("SELECT id FROM chunks WHERE document = ?", (document,))]
                self._delete_ids(conn, ids)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return len(ids)

    @staticmethod
    def _delete_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
        for chunk_id in ids:
            row = conn.execute("SELECT rowid FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM chunk_tokens WHERE rowid = ?", row)
                conn.execute("DELETE FROM chunks WHERE rowid = ?", row)

    # --- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return self._ready().execute("SELECT count(*) FROM chunks").fetchone()[0]

    def ids_by_document(self) -> dict[str, set[str]]:
        """Every indexed document with the ids of its chunks."""
        out: dict[str, set[str]] = defaultdict(set)
        with self._lock:
            for document, chunk_id in self._ready().execute("SELECT document, id FROM chunks"):
                out[document].add(chunk_id)
        return dict(out)

    def search(self, query: str, k: int, language: str | None = None,
               documents: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The k best chunks for `query` as (chunk id, score), best first; higher scores are better.

        Any chunk sharing a token with the query can match (the tokens are OR-ed); BM25 ranks them.
        The query is tokenised like the chunks, and every token is quoted, so no user input is
        read as FTS5 syntax. With `documents`, only their chunks are ranked (the k come from them).
        """
        if k <= 0 or (documents is not None and not documents):
            return []
        expression = match_expression(tokenize.tokens(query, language))
        if not expression:
            return []
        sql = ("SELECT c.id, bm25(chunk_tokens) AS s FROM chunk_tokens"
               " JOIN chunks c ON c.rowid = chunk_tokens.rowid WHERE chunk_tokens MATCH ?")
        params: list = [expression]
        if documents is not None:
            # One JSON parameter however many documents: no limit on bound variables to meet.
            sql += " AND c.document IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(documents)))
        with self._lock:
            rows = self._ready().execute(sql + " ORDER BY s, c.id LIMIT ?", (*params, k)).fetchall()
        return [(chunk_id, -score) for chunk_id, score in rows]


def match_expression(query_tokens: Sequence[str]) -> str:
    """An FTS5 query matching any of the tokens: each one quoted ("" inside), duplicates dropped."""
    unique = list(dict.fromkeys(t for t in query_tokens if t.strip()))[:MAX_QUERY_TOKENS]
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)
