"""The keyword index: BM25 over pre-tokenised chunks, in SQLite FTS5, beside the vector store.

Chunks are tokenised by rag.text.tokenize (language-aware: stems, Vietnamese syllable bigrams, Chinese
words and bigrams, normalised numbers) and stored as space-joined tokens. FTS5 only splits them
again on spaces: its unicode61 tokenizer keeps diacritics and treats "_" and "." as part of a token,
so "nghi_phạm" and "2.141" stay whole.

Beside them, `token_chunks` counts the chunks holding each token (kept with every write), so a
search learns what each query token would cost to rank without reading its postings (MAX_RANKED).

`meta` may also hold the change token of the vector store the index was last found in step with
(rag/ingestion/keyword_sync.py): a worker restarted on an unchanged store then skips the resync,
which reads every chunk's metadata (minutes at a million chunks). Every write to the index removes
that mark in its own transaction, so an index changed since (by any process) is never taken as in step.

The file holds a schema version (PRAGMA user_version) and the tokenizer version it was built with.
A file of version 1 (no counts) gets its counts from FTS5's own vocabulary when opened, once. When
either version differs otherwise, `needs_rebuild()` is true and every other operation raises
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

SCHEMA_VERSION = 2
MAX_QUERY_TOKENS = 256  # a pasted page as a question: enough to rank, bounded in cost
# The most chunks one search ranks, summed over the query's tokens (each token's document frequency):
# BM25 scores every chunk holding any query token, so a token found in a large share of a big index
# ("的", "của", a number) would make every search scan that share. The rarest tokens are kept until
# the budget is spent; a token over it weighs little (its IDF at the budget, log(N / budget), is a
# fraction of a rare token's) and is left out. No index under the budget ever loses a token.
MAX_RANKED = 5_000

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
CREATE TABLE token_chunks (token TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID;
"""
_TABLES = ("meta", "chunks", "chunk_tokens", "token_chunks")
_IN_STEP = "in_step_with"  # meta: the store's change token the index was last found in step with


@dataclass(frozen=True)
class KeywordItem:
    """One chunk to index: its id (the vector store's id), document, text and language code."""

    id: str
    document: str
    text: str
    language: str


