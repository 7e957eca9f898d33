"""One suite for every VectorStore backend: in memory, embedded Chroma and a real `chroma run` server."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from store import ChromaStore, Collections, Hit, MemoryStore, Record, StoreError, StoreUnavailable, VectorStore, open_store
from store import memory
from tests.servers import ServerFailed, chroma_server, free_port

DIM = 384


def vectors(n: int, seed: int = 0) -> np.ndarray:
    """n random unit vectors, the same on every run."""
    rows = np.random.default_rng(seed).standard_normal((n, DIM))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def record(id_: str, document: str, embedding: np.ndarray, text: str | None = None, **metadata) -> Record:
    text = text or f"text of {id_}"
    return Record(id=id_, document=document, text=text, embedding=embedding.tolist(), metadata=metadata)


@contextmanager
def chroma_server_at(directory: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `chroma run` on a free port of 127.0.0.1 until the block ends; its URL and process."""
    try:
        with chroma_server(directory) as (url, process):
            yield url, process
    except ServerFailed as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the whole session; each test uses its own collection on it."""
    with chroma_server_at(tmp_path_factory.mktemp("chroma-server")) as (url, _process):
        yield url


@pytest.fixture(params=["memory", "embedded", pytest.param("server", marks=pytest.mark.slow)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path):
    """A factory of stores on one backend; every call opens the same fresh collection."""
    collection = f"test-{uuid.uuid4().hex}"
    opened: list[VectorStore] = []

    def make(**options) -> VectorStore:
        """`collection=SUFFIX` opens another collection at the same place (`<name>-<SUFFIX>`)."""
        name = collection if "collection" not in options else f"{collection}-{options.pop('collection')}"
        if request.param == "memory":
            options.pop("batch_size", None)  # no batches in memory: paging is Chroma's concern
            store = MemoryStore(location=str(tmp_path), collection=name, **options)
        elif request.param == "embedded":
            store = ChromaStore(path=tmp_path / "chroma", collection=name, **options)
        else:
            store = ChromaStore(url=request.getfixturevalue("chroma_server_url"), collection=name, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store) -> VectorStore:
    return make_store()


def test_is_a_vector_store(store):
    assert isinstance(store, VectorStore)


def test_upsert_overwrites_an_existing_id(store):
    v = vectors(2)
    store.add([record("a", "doc1", v[0], text="old", version=1), record("b", "doc1", v[1])])
    store.add([record("a", "doc2", v[1], text="new", version=2)])

    assert store.count() == 2
    [a] = [hit for hit in store.get_document("doc2")]
    assert (a.id, a.text, a.metadata["version"], a.document) == ("a", "new", 2, "doc2")
    assert [hit.id for hit in store.get_document("doc1")] == ["b"]
    # The vector changed too: "a" is now nearest to v[1].
    assert {hit.id for hit in store.query(v[1].tolist(), 2) if hit.score > 0.999} == {"a", "b"}


def test_the_last_of_repeated_ids_in_one_call_wins(make_store):
    store = make_store(batch_size=1)
    v = vectors(1)
    store.add([record("a", "doc", v[0], text="first"), record("a", "doc", v[0], text="second")])
    assert store.count() == 1
    assert [hit.text for hit in store.get_document("doc")] == ["second"]


def test_query_ranks_nearest_first_with_cosine_scores(store):
    v = vectors(50, seed=1)
    store.add([record(f"r{i}", f"doc{i % 5}", v[i]) for i in range(50)])
    e = v[7]
    noisy = e + 0.05 * vectors(1, seed=2)[0]

    hits = store.query(noisy.tolist(), 5)
    assert [hit.id for hit in hits][0] == "r7"
    assert hits[0].document == "doc2"
    assert hits[0].text == "text of r7"
    assert hits[0].metadata["document"] == "doc2"
    assert hits[0].score == pytest.approx(float(noisy @ e / np.linalg.norm(noisy)), abs=1e-4)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)

    # Cosine, not a distance: the length of the query does not matter.
    assert store.query((3 * e).tolist(), 1)[0].score == pytest.approx(1.0, abs=1e-5)


def test_scores_of_identical_orthogonal_and_opposite_vectors(store):
    e = vectors(1)[0]
    other = vectors(1, seed=3)[0]
    orthogonal = other - (other @ e) * e
    orthogonal /= np.linalg.norm(orthogonal)
    store.add([record("same", "d", e), record("orthogonal", "d", orthogonal), record("opposite", "d", -e)])

    scores = {hit.id: hit.score for hit in store.query(e.tolist(), 3)}
    assert scores == {
        "same": pytest.approx(1.0, abs=1e-5),
        "orthogonal": pytest.approx(0.0, abs=1e-5),
        "opposite": pytest.approx(-1.0, abs=1e-5),
    }


def test_k_larger_than_count_returns_everything(store):
    v = vectors(3)
    store.add([record(f"r{i}", "d", v[i]) for i in range(3)])
    hits = store.query(v[2].tolist(), 10)
    assert len(hits) == 3
    assert hits[0].id == "r2"
    assert store.query(v[0].tolist(), 0) == []


def test_an_empty_store_answers_nothing(store):
    assert store.count() == 0
    assert store.query(vectors(1)[0].tolist(), 5) == []
    assert store.documents() == {}
    assert store.get_document("nothing") == []
    assert store.delete_document("nothing") == 0


def test_where_filters_inside_the_search(store):
    """The k nearest among the records `where` lets through: k of them whenever k match."""
    v = vectors(30)
    store.add([record(f"r{i}", f"doc{i % 3}", v[i], lang="fr" if i % 2 else "en") for i in range(30)])
    nearest_doc2 = store.query(v[0].tolist(), 30, where={"document": ["doc2"]})
    assert len(nearest_doc2) == 10 and {h.document for h in nearest_doc2} == {"doc2"}
    everything = [h for h in store.query(v[0].tolist(), 30) if h.document == "doc2"]
    assert [h.id for h in store.query(v[0].tolist(), 4, where={"document": ["doc2"]})] == [h.id for h in everything[:4]]
    both = store.query(v[0].tolist(), 30, where={"document": ["doc0", "doc1"], "lang": ["fr"]})
    assert {h.id for h in both} == {f"r{i}" for i in range(30) if i % 3 in (0, 1) and i % 2}
    assert store.query(v[0].tolist(), 5, where={"document": ["missing"]}) == []
    assert store.query(v[0].tolist(), 5, where={"document": []}) == []
    with pytest.raises(StoreError, match="'document' must map to a list of values"):
        store.query(v[0].tolist(), 5, where={"document": "doc0"})


def test_collections_are_listed_and_dropped_one_by_one(make_store):
    first, second = make_store(), make_store(collection="second")
    v = vectors(2)
    first.add([record("a", "doc-a", v[0])])
    second.add([record("b", "doc-b", v[1])])
    assert isinstance(first, Collections)
    assert {first.collection, second.collection} <= set(first.collections())
    assert first.collections() == sorted(first.collections()) == second.collections()
    assert [h.id for h in first.query(v[1].tolist(), 5)] == ["a"]  # each sees only its own records
    assert second.drop() is True
    assert second.collection not in first.collections() and first.collection in first.collections()
    assert first.count() == 1 and second.drop() is False
    assert second.count() == 0  # usable again, empty: opening a collection creates it


def test_delete_document_removes_exactly_its_records(store):
    v = vectors(7)
    store.add([record(f"a{i}", "a.txt", v[i]) for i in range(4)])
    store.add([record(f"b{i}", "b.txt", v[4 + i]) for i in range(3)])

    assert store.delete_document("a.txt") == 4
    assert store.count() == 3
    assert set(store.documents()) == {"b.txt"}
    assert store.query(v[0].tolist(), 10)[0].id.startswith("b")
    assert store.delete_document("a.txt") == 0


def test_documents_and_get_document(store):
    v = vectors(5)
    store.add([record(f"a{i}", "a.txt", v[i], chunk=i, language="en") for i in range(3)])
    store.add([record(f"b{i}", "b.txt", v[3 + i], chunk=i, language="zh") for i in range(2)])

    documents = store.documents()
    assert set(documents) == {"a.txt", "b.txt"}
    assert sorted(m["chunk"] for m in documents["a.txt"]) == [0, 1, 2]
    assert {m["language"] for m in documents["b.txt"]} == {"zh"}
    assert all(m["document"] == "b.txt" for m in documents["b.txt"])

    hits = sorted(store.get_document("a.txt"), key=lambda hit: hit.id)
    assert [hit.id for hit in hits] == ["a0", "a1", "a2"]
    assert all(isinstance(hit, Hit) and hit.score == 1.0 and hit.document == "a.txt" for hit in hits)
    assert [hit.text for hit in hits] == ["text of a0", "text of a1", "text of a2"]
    assert hits[1].metadata == {"chunk": 1, "language": "en", "document": "a.txt"}


def test_more_records_than_one_batch(make_store):
    store = make_store(batch_size=3)
    v = vectors(10)
    store.add([record(f"r{i}", f"doc{i % 2}", v[i]) for i in range(10)])

    assert store.count() == 10
    # documents() and get_document() page through results 3 at a time.
    documents = store.documents()
    assert {doc: len(metadatas) for doc, metadatas in documents.items()} == {"doc0": 5, "doc1": 5}
    assert sorted(hit.id for hit in store.get_document("doc1")) == [f"r{i}" for i in (1, 3, 5, 7, 9)]
    assert store.query(v[9].tolist(), 1)[0].id == "r9"


def test_records_survive_reopening(make_store):
    v = vectors(2)
    first = make_store()
    first.add([record("a", "kept.txt", v[0]), record("b", "kept.txt", v[1])])
    first.close()

    again = make_store()
    assert again.count() == 2
    assert again.query(v[1].tolist(), 1)[0].id == "b"


def test_metadata_must_be_scalar(store):
    with pytest.raises(StoreError, match="'tags'"):
        store.add([record("a", "d", vectors(1)[0], tags=["x", "y"])])
    assert store.count() == 0


def test_a_wrong_dimension_is_a_store_error(store):
    store.add([record("a", "d", vectors(1)[0])])
    with pytest.raises(StoreError, match="dimension"):
        store.query([1.0, 0.0, 0.0], 1)


def test_describe(tmp_path):
    assert ChromaStore(path=tmp_path).describe() == f"embedded Chroma at {tmp_path}"
    assert ChromaStore(url="http://localhost:8000/").describe() == "Chroma server at http://localhost:8000"


def test_open_store_prefers_the_url(tmp_path):
    assert open_store(tmp_path, "https://chroma.example:8443", "c").url == "https://chroma.example:8443"
    assert open_store(tmp_path, None, "c").path == tmp_path
    with pytest.raises(StoreError):
        open_store(None, None, "c")


def test_open_store_by_backend_name(tmp_path):
    memory = open_store(tmp_path, None, "c", backend="memory")
    assert isinstance(memory, MemoryStore) and memory.describe() == f"in-memory store ({tmp_path})"
    with pytest.raises(StoreError, match="cannot use the server at http://chroma.example:8000"):
        open_store(tmp_path, "http://chroma.example:8000", "c", backend="memory")
    with pytest.raises(StoreError, match="unknown store backend 'faiss'; known: chroma, memory"):
        open_store(tmp_path, None, "c", backend="faiss")


def test_memory_stores_share_records_by_location_and_collection(tmp_path):
    v = vectors(2)
    MemoryStore(str(tmp_path), "c").add([record("a", "d", v[0])])
    assert MemoryStore(str(tmp_path), "c").count() == 1
    assert MemoryStore(str(tmp_path), "other").count() == 0
    assert MemoryStore(str(tmp_path / "elsewhere"), "c").count() == 0
    memory.forget(str(tmp_path))
    assert MemoryStore(str(tmp_path), "c").count() == 0


def test_stored_records_cannot_be_changed_through_a_hit(store):
    store.add([record("a", "d", vectors(1)[0], n=1)])
    store.get_document("d")[0].metadata["n"] = 2
    store.documents()["d"][0]["n"] = 3
    assert store.get(["a"])[0].metadata["n"] == 1


def test_nothing_listening_is_store_unavailable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    store = ChromaStore(url=url, timeout=5)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        store.count()
    assert time.monotonic() - started < 15
    message = str(raised.value)
    assert url in message
    assert "chroma run --path" in message


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (the backlog does), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="no answer in time") as raised:
            ChromaStore(url=url, timeout=1).count()
        assert time.monotonic() - started < 10
        assert url in str(raised.value)


@pytest.mark.slow
def test_a_server_that_stops_is_store_unavailable(tmp_path):
    with chroma_server_at(tmp_path) as (url, process):
        store = ChromaStore(url=url, collection="stopping")
        store.add([record("a", "d", vectors(1)[0])])
        process.terminate()
        process.wait(timeout=10)
        with pytest.raises(StoreUnavailable) as raised:
            store.count()
    assert url in str(raised.value)


@pytest.mark.slow
def test_a_frozen_server_times_out(tmp_path):
    """A server that accepts connections but never answers (SIGSTOP) costs `timeout`, not forever."""
    with chroma_server_at(tmp_path) as (url, process):
        connected = ChromaStore(url=url, collection="frozen", timeout=1)
        assert connected.count() == 0
        process.send_signal(signal.SIGSTOP)
        # Without a timeout the call would hang: thaw the server after 30 s so that the test fails instead
        # (late enough that a loaded machine's slow client start does not thaw it before the calls).
        thaw = threading.Timer(30, process.send_signal, (signal.SIGCONT,))
        thaw.start()
        try:
            for store in (connected, ChromaStore(url=url, collection="frozen", timeout=1)):
                started = time.monotonic()
                with pytest.raises(StoreUnavailable, match="no answer in time"):
                    store.count()
                assert time.monotonic() - started < 5
        finally:
            thaw.cancel()
            process.send_signal(signal.SIGCONT)


def test_a_collection_that_is_not_cosine_is_refused(tmp_path):
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    client.create_collection("euclid", embedding_function=None, configuration={"hnsw": {"space": "l2"}})
    with pytest.raises(StoreError, match="'l2', not cosine"):
        ChromaStore(path=tmp_path, collection="euclid").count()


def test_a_collection_deleted_behind_our_back_is_recreated(tmp_path):
    import chromadb
    from chromadb.config import Settings

    store = ChromaStore(path=tmp_path, collection="doomed")
    store.add([record("a", "d", vectors(1)[0])])
    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    client.delete_collection("doomed")
    with pytest.raises(StoreError, match="does not exist"):
        store.count()
    assert store.count() == 0
    store.add([record("b", "d", vectors(1)[0])])
    assert store.count() == 1


@pytest.mark.parametrize(
    "url",
    ["localhost:8000", "ftp://localhost:8000", "http://", "http://localhost:port", "http://localhost:99999",
     "http://localhost:8000/api", "http://localhost:8000?x=1"],
)
def test_an_invalid_url_is_a_store_error(url):
    with pytest.raises(StoreError, match="invalid Chroma server URL") as raised:
        ChromaStore(url=url)
    assert url in str(raised.value)
    assert not isinstance(raised.value, StoreUnavailable)


def test_exactly_one_of_path_or_url(tmp_path):
    with pytest.raises(StoreError):
        ChromaStore()
    with pytest.raises(StoreError):
        ChromaStore(path=tmp_path, url="http://localhost:8000")


def test_importing_store_imports_no_chromadb_and_goes_offline():
    code = (
        "import os, sys, store; "
        "print('chromadb' in sys.modules, os.environ['HF_HUB_OFFLINE'], os.environ['ANONYMIZED_TELEMETRY'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "ANONYMIZED_TELEMETRY")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.split() == ["False", "1", "False"]


def test_get_by_ids_in_order_with_cosine_scores(store):
    vecs = vectors(3, seed=7)
    store.add([Record(f"id{i}", "doc", f"t{i}", vecs[i], {"n": i}) for i in range(3)])
    hits = store.get(["id2", "missing", "id0"], embedding=vecs[2])
    assert [h.id for h in hits] == ["id2", "id0"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(float(vecs[0] @ vecs[2]), abs=1e-5)
    assert hits[0].text == "t2" and hits[0].metadata["n"] == 2
    assert store.get([]) == []
    assert [h.score for h in store.get(["id1"])] == [1.0]


class RecordingCollection:
    """A Chroma collection that notes how many records each write, delete and read asked for."""

    def __init__(self, inner) -> None:
        self._inner, self.calls = inner, []

    def upsert(self, ids, **kw):
        self.calls.append(("upsert", len(ids)))
        return self._inner.upsert(ids=ids, **kw)

    def delete(self, ids=None, **kw):
        self.calls.append(("delete", len(ids) if ids is not None else None))
        return self._inner.delete(ids=ids, **kw)

    def get(self, ids=None, limit=None, **kw):
        self.calls.append(("get", len(ids) if ids is not None else limit))
        return self._inner.get(ids=ids, limit=limit, **kw)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_embedded_chroma_is_called_in_short_calls_in_a_serving_process(tmp_path):
    # Each embedded call holds the GIL throughout: in a process that serves requests, a long document
    # is written, read and deleted in calls of a bounded size, so the server's other threads get their
    # turn in between; elsewhere (rag ingest, the Python API) the calls stay long, which is faster.
    from store import chroma

    store = ChromaStore(path=tmp_path / "chroma", collection="short-calls")
    store.count()  # opens the collection with the client's own batch limit (thousands)
    spy = store._collection = RecordingCollection(store._collection)
    n = 3 * chroma.EMBEDDED_WRITE_BATCH + 5
    v = vectors(n)
    store.add([record(f"r{i}", "long.txt", v[i]) for i in range(n)])
    assert [k for k, _ in spy.calls] == ["upsert"]  # not serving: one call
    spy.calls.clear()
    chroma.share_the_gil()
    try:
        store.add([record(f"r{i}", "long.txt", v[i]) for i in range(n)])
        assert len(store.get_document("long.txt")) == n
        assert store.delete_document("long.txt") == n and store.count() == 0
    finally:
        chroma.share_the_gil(False)
    sizes = {kind: [size for k, size in spy.calls if k == kind] for kind in ("upsert", "get", "delete")}
    assert len(sizes["upsert"]) == 4 and max(sizes["upsert"]) == chroma.EMBEDDED_WRITE_BATCH
    assert len(sizes["delete"]) == 4 and max(sizes["delete"]) == chroma.EMBEDDED_WRITE_BATCH
    assert sizes["get"] and all(size is not None and size <= chroma.EMBEDDED_READ_PAGE for size in sizes["get"])

def test_nearest_and_scores_give_query_and_get_scores_without_the_records(store):
    v = vectors(30, seed=3)
    store.add([record(f"r{i}", f"doc{i % 3}", v[i]) for i in range(30)])
    q = (v[4] + 0.1 * vectors(1, seed=4)[0]).tolist()
    assert store.nearest(q, 6) == [(h.id, h.score) for h in store.query(q, 6)]
    scoped = store.nearest(q, 6, where={"document": ["doc1"]})
    assert scoped == [(h.id, h.score) for h in store.query(q, 6, where={"document": ["doc1"]})]
    assert {i for i, _ in scoped} <= {f"r{i}" for i in range(1, 30, 3)}
    assert store.nearest(q, 0) == [] and store.nearest(q, 5, where={"document": []}) == []
    assert store.scores(["r2", "missing", "r9"], q) == {h.id: h.score for h in store.get(["r2", "r9"], embedding=q)}
    assert store.scores([], q) == {}
