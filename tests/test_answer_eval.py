"""`rag eval --answers`: the metric functions (table-driven), an end-to-end run over a tiny benchmark
with a scripted LLM, and the CLI on eval/seeds. Fake embedder and LLM: no model is loaded."""
from __future__ import annotations

import json
import re

import pytest

from rag import Assistant, load_settings
from rag.evaluation.answers import run_answer_eval
from rag.evaluation.datasets import Case, Question, load_cases, spread
from rag.evaluation.metrics import (
    answer_correct,
    answer_summary as summarize,
    citation_checks,
    contains_answer,
    language_match,
    normalise,
)
from ui.cli import main
from rag.backends.llm import ScriptedLLM
from tests.conftest import ROOT


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# -- metric functions ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hello, World!", "helloworld"),
    ("ＡＢＣ　１２３", "abc123"),  # NFKC: full-width letters, digits and space
    ("Đà Nẵng.", "đànẵng"),  # Vietnamese letters kept, composed
    ("北京，中国。", "北京中国"),
    ("« Le Musée » — l'été", "lemuséelété"),
    ("STRASSE Straße", "strassestrasse"),  # case folded
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("text, gold, expected", [
    ("Cambodia arrested 2,141 suspects [1].", "2.141", True),  # vi thousands vs en thousands
    ("Campuchia bắt giữ 2.141 nghi phạm.", "2,141", True),
    ("Ils étaient 2141.", "2 141", True),  # fr thousands with a space
    ("共逮捕了２１４１名嫌疑人。", "2.141", True),  # full-width digits
    ("It cost 4.5 million dollars.", "4,5 million", True),  # fr decimal comma
    ("The bridge opened in 1932.", "32", False),  # numbers by value, not by substring
    ("The Panthers gave up 3080 points.", "308", False),
    ("The Panthers gave up 308 points.", "308 points", True),
    ("The Panthers gave up 308 points.", "309 points", False),
    ("from 1990 to 2,000 people", "1990 to 2000", True),
    ("from 1990 to 3,000 people", "1990 to 2000", False),
    ("The Denver Broncos won.", "Denver Broncos", True),
    ("the denver-broncos won", "Denver Broncos", True),  # case, punctuation and spaces removed
    ("The Broncos won.", "Denver Broncos", False),
    ("Anything at all.", "", False),  # an empty gold never matches
    ("Anything at all.", "…", False),
])
def test_contains_answer(text, gold, expected):
    assert contains_answer(text, gold) is expected


def test_answer_correct_takes_any_gold():
    assert answer_correct("Le musée a accueilli 12 000 visiteurs.", ["douze mille", "12,000"])
    assert not answer_correct("Le musée a accueilli 12 000 visiteurs.", ["13000"])
    assert not answer_correct("anything", [])


BENCH_CASE = Case("q1", "en", "How many points?", answers=("308",), passage_answers=("308",),
                  gold_documents=frozenset({"squad.Super_Bowl_50.p11.en.txt"}))
DOC_CASE = Case("myanmar.en", "en", "How many suspects?", answers=("5.500",), passage_answers=("5.500",),
                gold_documents=frozenset({"003_912a6ae6278a5b97.txt"}))


@pytest.mark.parametrize("case, text, document, expected", [
    (BENCH_CASE, "The Panthers defense gave up just 308 points.", "squad.Super_Bowl_50.p11.en.txt", (True, True)),
    (BENCH_CASE, "The Panthers defense gave up just 308 points.", "squad.Other.p1.en.txt", (True, False)),
    (BENCH_CASE, "Kawann Short led the team in sacks.", "squad.Super_Bowl_50.p11.en.txt", (False, True)),
    (BENCH_CASE, "Kawann Short led the team in sacks.", "squad.Other.p1.en.txt", (False, False)),
    (DOC_CASE, "Myanmar đã trao trả hơn 5.500 nghi phạm.", "003_912a6ae6278a5b97.txt", (True, True)),
    (DOC_CASE, "Myanmar handed over 5,500 suspects.", "001_other.txt", (True, False)),
])
def test_citation_checks_strict_and_lenient(case, text, document, expected):
    assert citation_checks(text, document, case) == expected


