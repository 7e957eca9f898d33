"""The library over HTTP: list, upload, read and delete documents, and search passages.

`GET /v1/documents/{name}` gives the text that every `start`/`end` of a citation or a passage
points into, so a client can check `text[start:end]` or show the cited span in context.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import anyio
from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from rag import Assistant, InvalidInput, RagError, UnreadableFile

from .api_chat import in_collection, passage_json
from .api_errors import ApiError, from_rag_error


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query: str = Field(description="What to look for, in any supported language.")
    k: int | None = Field(None, ge=1, le=100, description="How many passages (default: RAG_TOP_K).")
    collection: str | None = Field(None, description="The collection to search (default: RAG_COLLECTION).")
    documents: list[str] | None = Field(None, description="Only passages of these documents.")
    languages: list[str] | None = Field(None, description="Only passages of documents in these languages.")


def gaps(chunks: Sequence, length: int) -> list[tuple[int, int]]:
    """The spans of a document's text that no chunk covers: what cleaning left out of the index
    (spam, page furniture), which no passage can come from."""
    out, pos = [], 0
    for c in sorted(chunks, key=lambda c: (c.start, c.end)):
        if c.start > pos:
            out.append((pos, c.start))
        pos = max(pos, c.end)
    if pos < length:
        out.append((pos, length))
    return out


def _rag_call(e: RagError, param: str | None) -> ApiError:
    return from_rag_error(e, param=param if isinstance(e, (InvalidInput, UnreadableFile)) else None)


# `?collection=NAME` on every documents endpoint; without it, the server's own collection.
COLLECTION = Query(None, description="The collection (default: RAG_COLLECTION; GET /v1/collections lists them).")


def router(server: Assistant) -> APIRouter:
    api = APIRouter()

    @api.get("/v1/collections", summary="The collections (separate libraries), with their counts")
    def collections() -> dict:
        try:
            found = server.collections()
        except RagError as e:
            raise _rag_call(e, None) from None
        return {"object": "list", "data": [{"object": "collection", **c.to_dict()} for c in found]}

    @api.get("/v1/documents", summary="The documents in the library")
    def documents(collection: str | None = COLLECTION) -> dict:
        assistant = in_collection(server, collection)
        return {"object": "list", "data": [{"object": "document", **d.to_dict()} for d in assistant.documents()]}

    # `{name:path}`: a document's name is its path in the folder ingested ("notes/plan.md").
    @api.get("/v1/documents/{name:path}", summary="One document's text (what citation offsets point into)")
    def document(name: str, collection: str | None = COLLECTION) -> dict:
        assistant = in_collection(server, collection)
        chunks = assistant.document(name)
        text = assistant.document_text(name)
        return {"object": "document", "document": name, "language": chunks[0].language, "length": len(text),
                "text": text, "gaps": [list(g) for g in gaps(chunks, len(text))]}

    @api.delete("/v1/documents/{name:path}", summary="Remove a document from the library")
    def delete(name: str, collection: str | None = COLLECTION) -> dict:
        assistant = in_collection(server, collection)
        if not assistant.delete(name):
            raise ApiError(404, f"no ingested document named {name!r}", param="name", code="document_not_found")
        return {"object": "document.deleted", "document": name, "deleted": True}

    @api.post("/v1/documents", status_code=201, summary="Add a file to the library (same rules as the page)")
    async def upload(file: UploadFile = File(description="The file; its name becomes the document's name."),
                     collection: str | None = COLLECTION):
        assistant = await anyio.to_thread.run_sync(in_collection, server, collection)
        limit_mb = assistant.settings.max_file_mb
        if file.size is not None and file.size > limit_mb * 2**20:  # MiB, as `rag ingest` counts
            raise ApiError(413, f"{file.filename}: {file.size / 2**20:.1f} MiB is over the limit of {limit_mb:g} MiB "
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
        assistant = in_collection(server, body.collection)
        limit = assistant.settings.max_question_chars
        if len(body.query) > limit:
            raise ApiError(400, f"the query is {len(body.query)} characters long; the limit is {limit} "
                                "(RAG_MAX_QUESTION_CHARS)", param="query", code="query_too_long")
        scope = {"documents": body.documents, "languages": body.languages}
        try:
            assistant.scope(**scope)
        except RagError as e:
            raise _rag_call(e, "documents" if body.documents else "languages") from None
        try:
            passages = assistant.search(body.query, body.k, **scope)
        except RagError as e:
            raise _rag_call(e, "query") from None
        return {"object": "list", "data": [passage_json(p, i) for i, p in enumerate(passages, 1)]}

    return api
