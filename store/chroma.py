"""The Chroma implementation of `VectorStore`: embedded (a directory) or a server (a URL).

chromadb is imported on first use, never at import time. Every chromadb or httpx exception is turned
into `StoreError`, or `StoreUnavailable` when the server cannot be reached, before it leaves this module.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .base import Hit, Record, Scalar, Where
from .errors import StoreError, StoreUnavailable
from .records import as_vector, checked_where, latest_by_id, make_hit, stored_metadata

DEFAULT_COLLECTION = "rag_chunks"
FALLBACK_BATCH_SIZE = 1000
# Embedded Chroma runs in this process, and each of its calls holds the GIL from start to end
# (about 10 ms a call plus 0.5 ms a record written; a read of 5,000 records up to 0.4 s; a delete of
# 3,000 records 0.4 s; three to four times that on a loaded machine). Every other thread, a server's
# answers included, waits meanwhile; so in a process that serves requests (`share_the_gil()`, called
# by `rag serve`) calls are kept short, and after each one the GIL is left free for a share of its
# time. Without that pause a waiting thread gets the GIL back for 5 ms (the switch interval) between
# two calls, so a request needing 20 ms waits for four calls; with it, it gets its turn in one or
# two. What it costs: ingestion about 25-50% slower when the store's writes dominate, which is why
# `rag ingest` and the Python API, with nobody waiting, keep the long calls. Measured with
# bench/gil_probe.py and tests/test_hostile_server.py (docs/reliability.md). A server's calls only
# wait on a socket (the GIL is free) and keep the server's limits, with no pause.
EMBEDDED_WRITE_BATCH = 64  # records written (or deleted) per call: about 40 ms
EMBEDDED_READ_PAGE = 1000  # records read per call: about 30 ms
EMBEDDED_YIELD = 0.25  # the pause after a call, as a share of the call's time

_sharing = threading.Event()  # set in a process that serves requests


def share_the_gil(on: bool = True) -> None:
    """Say that this process serves requests, so embedded stores write in short calls and pause
    after each (see above); off again with `on=False`."""
    _sharing.set() if on else _sharing.clear()


class ChromaStore:
    """Records in one Chroma collection, compared by cosine similarity.

    Give exactly one of `path` (embedded Chroma, stored in that directory) or `url`
    (`http[s]://host[:port]` of a `chroma run` server). Nothing is opened here: the client and the
    collection are created on first use, and a server that cannot be reached raises
    `StoreUnavailable` then. `timeout` (seconds, server only) bounds the wait for a connection or for
    one reply. `batch_size` overrides the client's maximum batch size (used for writes and for
    paging reads); tests force a small one. Embedded, writes and reads are cut smaller still
    (EMBEDDED_WRITE_BATCH, EMBEDDED_READ_PAGE): one large call would hold the GIL throughout.

    Chroma's "documents" field holds a record's text; the document a record belongs to is stored in
    its metadata under "document".
    """

    def __init__(
        self,
        path: Path | str | None = None,
        url: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        timeout: float = 10.0,
        batch_size: int | None = None,
    ) -> None:
        if (path is None) == (url is None):
            raise StoreError("give exactly one of a path (embedded Chroma) or a URL (Chroma server)")
        if timeout <= 0:
            raise StoreError(f"timeout must be positive, got {timeout!r}")
        if batch_size is not None and batch_size < 1:
            raise StoreError(f"batch_size must be at least 1, got {batch_size!r}")
        self.path = Path(path) if path is not None else None
        self.url: str | None = None
        if url is not None:
            self.url, self._host, self._port, self._ssl = _parse_url(url)
        self.collection = collection
        self.timeout = timeout
        self._batch_size_override = batch_size
        self._batch_size = batch_size or FALLBACK_BATCH_SIZE  # records per write call
        self._page_size = self._batch_size  # records per read call
        self._lock = threading.Lock()
        self._client: Any = None
        self._collection: Any = None

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}" if self.path is not None else f"url={self.url!r}"
        return f"ChromaStore({where}, collection={self.collection!r})"

    def describe(self) -> str:
        if self.path is not None:
            return f"embedded Chroma at {self.path}"
        return f"Chroma server at {self.url}"

    # -- the VectorStore protocol ------------------------------------------------------------

    def add(self, records: Sequence[Record]) -> None:
        # One call may repeat an id: the last record wins, as if they had been added one by one
        # (Chroma rejects duplicate ids within one upsert).
        latest = latest_by_id(records)
        if not latest:
            return
        ids = list(latest)
        embeddings = [as_vector(latest[i].embedding, f"record {i!r}") for i in ids]
        texts = [latest[i].text for i in ids]
        metadatas = [stored_metadata(latest[i]) for i in ids]
        collection = self._ensure()
        size = self._write_size()
        # Several calls for a long document: it becomes visible part by part over a few tens of ms,
        # and a crash in between leaves part of it, which the next ingestion rebuilds (manifest.py).
        with self._errors("upsert"):
            # upsert, not add: Chroma's add() silently keeps the old record when an id exists.
            for start in range(0, len(ids), size):
                end = start + size
                with self._turn():
                    collection.upsert(
                        ids=ids[start:end],
                        embeddings=embeddings[start:end],
                        documents=texts[start:end],
                        metadatas=metadatas[start:end],
                    )

    def query(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[Hit]:
        result = self._query(embedding, k, where, ["documents", "metadatas", "distances"])
        if result is None:
            return []
        hits = [
            make_hit(id_, text, metadata, 1.0 - float(distance))
            for id_, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits

    def nearest(self, embedding: Sequence[float], k: int, where: Where | None = None) -> list[tuple[str, float]]:
        result = self._query(embedding, k, where, ["distances"])
        if result is None:
            return []
        pairs = [(id_, 1.0 - float(d)) for id_, d in zip(result["ids"][0], result["distances"][0])]
        return sorted(pairs, key=lambda pair: pair[1], reverse=True)

    def _query(self, embedding: Sequence[float], k: int, where: Where | None, include: list[str]):
        """Chroma's answer to one query (None when nothing can match)."""
        if k <= 0:
            return None
        vector = as_vector(embedding, "query embedding")
        allowed = checked_where(where)
        if allowed is not None and not all(allowed.values()):
            return None
        collection = self._ensure()
        with self._errors("query"):
            # No count() first to clamp k: Chroma (1.0 on) returns what it has, and counting a
            # collection costs time in proportion to its size on every query.
            return collection.query(query_embeddings=[vector], n_results=k, where=_chroma_where(allowed),
                                    include=include)

    def delete_document(self, document: str) -> int:
        collection = self._ensure()
        if self._short():
            # By ids, a batch at a time: one delete by filter of a long document holds the GIL for
            # as long as its upsert did (see EMBEDDED_WRITE_BATCH).
            deleted = 0
            with self._errors("delete"):
                while ids := collection.get(where={"document": document}, include=[],
                                            limit=self._read_size())["ids"]:
                    for start in range(0, len(ids), self._write_size()):
                        with self._turn():
                            collection.delete(ids=ids[start : start + self._write_size()])
                    deleted += len(ids)
            return deleted
        with self._errors("delete"):
            before = collection.count()
            result = collection.delete(where={"document": document})
            if isinstance(result, Mapping) and isinstance(result.get("deleted"), int):
                return result["deleted"]
            # chromadb before DeleteResult returned None.
            return before - collection.count()

    def count(self) -> int:
        collection = self._ensure()
        with self._errors("count"):
            return int(collection.count())

    def documents(self) -> dict[str, list[Mapping[str, Scalar]]]:
        found: dict[str, list[Mapping[str, Scalar]]] = {}
        for _id, _text, metadata in self._get_all(where=None, include=["metadatas"]):
            found.setdefault(str(metadata.get("document", "")), []).append(metadata)
        return found

    def get_document(self, document: str) -> list[Hit]:
        return [
            make_hit(id_, text, metadata, 1.0)
            for id_, text, metadata in self._get_all(
                where={"document": document}, include=["documents", "metadatas"]
            )
        ]

    def get(self, ids: Sequence[str], embedding: Sequence[float] | None = None) -> list[Hit]:
        if not ids:
            return []
        collection = self._ensure()
        include = ["documents", "metadatas"] + (["embeddings"] if embedding is not None else [])
        with self._errors("get"):
            result = collection.get(ids=list(dict.fromkeys(ids)), include=include)
        q = None if embedding is None else as_vector(embedding, "query embedding")
        found = {}
        vectors = result.get("embeddings") if q is not None else None
        for i, id_ in enumerate(result["ids"]):
            score = 1.0
            if q is not None and vectors is not None:
                score = _cosine(np.asarray(vectors[i], dtype=np.float32), q)
            found[id_] = make_hit(id_, result["documents"][i], result["metadatas"][i], score)
        return [found[i] for i in ids if i in found]

    def scores(self, ids: Sequence[str], embedding: Sequence[float]) -> dict[str, float]:
        if not ids:
            return {}
        q = as_vector(embedding, "query embedding")
        collection = self._ensure()
        with self._errors("get"):
            result = collection.get(ids=list(dict.fromkeys(ids)), include=["embeddings"])
        vectors = result.get("embeddings")
        if vectors is None:
            return {}
        return {id_: _cosine(np.asarray(v, dtype=np.float32), q) for id_, v in zip(result["ids"], vectors)}

    # -- the other collections at this place ------------------------------------------------

    def collections(self) -> list[str]:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            client = self._client
        with self._errors("list collections"):
            found = client.list_collections()
        # chromadb 0.6+ returns Collection objects (names before that)
        return sorted(str(getattr(c, "name", c)) for c in found)

    def drop(self) -> bool:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            client, self._collection = self._client, None
        from chromadb.errors import NotFoundError

        try:
            with self._errors("delete the collection"):
                client.delete_collection(self.collection)
        except StoreError as e:
            if isinstance(e.__cause__, (NotFoundError, ValueError)):  # ValueError: chromadb before 1.0
                return False
            raise
        return True

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the client (for embedded Chroma: its SQLite files). The next call reopens it."""
        with self._lock:
            client, self._client, self._collection = self._client, None, None
        if client is not None and hasattr(client, "close"):
            with self._errors("close"):
                client.close()

    def __enter__(self) -> ChromaStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _ensure(self) -> Any:
        """The collection, creating the client and the collection on first use."""
        with self._lock:
            if self._collection is not None:
                return self._collection
            if self._client is None:
                self._client = self._connect()
            with self._errors("open the collection"):
                collection = self._client.get_or_create_collection(
                    self.collection,
                    # None: Chroma must never embed by itself (its default model would download).
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                )
                if self._batch_size_override is None:
                    try:
                        size = int(self._client.get_max_batch_size())
                    except Exception:  # an older server without the pre-flight endpoint
                        size = FALLBACK_BATCH_SIZE
                    self._batch_size = self._page_size = size if size > 0 else FALLBACK_BATCH_SIZE
            _check_space(collection, self.collection, self.describe())
            self._collection = collection
            return collection

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self.path is not None:
            with self._errors("open"):
                return chromadb.PersistentClient(path=str(self.path), settings=settings)

        import httpx

        # The client chromadb builds has no timeout at all and talks to the server while being
        # constructed, so a server that accepts connections but never answers would hang us:
        # a bounded heartbeat first, then a timeout on its session.
        heartbeat = f"{self.url}/api/v2/heartbeat"
        with self._errors("heartbeat"):
            response = httpx.get(heartbeat, timeout=self.timeout)
        if response.status_code != 200:
            raise StoreError(
                f"no Chroma server at {self.url}: {heartbeat} answered HTTP {response.status_code}"
            )
        with self._errors("connect"):
            client = chromadb.HttpClient(
                host=self._host, port=self._port, ssl=self._ssl, settings=settings
            )
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # private in chromadb 1.5: skipped if it moves
            session.timeout = httpx.Timeout(self.timeout)
        return client

    def _get_all(
        self, where: dict[str, Any] | None, include: list[str]
    ) -> Iterator[tuple[str, str, dict[str, Scalar]]]:
        """Every matching record as (id, text, metadata), a page of `_page_size` at a time."""
        collection = self._ensure()
        page = self._read_size()
        offset = 0
        while True:
            with self._errors("get"), self._turn():
                result = collection.get(where=where, include=include, limit=page, offset=offset)
            ids = result["ids"]
            texts = result.get("documents") or [""] * len(ids)
            metadatas = result.get("metadatas") or [{}] * len(ids)
            for id_, text, metadata in zip(ids, texts, metadatas):
                yield id_, text or "", dict(metadata or {})
            if len(ids) < page:
                return
            offset += page

    def _short(self) -> bool:
        """Short calls and pauses: embedded, in a process that serves requests."""
        return self.path is not None and _sharing.is_set()

    def _write_size(self) -> int:
        return min(self._batch_size, EMBEDDED_WRITE_BATCH) if self._short() else self._batch_size

    def _read_size(self) -> int:
        return min(self._page_size, EMBEDDED_READ_PAGE) if self._short() else self._page_size

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One call of a sequence; embedded, the GIL is then left free for a share of its time."""
        started = time.perf_counter()
        yield
        if self._short() and EMBEDDED_YIELD:
            time.sleep((time.perf_counter() - started) * EMBEDDED_YIELD)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn whatever chromadb or httpx raises into StoreError / StoreUnavailable."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            if self.url is not None:
                reason = _unreachable(exc)
                if reason is not None:
                    raise StoreUnavailable(
                        f"cannot reach the Chroma server at {self.url} ({reason}). "
                        f"Start one with: chroma run --path DIR --port {self._port}"
                    ) from exc
            from chromadb.errors import NotFoundError

            if isinstance(exc, NotFoundError):
                # The collection was deleted behind our back: recreate it on the next call.
                self._collection = None
            raise StoreError(f"{self.describe()}: {action} failed: {exc}") from exc


