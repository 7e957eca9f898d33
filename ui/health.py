"""`GET /health`: whether this worker is ready for its first question, for a proxy's health checks.

200 `{"status": "ready", ...}` once the warm-up (`Assistant.warm_up`, started by `rag serve`) is
over, or at once when it is off; 503 `{"status": "warming", "done": [...], "step": ...}` before, and
503 `{"status": "failed", "step": ...}` when a step failed (the log says why). No key is needed and
nothing is said of the documents, paths or backends: only the warm-up's progress.
"""
from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rag import Assistant


def health_route(app: FastAPI, assistant: Assistant) -> None:
    # HEAD answers the same, outside the schema (one route for both gives two operations one id)
    @app.head("/health", include_in_schema=False)
    @app.get("/health", tags=["health"], summary="Ready for questions?")
    def health() -> JSONResponse:
        state = assistant.readiness()
        body = state.to_dict()
        if state.status == "cold":  # no warm-up asked for (RAG_WARM_UP=false): ready, parts load on first use
            body["status"] = "ready"
        return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503,
                            headers={"Cache-Control": "no-store"})


def start_warm_up(assistant: Assistant, say=print) -> threading.Thread:
    """Warm `assistant` in a background thread (the server accepts connections meanwhile)."""
    def run() -> None:
        state = assistant.warm_up()
        if state.ready:
            say(f"ready: warmed up in {state.seconds:.1f} s", flush=True)
        else:
            say(f"warm-up stopped at its {state.step!r} step (see the log); parts load on first use", flush=True)

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread
