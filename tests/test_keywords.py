"""The keyword index: BM25 ranking, upserts, deletion, hostile queries, persistence, versions.

The behaviour tests run over both implementations (SQLite FTS5 and PostgreSQL) through `new_index`;
what only one of them has (a file, a schema) is tested for that one alone."""
from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.retrieval import keywords
from rag.text import tokenize
from rag.errors import RagError
from rag.errors import KeywordIndexStale
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from rag.retrieval.keywords_pg import PostgresKeywordIndex

PASSAGES = [
    KeywordItem("fr:0", "fr.md", "Le Cambodge a arrêté 2.141 suspects lors de l'opération Première Lumière.", "fr"),
    KeywordItem("fr:1", "fr.md", "Les autorités ont démantelé des repaires de fraude en ligne.", "fr"),
    KeywordItem("en:0", "en.md", "Sun Maoli said most telecom fraud now originates overseas.", "en"),
    KeywordItem("vi:0", "vi.md", "Myanmar đã trao trả 1.207 nghi phạm cho Trung Quốc.", "vi"),
    KeywordItem("zh:0", "zh.md", "缅甸向中方移交了1207名涉诈犯罪嫌疑人。", "zh-Hans"),
    KeywordItem("zh:1", "zh.md", "印尼巴淡島抓獲了88名電信網絡詐騙犯罪嫌疑人。", "zh-Hant"),
]


