"""The SQL database: migrations at their head, a data directory of the previous version upgraded in
place, and the ingestion lock shared through PostgreSQL (released when its holder dies)."""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from rag.conversations import answer_to_json, open_conversations
from rag.database import engine as db_engine
from rag.errors import IndexBusy
from rag.ingestion.lock import ingestion_lock
from rag.ingestion.texts import text_store
from rag.ingestion.uploads import original
from rag.settings import load_settings
from tests.conftest import ROOT
from tests.test_conversations import ANSWER

# The conversation file as the version before the database wrote it.
OLD_SCHEMA = """
CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
    collection TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, touched INTEGER NOT NULL);
CREATE INDEX conversations_by_owner ON conversations (owner, touched);
CREATE TABLE turns (conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position));
"""


def test_head_is_the_newest_migration():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(db_engine.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == db_engine.HEAD


def test_the_schema_is_what_the_code_queries(tmp_path):
    """The migrations leave the tables and columns rag.database.schema describes."""
    from rag.database.schema import metadata

    engine = db_engine.engine_for(f"sqlite:///{tmp_path / 'x.sqlite'}")
    inspector = sa.inspect(engine)
    for table in metadata.tables.values():
        assert {c["name"] for c in inspector.get_columns(table.name)} == {c.name for c in table.columns}


def _old_data_directory(home: Path) -> tuple[str, str, bytes]:
    """A data directory as the previous version left it: a conversation, a kept text, an upload."""
    home.mkdir(parents=True)
    with closing(sqlite3.connect(home / "conversations.sqlite")) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO conversations VALUES ('c0ffee00c0ffee00c0ffee00c0ffee00', 'local', 'Cambodge',"
                   " 'rag_chunks', '2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:00.000+00:00', 1)")
        db.execute("INSERT INTO turns VALUES ('c0ffee00c0ffee00c0ffee00c0ffee00', 0, 'q?', ?,"
                   " '2026-01-01T00:00:00.000+00:00')", (answer_to_json(ANSWER),))
        db.commit()
    text = "Ligne un.\r\nLigne deux : 2.141 suspects."
    sha = hashlib.sha256(b"whatever the file held").hexdigest()
    (home / "texts" / "rag_chunks").mkdir(parents=True)
    (home / "texts" / "rag_chunks" / f"{sha}.txt").write_bytes(text.encode("utf-8"))
    (home / "uploads").mkdir()
    (home / "uploads" / "note.txt").write_bytes(b"Cambodia arrested 2,141 suspects.\n")
    return sha, text, b"Cambodia arrested 2,141 suspects.\n"


def test_a_data_directory_of_the_previous_version_upgrades_in_place(tmp_path):
    home = tmp_path / "home"
    sha, text, upload = _old_data_directory(home)
    settings = load_settings()
    store = open_conversations(settings)
    [info] = store.list("local")
    assert info.id == "c0ffee00c0ffee00c0ffee00c0ffee00" and info.title == "Cambodge" and info.turns == 1
    assert store.get(info.id, "local").answers == [ANSWER]
    assert text_store(settings).get(sha) == text  # "\r\n" kept: offsets count it as two characters
    assert original(settings, "note.txt") == upload
    store.add_turn(info.id, "local", "q2?", ANSWER)  # it goes on
    # Opened again (another process, a restart): imported once, nothing doubled.
    db_engine.forget()
    from rag.database import legacy

    legacy._done.clear()
    again = open_conversations(load_settings())
    assert [t.question for t in again.get(info.id, "local").turns] == ["q?", "q2?"]
    with closing(sqlite3.connect(home / "rag.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM texts").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM imports").fetchone() == (1,)


def test_workers_starting_together_migrate_once(postgres_url):
    """Four processes open an empty PostgreSQL database at once: one migrates, all then work."""
    url = load_settings(database_url=postgres_url).database
    code = ("import sys\nfrom rag.conversations import ConversationStore\n"
            "s = ConversationStore(sys.argv[1])\ns.create('w', 'rag_chunks')\n")
    children = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    for child in children:
        assert child.wait(120) == 0, child.stderr.read()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [db_engine.HEAD]
        assert conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar() == 4
    engine.dispose()


def test_keyword_tables_made_by_the_index_itself_are_kept_by_the_migrations(postgres_url):
    """A keyword index loaded on an empty database before the assistant ever opened it (a bulk load,
    a script) made its tables itself: the first migration keeps them and their rows."""
    from rag.retrieval.keywords import KeywordItem
    from rag.retrieval.keywords_pg import PostgresKeywordIndex

    index = PostgresKeywordIndex(postgres_url, "rag_chunks")
    index.add([KeywordItem("a:0", "a.txt", "Le Cambodge a arrêté 2.141 suspects.", "fr")])
    index.close()
    url = load_settings(database_url=postgres_url).database
    engine = db_engine.engine_for(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == db_engine.HEAD
    again = PostgresKeywordIndex(engine, "rag_chunks")
    assert [i for i, _ in again.search("Cambodge", 3, "fr")] == ["a:0"]
    db_engine.forget()


HOLDER = """
import sys, time
from rag.ingestion.lock import ingestion_lock
from rag.settings import load_settings
with ingestion_lock(load_settings(database_url=sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_the_ingestion_lock_is_shared_through_postgresql_and_dies_with_its_holder(tmp_path, postgres_url):
    env = {**os.environ, "RAG_HOME": str(tmp_path / "elsewhere")}  # another worker's data directory
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, postgres_url], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked", holder.stderr.read()
        mine = load_settings(database_url=postgres_url)
        with pytest.raises(IndexBusy, match="another ingestion is running on the collection rag_chunks"):
            with ingestion_lock(mine):
                pass
        other = mine.model_copy(update={"collection": "papers"})
        with ingestion_lock(other):  # another collection's ingestion may run meanwhile
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        # The server ends the dead worker's session, and the lock with it.
        for _ in range(100):
            try:
                with ingestion_lock(mine, nested=True):
                    with ingestion_lock(mine, nested=True):  # the same thread may take it again inside
                        break
            except IndexBusy:
                time.sleep(0.1)
        else:
            pytest.fail("the lock outlived its holder")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_an_upload_is_kept_in_the_database_and_ingested_again_from_it(tmp_path):
    from rag import Assistant, DocumentNotFound

    src = tmp_path / "note.txt"
    src.write_bytes(b"Cambodia arrested 2,141 suspects in the joint campaign.\n")
    a = Assistant(load_settings())
    a.add_file(src)
    (a.place.uploads / "note.txt").unlink()  # this worker's copy gone (or another worker, without one)
    assert a.original("note.txt") == src.read_bytes()
    report = a.reingest("note.txt")
    assert report.unchanged == ("note.txt",) and not report.skipped
    assert (a.place.uploads / "note.txt").read_bytes() == src.read_bytes()
    assert a.delete("note.txt")
    with pytest.raises(DocumentNotFound):
        a.original("note.txt")  # deleted with the document
    with pytest.raises(DocumentNotFound):
        a.reingest("note.txt")


def test_with_postgresql_the_keyword_index_is_the_databases(seeds_copy, postgres_url):
    """Every worker's keyword stage reads the rows in PostgreSQL: no file of its own, no resync; a
    deleted collection's rows go with it."""
    from rag import Assistant
    from rag.retrieval.keywords_pg import PostgresKeywordIndex

    settings = load_settings(database_url=postgres_url)
    a = Assistant(settings)
    assert isinstance(a.keywords, PostgresKeywordIndex) and a.keyword_sync.keywords is None
    a.ingest([seeds_copy])
    count = a.keywords.count()
    assert count > 0 and not list(settings.home.glob("keywords.*.sqlite"))
    assert a.keywords.search("Campuchia nghi phạm", 3)
    papers = a.create_collection("papers")
    note = seeds_copy.parent / "papers"
    note.mkdir()
    (note / "note.txt").write_text("Cambodia arrested 2,141 suspects in the joint campaign.\n", encoding="utf-8")
    a.in_collection("papers").ingest([note])
    assert PostgresKeywordIndex(settings.database, papers.name).count() == 1
    assert a.delete_collection("papers")
    assert PostgresKeywordIndex(settings.database, "papers").count() == 0
    assert a.keywords.count() == count  # the default collection's rows untouched


def test_on_sqlite_a_reader_never_waits_for_a_writer(tmp_path):
    """Writers queue for SQLite's write lock; readers read the last committed state meanwhile."""
    import threading

    from rag.conversations import ConversationStore

    store = ConversationStore(tmp_path / "c.sqlite")
    cid = store.create("ana", "rag_chunks").id
    engine = store._engine
    read: list = []
    with engine.begin() as writer:  # a long write transaction holds the write lock
        writer.execute(sa.text("UPDATE conversations SET title = 'pending' WHERE id = :id"), {"id": cid})
        reader = threading.Thread(target=lambda: read.append(store.list("ana")))
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "a reader waited for the writer"
        assert [c.title for c in read[0]] == [""]  # the committed state, not the pending write
    assert store.list("ana")[0].title == "pending"
