"""The keyword index on PostgreSQL: the same BM25 search as KeywordIndex, shared by every worker.

Chunks are tokenised by rag.text.tokenize exactly as for the SQLite index and stored as a `tsvector`
built from the tokens themselves (never re-parsed by a text search configuration, which would split
"nghi_phạm" and "2.141"), with a GIN index. Each lexeme gets positions 1..tf, so the number of its
positions is its term frequency (PostgreSQL keeps at most 256 positions per lexeme: tf is capped
there, where BM25 has long saturated). A query is an OR of its quoted tokens, ranked by BM25 computed
in SQL as FTS5's bm25() does (k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)), 1e-6 when not
positive), from per-collection statistics kept in the same transaction as every write: the number of
chunks, their total length and each term's document frequency. A search reads its terms' document
frequencies, one statistics row and the chunks holding a term (through the GIN index when the terms
are selective; the planner scans instead on a small table or for terms most chunks hold).

Rows are namespaced by a `collection` column. Writers to one collection take turns (each write locks
the collection's statistics row first), so two workers upserting the same chunk cannot collide and
no count is lost; readers never wait. The statistics row also holds the tokenizer version: when it
differs from this code's, `needs_rebuild()` is true and every other operation raises
KeywordIndexStale until `reset()` empties the collection.
"""
from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from typing import Collection, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from rag.errors import BackendUnavailable, InvalidInput, KeywordIndexStale
from rag.retrieval.keywords import MAX_QUERY_TOKENS, MAX_RANKED, KeywordItem, affordable
from rag.text import tokenize

SCHEMA_VERSION = 1
K1, B = 1.2, 0.75  # FTS5's bm25() defaults, so both indexes rank alike
MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses a lexeme of 2 KB (2048 bytes) or more
MAX_POSITIONS = 256  # PostgreSQL keeps at most 256 positions per lexeme
MAX_VECTOR_BYTES = 1_000_000  # a tsvector's lexemes must fit in 1 MB: further ones are not indexed
MAX_COLLECTION_NAME = 200
_CREATE_LOCK = 0x6B77_7067  # advisory lock key: workers starting together create the tables once

metadata = sa.MetaData()
chunks = sa.Table(
    "keyword_chunks", metadata,
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("length", sa.Integer, nullable=False),  # tokens in the chunk, as FTS5 counts them
    sa.Column("tokens", pg.TSVECTOR, nullable=False),
    sa.Index("keyword_chunks_document", "collection", "document"),
    sa.Index("keyword_chunks_tokens", "tokens", postgresql_using="gin"),
)
terms = sa.Table(
    "keyword_terms", metadata,
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("term", sa.Text, primary_key=True),
    sa.Column("df", sa.Integer, nullable=False),  # chunks holding the term
)
stats = sa.Table(
    "keyword_stats", metadata,
    sa.Column("collection", sa.Text, primary_key=True),
    sa.Column("chunks", sa.BigInteger, nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),  # total length of the chunks
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("tokenizer", sa.Integer, nullable=False),
)
KEYWORD_TABLES = (chunks, terms, stats)

