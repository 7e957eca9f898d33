"""The page's collection picker and scoped questions, at the function level with the fake backends:
the chat, the Documents tab and the saved conversations follow the chosen collection; collections
are created (names checked) and deleted (never the default one, nothing else removed) from the page;
the browser keeps its choice, chosen again on load while it exists; a question limited to some
documents or languages is answered from them only, and a scope that matches nothing is said in the
chat. The same in a real browser: tests/test_browser.py."""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest

from rag import ConversationStore
import gradio as gr

from ui.app import create_app
from ui.collection_picker import (COLLECTION_KEY, collection_choices, collection_on_load, create_collection,
                                  delete_collection, scope_choices)
from ui.conversations import choices

FR = "000_e2aec77d374aef68.txt"
EN = "002_f3a0f75631bd8566.txt"
QUOKKAS = "quokkas.txt"
QUESTION = "Combien de quokkas zorblaxiens à Perth ?"
SEEDS = 5


def request(language: str = "fr-FR,fr;q=0.9"):
    return SimpleNamespace(username=None, headers={"accept-language": language})


@pytest.fixture
def page(make, tmp_path):
    """The page over the seeds (the default collection) and `papers`, which holds one other document."""
    assistant, _ = make()
    assistant.create_collection("papers")
    doc = tmp_path / QUOKKAS
    doc.write_text("Les quokkas zorblaxiens de Perth sont 7741 selon le recensement de 2023.\n", encoding="utf-8")
    assistant.in_collection("papers").ingest([doc])
    store = ConversationStore(tmp_path / "page.sqlite")
    demo = create_app(assistant, conversations=store)
    yield SimpleNamespace(assistant=assistant, demo=demo, store=store)
    store.close()


def _fn(demo, name):
    return next(f for f in demo.fns.values() if f.name == name)


def _run(demo, name, *args):
    """An event as Gradio runs it (the last output of a streaming one), as {component: output}."""
    f = _fn(demo, name)
    out = f.fn(*args)
    if not isinstance(out, tuple):
        *_, out = out
    return dict(zip(f.outputs, out))


def _by_id(demo, elem_id):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def _ask(p, question, collection, documents=None, languages=None, current=None, history=()):
    return _run(p.demo, "respond", question, list(history), [], current, "b1", request(), collection,
                documents or [], languages or [])


def _sources(answer):
    return {c.document for c in answer.citations} | {r.document for r in answer.related}


def test_the_picker_lists_every_collection_with_its_documents_the_default_marked(page):
    assert collection_choices(page.assistant) == [(f"rag_chunks ({SEEDS} documents) · default", "rag_chunks"),
                                                  ("papers (1 document)", "papers")]
    assert collection_choices(page.assistant, "zh-Hant")[0][0] == f"rag_chunks（{SEEDS} 份文件） · 預設"
    # the page fills it on load, in the browser's language
    localize = _fn(page.demo, "localize")
    picker = _by_id(page.demo, "collection")
    updates = dict(zip(localize.outputs, localize.fn(request())))
    assert updates[picker]["choices"] == [(f"rag_chunks ({SEEDS} documents indexés) · par défaut", "rag_chunks"),
                                          ("papers (1 document indexé)", "papers")]


def test_a_question_in_the_chosen_collection_cites_only_its_documents_and_is_saved_there(page):
    out = _ask(page, QUESTION, "papers")
    respond = _fn(page.demo, "respond")
    chat, _, sources, answers, *_ = respond.outputs
    current = respond.outputs[7]
    [answer] = out[answers]
    assert answer.citations and _sources(answer) == {QUOKKAS}
    assert QUOKKAS in out[sources] and FR not in out[sources]
    saved = page.store.get(out[current], "browser:b1")
    assert saved.collection == "papers"  # reopening it goes back to papers
    # the default collection answers from the seeds, never from papers
    [seeds_answer] = _ask(page, QUESTION, "rag_chunks")[answers]
    assert QUOKKAS not in _sources(seeds_answer)
    assert page.store.get(_ask(page, QUESTION, None)[current], "browser:b1").collection == "rag_chunks"