@pytest.fixture(params=["sqlite", "postgres"])
def new_index(request, tmp_path):
    """Make an index of one kind by name (a file in a new folder, or a collection of one database);
    the same name opens the same index again. Every index made is closed after the test."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    made = []

    def make(name: str = "keywords", **kw):
        ix = (KeywordIndex(tmp_path / "sub" / f"{name}.sqlite", **kw) if url is None
              else PostgresKeywordIndex(url, name, **kw))
        made.append(ix)
        return ix

    yield make
    for ix in made:
        ix.close()


@pytest.fixture
def index(new_index):
    ix = new_index()
    ix.add(PASSAGES)
    return ix


def ids(hits):
    return [chunk_id for chunk_id, _ in hits]


@pytest.mark.parametrize(
    "query, language, best",
    [
        ("Combien de suspects le Cambodge a-t-il arrêtés ?", "fr", "fr:0"),
        ("Where does telecom fraud originate?", "en", "en:0"),
        ("Myanmar đã trao trả bao nhiêu nghi phạm?", "vi", "vi:0"),
        ("缅甸向中方移交了多少名涉诈犯罪嫌疑人？", "zh-Hans", "zh:0"),
    ],
)
def test_the_lexical_match_ranks_first(index, query, language, best):
    hits = index.search(query, 3, language)
    assert ids(hits)[0] == best
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)  # higher is better
    assert len(hits) < 2 or scores[0] > scores[1]


def test_traditional_question_finds_simplified_passage_and_back(index):
    assert ids(index.search("緬甸向中方移交了多少名涉詐犯罪嫌疑人？", 1, "zh-Hant")) == ["zh:0"]
    assert ids(index.search("印尼巴淡岛抓获了多少名电信网络诈骗犯罪嫌疑人？", 1, "zh-Hans")) == ["zh:1"]


@pytest.mark.parametrize("query", ["2,141", "2141", "2 141", "2.141"])
def test_numbers_match_whatever_their_separators(index, query):
    assert ids(index.search(query, 5, "en")) == ["fr:0"]


def test_a_number_finds_its_passages_across_languages(index):
    assert set(ids(index.search("1207", 5))) == {"vi:0", "zh:0"}


def test_upsert_by_id_replaces_the_text(index):
    index.add([KeywordItem("fr:1", "fr.md", "Un tout autre texte sur la météo.", "fr")])
    assert index.count() == len(PASSAGES)
    assert "fr:1" not in ids(index.search("repaires démantelés", 5, "fr"))
    assert ids(index.search("météo", 5, "fr")) == ["fr:1"]


def test_repeated_id_in_one_batch_keeps_the_last(new_index):
    ix = new_index()
    ix.add([KeywordItem("a", "d", "premier", "fr"), KeywordItem("a", "d", "second", "fr")])
    assert ix.count() == 1
    assert ix.search("premier", 5, "fr") == []
    assert ids(ix.search("second", 5, "fr")) == ["a"]


def test_tokens_given_rank_as_the_text_they_came_from(new_index):
    """add_tokens (for chunks tokenised elsewhere) writes what add writes from the text."""
    from rag.text.tokenize import tokens

    by_text, by_tokens = new_index("from-text"), new_index("from-tokens")
    by_text.add(PASSAGES)
    by_tokens.add_tokens([(p.id, p.document, p.language, tokens(p.text, p.language)) for p in PASSAGES])
    for query, language in [("repaires démantelés", "fr"), ("缅甸 犯罪嫌疑人 1207", None), ("1207", None)]:
        assert by_tokens.search(query, 5, language) == by_text.search(query, 5, language)
    assert by_tokens.ids_by_document() == by_text.ids_by_document()


def test_delete_document(index):
    assert index.delete_document("zh.md") == 2
    assert index.delete_document("zh.md") == 0
    assert index.delete_document("never-indexed.md") == 0
    assert index.count() == len(PASSAGES) - 2
    assert "zh.md" not in index.ids_by_document()
    assert ids(index.search("缅甸 犯罪嫌疑人 1207", 10)) == ["vi:0"]


def test_ids_by_document(index):
    assert index.ids_by_document() == {
        "fr.md": {"fr:0", "fr:1"},
        "en.md": {"en:0"},
        "vi.md": {"vi:0"},
        "zh.md": {"zh:0", "zh:1"},
    }


@pytest.mark.parametrize(
    "query",
    [
        'AND OR NOT * ( ) : "',
        '"',
        '"unterminated',
        "NEAR(fraud telecom, 2)",
        "fraud AND",
        "OR",
        "NOT fraud",
        "fraud*",
        "tokens: fraud",
        "{tokens} : fraud",
        "^fraud -telecom +x",
        "fraud\" OR \"x",
        "'); DROP TABLE chunks; --",
        "\x00",
        "",
        "   ",
    ],
)
def test_hostile_queries_never_raise(index, query):
    hits = index.search(query, 5)
    assert isinstance(hits, list)
    if "fraud" in query:
        assert "en:0" in ids(hits)
    assert index.count() == len(PASSAGES)


def test_match_expression_quotes_every_token():
    assert keywords.match_expression(['a"b', "c", "c", ""]) == '"a""b" OR "c"'
    assert keywords.match_expression([]) == ""


def test_underscore_and_dot_tokens_stay_whole(new_index):
    ix = new_index()
    ix.add(
        [
            KeywordItem("dot", "d", "5.7", "en"),
            KeywordItem("spaced", "d", "5 7", "en"),
            KeywordItem("in-order", "d", "nghi phạm", "vi"),
            KeywordItem("reversed", "d", "phạm nghi", "vi"),
        ]
    )
    # Were "." a separator, "5.7" would be the phrase "5 7" and match the second passage too.
    assert ids(ix.search("5.7", 5, "en")) == ["dot"]
    # Were "_" a separator, both passages would hold the phrase "nghi phạm" and tie.
    scores = dict(ix.search("nghi phạm", 5, "vi"))
    assert scores["in-order"] > scores["reversed"]


def test_persists_across_reopen(new_index):
    ix = new_index("reopened")
    ix.add(PASSAGES)
    ix.close()
    again = new_index("reopened")
    assert not again.needs_rebuild()
    assert again.count() == len(PASSAGES)
    assert ids(again.search("Cambodge", 1, "fr")) == ["fr:0"]


def test_empty_index_and_zero_k(new_index, index):
    assert new_index("empty").search("fraud", 5) == []
    assert new_index("empty").count() == 0
    assert index.search("fraud", 0) == []


def test_other_schema_version_needs_rebuild(tmp_path):
    path = tmp_path / "k.sqlite"
    KeywordIndex(path).add(PASSAGES[:1])
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    ix = KeywordIndex(path)
    assert ix.needs_rebuild()
    with pytest.raises(KeywordIndexStale) as e:
        ix.search("Cambodge", 5, "fr")
    assert isinstance(e.value, RagError) and str(path) in str(e.value)
    ix.reset()
    assert not ix.needs_rebuild()
    assert ix.count() == 0
    ix.add(PASSAGES[:1])
    assert ids(ix.search("Cambodge", 5, "fr")) == ["fr:0"]


def test_other_tokenizer_version_needs_rebuild(new_index, monkeypatch):
    new_index("k").add(PASSAGES[:1])
    monkeypatch.setattr(tokenize, "VERSION", tokenize.VERSION + 1)
    ix = new_index("k")
    assert ix.needs_rebuild()
    with pytest.raises(KeywordIndexStale):
        ix.add(PASSAGES[:1])
    ix.reset()
    assert not ix.needs_rebuild()
    assert ix.count() == 0
    ix.add(PASSAGES[:1])
    assert ids(ix.search("Cambodge", 5, "fr")) == ["fr:0"]


def test_a_file_that_is_not_an_index_needs_rebuild(tmp_path):
    path = tmp_path / "k.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    ix = KeywordIndex(path)
    assert ix.needs_rebuild()
    ix.reset()
    assert not ix.needs_rebuild()
    ix.add(PASSAGES[:1])
    assert ix.count() == 1


def test_the_in_step_mark_survives_a_reopen_and_goes_with_any_write_or_reset(tmp_path, monkeypatch):
    path = tmp_path / "k.sqlite"
    ix = KeywordIndex(path)
    ix.add(PASSAGES[:2])
    assert ix.in_step_with() is None
    ix.mark_in_step("t1")
    ix.close()
    assert KeywordIndex(path).in_step_with() == "t1"
    for write in (lambda i: i.add(PASSAGES[2:3]), lambda i: i.delete_document("fr.md"), KeywordIndex.reset):
        i = KeywordIndex(path)
        i.mark_in_step("t2")
        write(i)
        i.close()
        assert KeywordIndex(path).in_step_with() is None
    i = KeywordIndex(path)
    i.mark_in_step("t3")
    monkeypatch.setattr(tokenize, "VERSION", tokenize.VERSION + 1)
    assert KeywordIndex(path).in_step_with() is None  # another tokenizer: never in step


def test_usable_from_several_threads(new_index):
    ix = new_index()
    ix.add(PASSAGES)

    def work(i: int) -> list[str]:
        ix.add([KeywordItem(f"extra:{i}", "extra.md", f"texte numéro {i} sur la fraude", "fr")])
        return ids(ix.search("Cambodge suspects", 1, "fr"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(32)))
    assert results == [["fr:0"]] * 32
    assert len(ix.ids_by_document()["extra.md"]) == 32


def _counts(path) -> tuple[dict, dict]:
    """(the index's token counts, the same counted by FTS5 from its postings)."""
    with sqlite3.connect(path) as conn:
        kept = dict(conn.execute("SELECT token, chunks FROM token_chunks"))
        conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, chunk_tokens, row)")
        truth = dict(conn.execute("SELECT term, doc FROM temp.v"))
    conn.close()
    return kept, truth


