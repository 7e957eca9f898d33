"""The conversation store: turns saved whole, owners kept apart, survival across processes and a
SIGKILL in the middle of writing."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from rag.conversations import ConversationStore, answer_from_json, answer_to_json
from rag.errors import ConversationNotFound, InvalidInput
from rag.settings import load_settings
from rag.types import Answer, Citation, Passage
from tests.conftest import ROOT

P1 = Passage("doc.txt:0", "doc.txt", "vi", "Campuchia đã bắt giữ 2.141 nghi phạm.", 10, 47, 0.81)
ANSWER = Answer(
    question="Campuchia đã bắt giữ bao nhiêu nghi phạm?",
    text="Campuchia đã bắt giữ 2.141 nghi phạm [1].",
    language="vi",
    citations=(Citation(1, "doc.txt", "vi", P1.text, 10, 47, 0.81, P1, ("2.141",)),),
    related=(P1,),
    notices=("note",),
    flags=("ungrounded_number",),
    standalone_question="Campuchia đã bắt giữ bao nhiêu nghi phạm?",
)
REFUSED = Answer(question="?", text="Tôi không tìm thấy câu trả lời.", language="vi", refused=True, related=(P1,))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The store on each database the product supports: a SQLite file, and a real PostgreSQL."""
    if request.param == "sqlite":
        s = ConversationStore(tmp_path / "conversations.sqlite")
    else:
        s = ConversationStore(load_settings(database_url=request.getfixturevalue("postgres_url")).database)
    yield s
    s.close()


@pytest.mark.parametrize("answer", [ANSWER, REFUSED], ids=["cited", "refused"])
def test_an_answer_comes_back_exactly_as_it_was_shown(answer):
    assert answer_from_json(answer_to_json(answer)) == answer


def test_turns_are_kept_in_order_with_the_first_question_as_title(store):
    c = store.create("alice", "rag_chunks")
    store.add_turn(c.id, "alice", "Campuchia đã bắt giữ bao nhiêu nghi phạm?", ANSWER)
    store.add_turn(c.id, "alice", "Còn Lào thì sao?", REFUSED)
    got = store.get(c.id, "alice")
    assert [t.question for t in got.turns] == ["Campuchia đã bắt giữ bao nhiêu nghi phạm?", "Còn Lào thì sao?"]
    assert got.turns[0].answer == ANSWER and got.turns[1].answer == REFUSED
    assert got.title == "Campuchia đã bắt giữ bao nhiêu nghi phạm?"
    assert got.history == [(ANSWER.question, ANSWER.text), ("Còn Lào thì sao?", REFUSED.text)]
    assert [(i.id, i.turns) for i in store.list("alice")] == [(c.id, 2)]


def test_owners_never_see_each_others_conversations(store):
    a = store.create("alice", "rag_chunks")
    store.add_turn(a.id, "alice", "q", ANSWER)
    assert store.list("bob") == []
    for call in (lambda: store.get(a.id, "bob"), lambda: store.add_turn(a.id, "bob", "q", ANSWER),
                 lambda: store.rename(a.id, "bob", "mine now")):
        with pytest.raises(ConversationNotFound):
            call()
    assert store.delete(a.id, "bob") is False
    assert store.get(a.id, "alice").title == "q"


def test_rename_delete_and_list_order(store):
    first = store.create("alice", "one")
    second = store.create("alice", "two")
    store.add_turn(first.id, "alice", "later question", ANSWER)  # now the most recently used
    assert [c.id for c in store.list("alice")] == [first.id, second.id]
    assert [c.id for c in store.list("alice", collection="two")] == [second.id]
    store.rename(second.id, "alice", "  Lào   và Myanmar ")
    assert store.get(second.id, "alice").title == "Lào và Myanmar"
    with pytest.raises(InvalidInput):
        store.rename(second.id, "alice", "   ")
    assert store.delete(first.id, "alice") is True
    assert [c.id for c in store.list("alice")] == [second.id]
    with pytest.raises(ConversationNotFound):
        store.get(first.id, "alice")