@pytest.mark.parametrize("expected, detected, result", [
    ("en", "en", (True, True)),
    ("en", "fr", (False, False)),
    ("fr", "und", (False, False)),
    ("zh", "zh-Hans", (True, True)),  # the benchmark's bare "zh" is Simplified
    ("zh", "zh-Hant", (True, False)),
    ("zh-Hans", "zh-Hant", (True, False)),
    ("zh-Hant", "zh-Hans", (True, False)),
    ("zh-Hant", "zh-Hant", (True, True)),
    ("zh-Hant", "ja", (False, False)),
])
def test_language_match_groups_chinese_and_reports_the_script(expected, detected, result):
    assert language_match(expected, detected) == result


def record(lang="en", answerable=True, refused=False, correct=False, cites=(), lang_ok=True, exact=True,
           total=100.0, first=50.0):
    return {
        "lang": lang, "answerable": answerable, "refused": refused, "correct": correct,
        "correct_any_language": correct, "language_match": lang_ok, "language_exact": exact,
        "gold_in_context": correct,
        "citations": [{"contains_answer": a, "gold_source": g} for a, g in cites],
        "timings_ms": {"sources": 10.0, "first_token": first, "total": total},
    }


def test_summary_denominators():
    records = [
        record(correct=True, cites=[(True, True), (False, True)], total=100),
        record(correct=False, cites=[(False, False)], lang_ok=False, exact=False, total=200),
        record(refused=True, lang_ok=False, exact=False, total=50, first=None),  # a false refusal
        record(lang="zh-Hant", correct=True, cites=[(True, True)], exact=False, total=300),
        record(answerable=False, refused=True, total=20, first=None),
        record(answerable=False, refused=False, cites=[(False, False)], total=400),
    ]
    s = summarize(records)
    assert (s["answerable"], s["unanswerable"], s["answered"], s["citations"]) == (4, 2, 3, 4)
    assert s["answer_accuracy"] == pytest.approx(2 / 4)  # refusals count as wrong
    assert s["citation_precision_answer"] == pytest.approx(2 / 4)  # answerable questions' citations only
    assert s["citation_precision_gold"] == pytest.approx(3 / 4)
    assert s["language_match"] == pytest.approx(2 / 3)  # over the 3 answers that are not refusals
    assert s["language_match_exact"] == pytest.approx(1 / 3)
    assert s["false_refusal_rate"] == pytest.approx(1 / 4)
    assert s["unanswerable_refusal_rate"] == pytest.approx(1 / 2)
    lat = s["latency_ms"]
    assert lat["total"] == {"n": 6, "p50": 150.0, "p90": 400.0}  # nearest-rank p90
    assert lat["first_token"]["n"] == 4  # refusals have no first token
    empty = summarize([record(answerable=False, refused=True)])
    assert empty["answer_accuracy"] is None and empty["citation_precision_gold"] is None


def test_spread_takes_languages_in_turn_deterministically():
    qs = [Question(f"{i}.{lang}", lang, "?") for i in range(10) for lang in ("en", "fr", "vi", "zh-Hans")]
    a = spread(qs, 4)
    assert sorted(q.lang for q in a) == ["en", "fr", "vi", "zh-Hans"]
    assert a == spread(qs, 4) and a == sorted(a, key=qs.index)
    assert len(spread(qs, 100)) == len(qs)


# -- an end-to-end run over a tiny benchmark ----------------------------------------------------

PASSAGES = [
    {"id": "p.en", "lang": "en", "text": "The bridge opened in 1932 and cost four million dollars."},
    {"id": "p.fr", "lang": "fr", "text": "Le musée a accueilli 12 000 visiteurs en mai."},
    {"id": "p.vi", "lang": "vi", "text": "Sông Mê Kông dài khoảng 4.350 km."},
]
# What the scripted model says for each question, when the passage holding the fact was shown to it.
REPLIES = {
    "bridge": ("1932", "The bridge opened in 1932 [{n}]."),
    "musée": ("12 000", "Le musée a accueilli 12 000 visiteurs en mai [{n}]."),
    "Mekong": ("4.350", "The Mekong river is about 4,350 km long [{n}]."),
}


def answer_from_sources(messages):
    prompt = messages[-1]["content"]
    question = prompt.split("Question: ")[1]
    for key, (fact, reply) in REPLIES.items():
        if key in question:
            for n, text in re.findall(r"^\[(\d+)\] (.+)$", prompt, re.M):
                if fact in text:
                    return reply.format(n=n)
    return "NO_ANSWER"