def test_reopening_a_conversation_chooses_its_collection_and_lists_its_documents(page):
    respond = _fn(page.demo, "respond")
    cid = _ask(page, QUESTION, "papers")[respond.outputs[7]]
    picker = _by_id(page.demo, "collection")
    reopened = _run(page.demo, "reopen", cid, "b1", request())
    assert reopened[picker]["value"] == "papers"
    assert ("papers (1 document indexé)", "papers") in reopened[picker]["choices"]
    assert reopened[respond.outputs[7]] == cid and QUESTION in str(reopened[respond.outputs[0]])
    # the sidebar says which collection a conversation other than the default's was asked in
    assert choices(page.store.list("browser:b1"), default="rag_chunks")[0][0].endswith(" · papers")
    # the picker's change then shows that collection: its documents, the scope's choices, the summary
    shown = _run(page.demo, "show_collection", "papers", request())
    library, victim, docs, langs, chat = _fn(page.demo, "show_collection").outputs
    assert [row[0] for row in shown[library]["data"]] == [QUOKKAS]
    assert shown[victim]["choices"] == [QUOKKAS] and shown[docs]["choices"] == [QUOKKAS]
    assert shown[langs]["choices"] == [("français", "fr")] and shown[docs]["value"] == []
    assert shown[chat]["placeholder"].startswith("1 document est indexé")


def test_choosing_a_collection_starts_a_fresh_chat(page):
    picker = _by_id(page.demo, "collection")
    [clear] = [f for f in page.demo.fns.values() if (picker._id, "input") in [tuple(t) for t in f.targets]]
    assert clear.name == "clear_all"  # the picker moved by the reader, not by a reopened conversation
    out = dict(zip(clear.outputs, clear.fn("b1", request())))
    assert out[clear.outputs[0]] == [] and out[clear.outputs[7]] is None  # nothing open: a new conversation


EXISTING = ["papers", "rag_chunks"]


@pytest.mark.parametrize("stored, existing, chosen, kept", [
    ("papers", EXISTING, "papers", "papers"),  # chosen last and still there: chosen again
    ("rag_chunks", EXISTING, "rag_chunks", "rag_chunks"),  # the default, chosen on purpose, stays chosen
    ("", EXISTING, "rag_chunks", ""),  # never chose: the default, and nothing kept (it follows the default)
    (None, EXISTING, "rag_chunks", ""),
    ("theses", EXISTING, "rag_chunks", "rag_chunks"),  # deleted meanwhile: the default, kept instead
    ("papers", [], "rag_chunks", "rag_chunks"),
    ("Papers", EXISTING, "rag_chunks", "rag_chunks"),  # names are exact
    ("papers", None, "rag_chunks", "papers"),  # the store cannot list them: the default for now, nothing forgotten
    (42, EXISTING, "rag_chunks", ""),  # not a name (the browser's storage edited by hand)
    (["papers"], EXISTING, "rag_chunks", ""),
])
def test_the_collection_chosen_on_load(stored, existing, chosen, kept):
    assert collection_on_load(stored, existing, "rag_chunks") == (chosen, kept)


def test_the_page_chooses_again_the_collection_this_browser_chose_last_while_it_exists(page):
    restore = _fn(page.demo, "restore_collection")
    picker, remembered, library, victim, docs, langs, chat = restore.outputs
    assert picker is _by_id(page.demo, "collection")
    assert isinstance(remembered, gr.BrowserState) and remembered.storage_key == COLLECTION_KEY
    assert restore.trigger_after == _fn(page.demo, "localize")._id  # after the words: its summary is the last
    out = _run(page.demo, "restore_collection", "papers", request())
    assert out[picker]["value"] == "papers" and ("papers (1 document indexé)", "papers") in out[picker]["choices"]
    assert out[remembered] == "papers"
    assert [row[0] for row in out[library]["data"]] == [QUOKKAS] and out[victim]["choices"] == [QUOKKAS]
    assert out[docs]["choices"] == [QUOKKAS] and out[langs]["choices"] == [("français", "fr")]
    assert out[chat]["placeholder"].startswith("1 document est indexé")
    # a browser that never chose gets the default collection and what it holds
    out = _run(page.demo, "restore_collection", "", request())
    assert out[picker]["value"] == "rag_chunks" and out[remembered] == ""
    assert len(out[library]["data"]) == SEEDS
    # deleted meanwhile (in another tab, by the CLI): the default one, without a word, and kept instead
    assert page.assistant.delete_collection("papers")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # gr.Warning, outside a request
        out = _run(page.demo, "restore_collection", "papers", request())
    assert out[picker]["value"] == "rag_chunks" and out[remembered] == "rag_chunks"
    assert [v for _, v in out[picker]["choices"]] == ["rag_chunks"] and len(out[library]["data"]) == SEEDS


