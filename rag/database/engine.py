"""One engine per database URL and process, with its schema brought to the newest migration once.

SQLite (the default, `RAG_HOME/rag.sqlite`): WAL, so readers in other processes go on while one
writes, and every transaction but a `reading` one begins IMMEDIATE, so two writers queue for the write lock (up
to the busy timeout) instead of failing when a read turns into a write, and readers wait for none. PostgreSQL: a pool with pre-ping, so
a restarted server costs one failed connection, not an error per request.

Migrations are Alembic's (`migrations/versions/`); they run under a lock (PostgreSQL's advisory
lock, SQLite's write lock) so that workers starting together migrate once. A database already at
`HEAD` is recognised from its version table without loading Alembic.
"""
from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from rag.errors import BackendUnavailable
from rag.settings import hide_password

HEAD = "0003"  # the newest migration in migrations/versions/ (a test checks they agree)
BUSY_TIMEOUT_S = 30  # how long a SQLite writer waits for another's transaction before failing
_MIGRATION_LOCK = 0x7261_6701  # PostgreSQL advisory lock key of schema upgrades ("rag" 1)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def engine_for(url: str) -> sa.Engine:
    """The engine of `url` (a `sqlite:///` or `postgresql+psycopg://` URL), its schema up to date."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            try:
                upgrade(engine)
            except sa.exc.OperationalError as e:
                engine.dispose()
                raise BackendUnavailable(f"the database {hide_password(url)} cannot be reached: "
                                         f"{str(e.orig or e).strip().splitlines()[0]}") from None
            _engines[url] = engine
        return engine


def database(settings) -> sa.Engine:
    """The engine of `settings.database` (RAG_DATABASE_URL, or SQLite in RAG_HOME), ready to use;
    files the data directory kept before there was a database are imported on first open."""
    engine = engine_for(settings.database)
    from rag.database.legacy import import_home

    import_home(engine, Path(settings.home), settings.collection)
    return engine


def _create(url: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash loses no committed transaction
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # A reader (`reading`) takes no write lock: WAL lets it read while a writer writes.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("reading") else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only (`with reading(engine) as db:`): on SQLite it waits for no writer."""
    return engine.connect().execution_options(reading=True)


def current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to HEAD (nothing to do, and no Alembic loaded, when it is there already)."""
    with reading(engine) as conn:
        if current_revision(conn) == HEAD:
            return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def forget() -> None:
    """Close every engine of this process (tests; a forked child must not share its parent's pool)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
