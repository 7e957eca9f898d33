"""bench/compare_answers.py: two `rag eval --answers --json` outputs in one table, and the questions
whose outcome differs. The runs are built here from per-question records, as `rag eval` writes them."""
from __future__ import annotations

import json

from bench.compare_answers import differences, main, outcome, table
from rag.evaluation.metrics import answer_summary


def rec(qid, lang="en", answerable=True, refused=False, correct=False):
    return {"id": qid, "lang": lang, "answerable": answerable, "refused": refused, "correct": correct,
            "correct_any_language": correct, "language_match": True, "language_exact": True,
            "gold_in_context": True, "citations": [],
            "timings_ms": {"sources": 10.0, "first_token": 1500.0, "total": 3000.0}}


def run(tmp_path, name, llm, records, dataset="seeds"):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    langs = sorted({r["lang"] for r in records})
    out = {"dataset": dataset, "kind": "documents", "llm": llm, "retrieval": ["dense"],
           "overall": answer_summary(records),
           "per_language": {lang: answer_summary([r for r in records if r["lang"] == lang]) for lang in langs},
           "warm_up_ms": 0.0, "records": str(path)}
    (tmp_path / f"{name}.json").write_text(json.dumps(out), encoding="utf-8")
    return tmp_path / f"{name}.json"


LOCAL = [rec("q1", correct=True), rec("q2"), rec("q3", "fr", refused=True), rec("u1", answerable=False, refused=True)]
SERVED = [rec("q1", correct=True), rec("q2", correct=True), rec("q3", "fr"), rec("u1", answerable=False)]


def test_one_table_a_column_per_run(tmp_path, capsys):
    a, b = run(tmp_path, "local", "local", LOCAL), run(tmp_path, "served", "openai", SERVED)
    assert main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "dataset seeds"
    assert "local (local)" in lines[2] and "served (openai)" in lines[2]
    row = {line[:30].strip(): line[30:].split() for line in lines[3:] if line[:30].strip()}
    assert row["accuracy"] == ["0.333", "0.667"]
    assert row["wrong answers shown"] == ["0.333", "0.333"]
    assert row["false refusals"] == ["0.333", "0.000"]
    assert row["unanswerable refused"] == ["1.000", "0.000"]
    assert row["first token p50 (s)"] == ["1.5", "1.5"]
    assert row["fr wrong"] == ["0.000", "1.000"]
    assert "questions with different outcomes (3):" in out
    assert "q2" in out and "local (local): WRONG  served (openai): right" in out
    assert "q1 " not in out  # the same outcome in both


def test_runs_of_different_questions_are_refused(tmp_path, capsys):
    a = run(tmp_path, "a", "local", LOCAL)
    b = run(tmp_path, "b", "local", LOCAL, dataset="xquad-piaf")
    assert main([str(a), str(b)]) == 2
    assert capsys.readouterr().err == "error: the runs are not of the same questions: seeds (3 + 1), xquad-piaf (3 + 1)\n"


def test_one_run_is_not_a_comparison(tmp_path, capsys):
    assert main([str(run(tmp_path, "a", "local", LOCAL))]) == 2
    assert capsys.readouterr().err == "error: give two runs or more\n"


def test_outcomes_and_differences_without_files():
    assert [outcome(r) for r in LOCAL] == ["right", "WRONG", "refused", "refused"]
    assert [outcome(r) for r in SERVED] == ["right", "right", "WRONG", "answered"]
    assert differences([LOCAL, LOCAL], ["a", "b"]) == []
    assert len(differences([LOCAL, SERVED], ["a", "b"])) == 3
    runs = [{"dataset": "d", "overall": answer_summary(LOCAL), "per_language": {}}] * 2
    assert "wrong answers shown" in table(runs, ["a", "b"])