def test_wherever_the_picker_moves_the_browser_keeps_it(page):
    """Chosen by the reader, a created collection, the default after a delete, a reopened conversation's
    (each moves the picker: see the tests around): the picker's change writes it to the browser."""
    picker = _by_id(page.demo, "collection")
    [keep] = [f for f in page.demo.fns.values() if (picker._id, "change") in [tuple(t) for t in f.targets]
              and any(isinstance(o, gr.BrowserState) for o in f.outputs)]
    [remembered] = keep.outputs
    assert remembered.storage_key == COLLECTION_KEY and keep.inputs == [picker]
    assert keep.fn("theses") == "theses" and keep.fn("rag_chunks") == "rag_chunks"
    assert keep.fn(None) == gr.skip()  # an emptied picker is not a choice


def test_the_documents_tab_adds_lists_and_deletes_in_the_chosen_collection_only(page, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("Le port de Marseille a reçu 12 navires le 3 mars.\n", encoding="utf-8")
    added = _run(page.demo, "do_add", [str(f)], request(), "papers", None)
    assert "notes.txt" in next(iter(added.values()))
    papers, default = page.assistant.in_collection("papers"), page.assistant
    assert {d.document for d in papers.documents()} == {QUOKKAS, "notes.txt"}
    assert len(default.documents()) == SEEDS
    picker = _by_id(page.demo, "collection")
    assert ("papers (2 documents indexés)", "papers") in added[picker]["choices"]  # the counts follow
    # a seed's name in papers is not there: nothing deleted anywhere
    gone = _run(page.demo, "do_delete", FR, request(), "papers")
    assert next(iter(gone.values())) == f"{FR} n'était pas dans la bibliothèque."
    assert len(default.documents()) == SEEDS
    done = _run(page.demo, "do_delete", "notes.txt", request(), "papers")
    assert next(iter(done.values())) == "notes.txt a été supprimé."
    assert [d.document for d in papers.documents()] == [QUOKKAS] and len(default.documents()) == SEEDS
    # the tab shows the chosen collection's documents
    library, _ = _fn(page.demo, "refresh").outputs
    assert [r[0] for r in _run(page.demo, "refresh", request(), "papers")[library]["data"]] == [QUOKKAS]
    assert len(_run(page.demo, "refresh", request(), None)[library]["data"]) == SEEDS


def test_creating_a_collection_checks_its_name_then_chooses_it(page):
    names = lambda: [c.name for c in page.assistant.collections()]  # noqa: E731
    assert create_collection(page.assistant, "  ", "en") == ("Type the new collection's name first.", None)
    msg, made = create_collection(page.assistant, "Bad Name!", "en")
    assert made is None and "not a collection name: 'Bad Name!'" in msg and "lowercase" in msg
    msg, made = create_collection(page.assistant, "papers", "en")
    assert made is None and "a collection named 'papers' already exists" in msg
    assert names() == ["papers", "rag_chunks"]  # nothing made
    # through the page: a refused name changes only the reply
    create = _fn(page.demo, "do_create")
    result, name_box, picker, chat, *_ = create.outputs
    refused = _run(page.demo, "do_create", "x", "b1", request("en"))
    assert refused[result].startswith("⚠️") and "not a collection name: 'x'" in refused[result]
    assert refused[name_box] == refused[picker] == refused[chat] == gr.skip()
    made = _run(page.demo, "do_create", " theses ", "b1", request("en"))
    assert made[result] == "Created the collection theses; it is now the chosen one: add its documents here."
    assert made[picker]["value"] == "theses" and ("theses (0 documents)", "theses") in made[picker]["choices"]
    assert made[name_box] == "" and made[chat] == []  # a fresh chat in the new collection
    assert names() == ["papers", "rag_chunks", "theses"]


def test_deleting_a_collection_removes_it_alone_never_the_default(page):
    respond = _fn(page.demo, "respond")
    cid = _ask(page, QUESTION, "papers")[respond.outputs[7]]
    assert delete_collection(page.assistant, "rag_chunks", "en") == (
        "rag_chunks is the default collection: it cannot be deleted (delete its documents instead).", False)
    drop = _fn(page.demo, "do_drop")
    result, picker, chat, *_ = drop.outputs
    declined = _run(page.demo, "do_drop", "", "b1", request("en"))  # the browser's confirmation said no
    assert declined[result] == "Nothing deleted." and "papers" in [c.name for c in page.assistant.collections()]
    done = _run(page.demo, "do_drop", "papers", "b1", request("en"))
    assert done[result] == "Deleted the collection papers."
    assert done[picker]["value"] == "rag_chunks" and [v for _, v in done[picker]["choices"]] == ["rag_chunks"]
    assert done[chat] == []
    assert [c.name for c in page.assistant.collections()] == ["rag_chunks"]
    assert len(page.assistant.documents()) == SEEDS  # nothing else removed
    assert page.store.get(cid, "browser:b1").collection == "papers"  # its conversations are kept
    again = _run(page.demo, "do_drop", "papers", "b1", request("en"))
    assert again[result] == "There is no collection named papers."
    # a conversation of the deleted collection reopens as it was, with a notice; the picker stays
    with pytest.warns(UserWarning, match="held in the collection papers, which no longer exists"):
        reopened = _run(page.demo, "reopen", cid, "b1", request("en"))
    assert reopened[_by_id(page.demo, "collection")] == gr.skip()
    assert QUESTION in str(reopened[respond.outputs[0]])


def test_the_confirmations_are_in_every_language_and_name_the_collection():
    from ui.collection_picker import CONFIRM_DELETE_JS

    for text in ("Delete the collection {name} and every document in it?", "Supprimer la collection {name}",
                 "Xóa bộ sưu tập {name}", "删除文档集 {name}", "刪除文件集 {name}"):
        assert text in CONFIRM_DELETE_JS
    assert CONFIRM_DELETE_JS.startswith("(name, ...rest) =>")  # the browser's id passes through


def test_a_scoped_question_is_answered_from_the_scope_only(page):
    answers = _fn(page.demo, "respond").outputs[3]
    [answer] = _ask(page, "Combien de suspects le Cambodge a-t-il arrêtés ?", "rag_chunks", documents=[EN])[answers]
    assert _sources(answer) == {EN}
    [answer] = _ask(page, "Combien de suspects le Cambodge a-t-il arrêtés ?", "rag_chunks", languages=["fr"])[answers]
    french = {d.document for d in page.assistant.documents() if d.language == "fr"}
    assert _sources(answer) and _sources(answer) <= french
    names, languages = scope_choices(page.assistant, "en")
    assert len(names) == SEEDS and ("French", "fr") in languages and ("Vietnamese", "vi") in languages


def test_a_scope_that_matches_nothing_is_said_in_the_chat_and_nothing_is_saved(page):
    respond = _fn(page.demo, "respond")
    chat, answers, current = respond.outputs[0], respond.outputs[3], respond.outputs[7]
    out = _ask(page, QUESTION, "rag_chunks", documents=[EN], languages=["vi"])
    shown = out[chat][-1]["content"]
    assert shown.startswith("⚠️ ") and f"no document in 'vi' among '{EN}' in the collection 'rag_chunks'" in shown
    assert out[answers] == gr.skip()  # no answer
    assert page.store.list("browser:b1") == []
    # a document of another collection is not in this one's scope
    shown = _ask(page, QUESTION, "rag_chunks", documents=[QUOKKAS])[chat][-1]["content"]
    assert f"no document named '{QUOKKAS}' in the collection 'rag_chunks'" in shown
    # a collection name the browser made up is refused the same way
    shown = _ask(page, QUESTION, "nope")[chat][-1]["content"]
    assert shown.startswith("⚠️ ") and "no collection named 'nope'" in shown
    assert page.store.list("browser:b1") == []
