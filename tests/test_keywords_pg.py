"""The PostgreSQL keyword index: FTS5's ranking, verbatim tokens, scopes, statistics kept exact under
concurrent workers. (The behaviour both indexes share is tested over both in test_keywords.py.)"""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.servers import free_port

from rag.errors import BackendUnavailable, InvalidInput, KeywordIndexStale
from rag.ingestion.chunk import chunk_spans
from rag.ingestion.clean import clean
from rag.retrieval import keywords_pg
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from rag.retrieval.keywords_pg import PostgresKeywordIndex
from rag.text import tokenize
from rag.text.language import detect

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
QUESTIONS = [
    ("Combien de cas de fraude la police chinoise a-t-elle résolus en 2022 ?", "fr"),
    ("How many telecom fraud suspects were returned from Fiji?", "en"),
    ("Những quốc gia nào tham gia chiến dịch chung trấn áp tội phạm mạng?", "vi"),
    ("跨境电信网络诈骗犯罪的黑灰产利益链", "zh-Hans"),
    ("多措並舉治理跨境電信網絡詐騙", "zh-Hant"),
    ("391 000 cas", None),
    ("Côn Minh Myanmar Campuchia", None),
]


def ids(hits):
    return [chunk_id for chunk_id, _ in hits]


def engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def recount(url: str, collection: str) -> tuple[dict, dict]:
    """The statistics as stored, and as counted again from the chunks themselves."""
    e = engine(url)
    with e.connect() as conn:
        c = {"c": collection}
        stored = dict(conn.execute(sa.text("SELECT term, df FROM keyword_terms WHERE collection = :c"), c).all())
        stored["(chunks, tokens)"] = tuple(conn.execute(sa.text(
            "SELECT chunks, tokens FROM keyword_stats WHERE collection = :c"), c).one())
        counted = dict(conn.execute(sa.text(
            "SELECT t, count(*) FROM keyword_chunks, unnest(tsvector_to_array(tokens)) t"
            " WHERE collection = :c GROUP BY t"), c).all())
        counted["(chunks, tokens)"] = tuple(conn.execute(sa.text(
            "SELECT count(*), coalesce(sum(length), 0) FROM keyword_chunks WHERE collection = :c"), c).one())
    e.dispose()
    return stored, counted


@pytest.fixture
def pg(postgres_url):
    ix = PostgresKeywordIndex(postgres_url, "rag_chunks")
    yield ix
    ix.close()


def seed_items() -> list[KeywordItem]:
    items = []
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        for n, span in enumerate(chunk_spans(text, list(clean(text).kept))):
            piece = text[span.start:span.end]
            items.append(KeywordItem(f"{path.stem}:{n}", path.name, piece, detect(piece)))
    return items


def test_ranks_and_scores_like_fts5_on_the_seeds(pg, tmp_path):
    items = seed_items()
    fts5 = KeywordIndex(tmp_path / "k.sqlite")
    for ix in (fts5, pg):
        ix.add(items)
    queries = QUESTIONS + [(it.text[:80], it.language) for it in items[::3]]
    for query, language in queries:
        expected, got = fts5.search(query, 5, language), pg.search(query, 5, language)
        assert ids(got) == ids(expected), query
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-9), query
    assert len(items) > 20 and len(queries) > 15
    fts5.close()


@pytest.mark.parametrize("token", ["a'b", "''", "'", "\\", "c\\d", "\\'", "x:y", "a:1", ":*", "p&q", "r|s", "!t",
                                   "(u)", "<->", "nghi_phạm", "2.141", '"', "é" * 1023])
def test_any_token_is_stored_and_found_verbatim(pg, monkeypatch, token):
    # Tokens straight from the text, so each one reaches the tsvector and the tsquery unchanged.
    monkeypatch.setattr(tokenize, "tokens", lambda text, language=None: text.split())
    pg.add([KeywordItem("hostile", "h.txt", f"{token} {token} filler", "en"),
            KeywordItem("plain", "p.txt", "filler other words", "en")])
    assert ids(pg.search(token, 5)) == ["hostile"]
    assert ids(pg.search(f"{token} | ! & ( ) : '", 5)) == ["hostile"]
    assert pg.count() == 2
    stored, counted = recount(pg._engine.url.render_as_string(hide_password=False), "rag_chunks")
    assert stored == counted and stored[token] == 1


