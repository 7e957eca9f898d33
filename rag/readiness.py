"""Warm before ready: what a worker loads before its first question, and whether it has.

A fresh process pays, on its first question, for everything built on first use: the answer model
(and llama.cpp's evaluation of the fixed prompt prefix), the embedding model, the vector indexes,
the language identifier, the tokenizers of each language (jieba's dictionary, OpenCC's tables, the
Snowball stemmers). `Assistant.warm_up` runs those steps once, in order (`STEPS`), through this
module's `WarmUp`, which records how far it got, lets one caller run it while any other waits for
that run rather than starting another, and says so as a frozen `Readiness` (`rag serve`'s
`GET /health`).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

log = logging.getLogger(__name__)

# In the order they run; each is named in Readiness.done once finished.
STEPS = ("index", "language", "tokenizers", "embedder", "search", "model", "answer")

# One short question per language the assistant answers in, for the steps that read text: the
# language identifier, each language's tokenizer, the embedder and one search per language. Each
# names a country and a date, so that the anchors' country names and date readers load too.
SAMPLES: dict[str, str] = {
    "en": "How many people did Vietnam send to France in May 2023?",
    "fr": "Combien de personnes le Viêt Nam a-t-il envoyées en France le 6 septembre 2023 ?",
    "vi": "Việt Nam đã cử bao nhiêu người sang Pháp vào tháng 5 năm 2023?",
    "zh-Hans": "2023年5月越南向法国派出了多少人？",
    "zh-Hant": "2023年9月6日越南向法國派出了多少人？這些人來自哪裡？",
}


@dataclass(frozen=True)
class Readiness:
    """Where a warm-up stands. `status`: "cold" (none asked for), "warming", "ready" or "failed";
    `done`: the steps finished, in order; `step`: the one running, or the one that failed;
    `seconds`: how long the whole warm-up took, once over."""

    status: str
    done: tuple[str, ...] = ()
    step: str | None = None
    seconds: float | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    def to_dict(self) -> dict:
        out: dict = {"status": self.status, "done": list(self.done)}
        if self.step is not None:
            out["step"] = self.step
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 2)
        return out


Step = tuple[str, Callable[[], None]]


class WarmUp:
    """Runs a list of named steps once. A second caller during the run waits for it; a caller after
    it returns at once. A failed step ends the run ("failed", its name kept): what it was loading is
    then loaded on first use, as without a warm-up, and its error logged."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._status = "cold"
        self._done: list[str] = []
        self._step: str | None = None
        self._seconds: float | None = None

    def state(self) -> Readiness:
        with self._cond:
            return Readiness(self._status, tuple(self._done), self._step, self._seconds)

    def run(self, steps: Sequence[Step]) -> Readiness:
        """Run `steps` unless a run is under way (then wait for it) or over (then return its result)."""
        with self._cond:
            if self._status == "warming":
                return self._wait_locked(None)
            if self._status != "cold":
                return self.state()
            self._status = "warming"
        started = time.perf_counter()
        failed = None
        for name, step in steps:
            with self._cond:
                self._step = name
            t = time.perf_counter()
            try:
                step()
            except Exception:
                log.exception("warm-up step %r failed", name)
                failed = name
                break
            log.info("warm-up: %s in %.2f s", name, time.perf_counter() - t)
            with self._cond:
                self._done.append(name)
        with self._cond:
            self._status = "failed" if failed else "ready"
            self._step = failed
            self._seconds = time.perf_counter() - started
            self._cond.notify_all()
        return self.state()

    def wait(self, timeout: float | None = None) -> Readiness:
        """Wait while a run is under way (at most `timeout` seconds); return where it stands."""
        with self._cond:
            return self._wait_locked(timeout)

    def _wait_locked(self, timeout: float | None) -> Readiness:
        self._cond.wait_for(lambda: self._status != "warming", timeout)
        return Readiness(self._status, tuple(self._done), self._step, self._seconds)
