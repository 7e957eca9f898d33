"""Faults: the LLM server down, slow, stalled or cut mid-answer (through ask_stream and the web
chat's turn), and two ingestions at once from two real processes."""
from __future__ import annotations

import os
import subprocess
import sys
import time

# Imported up front: the openai client's first import takes seconds on this machine, and the
# timings below measure how fast a fault is reported, not how long a library takes to import.
import openai.resources.chat  # noqa: F401
import pytest

from rag import Assistant, Delta, Final, Sources, load_settings
from rag.answering.prompts import REWRITE_PROMPT
from rag.errors import BackendUnavailable
from tests.conftest import ROOT, SEEDS
from tests.servers import free_port
from tests.test_crash import check_consistent
from tests.test_openai_backend import Handler, start_server, stop_server
from ui.app import chat_turn

QUESTION = "Campuchia đã bắt giữ bao nhiêu nghi phạm?"
REPLY = ["Campuchia ", "đã bắt giữ ", "2.141 ", "nghi phạm [1]."]
TIMEOUT = 1.0


@pytest.fixture
def llm_server():
    """Yields a controller: .url, .up(mode) starts (or switches) the server, .down() stops it."""

    class Ctl:
        port = free_port()
        url = f"http://127.0.0.1:{port}/v1"
        srv = None

        def up(self, mode="ok"):
            Handler.mode, Handler.reply = mode, REPLY
            if self.srv is None:
                self.srv = start_server(self.port)

        def down(self):
            if self.srv is not None:
                stop_server(self.srv)
                self.srv = None

    ctl = Ctl()
    Handler.seen = []
    yield ctl
    ctl.down()


def assistant_for(make, url: str) -> Assistant:
    base, _ = make()
    settings = load_settings(min_score=-1.0, llm_backend="openai", llm_base_url=url, llm_timeout=TIMEOUT)
    a = Assistant(settings, store=base.store, embedder=base.embedder)
    # Warm: first use loads the language model and the place names (seconds on a busy machine);
    # the timings below measure how fast a fault is reported, not a cold start.
    a.search(QUESTION)
    return a


MODES = [
    ("down", "cannot reach the LLM server at {url}"),
    ("cut", "the LLM server at {url} closed the connection before the answer was complete"),
    ("cut-chunked", "the LLM server at {url} broke off the connection"),
    pytest.param("slow", "the LLM server at {url} did not answer within 1 s", marks=pytest.mark.slow),
    pytest.param("stall", "the LLM server at {url} stopped answering for more than 1 s", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("mode,expected", MODES)
def test_llm_fault_through_ask_stream_then_recovery(make, llm_server, mode, expected):
    a = assistant_for(make, llm_server.url)
    if mode != "down":
        llm_server.up(mode)
    events = []
    t = time.monotonic()
    with pytest.raises(BackendUnavailable) as err:
        for event in a.ask_stream(QUESTION):
            events.append(event)
    elapsed = time.monotonic() - t
    assert str(err.value).startswith(expected.format(url=llm_server.url))
    assert isinstance(events[0], Sources) and events[0].passages  # the sources came first
    assert not any(isinstance(e, Final) for e in events)  # no half answer passed off as an answer
    assert elapsed < TIMEOUT + 1.5

    llm_server.up("ok")  # the server is back: the next question works, on the same Assistant
    answer = a.ask(QUESTION)
    assert not answer.refused and [c.n for c in answer.citations] == [1]


def test_follow_up_with_the_server_down_fails_once_after_the_sources(make, llm_server):
    # The follow-up rewrite also calls the LLM: its failure is reported, not retried by the answer step.
    a = assistant_for(make, llm_server.url)
    history = [("Myanmar đã trao trả bao nhiêu nghi phạm?", "Hơn 5.500 nghi phạm [1].")]
    events = []
    with pytest.raises(BackendUnavailable, match="cannot reach the LLM server"):
        for event in a.ask_stream("Còn Campuchia thì sao?", history):
            events.append(event)
    assert len(events) == 1 and isinstance(events[0], Sources) and events[0].passages


@pytest.mark.parametrize("mode,expected", MODES)
def test_llm_fault_in_the_web_chat_then_recovery(make, llm_server, mode, expected, caplog):
    a = assistant_for(make, llm_server.url)
    if mode != "down":
        llm_server.up(mode)
    t = time.monotonic()
    shown = []  # the assistant's message as it was on screen at each step (the list is mutated)
    for out in chat_turn(a, QUESTION, []):  # an exception escaping would fail the test here
        history = out[0]
        shown.append(history[-1]["content"])
    assert time.monotonic() - t < TIMEOUT + 1.5
    assert [m["role"] for m in history] == ["user", "assistant"]
    last = history[-1]["content"]
    # The page says what to do; which server failed, and how, goes to the server's log.
    assert "the server's log says which and why" in last and llm_server.url not in last and "…" != last
    assert expected.format(url=llm_server.url) in caplog.text
    if mode.startswith("cut"):
        # the partial reply was on screen, then replaced by the message
        assert any(text.startswith("Campuchia đã bắt giữ") for text in shown[:-1])

    llm_server.up("ok")
    # The second turn has history, so the question is rewritten first: that call gets the question back.
    Handler.reply = lambda body: [QUESTION] if body["messages"][0]["content"] == REWRITE_PROMPT else REPLY
    history = list(chat_turn(a, QUESTION, history))[-1][0]
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    assert history[-1]["content"].endswith("[1].")


# --- two ingestions at once ------------------------------------------------------------------

# The first process says when it holds the ingestion lock, then waits (inside it) until the parent
# has run the second one: the two overlap for certain, without guessing at timings.
HOLDING_CHILD = """
import os, sys, time
from contextlib import contextmanager
from rag.ingestion import pipeline as ingest
real_lock = ingest.ingestion_lock
@contextmanager
def announced(settings, nested=False):
    with real_lock(settings, nested):
        print("locked", flush=True)
        deadline = time.monotonic() + 120
        while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield
ingest.ingestion_lock = announced
from ui.cli import main
sys.exit(main(["ingest", sys.argv[1]]))
"""


@pytest.mark.slow
@pytest.mark.chroma  # ingestions in subprocesses: the index must outlive them
def test_second_ingestion_fails_clearly_and_nothing_interleaves(seeds_copy, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    home = os.environ["RAG_HOME"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("Cambodia arrested 2,141 suspects in the joint campaign.\n", encoding="utf-8")

    go = tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", HOLDING_CHILD, str(seeds_copy), str(go)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = first.stdout.readline().strip()
    assert line == "locked", first.communicate()[1]
    second = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(other)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert first.poll() is None  # still holding the lock while the second ran
    go.touch()
    out, err = first.communicate(timeout=120)
    assert second.returncode == 1
    assert second.stderr == (f"error: another ingestion is running on {home} (lock {home}/ingest.lock); "
                             "wait for it to finish\n")
    assert first.returncode == 0, err

    a = Assistant(load_settings())
    check_consistent(a)  # no duplicates, no half documents, side indexes in step
    assert sorted(a.store.documents()) == sorted(p.name for p in SEEDS.glob("*.txt"))
    # once the first is done, the second goes through and adds only its own file
    report = Assistant(load_settings()).ingest([other])
    assert report.added == ("note.txt",)
    check_consistent(Assistant(load_settings()))