def _cosine(v: np.ndarray, q: np.ndarray) -> float:
    denom = float(np.linalg.norm(v) * np.linalg.norm(q)) or 1.0
    return float(v @ q) / denom


def _chroma_where(where: dict[str, list[Scalar]] | None) -> dict[str, Any] | None:
    """A checked `where` in Chroma's filter language (`$in` per field, `$and` between fields)."""
    if not where:
        return None
    clauses = [{key: {"$in": values}} for key, values in where.items()]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _parse_url(url: str) -> tuple[str, str, int, bool]:
    """`http[s]://host[:port][/]` -> (normalised URL, host, port, ssl)."""
    invalid = f"invalid Chroma server URL {url!r}: expected http://HOST:PORT or https://HOST:PORT"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise StoreError(invalid) from exc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise StoreError(invalid)
    ssl = parts.scheme == "https"
    if port is None:
        port = 443 if ssl else 80
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}:{port}", host, port, ssl


def _unreachable(exc: BaseException) -> str | None:
    """Why the server could not be reached, if that is what `exc` (or what caused it) says."""
    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TimeoutException):
            return "no answer in time"
        if isinstance(current, (httpx.TransportError, ConnectionError)):
            return str(current) or type(current).__name__
        current = current.__cause__ or current.__context__
    return None


def _check_space(collection: Any, name: str, where: str) -> None:
    """Refuse an existing collection that does not compare by cosine: scores would be wrong."""
    # configuration_json, not configuration: the latter warns "legacy embedding function config"
    # for every collection made with embedding_function=None.
    configuration = getattr(collection, "configuration_json", None)
    if not isinstance(configuration, Mapping):  # a chromadb without configurations: nothing to check
        return
    index = configuration.get("hnsw") or configuration.get("spann") or {}
    space = index.get("space") if isinstance(index, Mapping) else None
    if space is not None and space != "cosine":
        raise StoreError(
            f"collection {name!r} in {where} compares vectors by {space!r}, not cosine: "
            "use another collection name or delete this one"
        )
