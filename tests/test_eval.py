"""`rag eval`: dataset loading, metrics, and the CLI on both dataset formats (fake embedder)."""
from __future__ import annotations

import json

import pytest

from ui.cli import main
from rag.errors import InvalidInput
from rag.evaluation.datasets import Question, load_dataset, sample
from rag.evaluation.metrics import retrieval_summary as summarize


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def tiny(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    write_jsonl(d / "passages.jsonl", [
        {"id": "p.en", "lang": "en", "text": "The bridge opened in 1932 and cost four million dollars."},
        {"id": "p.fr", "lang": "fr", "text": "Le musée a accueilli 12 000 visiteurs en mai."},
        {"id": "p.vi", "lang": "vi", "text": "Sông Mê Kông dài khoảng 4.350 km."},
    ])
    write_jsonl(d / "questions.jsonl", [
        {"id": "q1", "lang": "en", "question": "When did the bridge open?", "gold_passage_ids": ["p.en"]},
        {"id": "q2", "lang": "fr", "question": "Combien de visiteurs le musée a-t-il accueillis en mai ?",
         "gold_passage_ids": ["p.fr"]},
        {"id": "q3", "lang": "en", "question": "How long is the Mekong river?", "gold_passage_ids": ["p.vi"]},
    ])
    return d


def test_summary_splits_same_and_cross_language():
    results = [
        {"lang": "en", "gold_lang": "en", "cross": False, "rank": 1},
        {"lang": "en", "gold_lang": "vi", "cross": True, "rank": 7},
        {"lang": "fr", "gold_lang": "fr", "cross": False, "rank": None},
    ]
    s = summarize(results)
    assert s["overall"]["recall@1"] == pytest.approx(1 / 3)
    assert s["overall"]["recall@10"] == pytest.approx(2 / 3)
    assert s["same_language"]["n"] == 2 and s["cross_language"]["recall@5"] == 0.0
    assert s["overall"]["mrr@10"] == pytest.approx((1 + 1 / 7) / 3)
    assert set(s["pairs"]) == {"en->en", "en->vi", "fr->fr"}


def test_sample_is_deterministic_and_ordered():
    qs = [Question(str(i), "en", f"q{i}") for i in range(50)]
    a, b = sample(qs, 10), sample(qs, 10)
    assert a == b and len(a) == 10 and a == sorted(a, key=lambda q: int(q.id))
    assert sample(qs, None) == qs


def test_bad_datasets_are_explained(tmp_path):
    with pytest.raises(InvalidInput, match="dataset directory not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "passages.jsonl").write_text('{"id": "p", "lang": "en", "text": "x"}\n{oops\n')
    with pytest.raises(InvalidInput, match=r"passages.jsonl:2: not valid JSON"):
        load_dataset(tmp_path / "d")


def test_cli_eval_benchmark_json(tiny, capsys):
    assert main(["eval", "--dataset", str(tiny), "--stages", "dense", "--stages", "dense,keyword", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["questions"] == 3 and [r["stages"] for r in out["runs"]] == [["dense"], ["dense", "keyword"]]
    for run in out["runs"]:
        assert run["overall"]["n"] == 3 and run["cross_language"]["n"] == 1
        assert 0.0 <= run["overall"]["recall@5"] <= 1.0 and run["latency_ms"]["p50"] > 0
    assert out["runs"][0]["overall"]["recall@5"] == 1.0  # 3 passages: everything is in the top 5


def test_cli_eval_seed_documents_table(capsys):
    assert main(["eval", "--limit", "8", "--stages", "dense,center,sentence,keyword"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dataset seeds: 8 questions (documents)")
    assert "dense+center+sentence+keyword overall" in out and "per pair" in out