def test_tokens_beyond_postgresql_limits_are_bounded_not_refused(pg, monkeypatch):
    monkeypatch.setattr(tokenize, "tokens", lambda text, language=None: text.split())
    too_long = "x" * 2047
    pg.add([KeywordItem("long", "l.txt", f"{too_long} {'w' * 2046} " + "often " * 1000, "en"),
            KeywordItem("once", "o.txt", "often rarely", "en")])
    assert pg.search(too_long, 5) == []  # dropped: PostgreSQL refuses lexemes of 2 KB
    assert ids(pg.search("w" * 2046, 5)) == ["long"]
    assert ids(pg.search("often", 5)) == ["long", "once"]  # tf capped at 256 positions, still first
    assert keywords_pg.tsvector_text(["often"] * 1000)[0].count(",") == 255


def test_scope_by_documents(pg):
    pg.add([KeywordItem("a1", "a.txt", "the cat eats the mouse", "en"),
            KeywordItem("b1", "b.txt", "the cat sleeps", "en"),
            KeywordItem("c1", "c's \"file\"\\.txt", "a cat", "en")])
    assert {i for i, _ in pg.search("cat", 10)} == {"a1", "b1", "c1"}
    assert ids(pg.search("cat", 10, documents=["b.txt"])) == ["b1"]
    assert {i for i, _ in pg.search("cat", 10, documents={"c's \"file\"\\.txt", "a.txt"})} == {"a1", "c1"}
    many = [f"doc {n}.txt" for n in range(20_000)] + ["a.txt", "nul\x00.txt", "'); DROP TABLE keyword_chunks; --"]
    assert ids(pg.search("cat", 10, documents=many)) == ["a1"]
    assert pg.search("cat", 10, documents=[]) == []
    assert pg.search("cat", 10, documents=["nul\x00.txt"]) == []
    # The scope filters, it does not change the scores: df and lengths are the collection's.
    assert dict(pg.search("cat", 10))["a1"] == dict(pg.search("cat", 10, documents=["a.txt"]))["a1"]


def test_delete_then_search(pg, postgres_url):
    pg.add([KeywordItem("a1", "a.txt", "unique zebra words", "en"), KeywordItem("a2", "a.txt", "shared cat", "en"),
            KeywordItem("b1", "b.txt", "shared cat dog", "en")])
    assert pg.delete_document("a.txt") == 2
    assert pg.search("zebra", 5) == [] and ids(pg.search("cat", 5)) == ["b1"]
    assert pg.count() == 1 and pg.ids_by_document() == {"b.txt": {"b1"}}
    stored, counted = recount(postgres_url, "rag_chunks")
    assert stored == counted and "zebra" not in stored  # terms no chunk holds are removed
    assert pg.delete_document("b.txt") == 1
    assert recount(postgres_url, "rag_chunks")[0] == {"(chunks, tokens)": (0, 0)}


def test_statistics_stay_exact_through_upserts_and_deletes(pg, postgres_url):
    rng = random.Random(5)
    words = "chat chien souris fromage lune soleil mer terre feu eau".split()
    for step in range(60):
        if step % 7 == 6:
            pg.delete_document(f"d{rng.randrange(4)}")
        else:
            pg.add([KeywordItem(f"c{rng.randrange(12)}", f"d{rng.randrange(4)}",
                                " ".join(rng.choices(words, k=rng.randrange(1, 8))), "fr") for _ in range(3)])
        stored, counted = recount(postgres_url, "rag_chunks")
        assert stored == counted


