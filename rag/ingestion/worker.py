"""Reading, cleaning and chunking of files run in a worker process, each file with a budget.

What a file costs to read depends on the file, and any file may be hostile: so the parsers never
run in the process that serves requests (they would hold its GIL) and never without limits. A
worker is a separate Python process, started once and kept for the next files and ingestions;
its address space is capped (RAG_PARSE_MEMORY_MB, a hard bound the kernel enforces), and the
caller waits for each file at most RAG_PARSE_TIMEOUT_S, then kills the worker and refuses the file
with the reason. A killed or crashed worker is replaced by a fresh one for the next file.

The parent sends (job, arguments) and receives ("ok", result), ("unreadable", (path, reason)) or
("raised", exception) over two pipes; a worker that runs out of memory answers ("memory", None)
and is replaced.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Iterator

from rag.errors import PathNotFound, UnreadableFile

_ROOT = Path(__file__).resolve().parent.parent.parent  # holds the packages rag/ and store/
_KEEP_IDLE = 2  # workers kept between ingestions (one per ingestion running at the same time)
_WARM_UP_S = 120  # the most a worker may take to start (a loaded machine, a cold disk)


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    memory_mb: int


class Worker:
    """One worker process, started on first use and again after it was killed."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self._process: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._receive: Connection | None = None
        self.busy = False  # a call is under way (a caller that gives the worker back then must not reuse it)
        self._ready = False  # it said it has warmed up: files' budgets start counting after that
        self._early: tuple | None = None  # a reply read while looking for page messages

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def call(self, job: str, args: tuple, *, deadline: float, limits: Limits, where: str) -> Any:
        """Run `job` in the worker; raise UnreadableFile when it is past `deadline` (time.monotonic())
        or runs out of memory, re-raise what the job raised."""
        self.busy = True
        try:
            return self._call(job, args, deadline, limits, where)
        finally:
            self.busy = False

    def _call(self, job: str, args: tuple, deadline: float, limits: Limits, where: str) -> Any:
        if not self.alive:
            self.start()
        assert self._send is not None and self._receive is not None
        if not self._ready:
            try:
                self._ready = self._receive.poll(_WARM_UP_S) and self._receive.recv() == ("ready", None)
            except (EOFError, OSError):
                pass
            if not self._ready:
                self.close()
                raise UnreadableFile(where, _crashed(limits))
        try:
            self._send.send((job, args))
            while True:
                ready = self._receive.poll(max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                status, value = self._receive.recv()
                if status != "page":  # the reply: put back for the code below
                    self._early = (status, value)
                    break
                deadline = max(deadline, time.monotonic() + value)  # a page goes to OCR: its own budget
        except (EOFError, OSError):
            ready = False
        if not ready:
            crashed = not self.alive
            self.close()
            if crashed:
                raise UnreadableFile(where, _crashed(limits))
            raise UnreadableFile(where, f"reading it took longer than the budget of {limits.timeout_s:g} s "
                                        f"(RAG_PARSE_TIMEOUT_S); refused")
        try:
            status, value = self._early if self._early is not None else self._receive.recv()
        except (EOFError, OSError):
            self.close()
            raise UnreadableFile(where, _crashed(limits)) from None
        finally:
            self._early = None
        if status == "memory":
            self.close()  # its heap may be in any state
            raise UnreadableFile(where, f"reading it needs more memory than the budget of {limits.memory_mb} MiB "
                                        f"(RAG_PARSE_MEMORY_MB); refused")
        if status == "unreadable":
            raise UnreadableFile(*value)
        if status == "missing":
            raise PathNotFound(value)
        if status == "raised":
            raise value
        return value

    def close(self) -> None:
        for conn in (self._send, self._receive):
            if conn is not None:
                conn.close()
        self._send = self._receive = None
        self._ready = False
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        env = dict(os.environ)
        # The same code as this process, wherever it was imported from (a checkout, a worktree).
        env["PYTHONPATH"] = os.pathsep.join([str(_ROOT), *filter(None, [env.get("PYTHONPATH")])])
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "rag.ingestion.worker", str(to_child), str(from_child), str(self.memory_mb)],
                pass_fds=(to_child, from_child), env=env, stdin=subprocess.DEVNULL, cwd=_ROOT)
        finally:
            os.close(to_child)
            os.close(from_child)
        self._send = Connection(from_parent, readable=False)
        self._receive = Connection(to_parent, writable=False)