_TEXTS = pg.ARRAY(sa.Text)
SEARCH_SQL = """
WITH st AS (
    SELECT chunks AS n, tokens::float8 / greatest(chunks, 1) AS avgdl
    FROM keyword_stats WHERE collection = :collection),
idf AS (
    SELECT t.term, CASE WHEN x > 0 THEN x ELSE 1e-6 END AS idf
    FROM keyword_terms t, st, ln((st.n - t.df + 0.5)::float8 / (t.df + 0.5)) AS x
    WHERE t.collection = :collection AND t.term = ANY(:terms)),
hit AS (
    SELECT c.id, c.length, c.tokens FROM keyword_chunks c
    WHERE c.collection = :collection AND c.tokens @@ CAST(:query AS tsquery) {scope})
-- Each hit's query terms only (marked with weight A, the rest filtered out): a chunk's other lexemes
-- never reach the join.
SELECT hit.id, sum(idf.idf * p.tf * (:k1 + 1) / (p.tf + :k1 * (1 - :b + :b * hit.length / st.avgdl))) AS score
FROM hit CROSS JOIN st
CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf
                    FROM unnest(ts_filter(setweight(hit.tokens, 'A', :terms), '{{a}}'))) p
JOIN idf ON idf.term = p.lexeme
GROUP BY hit.id ORDER BY score DESC, hit.id COLLATE "C" LIMIT :k
"""
_ADD_DF = """
INSERT INTO keyword_terms (collection, term, df)
SELECT :collection, u.term, u.df FROM unnest(:terms, :dfs) AS u(term, df) ORDER BY u.term
ON CONFLICT (collection, term) DO UPDATE SET df = keyword_terms.df + excluded.df
"""


def quote(token: str) -> str:
    """A token as a tsvector / tsquery lexeme: in single quotes, quotes doubled, backslashes escaped."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _indexable(token: str) -> bool:
    return bool(token) and "\x00" not in token and len(token.encode()) <= MAX_LEXEME_BYTES


def tsvector_text(tokens: Sequence[str]) -> tuple[str, list[str]]:
    """The tsvector literal of a chunk's tokens (each lexeme with positions 1..tf) and its lexemes."""
    counts = Counter(t for t in tokens if _indexable(t))
    parts, kept, size = [], [], 0
    for token, tf in counts.items():
        size += len(token.encode())
        if size > MAX_VECTOR_BYTES:
            break
        kept.append(token)
        parts.append(quote(token) + ":" + ",".join(map(str, range(1, min(tf, MAX_POSITIONS) + 1))))
    return " ".join(parts), kept


def tsquery_text(query_tokens: Sequence[str]) -> tuple[str, list[str]]:
    """A tsquery matching any of the tokens (each quoted, duplicates dropped) and those tokens."""
    unique = list(dict.fromkeys(t for t in query_tokens if _indexable(t) and t.strip()))[:MAX_QUERY_TOKENS]
    return " | ".join(quote(t) for t in unique), unique