def test_two_workers_see_each_others_writes_at_once(postgres_url):
    one, two = PostgresKeywordIndex(postgres_url, "shared"), PostgresKeywordIndex(postgres_url, "shared")
    other = PostgresKeywordIndex(postgres_url, "other collection")
    one.add([KeywordItem("x1", "x.txt", "Le Cambodge a arrêté 2.141 suspects.", "fr")])
    assert ids(two.search("Cambodge", 5, "fr")) == ["x1"] and two.count() == 1
    two.add([KeywordItem("x1", "x.txt", "Un autre texte sur la météo.", "fr")])
    assert one.search("Cambodge", 5, "fr") == [] and ids(one.search("météo", 5, "fr")) == ["x1"]
    assert other.count() == 0 and other.search("météo", 5, "fr") == []
    assert two.delete_document("x.txt") == 1 and one.count() == 0
    for ix in (one, two, other):
        ix.close()


def test_concurrent_workers_lose_no_counts(postgres_url):
    workers = [PostgresKeywordIndex(postgres_url, "rag_chunks") for _ in range(4)]

    def work(n: int) -> None:
        ix = workers[n % 4]
        # Overlapping terms and ids: every worker upserts the same ten chunks over and over.
        ix.add([KeywordItem(f"c{(n + i) % 10}", f"d{n % 3}", f"fraude commune mot{n} mot{i}", "fr")
                for i in range(5)])
        if n % 5 == 4:
            ix.delete_document(f"d{n % 3}")
        ix.search("fraude commune", 3, "fr")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(80)))
    stored, counted = recount(postgres_url, "rag_chunks")
    assert stored == counted
    assert workers[0].count() == counted["(chunks, tokens)"][0]
    for ix in workers:
        ix.close()


def test_other_schema_version_needs_rebuild(pg, postgres_url):
    pg.add([KeywordItem("a", "a.txt", "Cambodge", "fr")])
    e = engine(postgres_url)
    with e.begin() as conn:
        conn.execute(sa.text("UPDATE keyword_stats SET schema_version = 999"))
    e.dispose()
    ix = PostgresKeywordIndex(postgres_url, "rag_chunks")
    assert ix.needs_rebuild()
    with pytest.raises(KeywordIndexStale, match="'rag_chunks'"):
        ix.search("Cambodge", 5, "fr")
    with pytest.raises(KeywordIndexStale):
        pg.add([KeywordItem("b", "b.txt", "x", "fr")])  # the writer sees it too, though it cached "fresh"
    ix.reset()
    assert not ix.needs_rebuild() and ix.count() == 0
    ix.close()


def test_tables_are_exported_for_migrations():
    assert {t.name for t in keywords_pg.KEYWORD_TABLES} == set(keywords_pg.metadata.tables)
    assert {t.name for t in keywords_pg.KEYWORD_TABLES} == {"keyword_chunks", "keyword_terms", "keyword_stats"}


@pytest.mark.parametrize("database, collection, message", [
    ("sqlite:///x.sqlite", "c", "must be postgresql://"),
    ("postgresql://u@h/d", "", "1 to 200 characters"),
    ("postgresql://u@h/d", "c" * 201, "1 to 200 characters"),
    ("postgresql://u@h/d", "a\x00b", "without NUL"),
])
def test_bad_construction_is_refused(database, collection, message):
    with pytest.raises(InvalidInput, match=message):
        PostgresKeywordIndex(database, collection)


def test_bad_items_are_refused(pg):
    with pytest.raises(InvalidInput, match="chunk id"):
        pg.add([KeywordItem("a\x00", "a.txt", "text", "en")])
    with pytest.raises(InvalidInput, match="document name"):
        pg.add([KeywordItem("a", "a\x00.txt", "text", "en")])
    assert pg.count() == 0


def test_an_unreachable_database_is_a_backend_error_without_the_password():
    ix = PostgresKeywordIndex(f"postgresql://u:secret@127.0.0.1:{free_port()}/d", "c")
    with pytest.raises(BackendUnavailable) as e:
        ix.search("cat", 5)
    assert "secret" not in str(e.value) and "127.0.0.1" in str(e.value)
