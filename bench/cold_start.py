"""A fresh `rag serve`'s first questions: with the warm-up (`GET /health` waited for) and without.

For each mode and each start: a new `rag serve` process over the same data directory (the seeds,
ingested once with the configured backends), timed from its start to the API answering
(`/openapi.json`) and, with the warm-up, to `GET /health` saying ready; then ten questions in a
fixed order, streamed through `POST /v1/chat/completions`, each timed to its sources and to its first
word (answers are capped at a few tokens and read to their end). The first question is French and the
second Chinese (the first Chinese question pays for Chinese's own parts when nothing warmed them);
an eleventh asks the first again, the same prompt once warm. The "warm median" of a start is the
median first word of its questions 3 to 10; the figures are medians over the starts.

    python -m bench.cold_start                       # 3 starts per mode, the configured backends
    python -m bench.cold_start --starts 1 --modes warm

Run it on an otherwise idle machine: every figure is a wall-clock time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx

from bench.common import machine, rss_mb, table
from bench.servers import free_port, running_server
from rag.evaluation.metrics import median

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "seeds" / "questions.jsonl"
ANSWER_TOKENS = 8  # only the first word is timed; the rest of each answer would only lengthen the run
# French first, Chinese second, then the other languages in turn; each question about another fact
# than the one before it, so that no two in a row share their sources: llama.cpp reuses the prompt
# it evaluated last as far as the new one starts the same, and two questions about one fact (the
# seeds ask each in four languages) often do far beyond the fixed prefix.
ORDER = (("myanmar", "fr"), ("cambodia", "zh-Hant"), ("laos", "en"), ("kunming", "vi"), ("first_light", "fr"),
         ("great_wall", "zh-Hant"), ("cases_2022", "en"), ("calls", "vi"), ("overseas_share", "fr"),
         ("batam", "en"))


def questions() -> list[str]:
    by_id = {}
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        by_id[q["id"]] = q["question"]
    return [by_id[f"{fact}.{lang}"] for fact, lang in ORDER]


def first_word(client: httpx.Client, url: str, model: str, question: str) -> tuple[float, float]:
    """Seconds to the chunk carrying the sources and to the first content delta of a streamed answer.
    The answer is capped at a few tokens and read to its end, so that no earlier answer can still be
    generating when the next question comes."""
    started = time.perf_counter()
    sources = first = None
    body = {"model": model, "stream": True, "max_tokens": ANSWER_TOKENS,
            "messages": [{"role": "user", "content": question}]}
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if "sources" in chunk and sources is None:
                sources = time.perf_counter() - started
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content") and first is None:
                first = time.perf_counter() - started
    return sources, first if first is not None else time.perf_counter() - started


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def one_start(home: Path, warm: bool, asked: list[str], log: Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"RAG_HOME": str(home), "RAG_WARM_UP": "true" if warm else "false", "GRADIO_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    with running_server([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], f"{url}/openapi.json",
                        log, env=env, cwd=ROOT, timeout=600) as process:
        api_s = time.perf_counter() - started
        seen = set()
        while (status := health(url)) != 200:
            seen.add(status)
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"{url}/health did not say ready within 600 s")
            time.sleep(0.1)
        ready_s = time.perf_counter() - started
        rss_ready, _ = rss_mb(process.pid)
        rows = []
        with httpx.Client(timeout=600) as client:
            model = client.get(f"{url}/v1/models").json()["data"][0]["id"]
            for q in [*asked, asked[0]]:  # the first question again at the end: the same prompt, warm
                sources, first = first_word(client, url, model, q)
                rows.append({"question": q, "sources_s": round(sources, 3), "first_token_s": round(first, 3)})
        rss_after, peak = rss_mb(process.pid)
    firsts = [r["first_token_s"] for r in rows]
    return {"warm_up": warm, "api_s": round(api_s, 2), "ready_s": round(ready_s, 2),
            "health_before_ready": sorted(seen), "rss_mb_ready": round(rss_ready), "rss_mb_after": round(rss_after),
            "first_s": firsts[0], "first_sources_s": rows[0]["sources_s"], "first_zh_s": firsts[1],
            "first_zh_sources_s": rows[1]["sources_s"], "tenth_s": firsts[9], "first_again_s": firsts[10],
            "warm_median_s": median(firsts[2:10]), "questions": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="server starts per mode")
    parser.add_argument("--modes", default="warm,cold", help="warm (RAG_WARM_UP=true), cold (false), or both")
    parser.add_argument("--home", type=Path, help="a data directory holding the ingested seeds (default: a new one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cold_start.json")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="rag-cold-start-"))
    env = {**os.environ, "RAG_HOME": str(home)}
    if args.home is None:
        print(f"ingesting the seeds into {home} ...", flush=True)
        subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(ROOT / "seeds")], env=env, cwd=ROOT, check=True)
    # The packaged model is joined and checked once, here, not inside any start's figures.
    subprocess.run([sys.executable, "-m", "ui.cli", "model"], env=env, cwd=ROOT, check=True, capture_output=True)
    asked = questions()
    runs = []
    about = machine()
    for i in range(args.starts):
        for mode in args.modes.split(","):
            run = one_start(home, mode == "warm", asked, home / f"serve-{mode}-{i}.log")
            runs.append(run)
            print(f"{mode} start {i + 1}: API {run['api_s']} s, ready {run['ready_s']} s; first word: "
                  f"first {run['first_s']} s, first Chinese {run['first_zh_s']} s, tenth {run['tenth_s']} s, "
                  f"first again {run['first_again_s']} s, warm median {run['warm_median_s']} s", flush=True)

    summary = []
    for mode in args.modes.split(","):
        mine = [r for r in runs if r["warm_up"] == (mode == "warm")]
        row = {k: median([r[k] for r in mine]) for k in
               ("api_s", "ready_s", "first_sources_s", "first_s", "first_zh_sources_s", "first_zh_s", "tenth_s",
                "first_again_s", "warm_median_s", "rss_mb_ready")}
        row["mode"], row["starts"] = mode, len(mine)
        row["first_over_warm"] = round(row["first_s"] / row["warm_median_s"], 2)
        summary.append(row)
    keys = ("mode", "starts", "api_s", "ready_s", "first_sources_s", "first_s", "first_zh_s", "tenth_s",
            "first_again_s", "warm_median_s", "first_over_warm", "rss_mb_ready")
    print(table([[r[k] for k in keys] for r in summary], keys))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": about, "summary": summary, "runs": runs}, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
