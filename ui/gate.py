"""The generation queue shared by everything that serves people at once (the page, the HTTP API):
the local model answers one question at a time, the others wait in order and can see their place."""
from __future__ import annotations

import math
import threading
import time
from typing import Iterator


class QueueFull(Exception):
    """The queue holds `waiting` questions already; `retry_after` estimates, in seconds, when a place frees."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} questions are already waiting for the model")
        self.waiting, self.retry_after = waiting, retry_after


class Gate:
    """At most `limit` generations at once; the others wait in arrival order and can see their place.
    A caller that asks for a bounded place (`enter(bounded=True)`) is refused with QueueFull when
    `max_waiting` are waiting already."""

    def __init__(self, limit: int = 1, max_waiting: int | None = None) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: list[object] = []
        self._running = 0
        self._entered: list[float] = []  # when each running generation got its turn, oldest first
        self._mean_s = 10.0  # a running mean of a generation's length, for Retry-After (10 s before any)

    def enter(self, poll: float = 0.5, bounded: bool = False) -> Iterator[int]:
        """Yield the number of questions ahead while waiting; return once it is this one's turn.
        The caller must call `leave()` after; closing the generator early gives up the place."""
        ticket = object()
        with self._cond:
            if bounded and self.max_waiting is not None and len(self._waiting) >= self.max_waiting:
                raise QueueFull(len(self._waiting), self._retry_after())
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._running < self.limit and self._waiting[0] is ticket:
                        self._waiting.pop(0)
                        self._running += 1
                        self._entered.append(time.monotonic())
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
            if self._entered:  # the oldest: exact with one at a time, an estimate with more
                took = time.monotonic() - self._entered.pop(0)
                self._mean_s = 0.8 * self._mean_s + 0.2 * took
            self._cond.notify_all()

    def _retry_after(self) -> int:
        # The time for the questions waiting to be answered, at the recent pace; whole seconds, 1..600.
        return max(1, min(600, math.ceil(self._mean_s * (len(self._waiting) + 1) / self.limit)))
