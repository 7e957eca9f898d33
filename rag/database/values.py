"""Named values that every worker sharing the database must agree on, made once by the first to ask."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from rag.database import schema
from rag.database.engine import reading

_V = schema.shared_values


def shared_value(engine: sa.Engine, key: str, make: Callable[[], str]) -> str:
    """The value named `key`; made by `make()` and stored if there is none (when two workers ask at
    once, the first insert wins and both get its value)."""
    query = sa.select(_V.c.value).where(_V.c.key == key)
    with reading(engine) as db:
        found = db.execute(query).scalar()
    if found is not None:
        return found
    try:
        with engine.begin() as db:
            db.execute(_V.insert().values(key=key, value=make()))
    except sa.exc.IntegrityError:
        pass  # another worker stored it first
    with reading(engine) as db:
        return db.execute(query).scalar_one()


def setting_value(key: str, make: Callable[[], str], settings=None) -> str:
    """`shared_value` in the configured database (RAG_DATABASE_URL, or SQLite in RAG_HOME)."""
    from rag.database.engine import database
    from rag.settings import get_settings

    return shared_value(database(settings or get_settings()), key, make)