def _crashed(limits: Limits) -> str:
    return (f"the reader stopped (out of its memory budget of {limits.memory_mb} MiB, RAG_PARSE_MEMORY_MB, "
            "or crashed on the file); refused")


_idle: list[Worker] = []
_idle_lock = threading.Lock()


@contextmanager
def worker(memory_mb: int) -> Iterator[Worker]:
    """A worker for this caller alone (ingestions running at the same time each get their own)."""
    with _idle_lock:
        found = next((w for w in _idle if w.memory_mb == memory_mb), None)
        if found is not None:
            _idle.remove(found)
    w = found or Worker(memory_mb)
    if not w.alive:
        w.start()  # it warms up while the caller does its own preparations
    try:
        yield w
    finally:
        with _idle_lock:
            if w.alive and not w.busy and len(_idle) < _KEEP_IDLE:
                _idle.append(w)
                w = None
        if w is not None:
            w.close()


@atexit.register
def _close_idle() -> None:
    with _idle_lock:
        while _idle:
            _idle.pop().close()


# --- the worker's side ---------------------------------------------------------------------------

_last: dict[str, Any] = {}  # the last file read, which "prepare" chunks without sending it back


def _read(path: str, max_bytes: int | None, name: str, max_chars: int):
    from rag.ingestion.load import read_text

    source = read_text(Path(path), max_bytes=max_bytes, name=name, max_chars=max_chars)
    _last["source"] = source
    return source


def _prepare(sha256: str, size: int, max_size: int):
    from rag.ingestion.prepare import chunk_text

    source = _last.get("source")
    if source is None or source.sha256 != sha256:
        raise RuntimeError("prepare called without the file read first")
    return chunk_text(source, size, max_size)


_JOBS = {"read": _read, "prepare": _prepare}


def _warm_up() -> None:
    # The readers of plain text and the language model, loaded before the first file arrives (the
    # model takes seconds to load; the parent starts the worker before it opens the store).
    from rag.ingestion import load, prepare  # noqa: F401
    from rag.text.language import detect

    detect("Le worker est prêt à lire les fichiers.")


def _serve(receive: Connection, send: Connection) -> None:
    from rag.ingestion import ocr, scans

    _warm_up()
    scans.PageReader.on_page = staticmethod(lambda: send.send(("page", ocr.SECONDS_PER_PAGE)))
    send.send(("ready", None))
    while True:
        try:
            job, args = receive.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            reply = ("ok", _JOBS[job](*args))
        except MemoryError:
            reply = ("memory", None)
        except UnreadableFile as e:
            reply = ("unreadable", (e.path, e.reason))
        except PathNotFound as e:
            reply = ("missing", e.path)
        except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it as before
            reply = ("raised", e if _pickles(e) else RuntimeError(f"{type(e).__name__}: {e}"))
        try:
            send.send(reply)
        except MemoryError:
            send.send(("memory", None))
        except Exception as e:  # noqa: BLE001 - an exception that does not pickle
            send.send(("raised", RuntimeError(f"{type(e).__name__}: {e}")))


def _pickles(e: BaseException) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(e))
        return True
    except Exception:  # noqa: BLE001 - exceptions whose __init__ takes other arguments than args
        return False


def _main(argv: list[str]) -> None:
    import resource

    receive_fd, send_fd, memory_mb = int(argv[0]), int(argv[1]), int(argv[2])
    limit = memory_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    _serve(Connection(receive_fd, writable=False), Connection(send_fd, readable=False))


if __name__ == "__main__":
    _main(sys.argv[1:])
