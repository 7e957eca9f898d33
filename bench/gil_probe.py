"""How long an upload keeps the serving process's other threads waiting for the GIL, and what holds it.

    python bench/gil_probe.py FILE... [--watch 0.1] [--stacks stalls.txt]

Each file is added as a page upload would (`Assistant.add_file`, fake embedder and model, a throw-away
data directory) while a probe thread sleeps 1 ms in a loop: its longest lateness is the longest the
GIL was held by others, which is what a server's request waits for at each turn. With `--stacks`,
faulthandler's watchdog (a C thread that needs no GIL) writes every thread's stack whenever the probe
is stalled longer than `--watch` seconds: the thread that is not the probe is the one holding the GIL.
Prints one line per file: seconds to ingest, the longest stall, the outcome.
"""
from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant, load_settings  # noqa: E402
from rag.errors import RagError  # noqa: E402


class Probe:
    """A thread that measures how late its 1 ms sleeps wake up; `worst` since the last `reset`."""

    def __init__(self, watch: float, stacks=None) -> None:
        self.worst = 0.0
        self.watch, self.stacks = watch, stacks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gil-probe", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.stacks is not None:  # re-armed at every turn: fires only when this thread is stalled
                faulthandler.dump_traceback_later(self.watch, file=self.stacks)
            start = time.perf_counter()
            time.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - start - 0.001)
        if self.stacks is not None:
            faulthandler.cancel_dump_traceback_later()

    def reset(self) -> None:
        self.worst = 0.0

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--watch", type=float, default=0.1, help="stall, in seconds, worth a stack dump")
    parser.add_argument("--stacks", type=Path, help="where to write the stacks of the stalls")
    parser.add_argument("--max-chars", type=int, default=500_000, help="RAG_MAX_DOCUMENT_CHARS")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gil-probe-"))
    assistant = Assistant(load_settings(embed_backend="fake", llm_backend="fake", home=home,
                                        max_document_chars=args.max_chars))
    assistant.warm_up()  # what a served process has done before its first upload
    stacks = open(args.stacks, "w") if args.stacks else None
    print(f"load average {os.getloadavg()[0]:.2f}")
    with Probe(args.watch, stacks) as probe:
        for path in args.files:
            if stacks is not None:
                print(f"=== {path.name}", file=stacks, flush=True)
            probe.reset()
            start = time.perf_counter()
            try:
                outcome = f"{assistant.add_file(path, path.name).chunks} chunks"
            except RagError as e:
                outcome = f"refused: {e}"[:80]
            print(f"{path.name:28} {time.perf_counter() - start:7.2f} s  longest stall {1000 * probe.worst:6.1f} ms"
                  f"  {outcome}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
