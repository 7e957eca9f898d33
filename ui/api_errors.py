"""Errors of the HTTP API in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

Every refusal of a request goes through here, so a client sees one shape whatever went wrong: bad
JSON, a field of the wrong type, a wrong key, an unknown model or document, a body too large, or an
error of the library (`RagError`), which becomes the status that fits it. Nothing reaches the client
as a 500 with a traceback.
"""
from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import BackendUnavailable, DocumentNotFound, IndexBusy, InvalidInput, RagError, UnreadableFile
from rag.present.messages import public_detail

log = logging.getLogger("rag.api")


class ApiError(Exception):
    """A request the API refuses, with what OpenAI's clients read from it (and headers, e.g. Retry-After)."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers


def error_body(message: str, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(e: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(e.message, e.type, e.param, e.code), status_code=e.status, headers=headers)


def from_rag_error(e: RagError, param: str | None = None) -> ApiError:
    """The library's error as the status that fits it, said as `public_detail` says it: a wrong input
    as raised; a busy index or a failing backend without the paths and URLs, which go to the log."""
    if isinstance(e, DocumentNotFound):
        return ApiError(404, str(e), param=param, code="document_not_found")
    if isinstance(e, (InvalidInput, UnreadableFile)):
        return ApiError(400, str(e), param=param)
    if isinstance(e, IndexBusy):
        return ApiError(409, f"the index is being updated ({public_detail(e)}); try again when it is done",
                        type="conflict_error", code="index_busy")
    if isinstance(e, BackendUnavailable):
        return ApiError(503, f"a service the answer needs is unavailable: {public_detail(e)}; try again in a moment",
                        type="server_error", code="backend_unavailable")
    return ApiError(500, f"internal error: {public_detail(e)}", type="server_error")


_UNION_MEMBER = re.compile(r"^(str|int|float|bool|none|[\w-]+\[.*\])$")


def _field(loc: tuple) -> str | None:
    """("body", "messages", 0, "content", "str") -> "messages.0.content": where, not how pydantic tried."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    return ".".join(str(p) for p in parts if not _UNION_MEMBER.match(str(p))) or None


def _validation_message(err: dict) -> tuple[str, str | None]:
    field = _field(tuple(err.get("loc", ())))
    if err.get("type") == "json_invalid":
        detail = (err.get("ctx") or {}).get("error", "")
        return f"the request body is not valid JSON ({detail})".replace(" ()", ""), None
    if err.get("type") == "missing":
        return f"missing required field: {field}", field
    if err.get("type") == "model_attributes_type" or field is None:
        return "the request body must be a JSON object, sent with Content-Type: application/json", None
    return f"{field}: {err.get('msg', 'invalid value')}", field


def install(app: FastAPI) -> None:
    """Handlers that give every error of `app`'s own routes OpenAI's shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError):
        return error_response(e, e.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        errors = e.errors()
        message, param = _validation_message(errors[0]) if errors else ("invalid request", None)
        others = {_field(tuple(err.get("loc", ()))) for err in errors[1:]} - {param}
        if others:  # (the same field again is one value failing each accepted form: said once)
            message += f" (and {len(others)} more field{'s' if len(others) > 1 else ''}: {', '.join(sorted(map(str, others)))})"
        return error_response(ApiError(400, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        kind = "not_found_error" if e.status_code == 404 else "invalid_request_error"
        return error_response(ApiError(e.status_code, str(e.detail), type=kind))

    @app.exception_handler(RagError)
    async def _rag(request: Request, e: RagError):
        return error_response(from_rag_error(e))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception):
        # A bug of ours: the client gets the shape and no traceback; the log keeps the trace.
        log.exception("unexpected error on %s", request.url.path)
        return error_response(ApiError(500, "internal error: see the server's log", type="server_error"))
