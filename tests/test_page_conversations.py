"""The page's saved conversations, at the function level with the fake backends: each answered turn
saved under its owner (signed-in user, else browser), reopened exactly as it was shown, continued
with its history, renamed, exported, deleted, and never shown to another owner. The same in a real
browser: tests/test_browser.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag import ConversationNotFound, ConversationStore
from ui.app import create_app
from ui.chat import chat_turn, retrieved_passages
from rag.settings import load_settings
from ui.conversations import browser_secret, choices, listed, owner_of, restore, save_turn

Q1 = "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"
Q2 = "Còn Lào thì sao?"


def request(user: str | None = None):
    return SimpleNamespace(username=user, headers={"accept-language": "vi-VN,vi;q=0.9"})


@pytest.fixture
def store(tmp_path):
    s = ConversationStore(tmp_path / "conversations.sqlite")
    yield s
    s.close()


def test_the_owner_is_the_signed_in_user_else_the_browser():
    assert owner_of(request("ana"), "b1") == "user:ana"  # the same account in any browser
    assert owner_of(request(), "b1") == "browser:b1"
    assert owner_of(request(), "") is None  # a browser whose id is not made yet: nothing saved
    assert owner_of(None, "b1") == "browser:b1"


def test_a_reopened_conversation_shows_what_was_shown(make, store):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    *_, (history, _, panel, answer) = chat_turn(assistant, Q1, [])
    cid = save_turn(store, "browser:b1", None, "rag_chunks", Q1, answer)
    messages, answers, restored_panel, conversation = restore(store, "browser:b1", cid)
    assert messages == history  # the chat, its answer's markdown included
    assert restored_panel == panel  # the sources panel, cited span marked, passages in their order
    assert answers == [answer] and conversation.title == Q1


def test_retrieved_passages_put_cited_ones_back_at_their_number(make):
    assistant, _ = make(["Lào [2], Myanmar [1]."])
    passages = []
    for event in assistant.ask_stream(Q1):
        passages = getattr(event, "passages", passages)
        answer = getattr(event, "answer", None)
    assert {c.n for c in answer.citations} == {1, 2}
    assert retrieved_passages(answer) == list(passages)


def test_two_browsers_never_see_each_others_conversations(make, store):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."] * 2)
    *_, (_, _, _, answer) = chat_turn(assistant, Q1, [])
    mine = save_turn(store, owner_of(request(), "b1"), None, "rag_chunks", Q1, answer)
    assert [c.id for c in listed(store, "browser:b1")] == [mine]
    assert listed(store, "browser:b2") == [] and listed(store, "user:b1") == []
    with pytest.raises(ConversationNotFound):
        restore(store, "browser:b2", mine)
    # a save under another owner with that id starts a conversation of its own, never writes into mine
    theirs = save_turn(store, "browser:b2", mine, "rag_chunks", Q1, answer)
    assert theirs != mine and len(store.get(mine, "browser:b1").turns) == 1


def test_the_list_shows_title_and_date_most_recent_first(store):
    from rag import Answer

    a = store.create("browser:b1", "rag_chunks", "First").id
    b = store.create("browser:b1", "rag_chunks", "Second").id
    store.add_turn(a, "browser:b1", "?", Answer(question="?", text="…", language="en"))
    labels = choices(listed(store, "browser:b1"))
    assert [cid for _, cid in labels] == [a, b]
    title, when = labels[0][0].split("\n")
    assert title == "First" and len(when) == len("2025-01-02 13:45")


def test_browser_secret_is_kept_in_the_database(tmp_path, postgres_url):
    from rag.database import engine

    first = browser_secret(load_settings())
    engine.forget()  # a restart
    assert first == browser_secret(load_settings()) and len(first) >= 24
    assert browser_secret(load_settings(home=tmp_path / "other")) != first  # another library, another key
    # Two workers with their own data directories on one shared database: one key.
    shared = browser_secret(load_settings(home=tmp_path / "w1", database_url=postgres_url))
    assert browser_secret(load_settings(home=tmp_path / "w2", database_url=postgres_url)) == shared != first


def test_a_former_key_file_becomes_the_databases_key(tmp_path):
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "page-secret").write_text("an-older-key-of-this-data-directory\n", encoding="utf-8")
    assert browser_secret(load_settings()) == "an-older-key-of-this-data-directory"


# -- the page's events, called as Gradio calls them ------------------------------------------------

def _fn(demo, name):
    # the first event that runs it (respond runs for the button and for Enter alike)
    return next(f for f in demo.fns.values() if f.name == name)


def _ask(demo, question, chat, answers, current, browser_id, user=None):
    f = _fn(demo, "respond")
    *_, last = f.fn(question, chat, answers, current, browser_id, request(user))
    return dict(zip([o._id for o in f.outputs], last)), f.outputs


def test_the_page_saves_each_turn_reopens_and_continues_per_browser(make, tmp_path):
    assistant, llm = make(["Hơn 5.500 nghi phạm [1].", "Lào đã bắt bao nhiêu nghi phạm?", "Hơn 600 nghi phạm [1]."])
    store = ConversationStore(tmp_path / "page.sqlite")
    demo = create_app(assistant, conversations=store)
    chat, box, sources, answers, pick, translation, viewer, current, saved, none_yet, manage, title, _ = \
        _fn(demo, "respond").outputs

    out, _ = _ask(demo, Q1, [], [], None, "b1")
    cid = out[current._id]
    assert cid and [c.id for c in store.list("browser:b1")] == [cid]  # saved once answered
    assert out[saved._id]["value"] == cid and out[saved._id]["choices"][0][1] == cid
    assert out[title._id]["value"] == Q1 and out[manage._id]["visible"] is True

    # a reload: the page starts empty, the list is there, and reopening puts the conversation back
    start = _fn(demo, "start")
    browser_id, listing, empty_note = start.fn("b1", request())
    assert browser_id == "b1" and [c for _, c in listing["choices"]] == [cid] and empty_note["visible"] is False
    reopened = dict(zip([o._id for o in _fn(demo, "reopen").outputs], _fn(demo, "reopen").fn(cid, "b1", request())))
    assert reopened[chat._id] == out[chat._id] and reopened[sources._id] == out[sources._id]
    assert reopened[current._id] == cid and [a.question for a in reopened[answers._id]] == [Q1]

    # a follow-up in the reopened conversation sees its history and is saved into it
    out2, _ = _ask(demo, Q2, reopened[chat._id], reopened[answers._id], cid, "b1")
    assert out2[current._id] == cid
    assert Q1 in llm.prompts[1][-1]["content"]  # the rewrite of the follow-up saw the first turn
    assert [t.question for t in store.get(cid, "browser:b1").turns] == [Q1, Q2]

    # another browser: a new id on its first load, an empty list, and no way into b1's conversation
    new_id, listing2, note2 = start.fn("", request())
    assert new_id and new_id != "b1" and listing2["choices"] == [] and note2["visible"] is True
    other = _fn(demo, "reopen").fn(cid, new_id, request())
    assert other[0] == [] and other[7] is None  # an empty chat, nothing open


def test_the_page_renames_exports_and_deletes_the_open_conversation(make, tmp_path):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    store = ConversationStore(tmp_path / "page.sqlite")
    demo = create_app(assistant, conversations=store)
    out, outputs = _ask(demo, Q1, [], [], None, None, user="ana")
    cid = out[outputs[7]._id]
    assert store.list("user:ana")[0].id == cid  # signed in: the user's, whichever browser

    side = _fn(demo, "rename_open").fn(cid, "  Nghi phạm  ", "", request("ana"))
    assert store.get(cid, "user:ana").title == "Nghi phạm" and side[4]["value"] == "Nghi phạm"
    assert side[1]["choices"][0][0].startswith("Nghi phạm\n")

    exported = _fn(demo, "export_open").fn(cid, "", request("ana"))
    text = open(exported["value"], encoding="utf-8").read()
    assert exported["visible"] and f"## 1. {Q1}" in text and "[^1-1]:" in text
    assert _fn(demo, "export_open").fn(cid, "", request("bob"))["visible"] is False  # not bob's

    # a declined confirmation sends no title: nothing changes
    assert all(v is not None for v in _fn(demo, "delete_open").fn(cid, "", "", request("ana")))
    assert store.list("user:ana")
    _fn(demo, "delete_open").fn(cid, "", "Nghi phạm", request("bob"))  # not bob's: untouched
    assert store.list("user:ana")
    cleared = _fn(demo, "delete_open").fn(cid, "", "Nghi phạm", request("ana"))
    assert store.list("user:ana") == [] and cleared[0] == [] and cleared[7] is None


def test_retry_replaces_the_saved_turn(make, tmp_path):
    assistant, _ = make(["Hơn 5.000 nghi phạm [1].", "Hơn 5.500 nghi phạm [1]."])
    store = ConversationStore(tmp_path / "page.sqlite")
    demo = create_app(assistant, conversations=store)
    out, outputs = _ask(demo, Q1, [], [], None, "b1")
    cid = out[outputs[7]._id]
    retry = _fn(demo, "retry")
    *_, last = retry.fn(out[outputs[0]._id], out[outputs[3]._id], cid, "b1", request())
    [turn] = store.get(cid, "browser:b1").turns
    assert turn.answer.text == "Hơn 5.500 nghi phạm [1]." and last[7] == cid


def test_a_question_asked_before_the_browser_has_its_id_is_saved_under_a_new_one(make, tmp_path):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    store = ConversationStore(tmp_path / "page.sqlite")
    demo = create_app(assistant, conversations=store)
    out, outputs = _ask(demo, Q1, [], [], None, "")
    made = out[outputs[12]._id]  # written to the browser's localStorage with the answer
    assert made and [c.id for c in store.list(f"browser:{made}")] == [out[outputs[7]._id]]
