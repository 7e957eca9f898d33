"""Regenerates the README's screenshot: a Traditional Chinese question answered from the Vietnamese
seed article, the cited sentence highlighted, the source opened and machine-translated.

    python bench/screenshots.py          # the configured models: the packaged local model by default
    python bench/screenshots.py --fake   # a dry run of every step with the fake backends

It ingests the seeds into a throw-away data directory, starts `rag serve` on a free loopback port,
and drives Debian's headless Chromium with Playwright (as tests/test_browser.py does; `make
browser-deps` installs Chromium and the CJK fonts). The image is saved only when the page shows what
the README's caption says: an answer with a citation, holding 2141 (the source's 2.141 written the
Chinese way), a highlighted span, and a translation that is Chinese and differs from the original.
Otherwise it exits 1 naming what was missing, and keeps the capture as `<name>.rejected.png` to look
at. After a new capture, make the README's caption say what the new image shows.

The local model answers in seconds once loaded, but the first question also assembles and loads it:
allow a few minutes on a CPU. Not a test: run it by hand on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots" / "zh-question-vi-source.png"
QUESTION = "柬埔寨逮捕了多少名詐騙嫌疑人？"
VI_DOCUMENT = "003_912a6ae6278a5b97.txt"  # the Vietnamese seed: "phía Campuchia đã bắt giữ 2.141 nghi phạm"
CJK = re.compile(r"[\u4e00-\u9fff]")
WAIT_MS = 600_000  # a cold local model: assembly, load, then the answer


def caption_problems(answer: str, marks: int, original: str, translation: str) -> list[str]:
    """What the README's caption claims and the page does not show (empty when the capture is honest)."""
    problems = []
    if not re.search(r"\[\d+\]", answer):
        problems.append(f"the answer cites nothing: {answer!r}")
    if "2141" not in answer:
        problems.append(f"the answer does not hold 2141: {answer!r}")
    if marks < 1:
        problems.append("no cited span is highlighted in the sources")
    if not translation.strip():
        problems.append("no translation is shown")
    elif " ".join(translation.split()) == " ".join(original.split()):
        problems.append(f"the translation is the original, untranslated: {translation!r}")
    elif not CJK.search(translation):
        problems.append(f"the translation is not Chinese: {translation!r}")
    return problems


def _environment(home: Path, fake: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAG_HOME"}
    env["RAG_HOME"] = str(home)
    if fake:
        env.update(RAG_EMBED_BACKEND="fake", RAG_LLM_BACKEND="fake", RAG_MIN_SCORE="-1")
    return env


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    rag = [sys.executable, "-m", "ui.cli"]
    subprocess.run([*rag, "ingest", str(ROOT / "seeds")], env=env, cwd=ROOT, check=True, timeout=900)
    port = free_port()
    proc = subprocess.Popen([*rag, "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit("rag serve did not start:\n" + log.read_text())
            time.sleep(0.5)


def capture(url: str, out: Path, chromium: str) -> list[str]:
    """Ask, open the Vietnamese source, translate it, and save the page; the caption's problems."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        # zh-TW: the page's own words in Traditional Chinese, like the question
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-TW")
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", QUESTION)
        page.click("#ask")
        page.wait_for_selector("#sources mark", timeout=WAIT_MS)  # marks come with the checked answer
        problems = []
        original = translation = ""
        source = page.locator("#pick label", has_text=VI_DOCUMENT)
        if source.count():
            source.first.click()
            page.wait_for_selector("#viewer #cited")
            page.click("#translate")
            page.wait_for_selector("#translation .machine", timeout=WAIT_MS)
            page.locator("#translation").scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # let the viewer finish scrolling to the span
            quotes = page.locator("#translation blockquote")
            original = quotes.first.inner_text() if quotes.count() else ""
            translation = quotes.last.inner_text() if quotes.count() > 1 else ""
        else:
            problems.append(f"the answer does not cite the Vietnamese source {VI_DOCUMENT}")
        bots = page.locator("#chat .bot")
        answer = bots.last.inner_text() if bots.count() else ""
        problems += caption_problems(answer, page.locator("#sources mark").count(), original, translation)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)  # full page: the translation sits low
        browser.close()
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true",
                    help="the fake embedder and LLM: checks the steps, not the caption (writes under build/)")
    ap.add_argument("--out", type=Path, help=f"where to write the image (default {OUT.relative_to(ROOT)})")
    args = ap.parse_args()
    out = args.out or (ROOT / "build" / "screenshots-fake" / OUT.name if args.fake else OUT)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is missing: run `make browser-deps`")
    home = Path(tempfile.mkdtemp(prefix="rag-screenshots-"))
    try:
        proc, url = _serve(_environment(home, args.fake), home / "serve.log")
        try:
            shot = out.with_suffix(".capture.png")
            problems = capture(url, shot, chromium)
        finally:
            proc.terminate()
            proc.wait(30)
        if problems and not args.fake:
            rejected = out.with_suffix(".rejected.png")
            shot.replace(rejected)
            print(f"not saved: the page does not show what the caption says ({rejected} kept):", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 1
        shot.replace(out)
        for problem in problems:  # --fake: the scripted model is not expected to pass them
            print(f"note (fake backends): {problem}")
        print(f"wrote {out}")
        return 0
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
