"""`RAG_LLM_BACKEND=openai` against a real `python -m llama_cpp.server` serving the packaged GGUF.

The loopback SSE server in test_openai_backend.py pins the protocol details; this one checks that
the real llama.cpp server (what docs/deploy.md recommends on a CPU) answers through `Assistant`,
streaming for real: deltas arrive spread out in time, before the final answer.
"""
from __future__ import annotations

import time

import pytest

from rag import Assistant, Delta, Final, Sources, load_settings
from rag.backends.llm import OpenAILLM
from tests.servers import llama_server

QUESTION = "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server] (the `local` extra)")
    from rag.backends.model_file import ensure_model

    model = ensure_model(tmp_path_factory.mktemp("model"), progress=False)
    logs = tmp_path_factory.mktemp("llama-server")
    with llama_server(model, logs, threads=2, model_alias="qwen-test") as url:
        yield url, logs / "llama_server.log"


@pytest.mark.slow
def test_ask_and_ask_stream_through_llama_cpp_server(server, make):
    url, log = server
    base, _ = make()  # the ingested seeds (fake embedder: retrieval is not what is tested here)
    settings = load_settings(llm_backend="openai", llm_base_url=url, llm_model="qwen-test",
                             min_score=-1.0, max_answer_tokens=40)
    a = Assistant(settings, store=base.store, embedder=base.embedder)
    assert isinstance(a.llm, OpenAILLM)

    started = time.monotonic()
    events = [(time.monotonic() - started, e) for e in a.ask_stream(QUESTION)]
    kinds = [type(e).__name__ for _, e in events]
    assert kinds[0] == "Sources" and kinds[-1] == "Final"
    deltas = [(t, e) for t, e in events if isinstance(e, Delta)]
    # Streamed, not buffered: several deltas, the first well before the last and before the Final.
    assert len(deltas) >= 3, kinds
    assert deltas[-1][0] - deltas[0][0] > 0.05
    assert deltas[0][0] < events[-1][0]
    streamed = events[-1][1].answer
    assert streamed.question == QUESTION and "".join(e.text for _, e in deltas).strip()

    answer = a.ask(QUESTION)
    # Temperature 0 and the same prompt: the same answer whichever way it was asked.
    assert answer.text == streamed.text and answer.refused == streamed.refused
    assert isinstance(events[0][1], Sources) and isinstance(events[-1][1], Final)
    # The requests really went to the server (uvicorn's access log), one per question.
    assert log.read_text().count("POST /v1/chat/completions") == 2
