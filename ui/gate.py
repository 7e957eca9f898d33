"""The generation queue shared by everything that serves people at once (the page, the HTTP API):
the local model answers one question at a time, the others wait in order and can see their place."""
from __future__ import annotations

import threading
from typing import Iterator


class Gate:
    """At most `limit` generations at once; the others wait in arrival order and can see their place."""

    def __init__(self, limit: int = 1) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._waiting: list[object] = []
        self._running = 0

    def enter(self, poll: float = 0.5) -> Iterator[int]:
        """Yield the number of questions ahead while waiting; return once it is this one's turn.
        The caller must call `leave()` after; closing the generator early gives up the place."""
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._running < self.limit and self._waiting[0] is ticket:
                        self._waiting.pop(0)
                        self._running += 1
                        self._cond.notify_all()
                        return
                    ahead = self._waiting.index(ticket) + self._running
                yield ahead
                with self._cond:
                    self._cond.wait(timeout=poll)
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._cond.notify_all()
            raise

    def leave(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()