def _checked(name: str, value: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(f"a keyword index {name} must be text without NUL characters, got {value!r}")
    return value


class PostgresKeywordIndex:
    """BM25 keyword search over one collection's chunks in PostgreSQL. Safe to share between threads."""

    def __init__(self, database: str | sa.Engine, collection: str, max_ranked: int = MAX_RANKED) -> None:
        _checked("collection name", collection)
        if max_ranked < 1:
            raise ValueError(f"max_ranked must be at least 1, got {max_ranked!r}")
        if not collection or len(collection) > MAX_COLLECTION_NAME:
            raise InvalidInput(f"a collection name must have 1 to {MAX_COLLECTION_NAME} characters, got {collection!r}")
        if isinstance(database, sa.Engine):
            self._engine, self._owned = database, False
        else:
            scheme, sep, rest = str(database).partition("://")
            if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
                raise InvalidInput("the keyword database must be postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
            # No connection is made here: the pool opens one on first use.
            self._engine, self._owned = sa.create_engine(f"postgresql+psycopg://{rest}", pool_pre_ping=True), True
        self.collection = collection
        self.max_ranked = max_ranked
        self._lock = threading.Lock()
        self._ready_tables = False
        self._stale: bool | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """One transaction, with the tables made first if this database has none yet."""
        try:
            if not self._ready_tables:
                with self._engine.begin() as conn:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_CREATE_LOCK)))
                    metadata.create_all(conn, checkfirst=True)
                    conn.execute(pg.insert(stats).values(
                        collection=self.collection, chunks=0, tokens=0, schema_version=SCHEMA_VERSION,
                        tokenizer=tokenize.VERSION).on_conflict_do_nothing())
                self._ready_tables = True
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as e:
            url = self._engine.url.render_as_string(hide_password=True)
            raise BackendUnavailable(f"the keyword database at {url} failed: {str(e.orig).strip()}") from None

    def close(self) -> None:
        if self._owned:
            self._engine.dispose()
        self._stale = None

    @staticmethod
    def _is_stale(row) -> bool:
        return row is None or (row.schema_version, row.tokenizer) != (SCHEMA_VERSION, tokenize.VERSION)

    def needs_rebuild(self) -> bool:
        """True when this collection was indexed by another schema or tokenizer version."""
        with self._lock:
            if self._stale is None:
                with self._begin() as conn:
                    self._stale = self._is_stale(conn.execute(
                        sa.select(stats).where(stats.c.collection == self.collection)).first())
            return self._stale

    def _check(self) -> None:
        if self.needs_rebuild():
            raise KeywordIndexStale(f"the keyword index of the collection {self.collection!r} was built by "
                                    "another version; run `rag ingest` to rebuild it")

    def _write_lock(self, conn: sa.Connection) -> None:
        """Take this collection's writer turn (its statistics row), checking versions under it."""
        row = conn.execute(sa.select(stats).where(stats.c.collection == self.collection).with_for_update()).first()
        if self._is_stale(row):
            self._stale = True
            self._check()

    def reset(self) -> None:
        """Empty this collection's index and give it this code's versions."""
        with self._begin() as conn:
            conn.execute(sa.select(stats.c.collection).where(stats.c.collection == self.collection).with_for_update())
            for table in (chunks, terms):
                conn.execute(table.delete().where(table.c.collection == self.collection))
            values = dict(chunks=0, tokens=0, schema_version=SCHEMA_VERSION, tokenizer=tokenize.VERSION)
            conn.execute(pg.insert(stats).values(collection=self.collection, **values)
                         .on_conflict_do_update(index_elements=[stats.c.collection], set_=values))
        with self._lock:
            self._stale = False

    # --- writing ----------------------------------------------------------------------------

    def add(self, items: Sequence[KeywordItem]) -> None:
        """Insert or replace items by id, all in one transaction (the last of a repeated id wins)."""
        self.add_tokens([(it.id, it.document, it.language, tokenize.tokens(it.text, it.language)) for it in items])

    def add_tokens(self, items: Sequence[tuple[str, str, str, Sequence[str]]]) -> None:
        """`add` for chunks already tokenised: (id, document, language, tokens) each."""
        latest = {_checked("chunk id", cid): (cid, doc, lang, toks) for cid, doc, lang, toks in items}
        rows, added = [], []
        for cid, doc, lang, toks in latest.values():
            literal, lexemes = tsvector_text(toks)
            rows.append(dict(collection=self.collection, id=cid, document=_checked("document name", doc),
                             language=_checked("language", lang), length=len(toks), tokens=literal))
            added.append((len(toks), lexemes))
        if not rows:
            return
        self._check()
        with self._begin() as conn:
            self._write_lock(conn)
            removed = self._delete(conn, chunks.c.id == sa.any_(sa.bindparam("ids", list(latest), _TEXTS)))
            conn.execute(chunks.insert().values(tokens=sa.cast(sa.bindparam("tokens"), pg.TSVECTOR)), rows)
            self._apply(conn, removed, added)

    def delete_document(self, document: str) -> int:
        """Remove every chunk of `document`; return how many were removed."""
        self._check()
        with self._begin() as conn:
            self._write_lock(conn)
            removed = self._delete(conn, chunks.c.document == document)
            self._apply(conn, removed, [])
        return len(removed)

    def _delete(self, conn: sa.Connection, where) -> list[tuple[int, list[str]]]:
        """Delete this collection's chunks matching `where`; their lengths and lexemes."""
        statement = (chunks.delete().where(chunks.c.collection == self.collection, where)
                     .returning(chunks.c.length, sa.func.tsvector_to_array(chunks.c.tokens)))
        return [(length, lexemes) for length, lexemes in conn.execute(statement)]

    def _apply(self, conn: sa.Connection, removed, added) -> None:
        """Update the statistics by what was removed and added: increments, so nothing is overwritten."""
        df: Counter[str] = Counter()
        n = length = 0
        for sign, group in ((-1, removed), (1, added)):
            for size, lexemes in group:
                n, length = n + sign, length + sign * size
                df.update({t: sign for t in lexemes})
        changed = sorted(t for t, d in df.items() if d)
        if changed:
            conn.execute(sa.text(_ADD_DF).bindparams(sa.bindparam("terms", type_=_TEXTS),
                                                     sa.bindparam("dfs", type_=pg.ARRAY(sa.Integer))),
                         dict(collection=self.collection, terms=changed, dfs=[df[t] for t in changed]))
            gone = [t for t in changed if df[t] < 0]
            if gone:
                conn.execute(terms.delete().where(terms.c.collection == self.collection, terms.c.df <= 0,
                                                  terms.c.term == sa.any_(sa.bindparam("gone", gone, _TEXTS))))
        conn.execute(stats.update().where(stats.c.collection == self.collection)
                     .values(chunks=stats.c.chunks + n, tokens=stats.c.tokens + length))

    # --- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        self._check()
        with self._begin() as conn:
            return conn.execute(sa.select(stats.c.chunks).where(stats.c.collection == self.collection)).scalar() or 0

    def ids_by_document(self) -> dict[str, set[str]]:
        """Every indexed document with the ids of its chunks."""
        self._check()
        out: dict[str, set[str]] = {}
        with self._begin() as conn:
            for document, chunk_id in conn.execute(
                    sa.select(chunks.c.document, chunks.c.id).where(chunks.c.collection == self.collection)):
                out.setdefault(document, set()).add(chunk_id)
        return out

    def search(self, query: str, k: int, language: str | None = None,
               documents: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The k best chunks for `query` as (chunk id, score), best first; higher scores are better.

        Any chunk sharing a token with the query can match (the tokens are OR-ed); BM25 ranks them.
        Every token is quoted and every value is a bound parameter, so no input is read as syntax.
        With `documents`, only their chunks are ranked (the k come from them). Tokens too common to
        rank within `max_ranked` chunks are left out, as in the SQLite index.
        """
        if k <= 0 or (documents is not None and not documents):
            return []
        expression, unique = tsquery_text(tokenize.tokens(query, language))
        if not expression:
            return []
        self._check()
        with self._begin() as conn:
            # As the SQLite index does: the rarest terms while the chunks holding them fit in
            # max_ranked, so no search ranks in proportion to the corpus (a term most chunks hold
            # weighs next to nothing in BM25 anyway).
            frequency = dict(conn.execute(
                sa.select(terms.c.term, terms.c.df).where(terms.c.collection == self.collection,
                                                          terms.c.term == sa.any_(sa.cast(sa.bindparam("t", unique), _TEXTS)))
            ).all())
        kept = affordable(unique, frequency, self.max_ranked)
        if not kept:
            return []
        expression, unique = tsquery_text(kept)
        params = dict(collection=self.collection, terms=unique, query=expression, k=k, k1=K1, b=B)
        binds = [sa.bindparam("terms", type_=_TEXTS)]
        scope = ""
        if documents is not None:
            # One array parameter however many documents; a name with NUL cannot have been indexed.
            params["documents"] = sorted(d for d in documents if "\x00" not in d)
            binds.append(sa.bindparam("documents", type_=_TEXTS))
            scope = "AND c.document = ANY(:documents)"
        with self._begin() as conn:
            rows = conn.execute(sa.text(SEARCH_SQL.format(scope=scope)).bindparams(*binds), params).all()
        return [(chunk_id, float(score)) for chunk_id, score in rows]
