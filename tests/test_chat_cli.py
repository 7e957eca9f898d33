"""`rag chat` through a real terminal (a pty) and through a pipe, `--continue`, and `rag conversations`
(list, show, rename, delete): exit codes and exact messages. Fake backends (see conftest); the
subprocess tests keep the index in Chroma, which a second process can read."""
from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time

import pytest

from rag import Assistant, load_settings, open_conversations
from rag.backends.llm import ScriptedLLM
from tests.conftest import ROOT
from ui.cli import main

Q1 = "Myanmar đã trao trả bao nhiêu nghi phạm?"
Q2 = "Còn Lào thì sao?"
PROMPT = "› "


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ingested(seeds_copy, capsys, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    assert main(["ingest", str(seeds_copy)]) == 0
    capsys.readouterr()
    return seeds_copy


def _rag(*argv):
    return [sys.executable, "-m", "ui.cli", *argv]


class Terminal:
    """A process on the slave side of a pty; what it writes is read from the master side."""

    def __init__(self, argv):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                                     start_new_session=True)
        os.close(slave)
        self.raw = b""  # decoded whole: a read may end inside a character

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def read_until(self, predicate, timeout=120) -> str:
        deadline = time.time() + timeout
        while not predicate(self.text):
            if time.time() > deadline:
                raise AssertionError(f"timed out; the terminal shows:\n{self.text}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # the process closed the terminal
                    break
        return self.text

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        code = self.proc.wait(60)
        try:  # what it wrote before leaving
            while select.select([self.master], [], [], 0.2)[0]:
                self.raw += os.read(self.master, 65536)
        except OSError:
            pass
        os.close(self.master)
        return code


@pytest.mark.chroma
def test_chat_in_a_real_terminal_shows_sources_then_the_answer(ingested):
    term = Terminal(_rag("chat"))
    try:
        term.read_until(lambda t: t.endswith(PROMPT))
        assert term.text.startswith("Ask a question in French, English, Vietnamese or Chinese. /help for commands.")
        term.type(Q1)
        shown = term.read_until(lambda t: t.count(PROMPT) >= 2)
        turn = shown.split(PROMPT)[1]
        # the sources (in the asker's language) come first, then the streamed answer citing them
        assert turn.index("Nguồn:\r\n[1] ") < turn.index("Myanmar đã trao trả hơn 5.500 nghi phạm")
        assert turn.rstrip().endswith("(chars 1467-1578)")  # the footer: the cited sentence's span
        term.type("/sources")
        term.read_until(lambda t: t.count(PROMPT) >= 3)
        assert "\r\n    cited: Myanmar đã trao trả hơn 5.500" in term.text.split(PROMPT)[2]
        term.type("/quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    [saved] = open_conversations().list("local")
    assert "saved as conversation " + saved.id[:8] in term.text
    assert [t.question for t in open_conversations().get(saved.id, "local").turns] == [Q1]


@pytest.mark.chroma
def test_chat_through_a_pipe_json_one_object_per_answer(ingested):
    env = {**os.environ}
    done = subprocess.run(_rag("chat", "--json"), input=f"{Q1}\n\n{Q2}\n", capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)
    assert (done.returncode, done.stderr) == (0, "")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in rows] == [Q1, Q2]
    assert rows[0]["citations"] and rows[0]["conversation"] == rows[1]["conversation"]
    saved = open_conversations().get(rows[0]["conversation"], "local")
    assert [t.question for t in saved.turns] == [Q1, Q2]

    # as text: one answer per line of input; the conversation's id on stderr; a failed question: exit 1
    done = subprocess.run(_rag("chat"), input=f"{Q1}\n🔥🤔\n", capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)
    assert done.returncode == 1
    assert done.stdout.startswith("Myanmar đã trao trả hơn 5.500 nghi phạm") and "error: " in done.stdout
    latest = open_conversations().list("local")[0]
    assert done.stderr == (f"saved as conversation {latest.id[:8]}: `rag chat --continue {latest.id[:8]}` "
                           "goes on with it\n")


def test_continue_goes_on_with_the_history(ingested, capsys, monkeypatch):
    from rag import api

    llm = ScriptedLLM(["Hơn 5.500 nghi phạm [1].", "Lào đã bắt bao nhiêu nghi phạm?", "Hơn 600 nghi phạm [1]."])
    monkeypatch.setattr(api, "_default", Assistant(load_settings(), llm=llm))
    code, out, _ = run(capsys, "chat", "--json", stdin=f"{Q1}\n", monkeypatch=monkeypatch)
    cid = json.loads(out)["conversation"]
    code, out, err = run(capsys, "chat", "--continue", cid[:8], "--json", stdin=f"{Q2}\n", monkeypatch=monkeypatch)
    row = json.loads(out)
    assert (code, err) == (0, "") and row["conversation"] == cid
    assert row["standalone_question"] == "Lào đã bắt bao nhiêu nghi phạm?"
    assert Q1 in llm.prompts[1][-1]["content"]  # the rewrite saw the saved first turn
    assert [t.question for t in open_conversations().get(cid, "local").turns] == [Q1, Q2]


def test_continue_an_unknown_conversation(capsys, monkeypatch):
    assert run(capsys, "chat", "--continue", "abcdef12", stdin="", monkeypatch=monkeypatch) == (
        2, "", "error: no conversation 'abcdef12'\n")


def _saved(question="Campuchia?", owner="local"):
    from rag import Answer

    store = open_conversations()
    cid = store.create(owner, "rag_chunks").id
    store.add_turn(cid, owner, question, Answer(question=question, text="Hơn 2.000 [1].", language="vi"))
    return cid


def test_conversations_list_show_rename_delete(capsys):
    assert run(capsys, "conversations") == (0, "no conversations yet: start one with `rag chat`\n", "")
    cid = _saved()
    _saved("Not mine", owner="browser:someone")  # the page's: not listed here
    code, out, _ = run(capsys, "conversations")
    short, when, turns, collection, title = out.rstrip("\n").split("\t")
    assert (code, short, turns, collection, title) == (0, cid[:8], "1 turn", "rag_chunks", "Campuchia?")
    assert [c["id"] for c in json.loads(run(capsys, "conversations", "--json")[1])] == [cid]

    code, out, _ = run(capsys, "conversations", "show", cid[:8])
    assert code == 0 and "## 1. Campuchia?\n\nHơn 2.000 [1].\n" in out and out.startswith("# Cuộc trò chuyện (")
    shown = json.loads(run(capsys, "conversations", "show", cid, "--json")[1])
    assert shown["id"] == cid and shown["turns"][0]["answer"] == "Hơn 2.000 [1]."

    assert run(capsys, "conversations", "rename", cid[:8], "  Campuchia  bắt giữ ") == (
        0, f"renamed conversation {cid[:8]}: Campuchia bắt giữ\n", "")
    assert run(capsys, "conversations", "rename", cid[:8], "  ") == (
        2, "", "error: a conversation's title cannot be empty\n")
    assert run(capsys, "conversations", "delete", cid[:8]) == (
        0, f"deleted conversation {cid[:8]}: Campuchia bắt giữ\n", "")
    assert run(capsys, "conversations", "delete", cid[:8]) == (2, "", f"error: no conversation '{cid[:8]}'\n")
    assert run(capsys, "conversations", "--json")[1].strip() == "[]"


def test_conversation_ids_need_six_characters_and_only_name_ones_own(capsys):
    cid = _saved()
    theirs = _saved(owner="browser:someone")
    assert run(capsys, "conversations", "show", cid[:5]) == (2, "", f"error: no conversation '{cid[:5]}'\n")
    assert run(capsys, "conversations", "show", theirs) == (2, "", f"error: no conversation '{theirs}'\n")
    assert run(capsys, "conversations", "delete", theirs) == (2, "", f"error: no conversation '{theirs}'\n")
    assert open_conversations().get(theirs, "browser:someone")  # untouched


@pytest.mark.chroma
def test_a_conversation_survives_a_restart_and_a_sigkill_mid_answer(ingested):
    """Q1 is answered and saved by one process; a second one goes on with it (a restart), is killed
    while the model is still answering Q2, and the conversation holds Q1 whole and nothing of Q2."""
    from tests.test_openai_backend import Handler, start_server, stop_server

    first = subprocess.run(_rag("chat", "--json"), input=f"{Q1}\n", capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ}, timeout=300)
    assert first.returncode == 0, first.stderr
    cid = json.loads(first.stdout.splitlines()[0])["conversation"]
    srv = start_server()
    Handler.mode, Handler.seen = "stall", []
    Handler.reply = ["Lào ", "đã ", "bắt ", "600 ", "nghi phạm [1]."]  # two deltas, then the model goes quiet
    env = {**os.environ, "RAG_LLM_BACKEND": "openai", "RAG_LLM_TIMEOUT": "60",
           "RAG_LLM_BASE_URL": f"http://127.0.0.1:{srv.server_address[1]}/v1", "RAG_HISTORY_TOKENS": "0"}
    proc = subprocess.Popen(_rag("chat", "--continue", cid[:8]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, env=env, text=True)
    try:
        proc.stdin.write(f"{Q2}\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not Handler.seen and time.monotonic() < deadline:  # the model has the question: mid-answer
            time.sleep(0.1)
        assert Handler.seen, "the answer never started"
        time.sleep(0.5)
        proc.kill()  # SIGKILL
        proc.wait(30)
    finally:
        stop_server(srv)
        Handler.mode, Handler.seen = "ok", []
        from tests.test_openai_backend import REPLY
        Handler.reply = REPLY
    saved = open_conversations().get(cid, "local")
    assert [t.question for t in saved.turns] == [Q1]
    assert saved.turns[0].answer.citations  # the first turn whole, with its citations
