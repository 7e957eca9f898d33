"""The exact text that citation offsets index into, kept in the SQL database at ingestion.

For HTML, PDF, office files and EPUB that text is extracted, and the source file may move or
change: so each document's text is kept in the `texts` table (`rag.database`), by collection and
the sha256 of the file's bytes, and `rag.document_text(name)` reads it back, on any worker that
shares the database. Written before the document's chunks, so a visible document always has its text.
"""
from __future__ import annotations

import sqlalchemy as sa

from rag.database import schema
from rag.database.engine import reading

_T = schema.texts


def _check(sha256: str) -> None:
    if not sha256 or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")


class TextStore:
    """One collection's kept texts."""

    def __init__(self, engine: sa.Engine, collection: str) -> None:
        self.engine = engine
        self.collection = collection

    def put(self, sha256: str, text: str) -> None:
        _check(sha256)
        key = (_T.c.collection == self.collection) & (_T.c.sha256 == sha256)
        # One transaction: the text is there whole or not at all.
        with self.engine.begin() as db:
            if db.execute(sa.select(sa.literal(1)).select_from(_T).where(key)).first() is None:
                db.execute(_T.insert().values(collection=self.collection, sha256=sha256, text=text))
            else:  # same bytes, same text: written again only if this code reads them differently now
                db.execute(_T.update().where(key).values(text=text))

    def get(self, sha256: str) -> str | None:
        try:
            _check(sha256)
        except ValueError:
            return None
        with reading(self.engine) as db:
            return db.execute(sa.select(_T.c.text).where(_T.c.collection == self.collection,
                                                         _T.c.sha256 == sha256)).scalar()

    def drop(self, sha256: str) -> None:
        with self.engine.begin() as db:
            db.execute(_T.delete().where(_T.c.collection == self.collection, _T.c.sha256 == sha256))

    def drop_all(self) -> None:
        """Every text of the collection (the collection is being deleted)."""
        with self.engine.begin() as db:
            db.execute(_T.delete().where(_T.c.collection == self.collection))


def text_store(settings) -> TextStore:
    """Where `settings`' collection keeps its documents' texts."""
    from rag.database.engine import database

    return TextStore(database(settings), settings.collection)
