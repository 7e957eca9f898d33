"""The library over HTTP: list, upload, read and delete documents, and search passages.

`GET /v1/documents/{name}` gives the text that every `start`/`end` of a citation or a passage
points into, so a client can check `text[start:end]` or show the cited span in context.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import anyio
from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from rag import Assistant, InvalidInput, RagError

from .api_chat import passage_json
from .api_errors import ApiError, from_rag_error


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query: str = Field(description="What to look for, in any supported language.")
    k: int | None = Field(None, ge=1, le=100, description="How many passages (default: RAG_TOP_K).")


def document_text(chunks: Sequence) -> tuple[str, list[tuple[int, int]]]:
    """A document's stored text with every chunk at its own offsets, and the spans no chunk covers.

    Text that cleaning removed (spam, page furniture) is not stored: its place is kept with spaces, so
    offsets stay those of the original and `text[start:end]` is exactly what a citation quotes."""
    pieces, gaps, pos = [], [], 0
    for c in sorted(chunks, key=lambda c: (c.start, c.end)):
        if c.start > pos:
            gaps.append((pos, c.start))
            pieces.append(" " * (c.start - pos))
            pos = c.start
        if c.end > pos:  # chunks may overlap: each character once
            pieces.append(c.text[pos - c.start:])
            pos = c.end
    return "".join(pieces), gaps


def _rag_call(e: RagError, param: str | None) -> ApiError:
    return from_rag_error(e, param=param if isinstance(e, InvalidInput) else None)


def router(assistant: Assistant) -> APIRouter:
    api = APIRouter()

    @api.get("/v1/documents", summary="The documents in the library")
    def documents() -> dict:
        return {"object": "list", "data": [{"object": "document", **d.to_dict()} for d in assistant.documents()]}

    @api.get("/v1/documents/{name}", summary="One document's text (what citation offsets point into)")
    def document(name: str) -> dict:
        chunks = assistant.document(name)
        text, gaps = document_text(chunks)
        return {"object": "document", "document": name, "language": chunks[0].language, "length": len(text),
                "text": text, "gaps": [list(g) for g in gaps]}

    @api.delete("/v1/documents/{name}", summary="Remove a document from the library")
    def delete(name: str) -> dict:
        if not assistant.delete(name):
            raise ApiError(404, f"no ingested document named {name!r}", param="name", code="document_not_found")
        return {"object": "document.deleted", "document": name, "deleted": True}

    @api.post("/v1/documents", status_code=201, summary="Add a file to the library (same rules as the page)")
    async def upload(file: UploadFile = File(description="The file; its name becomes the document's name.")):
        limit_mb = assistant.settings.max_file_mb
        if file.size is not None and file.size > limit_mb * 1e6:
            raise ApiError(413, f"{file.filename}: {file.size / 1e6:.1f} MB is over the limit of {limit_mb:g} MB "
                                "(RAG_MAX_FILE_MB)", param="file", code="file_too_large")
        name = file.filename or ""
        if not name:
            raise ApiError(400, "the uploaded file has no name; send it with one (its name becomes the "
                                "document's)", param="file")
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as folder:
            path = Path(folder) / "upload"
            with path.open("wb") as out:
                while block := await file.read(1 << 20):
                    out.write(block)
            try:
                report = await anyio.to_thread.run_sync(assistant.add_file, path, name)
            except RagError as e:
                raise _rag_call(e, "file") from None
        return {"object": "document", "document": name, "report": report.to_dict()}

    @api.post("/v1/search", summary="The passages retrieved for a query, with offsets and scores")
    def search(body: SearchRequest) -> dict:
        limit = assistant.settings.max_question_chars
        if len(body.query) > limit:
            raise ApiError(400, f"the query is {len(body.query)} characters long; the limit is {limit} "
                                "(RAG_MAX_QUESTION_CHARS)", param="query", code="query_too_long")
        try:
            passages = assistant.search(body.query, body.k)
        except RagError as e:
            raise _rag_call(e, "query") from None
        return {"object": "list", "data": [passage_json(p, i) for i, p in enumerate(passages, 1)]}

    return api
