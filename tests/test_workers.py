"""Two `rag serve` workers with data directories of their own, on one Chroma server and one
PostgreSQL database, keep nothing a user needs on either: a document uploaded through one opens
at its cited span on the other, a delete on one is gone from the other's next search, and a
conversation started on one goes on in the other after the first is SIGKILLed (in Chromium, the
browser's id carried over as a proxy in front of both would carry it: one origin)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import ExitStack

import httpx
import pytest
import sqlalchemy as sa

from bench.servers import chroma_server, rag_serve
from rag.settings import load_settings
from tests.conftest import ROOT, SEEDS
from tests.test_browser import CHROMIUM, ask, new_context, saved_titles, sync_api, wait_answered

pytestmark = [
    pytest.mark.browser,
    pytest.mark.chroma,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed: run `make test-deps` for browser tests"),
]

NOTE = "note-partagee.txt"
NOTE_TEXT = ("Rapport interne.\n\nLe service des douanes de Lào Cai a saisi 37 téléphones satellites "
             "destinés aux centres d'escroquerie le 4 mars 2024.\n")
QUESTION = "Combien de téléphones satellites les douanes de Lào Cai ont-elles saisis ?"
FR_Q = "Combien de suspects le Cambodge a-t-il arrêtés ?"
BROWSER_KEY = "rag-browser-id"


def _search(url: str, query: str) -> list[dict]:
    r = httpx.post(f"{url}/v1/search", json={"query": query, "k": 10}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_two_workers_share_documents_deletes_and_conversations(tmp_path, postgres_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    with ExitStack() as stack:
        chroma_url, _ = stack.enter_context(chroma_server(tmp_path / "chroma"))
        shared = {"RAG_CHROMA_URL": chroma_url, "RAG_DATABASE_URL": postgres_url, "RAG_STORE_BACKEND": "chroma",
                  "RAG_EMBED_BACKEND": "fake", "RAG_LLM_BACKEND": "fake", "RAG_LANGUAGE": "fr",
                  "RAG_MIN_SCORE": "-1", "RAG_CONFIG": str(tmp_path / "none.toml")}
        (tmp_path / "none.toml").touch()
        subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(SEEDS)], cwd=ROOT, check=True,
                       capture_output=True, env={**env, **shared, "RAG_HOME": str(tmp_path / "ingest")}, timeout=300)
        a_url, a_pid = stack.enter_context(rag_serve(tmp_path / "w1", {**env, **shared}, tmp_path / "w1.log"))
        b_url, _ = stack.enter_context(rag_serve(tmp_path / "w2", {**env, **shared}, tmp_path / "w2.log"))

        # Uploaded through the first worker...
        r = httpx.post(f"{a_url}/v1/documents", files={"file": (NOTE, NOTE_TEXT.encode(), "text/plain")}, timeout=120)
        assert r.status_code == 201, r.text
        # ...the second finds it, answers from it, and opens it at the cited span (its text is in the database).
        hits = [h for h in _search(b_url, QUESTION) if h["document"] == NOTE]
        assert hits, "the second worker does not find the document uploaded through the first"
        r = httpx.get(f"{b_url}/v1/documents/{NOTE}", timeout=60)
        assert r.status_code == 200, r.text
        text = r.json()["text"]
        assert text == NOTE_TEXT and all(text[h["start"]:h["end"]] == h["text"] for h in hits)
        # A delete through the second is gone from the first's next search: no resync to wait for.
        assert httpx.delete(f"{b_url}/v1/documents/{NOTE}", timeout=60).status_code == 200
        assert not [h for h in _search(a_url, QUESTION) if h["document"] == NOTE]
        assert httpx.get(f"{a_url}/v1/documents/{NOTE}", timeout=60).status_code == 404

        # A conversation on the first worker, which then dies mid-service...
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = new_context(browser, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(a_url)
            page.wait_for_function(f"localStorage.getItem('{BROWSER_KEY}')")
            ask(page, FR_Q)
            wait_answered(page, 1)
            assert saved_titles(page) == [FR_Q]
            browser_id = page.evaluate(f"localStorage.getItem('{BROWSER_KEY}')")
            os.kill(a_pid, signal.SIGKILL)
            # ...goes on in the second: the same browser (one origin behind a proxy), the same list.
            page.goto(b_url)
            page.evaluate("([k, v]) => localStorage.setItem(k, v)", [BROWSER_KEY, browser_id])
            page.reload()
            page.wait_for_selector("#conversations label", timeout=30000)
            assert saved_titles(page) == [FR_Q]
            page.locator("#conversations label").first.click()
            page.wait_for_selector("#chat .bot")
            ask(page, "Et le Myanmar ?")
            wait_answered(page, 2)
            assert page.locator("#chat .user").count() == 2 and saved_titles(page) == [FR_Q]
            browser.close()
        # In the database: one conversation, both turns.
        engine = sa.create_engine(load_settings(database_url=postgres_url).database)
        with engine.connect() as db:
            assert db.execute(sa.text("SELECT count(*) FROM conversations")).scalar() == 1
            assert db.execute(sa.text("SELECT question FROM turns ORDER BY position")).scalars().all() == [
                FR_Q, "Et le Myanmar ?"]
        engine.dispose()