class KeywordIndex:
    """BM25 keyword search over chunks, stored in one SQLite file. Safe to share between threads.
    `max_ranked`: the most chunks one search ranks (MAX_RANKED)."""

    def __init__(self, path: Path, max_ranked: int = MAX_RANKED) -> None:
        if max_ranked < 1:
            raise ValueError(f"max_ranked must be at least 1, got {max_ranked!r}")
        self.path = Path(path)
        self.max_ranked = max_ranked
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
                elif conn.execute("PRAGMA user_version").fetchone()[0] == 1:
                    self._count_tokens(conn)
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

    @staticmethod
    def _count_tokens(conn: sqlite3.Connection) -> None:
        """Version 1 to 2: the token counts, read from FTS5's vocabulary (one pass over the index)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == 1:  # not done meanwhile by another process
                conn.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, chunk_tokens, row)")
                conn.execute("CREATE TABLE token_chunks (token TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID")
                conn.execute("INSERT INTO token_chunks SELECT term, doc FROM temp.vocabulary")
                conn.execute("DROP TABLE temp.vocabulary")
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
        self.add_tokens([(it.id, it.document, it.language, tokenize.tokens(it.text, it.language)) for it in items])

    def add_tokens(self, items: Sequence[tuple[str, str, str, Sequence[str]]]) -> None:
        """`add` for chunks already tokenised: (id, document, language, tokens) each."""
        rows = [(cid, doc, lang, " ".join(toks)) for cid, doc, lang, toks in items]
        with self._lock:
            conn = self._ready()
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._unmark(conn)
                for cid, doc, lang, joined in rows:
                    self._delete_ids(conn, [cid])
                    rowid = conn.execute(
                        "INSERT INTO chunks (id, document, language) VALUES (?, ?, ?)",
                        (cid, doc, lang),
                    ).lastrowid
                    conn.execute("INSERT INTO chunk_tokens (rowid, tokens) VALUES (?, ?)", (rowid, joined))
                    conn.executemany("INSERT INTO token_chunks VALUES (?, 1)"
                                     " ON CONFLICT (token) DO UPDATE SET chunks = chunks + 1",
                                     [(t,) for t in set(joined.split())])
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
                if ids:
                    self._unmark(conn)
                self._delete_ids(conn, ids)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return len(ids)

    # --- the store state the index is in step with --------------------------------------------

    def in_step_with(self) -> str | None:
        """The vector store's change token this index was last found in step with, unless the index
        was written to since (or needs a rebuild)."""
        with self._lock:
            if self.needs_rebuild():
                return None
            row = self._connect().execute("SELECT value FROM meta WHERE key = ?", (_IN_STEP,)).fetchone()
            return row[0] if row else None

    def mark_in_step(self, token: str) -> None:
        """Record that the index holds exactly the store's chunks as of the store's `token`."""
        with self._lock:
            self._ready().execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_IN_STEP, token))

    @staticmethod
    def _unmark(conn: sqlite3.Connection) -> None:
        """Inside a write's transaction: the index is no longer known to be in step."""
        conn.execute("DELETE FROM meta WHERE key = ?", (_IN_STEP,))

    @staticmethod
    def _delete_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
        for chunk_id in ids:
            row = conn.execute("SELECT rowid FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
            if row is not None:
                (joined,) = conn.execute("SELECT tokens FROM chunk_tokens WHERE rowid = ?", row).fetchone() or ("",)
                held = [(t,) for t in set(joined.split())]
                conn.executemany("UPDATE token_chunks SET chunks = chunks - 1 WHERE token = ?", held)
                conn.executemany("DELETE FROM token_chunks WHERE token = ? AND chunks <= 0", held)
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
        Tokens too common to rank within MAX_RANKED chunks are left out; a query with only such
        tokens finds nothing (it has no keyword worth weighing).
        """
        if k <= 0 or (documents is not None and not documents):
            return []
        unique = query_tokens(tokenize.tokens(query, language))
        if not unique:
            return []
        # The k best are chosen inside FTS5, then joined to their ids: joining every matching row
        # first costs a lookup per row. Ties at the k-th score are cut in FTS5's order (by rowid).
        inner = "SELECT rowid, bm25(chunk_tokens) AS s FROM chunk_tokens WHERE chunk_tokens MATCH ?"
        scope: tuple = ()
        if documents is not None:
            # One JSON parameter however many documents: no limit on bound variables to meet.
            inner += (" AND rowid IN (SELECT rowid FROM chunks WHERE document IN"
                      " (SELECT value FROM json_each(?)))")
            scope = (json.dumps(sorted(documents)),)
        sql = (f"SELECT c.id, r.s FROM ({inner} ORDER BY s LIMIT ?) AS r"
               " JOIN chunks c ON c.rowid = r.rowid ORDER BY r.s, c.id")
        with self._lock:
            conn = self._ready()
            kept = affordable(unique, self._chunks_holding(conn, unique), self.max_ranked)
            if not kept:
                return []
            rows = conn.execute(sql, (match_expression(kept), *scope, k)).fetchall()
        return [(chunk_id, -score) for chunk_id, score in rows]

    @staticmethod
    def _chunks_holding(conn: sqlite3.Connection, tokens: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each token (a token absent from the counts is absent here)."""
        found: dict[str, int] = {}
        for token in tokens:  # one primary-key lookup each
            row = conn.execute("SELECT chunks FROM token_chunks WHERE token = ?", (token,)).fetchone()
            if row is not None:
                found[token] = row[0]
        return found


def query_tokens(tokens: Sequence[str]) -> list[str]:
    """The distinct non-blank tokens, in order, at most MAX_QUERY_TOKENS."""
    return list(dict.fromkeys(t for t in tokens if t.strip()))[:MAX_QUERY_TOKENS]


def affordable(tokens: Sequence[str], frequency: dict[str, int], budget: int) -> list[str]:
    """The tokens to search for, in their order: the rarest first while the chunks holding them
    sum to at most `budget` (see MAX_RANKED). A token missing from `frequency` costs nothing and is
    kept (FTS5 may split a token the counts hold whole: better searched than silently dropped)."""
    kept, spent = set(), 0
    for t in sorted(tokens, key=lambda t: frequency.get(t, 0)):
        cost = frequency.get(t, 0)
        if spent + cost > budget:
            break
        kept.add(t)
        spent += cost
    return [t for t in tokens if t in kept]


def match_expression(query_tokens: Sequence[str]) -> str:
    """An FTS5 query matching any of the tokens: each one quoted ("" inside), duplicates dropped."""
    unique = list(dict.fromkeys(t for t in query_tokens if t.strip()))[:MAX_QUERY_TOKENS]
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)