def test_a_long_first_question_makes_a_short_title(store):
    c = store.create("alice", "rag_chunks")
    store.add_turn(c.id, "alice", "mot " * 60, ANSWER)
    title = store.get(c.id, "alice").title
    assert len(title) <= 80 and title.endswith("…")


def test_a_second_process_sees_what_the_first_wrote(tmp_path):
    path = tmp_path / "c.sqlite"
    a = ConversationStore(path)
    c = a.create("alice", "rag_chunks")
    a.add_turn(c.id, "alice", "q", ANSWER)
    a.close()
    b = ConversationStore(path)  # a restarted server opens the same file
    assert b.get(c.id, "alice").turns[0].answer == ANSWER


# A child writes turns as fast as it can and says how many it committed; the parent SIGKILLs it
# while it writes. Every turn that exists afterwards must be whole.
WRITER = """
import sys
from rag.conversations import ConversationStore
from tests.test_conversations import ANSWER
s = ConversationStore(sys.argv[1])
c = s.create("alice", "rag_chunks")
print(c.id, flush=True)
i = 0
while True:
    s.add_turn(c.id, "alice", f"question {i}", ANSWER)
    i += 1
"""


def test_sigkill_while_writing_leaves_only_whole_turns(tmp_path):
    path = tmp_path / "c.sqlite"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    cid = child.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until it has written some turns, then kill it mid-stream
        time.sleep(0.3)
        if path.exists() and ConversationStore(path).list("alice") and ConversationStore(path).list("alice")[0].turns > 5:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    got = ConversationStore(path).get(cid, "alice")
    assert len(got.turns) > 5
    assert [t.question for t in got.turns] == [f"question {i}" for i in range(len(got.turns))]
    assert all(t.answer == ANSWER for t in got.turns)


def test_an_id_may_be_shortened_to_a_unique_prefix_of_six(store):
    cid = store.create("ana", "rag_chunks").id
    assert store.resolve(cid, "ana") == cid == store.resolve(cid[:6].upper(), "ana")
    for bad in (cid[:5], "zzzzzz", cid + "0"):
        with pytest.raises(ConversationNotFound):
            store.resolve(bad, "ana")
    with pytest.raises(ConversationNotFound):
        store.resolve(cid, "bob")  # another owner's id names nothing


def test_a_retried_answer_takes_the_last_turns_place(store):
    cid = store.create("ana", "rag_chunks").id
    store.add_turn(cid, "ana", ANSWER.question, REFUSED)
    store.add_turn(cid, "ana", ANSWER.question, ANSWER, replaces_last=True)
    assert store.get(cid, "ana").answers == [ANSWER]
    store.add_turn(cid, "ana", "?", REFUSED)
    assert len(store.get(cid, "ana").turns) == 2


def test_open_conversations_is_the_configured_database(tmp_path, postgres_url):
    from rag import open_conversations

    cid = open_conversations(load_settings()).create("ana", "rag_chunks").id  # by default, SQLite in RAG_HOME
    with closing(sqlite3.connect(tmp_path / "home" / "rag.sqlite")) as db:
        assert db.execute("SELECT id FROM conversations").fetchall() == [(cid,)]
    shared = open_conversations(load_settings(database_url=postgres_url))
    assert shared.list("ana") == []
    other = shared.create("ana", "rag_chunks").id
    assert [c.id for c in open_conversations(load_settings(database_url=postgres_url)).list("ana")] == [other]


def test_two_workers_sharing_postgresql_continue_each_others_conversations(postgres_url):
    """Two processes' stores on one PostgreSQL database: a turn written by one is read by the other."""
    url = load_settings(database_url=postgres_url).database
    a = ConversationStore(url)
    c = a.create("alice", "rag_chunks")
    a.add_turn(c.id, "alice", "q1", ANSWER)
    child = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom rag.conversations import ConversationStore\nfrom tests.test_conversations import ANSWER\n"
        "s = ConversationStore(sys.argv[1])\nassert s.get(sys.argv[2], 'alice').turns[0].answer == ANSWER\n"
        "s.add_turn(sys.argv[2], 'alice', 'q2', ANSWER)"), url, c.id], cwd=ROOT, capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert [t.question for t in a.get(c.id, "alice").turns] == ["q1", "q2"]