def test_token_counts_follow_adds_replacements_and_deletes(tmp_path):
    path = tmp_path / "k.sqlite"
    ix = KeywordIndex(path)
    ix.add(PASSAGES)
    ix.add([KeywordItem("fr:0", "fr.md", "Le Cambodge a arrêté des suspects.", "fr")])  # replaces fr:0
    ix.delete_document("zh.md")
    ix.close()
    kept, truth = _counts(path)
    assert kept == truth and kept["cambodg"] == 1 and not any("缅甸" in t for t in kept)


def test_a_version_1_file_gets_its_counts_when_opened(tmp_path):
    path = tmp_path / "k.sqlite"
    KeywordIndex(path).add(PASSAGES)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE token_chunks")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    ix = KeywordIndex(path)
    assert not ix.needs_rebuild() and ix.count() == len(PASSAGES)
    assert ids(ix.search("Cambodge", 1, "fr")) == ["fr:0"]
    ix.close()
    kept, truth = _counts(path)
    assert kept == truth


@pytest.mark.parametrize(
    "tokens, frequency, budget, kept",
    [
        (["a", "b", "c"], {"a": 5, "b": 1, "c": 2}, 10, ["a", "b", "c"]),  # under the budget: all
        (["a", "b", "c"], {"a": 5, "b": 1, "c": 2}, 4, ["b", "c"]),  # the commonest left out
        (["a", "b", "c"], {"a": 5, "b": 1, "c": 2}, 1, ["b"]),
        (["a", "b"], {"a": 5, "b": 6}, 4, []),  # every token too common: nothing to rank by
        (["a", "x"], {"a": 3}, 3, ["a", "x"]),  # a token without a count costs nothing
    ],
)
def test_affordable_keeps_the_rarest_tokens_within_the_budget(tokens, frequency, budget, kept):
    assert keywords.affordable(tokens, frequency, budget) == kept


def test_a_token_too_common_to_rank_is_left_out(new_index):
    items = [KeywordItem(f"c{i}", "d.md", f"fraud report number {i}", "en") for i in range(6)]
    items.append(KeywordItem("rare", "e.md", "fraud in Cambodia", "en"))
    full, small = new_index("a"), new_index("b", max_ranked=3)
    for ix in (full, small):
        ix.add(items)
    assert len(full.search("fraud Cambodia", 10, "en")) == 7  # every chunk holding "fraud" ranked
    assert ids(small.search("fraud Cambodia", 10, "en")) == ["rare"]  # "fraud" (7 chunks) over 3
    assert small.search("fraud", 10, "en") == []
    with pytest.raises(ValueError):
        new_index("c", max_ranked=0)
