"""`rag serve`: one server on one address and port, the web page at `/` and the JSON API at `/v1`.

One `Assistant` and one generation queue (`Gate`) serve both, so the local model answers one
question at a time whoever asks, the page or a program. The API's schema is at `/openapi.json`
(browsable at `/docs`); docs/api.md describes it. It warms up in the background as it starts, and
`GET /health` says when it is ready (ui/health.py).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

import rag
from rag import Assistant, ConfigError, InvalidInput, Settings

from . import guard
from .export import prune_exports
from .gate import Gate
from .health import health_route, start_warm_up
from .http_api import api_routes

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_login(value: str, source: str) -> tuple[str, str]:
    """USER:PASSWORD -> (user, password); the error names where it came from, never the password."""
    user, sep, password = value.strip().partition(":")
    if not sep or not user or not password:
        raise InvalidInput(f"{source} must be USER:PASSWORD with both parts non-empty")
    return user, password


def page_login(settings: Settings, flag: str | None = None) -> tuple[str, str] | None:
    """The page's login: `--auth`, else RAG_AUTH, else the first line of RAG_AUTH_FILE, else none."""
    if flag is not None:
        return parse_login(flag, "--auth")
    if settings.auth is not None:
        return parse_login(settings.auth.get_secret_value(), "RAG_AUTH")
    if settings.auth_file is not None:
        lines = _read(settings.auth_file, "RAG_AUTH_FILE").splitlines()
        return parse_login(lines[0] if lines else "", f"the first line of RAG_AUTH_FILE ({settings.auth_file})")
    return None


def api_keys(settings: Settings) -> frozenset[str]:
    """Keys from RAG_API_KEYS (comma-separated) and RAG_API_KEYS_FILE (one a line, # comments)."""
    keys = set()
    if settings.api_keys is not None:
        keys |= {k.strip() for k in settings.api_keys.get_secret_value().split(",") if k.strip()}
    if settings.api_keys_file is not None:
        text = _read(settings.api_keys_file, "RAG_API_KEYS_FILE")
        keys |= {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}
    bad = [k for k in keys if not k.isascii() or any(ch.isspace() for ch in k)]
    if bad:
        raise ConfigError(f"{len(bad)} API key(s) hold spaces or non-ASCII characters, which an "
                          "Authorization header cannot carry")
    return frozenset(keys)


def _read(path: Path, variable: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{variable}: cannot read {path}: {e.strerror if isinstance(e, OSError) else e}") from None


def check_exposure(host: str, login: tuple[str, str] | None, keys: frozenset[str], no_auth: bool) -> None:
    """Off loopback, anyone who can reach the address could read the documents: refuse to start
    without a login for the page and keys for the API, unless told so with --no-auth."""
    if host in LOOPBACK or no_auth:
        return
    missing = [what for what, ok in (("a login for the page (RAG_AUTH, RAG_AUTH_FILE or --auth USER:PASSWORD)",
                                      login is not None),
                                     ("API keys (RAG_API_KEYS or RAG_API_KEYS_FILE)", bool(keys))) if not ok]
    if missing:
        raise InvalidInput(
            f"refusing to serve on {host} without credentials: anyone who can reach this address could read "
            f"your documents. Set {' and '.join(missing)}, or pass --no-auth if you really mean it."
        )


def build_server(assistant: Assistant, *, keys: frozenset[str] = frozenset(),
                 login: tuple[str, str] | None = None, gate: Gate | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The FastAPI app: the JSON API's routes first, then the page mounted at `/` behind `login`;
    in front of both, the checks of ui/guard.py (`host`: the address it will be bound to)."""
    import gradio as gr

    from .app import CSS, create_app

    s = assistant.settings
    gate = gate or Gate(limit=max(1, s.llm_concurrency), max_waiting=s.max_queue)
    app = FastAPI(
        title="rag: ask your documents",
        summary="Cited answers over your documents, OpenAI-compatible (see docs/api.md).",
        version="1",
    )
    app.state.gate = gate
    api_routes(app, assistant, gate)
    health_route(app, assistant)
    page = create_app(assistant, gate=gate)
    # Retrieval is cheap and runs for many users at once; the shared Gate queues the generations.
    page.queue(default_concurrency_limit=16, max_size=128)
    app = gr.mount_gradio_app(
        app, page, path="/", auth=login, css=CSS, theme=gr.themes.Soft(), i18n=getattr(page, "rag_i18n", None),
        show_error=True, max_file_size=int(s.max_file_mb * 2**20),
    )
    guard.install(app, host=host, allowed_hosts=s.allowed_hosts, keys=keys)
    return app


def _log_to_stderr() -> None:
    """The pipeline's own messages (models loaded, warm-up steps, failures) on stderr, for an operator's
    log; libraries stay at their defaults (httpx's line per request would drown them)."""
    import logging

    logger = logging.getLogger("rag")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, keys: frozenset[str] = frozenset(),
          login: tuple[str, str] | None = None) -> None:
    import uvicorn

    rag.serving()  # uploads are written in short calls: the other requests get their turn
    app = build_server(assistant, keys=keys, login=login, host=host)
    prune_exports()  # what a server that stopped without cleaning left behind
    shown = f"[{host}]" if ":" in host else host
    print(f"serving the page at http://{shown}:{port}/ and the API at http://{shown}:{port}/v1 "
          f"(schema: /openapi.json; API keys {'required' if keys else 'not required'})", flush=True)
    _log_to_stderr()
    if assistant.settings.warm_up:
        print("warming up (GET /health answers 503 until ready; RAG_WARM_UP=false skips it)", flush=True)
        start_warm_up(assistant)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
