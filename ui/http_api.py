"""The JSON API's routes and rules, ready to be served beside the page (ui/server.py).

- `api_routes` puts the chat (ui/api_chat.py) and library (ui/api_library.py) routes on an app,
  with OpenAI-shaped errors (ui/api_errors.py). The API keys are checked before any route, by
  `ui.guard.KeyCheck`, before the body is read.
- `BodyLimit` refuses an over-large body with a 413 before it is read into memory, on every route the
  server has (the page's too): the two upload routes get the file size limit, the API's other routes
  the JSON one, the page's other routes (Gradio's queue, which carries the chat shown) a larger one.
"""
from __future__ import annotations

import json

from fastapi import FastAPI

from rag import Assistant

from . import api_chat, api_errors, api_library
from .api_errors import ApiError
from .gate import Gate

# A chat request is a conversation of short texts: a megabyte holds hundreds of turns. Uploads get
# the file size limit (RAG_MAX_FILE_MB) plus room for the multipart envelope.
MAX_JSON_BYTES = 1 << 20
MULTIPART_MARGIN = 64 << 10
# The page's events carry the components' values, the whole chat shown included: a long
# conversation with its sources is a few hundred kilobytes.
MAX_PAGE_BYTES = 8 << 20


def api_routes(app: FastAPI, assistant: Assistant, gate: Gate) -> None:
    """Add the JSON API to `app`: every `/v1/...` route, errors in OpenAI's shape, bodies bounded."""
    api_errors.install(app)
    app.include_router(api_chat.router(assistant, gate), tags=["chat"])
    app.include_router(api_library.router(assistant), tags=["library"])

    @app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(path: str):
        # Without it the page (mounted at /) would answer an unknown /v1 path with its own 404.
        raise ApiError(404, f"no such endpoint: /v1/{path}", type="not_found_error", code="unknown_url")

    app.add_middleware(BodyLimit, upload_limit=int(assistant.settings.max_file_mb * 2**20) + MULTIPART_MARGIN)


UPLOAD_ROUTES = (("POST", "/v1/documents"), ("POST", "/gradio_api/upload"))


class BodyLimit:
    """ASGI middleware: a request whose body is over its limit gets a 413 (in OpenAI's shape under
    `/v1`, plain text elsewhere), decided from Content-Length, or, for a body sent in chunks, after
    reading at most the limit. The upload routes' limit is the file size limit's; the API's other
    routes' is MAX_JSON_BYTES and the page's MAX_PAGE_BYTES, whatever Content-Type the client claims."""

    def __init__(self, app, upload_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        api = scope["path"].startswith("/v1/")
        upload = (scope.get("method"), scope["path"].rstrip("/")) in UPLOAD_ROUTES
        limit = self.upload_limit if upload else MAX_JSON_BYTES if api else MAX_PAGE_BYTES
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await self._refuse(send, limit, upload, api)
            return await self.app(scope, receive, send)
        # No length given (chunked): read the body here, up to the limit, then hand it on.
        body, more = [], True
        size = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            size += len(message.get("body", b""))
            if size > limit:
                return await self._refuse(send, limit, upload, api)
            body.append(message)
            more = message.get("more_body", False)
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _refuse(send, limit: int, upload: bool, api: bool) -> None:
        what = (f"the upload is over the limit of {limit / 1e6:.1f} MB (RAG_MAX_FILE_MB and the form around it)"
                if upload else f"the request body is over the limit of {limit >> 20} MB")
        if api:
            payload, kind = json.dumps(api_errors.error_body(what, code="request_too_large")).encode(), b"application/json"
        else:
            payload, kind = (what + "\n").encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: list, receive):
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed
