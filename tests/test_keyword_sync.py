"""Workers sharing one vector store keep their own keyword indexes in step with it (keyword_sync.py)."""
from __future__ import annotations

import sqlite3

import pytest

from rag import Assistant, load_settings
from rag.ingestion.keyword_sync import KeywordSync
from rag.retrieval.keywords import KeywordIndex
from tests.servers import ServerFailed, chroma_server

EDITED = "003_912a6ae6278a5b97.txt"
GONE = "000_e2aec77d374aef68.txt"


def store_ids(store):
    return {d: {h.id for h in store.get_document(d)} for d in store.documents()}


class Counting:
    """Wraps a store and counts the calls by name."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name):
        attr = getattr(self.inner, name)

        def call(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return attr(*args, **kwargs)

        return call


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def writer(seeds_copy):
    """The worker that ingests: an Assistant with the keyword stage, over the seeds."""
    a = Assistant(load_settings(retrieval="dense,keyword"))
    a.ingest([seeds_copy])
    return a


@pytest.fixture
def other(writer, tmp_path):
    """Another worker on the same store and change token, with a keyword index of its own."""
    clock = Clock()
    store, state = Counting(writer.store), Counting(writer.keyword_sync.state)
    sync = KeywordSync(store, state, KeywordIndex(tmp_path / "other" / "keywords.sqlite"), clock=clock)
    sync.clock = clock
    return sync


def test_first_check_fills_an_empty_index_from_the_store(writer, other):
    assert other.keywords.count() == 0
    other.check(wait=True)
    assert other.keywords.ids_by_document() == store_ids(writer.store)
    assert len(other.notices) == 5 and other.error is None


def test_edits_and_deletes_by_another_worker_reach_this_index(writer, other, seeds_copy):
    other.check(wait=True)
    target = seeds_copy / EDITED
    target.write_text(target.read_text(encoding="utf-8").replace("2.141", "3.777"), encoding="utf-8")
    writer.ingest([seeds_copy])
    assert writer.delete(GONE)
    other.clock.now += 5
    other.check(wait=True)
    assert other.keywords.ids_by_document() == store_ids(writer.store)
    assert GONE not in other.keywords.ids_by_document()
    assert [i for i, _ in other.keywords.search("3.777", 3)][0].startswith(EDITED)
    assert sorted(other.notices) == sorted(f"{d}: keyword index was out of step with the vector store; rebuilt"
                                           for d in (EDITED, GONE))


def test_an_unchanged_token_reads_nothing_else(writer, other):
    other.check(wait=True)
    reads, tokens = other.store.calls.get("documents", 0), other.state.calls["get"]
    other.clock.now += 5
    other.check(wait=True)
    assert other.store.calls.get("documents", 0) == reads and other.state.calls["get"] == tokens + 1


def test_the_token_is_read_at_most_once_per_interval(writer, other):
    other.check(wait=True)
    tokens = other.state.calls["get"]
    writer.ingest([])  # a change: a new token
    other.check()  # same instant: not even the token is read
    assert other.state.calls["get"] == tokens
    other.clock.now += other.interval
    other.check()
    other.join(10)
    assert other.state.calls["get"] > tokens and other.store.calls["documents"] == 2


def restarted(sync: KeywordSync) -> KeywordSync:
    """The same worker after a restart: same store and index file, nothing in memory."""
    sync.keywords.close()
    return KeywordSync(Counting(sync.store.inner), Counting(sync.state.inner), KeywordIndex(sync.keywords.path))


def test_a_worker_restarted_on_an_unchanged_store_does_not_resync(writer, other):
    other.check(wait=True)
    assert other.keywords.in_step_with() == other.token()
    again = restarted(other)
    again.check(wait=True)
    assert "documents" not in again.store.calls and again.error is None
    assert again.keywords.ids_by_document() == store_ids(writer.store)
    writer.ingest([])  # a change since: the next restart resyncs
    later = restarted(again)
    later.check(wait=True)
    assert later.store.calls["documents"] == 1


def test_any_write_to_the_index_removes_its_mark(writer, other):
    other.check(wait=True)
    other.keywords.delete_document("no such document")  # nothing removed: still in step
    assert other.keywords.in_step_with() == other.token()
    other.keywords.delete_document(GONE)
    assert other.keywords.in_step_with() is None
    other.check(wait=True)  # this process knows the token: no resync until the store changes
    again = restarted(other)  # but a restart does, as the index is not marked
    again.check(wait=True)
    assert again.store.calls["documents"] == 1
    assert again.keywords.ids_by_document() == store_ids(writer.store)
    assert again.keywords.in_step_with() == again.token()


def test_a_write_killed_half_way_makes_every_worker_resync(writer, other):
    other.check(wait=True)
    writer.keyword_sync.announce(starting=True)  # a write begins...
    writer.store.delete_document(GONE)  # ...changes the store, and is killed before its last announce
    again = restarted(other)
    again.check(wait=True)
    assert again.store.calls["documents"] == 1
    assert GONE not in again.keywords.ids_by_document()
    assert again.keywords.in_step_with() is None  # the store may still change under that token
    assert restarted(again).keywords.in_step_with() is None


def test_a_store_that_changes_during_the_resync_leaves_the_index_unmarked(writer, other):
    class Announcing(KeywordIndex):
        """Another worker's write lands while this index is being compared with the store."""

        def ids_by_document(self):
            writer.keyword_sync.announce()
            return super().ids_by_document()

    sync = KeywordSync(other.store, other.state, Announcing(other.keywords.path))
    sync.check(wait=True)
    assert sync.error is None and sync.keywords.in_step_with() is None


def test_the_resync_runs_in_the_background(writer, other):
    other.check()
    other.join(10)
    assert other.keywords.ids_by_document() == store_ids(writer.store)


def test_an_index_of_an_older_format_is_rebuilt(writer, other):
    other.check(wait=True)
    with sqlite3.connect(other.keywords.path) as conn:
        conn.execute("UPDATE meta SET value = 'old' WHERE key = 'tokenizer'")
    other.keywords.close()
    assert other.keywords.needs_rebuild()
    writer.ingest([])
    other.check(wait=True)
    assert not other.keywords.needs_rebuild()
    assert other.keywords.ids_by_document() == store_ids(writer.store)


def test_a_failed_write_is_announced_and_its_error_kept(writer, other):
    before = other.token()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with writer.keyword_sync.writing():
            raise Boom
    assert other.token() != before


def test_an_announcement_that_fails_does_not_hide_the_write_error(writer):
    sync = writer.keyword_sync

    class GoesDown:
        """Takes the write's first announcement, then is gone."""

        def __init__(self):
            self.calls = 0

        def add(self, records):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionError("store down")

    sync.state = GoesDown()
    with pytest.raises(KeyError):
        with sync.writing():
            raise KeyError("the write's own error")
    assert sync.state.calls == 2


def test_a_write_whose_start_cannot_be_announced_does_not_start(writer):
    sync = writer.keyword_sync

    class Down:
        def add(self, records):
            raise ConnectionError("store down")

    sync.state = Down()
    started = []
    with pytest.raises(ConnectionError):
        with sync.writing():
            started.append(True)
    assert not started


def test_a_check_never_raises(writer, other):
    class Down:
        def get(self, ids):
            raise ConnectionError("store down")

    other.state = Down()
    other.check(wait=True)
    assert isinstance(other.error, ConnectionError)


def test_an_assistant_whose_index_was_lost_catches_up_on_its_first_search(writer, seeds_copy):
    writer.keywords.close()
    for f in writer.settings.home.glob("keywords.*"):
        f.unlink()
    b = Assistant(load_settings(retrieval="dense,keyword"))
    assert b.keywords.count() == 0
    b.search("Kunming")
    b.keyword_sync.join(10)
    assert b.keywords.ids_by_document() == store_ids(b.store)


def test_asking_checks_too(writer):
    b = Assistant(load_settings(retrieval="dense,keyword", min_score=-1.0))
    b.keywords.delete_document(GONE)  # as another worker's index would lack it
    b.ask("Combien de suspects ont été arrêtés ?")
    b.keyword_sync.join(10)
    assert b.keywords.ids_by_document() == store_ids(b.store)


def test_ingesting_and_deleting_announce_a_change(writer, seeds_copy):
    tokens = [writer.keyword_sync.token()]
    writer.ingest([seeds_copy])
    tokens.append(writer.keyword_sync.token())
    writer.delete(GONE)
    tokens.append(writer.keyword_sync.token())
    assert len(set(tokens)) == 3 and all(tokens)


def test_without_the_keyword_stage_checks_do_nothing_and_changes_are_still_announced(seeds_copy):
    a = Assistant(load_settings(retrieval="dense"))
    a.ingest([seeds_copy])
    assert a.keywords is None and a.keyword_sync.token()
    a.keyword_sync.check(wait=True)
    assert a.keyword_sync.error is None


@pytest.mark.slow
@pytest.mark.chroma
def test_two_workers_on_a_chroma_server_keep_in_step(tmp_path, seeds_copy, monkeypatch):
    """Two Assistants with their own RAG_HOME on one real `chroma run`: what one ingests, edits or
    deletes reaches the other's keyword index without running anything on it."""
    try:
        with chroma_server(tmp_path / "server") as (url, _process):
            monkeypatch.setenv("RAG_CHROMA_URL", url)
            w1 = Assistant(load_settings(retrieval="dense,keyword", home=tmp_path / "w1"))
            w2 = Assistant(load_settings(retrieval="dense,keyword", home=tmp_path / "w2"))
            w1.ingest([seeds_copy])
            assert w2.keywords.count() == 0
            w2.search("Kunming")
            w2.keyword_sync.join(30)
            assert w2.keywords.ids_by_document() == store_ids(w1.store)

            target = seeds_copy / EDITED
            target.write_text(target.read_text(encoding="utf-8").replace("2.141", "3.777"), encoding="utf-8")
            w1.ingest([seeds_copy])
            w1.delete(GONE)
            w2.keyword_sync.interval = 0
            w2.search("Kunming")
            w2.keyword_sync.join(30)
            assert w2.keywords.ids_by_document() == store_ids(w1.store)
            assert GONE not in w2.keywords.ids_by_document()
            assert [i for i, _ in w2.keywords.search("3.777", 3)][0].startswith(EDITED)
    except ServerFailed as e:
        pytest.fail(str(e))
