"""Shared by the bench scripts: the machine, a text table, process memory, fresh data directories.

Percentiles come from `rag.evaluation.metrics.percentile` (one definition for the product and the
lab); servers in subprocesses from `bench/servers.py`."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

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
    subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(ROOT / "seeds"), "--json"], check=True, cwd=ROOT,
                   env={**os.environ, "RAG_HOME": str(home), **(env or {})}, stdout=subprocess.DEVNULL)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
