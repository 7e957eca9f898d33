"""Collections: separate libraries in one data directory, each with its own index, keyword index,
uploads and lock; the default one keeps the paths an index had before collections existed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import rag
from rag import Assistant, CollectionNotFound, IndexBusy, InvalidInput, load_settings
from rag.ingestion.lock import index_lock
from ui.cli import main
from ui.gate import Gate
from ui.http_api import api_routes

FR = "000_e2aec77d374aef68.txt"
EN = "002_f3a0f75631bd8566.txt"
QUESTION = "Combien de suspects le Cambodge a-t-il arrêtés ?"


def two_libraries(seeds: Path, assistant: Assistant) -> tuple[Assistant, Assistant]:
    """The default collection with the French article, `papers` with the English one."""
    assistant.create_collection("papers")
    papers = assistant.in_collection("papers")
    assistant.ingest([seeds / FR])
    papers.ingest([seeds / EN])
    return assistant, papers


def assert_apart(default: Assistant, papers: Assistant) -> None:
    assert [d.document for d in default.documents()] == [FR]
    assert [d.document for d in papers.documents()] == [EN]
    assert {p.document for p in default.search(QUESTION, 20)} == {FR}
    assert {p.document for p in papers.search(QUESTION, 20)} == {EN}
    assert {c.document for c in papers.ask(QUESTION).citations} <= {EN}


def test_two_collections_never_see_each_others_documents(seeds_copy):
    default, papers = two_libraries(seeds_copy, Assistant(load_settings(min_score=-1.0)))
    assert_apart(default, papers)
    infos = {c.name: c for c in default.collections()}
    assert infos["rag_chunks"] == rag.CollectionInfo("rag_chunks", 1, 14, True)
    assert infos["papers"].documents == 1 and not infos["papers"].default
    # A document of one collection cannot be read, scoped to, or deleted through the other.
    with pytest.raises(rag.DocumentNotFound):
        papers.document(FR)
    with pytest.raises(InvalidInput, match=f"no document named '{FR}' in the collection 'papers'"):
        papers.search(QUESTION, 3, documents=[FR])
    assert papers.delete(FR) is False and [d.document for d in default.documents()] == [FR]


@pytest.mark.chroma
def test_two_collections_apart_in_embedded_chroma(seeds_copy):
    default, papers = two_libraries(seeds_copy, Assistant(load_settings(min_score=-1.0)))
    assert_apart(default, papers)
    # A fresh process reads the same: the separation is in the index, not in this process.
    again = Assistant(load_settings(min_score=-1.0))
    assert_apart(again, again.in_collection("papers"))


@pytest.mark.slow
@pytest.mark.chroma
def test_two_collections_apart_on_a_chroma_server(seeds_copy, tmp_path, monkeypatch):
    from tests.servers import chroma_server

    with chroma_server(tmp_path / "server") as (url, _process):
        monkeypatch.setenv("RAG_CHROMA_URL", url)
        default, papers = two_libraries(seeds_copy, Assistant(load_settings(min_score=-1.0)))
        assert_apart(default, papers)
        assert {c.name for c in default.collections()} == {"rag_chunks", "papers"}
        assert default.delete_collection("papers") is True
        assert [c.name for c in default.collections()] == ["rag_chunks"]
        assert [d.document for d in default.documents()] == [FR]


def test_the_default_collection_keeps_todays_paths_and_others_get_their_own(seeds_copy, tmp_path):
    home = tmp_path / "home"
    default, papers = two_libraries(seeds_copy, Assistant(load_settings(retrieval="dense,keyword")))
    assert default.collection == "rag_chunks" and default.place.folder == home
    assert (home / "keywords.memory.rag_chunks.sqlite").is_file()
    assert (home / "collections" / "papers" / "keywords.memory.papers.sqlite").is_file()
    upload = seeds_copy / "upload.txt"
    upload.write_text("Une note sur les chats qui dorment au soleil toute la journée.", encoding="utf-8")
    papers.add_file(upload)
    assert (home / "collections" / "papers" / "uploads" / "upload.txt").is_file()
    assert not (home / "uploads" / "upload.txt").exists()


def test_each_collection_has_its_own_ingestion_lock(seeds_copy, tmp_path):
    default, papers = two_libraries(seeds_copy, Assistant(load_settings()))
    with index_lock(tmp_path / "home"):  # an ingestion of the default collection is running
        assert papers.ingest([seeds_copy / "001_d4ebc187bb764b66.txt"]).added == ("001_d4ebc187bb764b66.txt",)
        with pytest.raises(IndexBusy):
            default.ingest([seeds_copy / "001_d4ebc187bb764b66.txt"])
    with index_lock(tmp_path / "home" / "collections" / "papers"):
        assert default.delete(FR) is True
        with pytest.raises(IndexBusy):
            papers.delete(EN)
        with pytest.raises(IndexBusy):
            default.delete_collection("papers")


def test_deleting_a_collection_removes_it_and_nothing_else(seeds_copy, tmp_path):
    default, papers = two_libraries(seeds_copy, Assistant(load_settings(retrieval="dense,sentence,keyword")))
    default.create_collection("notes")
    folder = tmp_path / "home" / "collections" / "papers"
    assert folder.is_dir()
    assert default.delete_collection("papers") is True
    assert not folder.exists() and (tmp_path / "home" / "collections").is_dir()
    assert [c.name for c in default.collections()] == ["notes", "rag_chunks"]
    assert [d.document for d in default.documents()] == [FR]
    assert {p.document for p in default.search(QUESTION, 5)} == {FR}
    assert (tmp_path / "home" / "keywords.memory.rag_chunks.sqlite").is_file()
    with pytest.raises(CollectionNotFound):
        default.in_collection("papers")
    assert default.delete_collection("papers") is False
    # Made again under the same name, it starts empty.
    default.create_collection("papers")
    assert default.in_collection("papers").documents() == []


@pytest.mark.parametrize("name,message", [
    ("Papers", "not a collection name: 'Papers'; use 3 to 63 lowercase letters, digits, '-' or '_', "
               "starting and ending with a letter or digit"),
    ("ab", "not a collection name: 'ab'; use 3 to 63 lowercase letters, digits, '-' or '_', "
           "starting and ending with a letter or digit"),
    ("../etc", "not a collection name: '../etc'; use 3 to 63 lowercase letters, digits, '-' or '_', "
               "starting and ending with a letter or digit"),
    ("x" * 64, f"not a collection name: '{'x' * 64}'; use 3 to 63 lowercase letters, digits, '-' or '_', "
               "starting and ending with a letter or digit"),
    ("papers_state", "not a collection name: 'papers_state'; names ending in _sentences or _state are kept "
                     "for the index's side collections"),
])
def test_names_are_checked_with_the_value_and_the_rule(name, message):
    assistant = Assistant()
    for call in (assistant.create_collection, assistant.in_collection, assistant.delete_collection):
        with pytest.raises(InvalidInput) as e:
            call(name)
        assert str(e.value) == message


def test_unknown_taken_and_default_names():
    assistant = Assistant()
    with pytest.raises(CollectionNotFound) as e:
        assistant.in_collection("papers")
    assert str(e.value) == ("no collection named 'papers' (collections: rag_chunks); "
                            "create it with `rag collections create papers`")
    assistant.create_collection("papers")
    with pytest.raises(InvalidInput, match="^a collection named 'papers' already exists$"):
        assistant.create_collection("papers")
    with pytest.raises(InvalidInput, match=r"^'rag_chunks' is the default collection \(RAG_COLLECTION\) and "
                                           "cannot be deleted; delete its documents with `rag delete`$"):
        assistant.delete_collection("rag_chunks")


def test_one_assistant_per_collection_sharing_the_models():
    assistant = Assistant()
    assistant.create_collection("papers")
    papers = assistant.in_collection("papers")
    assert papers is assistant.in_collection("papers") and papers.collection == "papers"
    assert papers.in_collection(None) is papers and papers.in_collection("rag_chunks") is assistant
    assert papers.embedder is assistant.embedder and papers.llm is assistant.llm


def test_the_module_functions_take_a_collection(seeds_copy):
    rag.create_collection("papers")
    rag.ingest([seeds_copy / EN], collection="papers")
    rag.ingest([seeds_copy / FR])
    assert rag.get_assistant("papers") is rag.get_assistant("papers")
    assert [d.document for d in rag.documents(collection="papers")] == [EN]
    assert {p.document for p in rag.search(QUESTION, 10, collection="papers")} == {EN}
    assert [c.name for c in rag.collections()] == ["papers", "rag_chunks"]
    assert rag.delete(EN, collection="papers") is True and rag.documents(collection="papers") == []
    assert rag.delete_collection("papers") is True and [c.name for c in rag.collections()] == ["rag_chunks"]


def test_cli_collections(seeds_copy, capsys):
    assert main(["collections", "create", "papers"]) == 0
    assert capsys.readouterr().out == "created collection papers\n"
    assert main(["ingest", str(seeds_copy / EN), "--collection", "papers", "--json"]) == 0
    assert main(["ingest", str(seeds_copy / FR), "--json"]) == 0
    capsys.readouterr()
    assert main(["collections"]) == 0
    assert capsys.readouterr().out == "papers\t1 documents\t10 chunks\nrag_chunks\t1 documents\t14 chunks\t(default)\n"
    assert main(["collections", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "papers", "documents": 1, "chunks": 10, "default": False},
        {"name": "rag_chunks", "documents": 1, "chunks": 14, "default": True}]
    assert main(["documents", "--collection", "papers", "--json"]) == 0
    assert [d["document"] for d in json.loads(capsys.readouterr().out)] == [EN]
    assert main(["search", QUESTION, "--collection", "papers", "--json"]) == 0
    assert {h["document"] for h in json.loads(capsys.readouterr().out)} == {EN}
    assert main(["delete", FR, "--collection", "papers"]) == 1
    assert capsys.readouterr().err == f"not in the index: {FR}\n"
    assert main(["documents", "--collection", "nope"]) == 2
    assert capsys.readouterr().err == ("error: no collection named 'nope' (collections: papers, rag_chunks); "
                                       "create it with `rag collections create nope`\n")
    assert main(["collections", "create", "Bad"]) == 2
    assert capsys.readouterr().err == ("error: not a collection name: 'Bad'; use 3 to 63 lowercase letters, "
                                       "digits, '-' or '_', starting and ending with a letter or digit\n")


def test_cli_delete_asks_on_a_terminal_and_needs_yes_elsewhere(monkeypatch, capsys):
    rag.create_collection("papers")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["collections", "delete", "papers"]) == 2
    assert capsys.readouterr().err == ("error: rag collections delete: confirm with --yes to delete 'papers' "
                                       "(standard input is not a terminal to ask on)\n")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["collections", "delete", "papers"]) == 1
    assert capsys.readouterr().out == "nothing deleted\n"
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "y")
    assert main(["collections", "delete", "papers"]) == 0
    assert asked == ["delete collection papers (0 documents, 0 chunks, its keyword index and uploads)? [y/N] "]
    assert capsys.readouterr().out == "deleted collection papers\n"
    assert main(["collections", "delete", "papers", "--yes", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"collection": "papers", "deleted": False}


@pytest.fixture
def api(seeds_copy) -> TestClient:
    default, _papers = two_libraries(seeds_copy, Assistant(load_settings(min_score=-1.0)))
    app = FastAPI()
    api_routes(app, default, Gate())
    return TestClient(app)


def test_http_collections_and_the_collection_field(api):
    assert api.get("/v1/collections").json() == {"object": "list", "data": [
        {"object": "collection", "name": "papers", "documents": 1, "chunks": 10, "default": False},
        {"object": "collection", "name": "rag_chunks", "documents": 1, "chunks": 14, "default": True}]}
    assert [d["document"] for d in api.get("/v1/documents", params={"collection": "papers"}).json()["data"]] == [EN]
    assert [d["document"] for d in api.get("/v1/documents").json()["data"]] == [FR]
    assert api.get(f"/v1/documents/{EN}", params={"collection": "papers"}).status_code == 200
    assert api.get(f"/v1/documents/{EN}").status_code == 404
    found = api.post("/v1/search", json={"query": QUESTION, "k": 10, "collection": "papers"}).json()["data"]
    assert len(found) == 10 and {p["document"] for p in found} == {EN}
    reply = api.post("/v1/chat/completions", json={
        "model": "fake", "collection": "papers", "messages": [{"role": "user", "content": QUESTION}]}).json()
    assert {s["document"] for s in reply["sources"]} == {EN}
    missing = api.get("/v1/documents", params={"collection": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"
    assert missing.json()["error"]["param"] == "collection"
    bad = api.post("/v1/search", json={"query": QUESTION, "collection": "Nope"})
    assert bad.status_code == 400 and "not a collection name: 'Nope'" in bad.json()["error"]["message"]
    assert api.delete(f"/v1/documents/{EN}", params={"collection": "papers"}).json()["deleted"] is True
    assert api.get("/v1/documents", params={"collection": "papers"}).json()["data"] == []


def test_http_scope_fields(api):
    found = api.post("/v1/search", json={"query": QUESTION, "k": 4, "documents": [FR]}).json()["data"]
    assert len(found) == 4 and {p["document"] for p in found} == {FR}
    reply = api.post("/v1/chat/completions", json={
        "model": "fake", "languages": ["fr"], "messages": [{"role": "user", "content": QUESTION}]}).json()
    assert reply["sources"] and {s["document"] for s in reply["sources"]} == {FR}
    for body, param, words in [({"documents": ["nope.txt"]}, "documents", "no document named 'nope.txt'"),
                               ({"languages": ["vi"]}, "languages", "no document in 'vi'")]:
        r = api.post("/v1/chat/completions", json={
            "model": "fake", "messages": [{"role": "user", "content": QUESTION}], **body})
        assert r.status_code == 400 and r.json()["error"]["param"] == param and words in r.json()["error"]["message"]
        r = api.post("/v1/search", json={"query": QUESTION, **body})
        assert r.status_code == 400 and r.json()["error"]["param"] == param and words in r.json()["error"]["message"]