@pytest.fixture
def tiny(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    write_jsonl(d / "passages.jsonl", PASSAGES)
    write_jsonl(d / "questions.jsonl", [
        {"id": "q1", "lang": "en", "question": "When did the bridge open?", "gold_passage_ids": ["p.en"],
         "answers": ["1932"], "passage_answers": ["1932"]},
        {"id": "q2", "lang": "fr", "question": "Combien de visiteurs le musée a-t-il accueillis en mai ?",
         "gold_passage_ids": ["p.fr"], "answers": ["12 000"], "passage_answers": ["12 000"]},
        {"id": "q3", "lang": "en", "question": "How long is the Mekong river?", "gold_passage_ids": ["p.vi"],
         "answers": ["4,350 km"], "passage_answers": ["4.350 km"]},
    ])
    return d


def test_benchmark_run_scores_answers_and_hides_the_unanswerable_gold(tiny, tmp_path):
    ds, answerable, unanswerable = load_cases(tiny, limit=2, unanswerable=5)
    assert len(answerable) == 2 and len(unanswerable) == 1  # disjoint: the one question left
    assert {c.id for c in answerable} | {unanswerable[0].id} == {"q1", "q2", "q3"}
    gone = next(p for p in PASSAGES if f"{p['id']}.txt" in unanswerable[0].gold_documents)

    llm = ScriptedLLM(fn=answer_from_sources)
    # all three passages shown: this test is about the scoring, not about ranking with a fake embedder
    assistant = Assistant(load_settings(min_score=-1.0, context_k=3), llm=llm)
    out = tmp_path / "records.jsonl"
    run = run_answer_eval(ds, answerable, unanswerable, assistant, out)

    s = run.summary
    assert s["answer_accuracy"] == 1.0 and s["false_refusal_rate"] == 0.0
    assert s["citation_precision_answer"] == 1.0 and s["citation_precision_gold"] == 1.0
    assert s["language_match"] == 1.0
    # The unanswerable question was asked of an index without its gold passage: the model never saw it.
    assert s["unanswerable_refusal_rate"] == 1.0
    assert len(llm.prompts) == 3 and gone["text"] not in llm.prompts[-1][-1]["content"]
    assert all(gone["text"] not in m["content"] for m in llm.prompts[-1][1:])
    last = run.records[-1]
    assert not last["answerable"] and last["retrieved"] and not any(r["gold_source"] for r in last["retrieved"])

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == [r["id"] for r in run.records]
    first = lines[0]
    assert first["citations"][0]["document"] in first["gold"]["documents"]
    assert first["timings_ms"]["sources"] <= first["timings_ms"]["first_token"] <= first["timings_ms"]["total"]


def test_documents_cases_keep_both_golds_and_read_the_unanswerable_file():
    ds, answerable, unanswerable = load_cases(ROOT / "eval" / "seeds", limit=6, unanswerable=4)
    assert ds.kind == "documents" and len(answerable) == 6
    assert all(c.answers and c.passage_answers for c in answerable)
    # The seeds' answers are in the question's language, their passage answers in the document's.
    by_id = {c.id: c for c in ds_cases(ROOT / "eval" / "seeds")}
    assert by_id["great_wall.zh-Hant"].answers == ("西班牙",)
    assert by_id["great_wall.zh-Hant"].passage_answers == ("police espagnole",)
    assert all(len(c.gold_documents) == 1 for c in answerable)
    assert len(unanswerable) == 4 and len({c.lang for c in unanswerable}) == 4
    assert not any(c.answerable or c.answers or c.gold_documents for c in unanswerable)


def ds_cases(path):
    return load_cases(path, limit=None, unanswerable=0)[1]


def test_documents_cases_without_answers_fall_back_to_passage_answers(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "dataset.json").write_text(json.dumps({"documents": "docs", "format": "documents"}))
    (tmp_path / "questions.jsonl").write_text(json.dumps(
        {"id": "q", "lang": "en", "question": "Where?", "gold_document": "a.txt", "passage_answers": ["Côn Minh"]}) + "\n")
    (case,) = ds_cases(tmp_path)
    assert case.answers == case.passage_answers == ("Côn Minh",)


# -- the CLI -------------------------------------------------------------------------------------

RATES = ("answer_accuracy", "answer_accuracy_any_language", "citation_precision_answer", "citation_precision_gold",
         "language_match", "language_match_exact", "false_refusal_rate", "unanswerable_refusal_rate",
         "gold_in_context", "wrong_answers_shown")


def test_cli_eval_answers_on_seeds_json(capsys, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")  # the fake embedder's scores are low: let the fake LLM answer
    code = main(["eval", "--answers", "--dataset", str(ROOT / "eval" / "seeds"), "--limit", "4",
                 "--unanswerable", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    res = json.loads(out)
    assert (res["kind"], res["llm"]) == ("documents", "fake") and res["warm_up_ms"] >= 0
    overall = res["overall"]
    assert (overall["answerable"], overall["unanswerable"]) == (4, 2)
    for key in RATES:
        assert 0.0 <= overall[key] <= 1.0, key
    for key in ("sources", "first_token", "total"):
        lat = overall["latency_ms"][key]
        assert lat["n"] == 6 and 0.0 < lat["p50"] <= lat["p90"]
    assert set(res["per_language"]) <= {"en", "fr", "vi", "zh-Hans", "zh-Hant"}
    assert sum(m["answerable"] + m["unanswerable"] for m in res["per_language"].values()) == 6
    records = [json.loads(line) for line in open(res["records"], encoding="utf-8")]
    assert len(records) == 6 and sum(r["answerable"] for r in records) == 4
    assert {"question", "answer", "refused", "citations", "timings_ms"} <= set(records[0])


def test_cli_eval_answers_table(capsys, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    assert main(["eval", "--answers", "--dataset", str(ROOT / "eval" / "seeds"), "--limit", "2",
                 "--unanswerable", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("dataset seeds: 2 answerable + 0 unanswerable questions (documents); LLM fake")
    assert "\noverall " in out and "per-question records: " in out
    assert re.search(r"accuracy\s+acc\(any\)\s+wrong\s", out)  # wrong answers shown, beside accuracy
    assert "[answerable 2/2]" in err


@pytest.mark.parametrize("argv, message", [
    (["--answers", "--compare"], "error: --stages and --compare apply to retrieval recall; --answers measures the "
                                 "configured pipeline (set RAG_RETRIEVAL to try other stages)\n"),
    (["--answers", "--stages", "dense"], "error: --stages and --compare apply to retrieval recall; --answers "
                                         "measures the configured pipeline (set RAG_RETRIEVAL to try other stages)\n"),
    (["--answers", "--unanswerable", "-1"], "error: --unanswerable must be 0 or more, got -1\n"),
])
def test_cli_eval_answers_bad_options(capsys, argv, message):
    assert main(["eval", *argv]) == 2
    assert capsys.readouterr().err == message


@pytest.mark.parametrize("rows, wrong, accuracy, refused", [
    # (refused, correct) per answerable question
    ([(False, True), (False, False), (True, False), (False, False)], 2 / 4, 1 / 4, 1 / 4),
    ([(False, True), (False, True)], 0.0, 1.0, 0.0),
    ([(True, False), (True, False)], 0.0, 0.0, 1.0),  # refusing everything shows nothing wrong
])
def test_wrong_answers_shown_is_answered_and_not_right(rows, wrong, accuracy, refused):
    records = [record(refused=r, correct=c) for r, c in rows]
    records.append(record(answerable=False, refused=False))  # an unanswerable question answered: not counted
    s = summarize(records)
    assert s["wrong_answers_shown"] == pytest.approx(wrong)
    assert s["answer_accuracy"] + s["wrong_answers_shown"] + s["false_refusal_rate"] == pytest.approx(1.0)
    assert (s["answer_accuracy"], s["false_refusal_rate"]) == (pytest.approx(accuracy), pytest.approx(refused))


def test_refusals_with_evidence_and_whether_the_quote_holds_the_answer():
    records = [
        record(refused=True, cites=[(True, True)]),  # quoted the sentence holding the answer
        record(refused=True, cites=[(False, False)]),  # quoted another one
        record(refused=True),  # refused without a quote (under the floor)
        record(answerable=False, refused=True, cites=[(False, False)]),
    ]
    s = summarize(records)
    assert s["refusals_with_evidence"] == pytest.approx(3 / 4)
    assert s["evidence_holds_answer"] == pytest.approx(1 / 2)  # answerable questions only
    assert summarize([record()])["evidence_holds_answer"] is None
