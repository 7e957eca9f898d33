"""Shared by the bench scripts: the machine, percentiles, a text table, and `rag serve` in a subprocess."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from tests.servers import BIN, free_port, running_server

ROOT = Path(__file__).resolve().parent.parent
XQUAD = Path(os.environ.get("RAG_BENCH_XQUAD", ROOT.parent / "shared" / "eval" / "xquad-piaf"))
SEED_QUESTIONS = ROOT / "eval" / "seeds" / "questions.jsonl"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                      if l.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "os": platform.platform(), "load_avg_1min_at_start": load}


def pct(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (nearest rank), or None for no values."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    rank = max(1, int(round(p / 100 * len(xs) + 0.5 - 1e-9)))
    return xs[min(rank, len(xs)) - 1]


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[_fmt(c) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def rss_mb(pid: int) -> tuple[float, float]:
    """(current resident set, peak resident set) of a process, in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


@contextmanager
def rag_serve(home: Path, env: dict[str, str], log: Path, timeout: float = 120) -> Iterator[tuple[str, int]]:
    """`rag serve` on a free loopback port with `env` (RAG_* settings); yields (URL, pid)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {"RAG_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False", **env}
    with running_server([str(BIN / "rag"), "serve", "--port", str(port)], f"{url}/", log,
                        timeout=timeout, env=full_env, cwd=ROOT) as process:
        yield url, process.pid


def fresh_home(home: Path) -> Path:
    """A new data directory; the model assembled in the checkout's .rag/ is linked, not re-assembled."""
    models = ROOT / ".rag" / "models"
    (home / "models").mkdir(parents=True)
    if models.is_dir():
        for f in models.iterdir():
            (home / "models" / f.name).symlink_to(f)
    return home


def ingest_seeds(home: Path, env: dict[str, str] | None = None) -> None:
    """`rag ingest seeds` into `home`, in a subprocess (as a user would)."""
    subprocess.run([str(BIN / "rag"), "ingest", str(ROOT / "seeds"), "--json"], check=True,
                   env={**os.environ, "RAG_HOME": str(home), **(env or {})}, stdout=subprocess.DEVNULL)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
