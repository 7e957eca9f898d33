"""OpenAI-compatible chat: `GET /v1/models` and `POST /v1/chat/completions`, with citations as data.

The conversation is the `messages` list: the last user message is the question, the earlier
user/assistant turns are the history (a follow-up is rewritten as in the chat). Answers pass
through the same generation queue (`Gate`) as the web page. A streamed answer sends the retrieved
sources first, then the model's text as it comes, then the checked citations; a client that goes
away frees its place in the queue at once (`AnswerStream.close`).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import AsyncIterator, Iterator, Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag import Answer, Assistant, CollectionNotFound, Delta, Final, InvalidInput, Passage, RagError, Sources

from .api_errors import ApiError, error_body, from_rag_error
from .gate import Gate, QueueFull

# How often a request waiting for its turn looks again (and tells its client its place).
QUEUE_POLL_S = 0.05


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields of OpenAI's request that mean something here; others (`top_p`, `user`, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, description="The id `GET /v1/models` lists.")
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation; the last one is the question.")
    stream: bool = Field(False, description="Server-sent events: sources, text deltas, then citations.")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1, description="Capped at RAG_MAX_ANSWER_TOKENS.")
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as `max_tokens` (OpenAI's newer name).")
    n: int = Field(1, ge=1, le=1, description="One answer per request.")
    collection: str | None = Field(None, description="The collection to answer from (default: RAG_COLLECTION; "
                                                     "GET /v1/collections lists them).")
    documents: list[str] | None = Field(None, description="Only passages of these documents (names as "
                                                          "GET /v1/documents lists them).")
    languages: list[str] | None = Field(None, description="Only passages of documents in these languages "
                                                          "(`fr`, `en`, `vi`, `zh`, `zh-Hans`, `zh-Hant`).")


def in_collection(assistant: Assistant, name: str | None, param: str = "collection") -> Assistant:
    """The assistant of collection `name` (None: the server's own); a 404 naming it when it does not exist."""
    try:
        return assistant.in_collection(name)
    except CollectionNotFound as e:
        raise ApiError(404, str(e), param=param, code="collection_not_found") from None
    except RagError as e:
        raise from_rag_error(e, param=param) from None


async def checked_scope(assistant: Assistant, documents: list[str] | None, languages: list[str] | None) -> None:
    """A 400 naming the document or language when the scope matches nothing (before any answering)."""
    try:
        await anyio.to_thread.run_sync(assistant.scope, documents, languages)
    except RagError as e:
        raise from_rag_error(e, param="documents" if documents else "languages") from None


def model_id(assistant: Assistant) -> str:
    """What answers: the configured LLM's name."""
    s = assistant.settings
    return "fake" if s.llm_backend == "fake" else s.llm_model


def conversation(request: ChatRequest, limit: int) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, a user's) and the (question, answer) pairs before it.
    System and tool messages are left out: the answer's own instructions are fixed."""
    *before, last = request.messages
    param = f"messages.{len(request.messages) - 1}"
    if last.role != "user":
        raise ApiError(400, f"the last message must be the user's question, not a {last.role!r} message",
                       param=f"{param}.role")
    question = last.text
    if len(question) > limit:
        raise ApiError(400, f"the question is {len(question)} characters long; the limit is {limit} "
                            "(RAG_MAX_QUESTION_CHARS)", param=f"{param}.content", code="question_too_long")
    pairs, asked = [], None
    for m in before:
        if m.role == "user":
            asked = m.text
        elif m.role == "assistant" and asked is not None:
            pairs.append((asked, m.text))
            asked = None
    return question, pairs


def passage_json(p: Passage, index: int) -> dict:
    return {"index": index, **p.to_dict()}


def citations_json(answer: Answer) -> list[dict]:
    out = []
    for c in answer.citations:
        item = {"index": c.n, "document": c.document, "start": c.start, "end": c.end, "text": c.text,
                "language": c.language, "score": round(c.score, 4)}
        if c.page is not None:  # PDF pages and pptx slides; other documents have none
            item["page"] = c.page
        if c.location is not None:  # "p. 3", "slide 2", a chapter or heading
            item["location"] = c.location
        out.append(item)
    return out


def checked_fields(answer: Answer) -> dict:
    """What comes with an answer beyond its text: the checked citations and what the checks said."""
    return {
        "citations": citations_json(answer),
        "refused": answer.refused,
        "flags": list(answer.flags),
        "notices": list(answer.notices),
        "language": answer.language,
        "standalone_question": answer.standalone_question,
    }


class AnswerStream:
    """One answer's events and its place in the generation queue, with one way out: `close()`.

    Blocking steps (retrieval, the model) run in worker threads; waiting for a turn does not hold
    a thread (the gate is looked at every QUEUE_POLL_S)."""

    def __init__(self, assistant: Assistant, gate: Gate, question: str, history: list[tuple[str, str]],
                 **options) -> None:
        self.gate = gate
        self.history = history
        self.events: Iterator = assistant.ask_stream(question, history, **options)
        self._waiting: Iterator[int] | None = None
        self.inside = False
        self.closed = False

    async def next_event(self):
        """The next event, or None at the end; raises the library's errors."""
        return await anyio.to_thread.run_sync(next, self.events, None)

    def reserve(self) -> None:
        """Take a place in the queue now, before any work: a 429 with `Retry-After` when it is full."""
        try:
            self.turn()
        except QueueFull as e:
            self.close()
            raise ApiError(429, f"the server is busy: {e}; try again in {e.retry_after} s (RAG_MAX_QUEUE)",
                           type="rate_limit_error", code="queue_full",
                           headers={"Retry-After": str(e.retry_after)}) from None

    def turn(self) -> int | None:
        """None once it is this answer's turn at the model, else how many are ahead (never blocks)."""
        if self.inside:
            return None
        if self._waiting is None:
            self._waiting = self.gate.enter(poll=0, bounded=True)
        try:
            return next(self._waiting)
        except StopIteration:
            self._waiting = None
            self.inside = True
            return None

    async def wait_turn(self) -> AsyncIterator[int]:
        """Yield the number ahead whenever it changes, until it is this answer's turn."""
        shown = None
        while (ahead := self.turn()) is not None:
            if ahead != shown:
                shown = ahead
                yield ahead
            await anyio.sleep(QUEUE_POLL_S)

    def close(self) -> None:
        """Give up the place in the queue (or the model) and stop generating; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._waiting is not None:
                self._waiting.close()  # leaves the queue
            self.events.close()  # stops the model between two tokens
        finally:
            if self.inside:
                self.inside = False
                self.gate.leave()


class _ClosingStream(StreamingResponse):
    """A StreamingResponse that closes its answer whatever happened: finished, client gone, or never
    started (a client that left before the first byte)."""

    def __init__(self, content, answer: AnswerStream) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._answer = answer

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()
            self._answer.close()


def _sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def router(assistant: Assistant, gate: Gate) -> APIRouter:
    api = APIRouter()
    started = int(time.time())

    @api.get("/v1/models", summary="The model that answers")
    def models() -> dict:
        return {"object": "list", "data": [
            {"id": model_id(assistant), "object": "model", "created": started, "owned_by": "rag"}]}

    @api.get("/v1/models/{model}", summary="One model")
    def one_model(model: str) -> dict:
        if model != model_id(assistant):
            raise ApiError(404, f"the model {model!r} does not exist; this server answers with "
                                f"{model_id(assistant)!r}", type="invalid_request_error", param="model",
                           code="model_not_found")
        return {"id": model, "object": "model", "created": started, "owned_by": "rag"}

    @api.post("/v1/chat/completions", summary="Answer the last message, with citations")
    async def chat_completions(body: ChatRequest, request: Request):
        if body.model != model_id(assistant):
            raise ApiError(404, f"the model {body.model!r} does not exist; this server answers with "
                                f"{model_id(assistant)!r} (GET /v1/models)", param="model", code="model_not_found")
        question, history = conversation(body, assistant.settings.max_question_chars)
        target = in_collection(assistant, body.collection)
        await checked_scope(target, body.documents, body.languages)
        options = {"max_tokens": body.max_completion_tokens or body.max_tokens, "temperature": body.temperature,
                   "documents": body.documents, "languages": body.languages}
        answer = AnswerStream(target, gate, question, history, **options)
        answer.reserve()
        ident, created, model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model_id(assistant)
        try:
            first = await _first_event(answer, request)
        except RagError as e:
            answer.close()
            raise from_rag_error(e, param="messages" if isinstance(e, InvalidInput) else None) from None
        except BaseException:
            answer.close()
            raise
        if body.stream:
            return _ClosingStream(_stream(answer, first, ident, created, model), answer)
        try:
            return await _complete(answer, first, ident, created, model)
        finally:
            answer.close()

    return api


async def _first_event(answer: AnswerStream, request: Request) -> Sources | None:
    """The sources, found before answering; with history they come after the follow-up is rewritten,
    which needs the model, so that answer waits for its turn first (leaving if the client does)."""
    if answer.history:
        async for _ in answer.wait_turn():
            if await request.is_disconnected():
                raise ApiError(499, "the client closed the connection while waiting", code="client_closed")
    return await answer.next_event()


async def _complete(answer: AnswerStream, first: Sources | None, ident: str, created: int, model: str) -> dict:
    async for _ in answer.wait_turn():
        pass
    final = None
    while (event := await answer.next_event()) is not None:
        if isinstance(event, Final):
            final = event.answer
    if final is None:  # pragma: no cover - ask_stream always ends with Final
        raise ApiError(500, "the answer ended without a result", type="server_error")
    sources = first.passages if isinstance(first, Sources) else final.related
    return {
        "id": ident, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": final.text}, "finish_reason": "stop"}],
        "sources": [passage_json(p, i) for i, p in enumerate(sources, 1)],
        **checked_fields(final),
    }


async def _stream(answer: AnswerStream, first: Sources | None, ident: str, created: int,
                  model: str) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        return _sse({"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    sources = first.passages if isinstance(first, Sources) else ()
    yield chunk({"role": "assistant", "content": ""}, sources=[passage_json(p, i) for i, p in enumerate(sources, 1)])
    try:
        async for ahead in answer.wait_turn():
            yield f": queued, {ahead} ahead\n\n"  # an SSE comment: clients skip it, people can read it
        streamed = False
        while (event := await answer.next_event()) is not None:
            if isinstance(event, Delta) and event.text:
                streamed = True
                yield chunk({"content": event.text})
            elif isinstance(event, Final):
                final = event.answer
                if not streamed:  # e.g. a refusal before any text: say it as text too
                    yield chunk({"content": final.text})
                # `content`: the checked answer, to show in place of the streamed text where it differs
                yield chunk({}, "stop", content=final.text, **checked_fields(final))
    except RagError as e:
        err = from_rag_error(e)
        yield _sse(error_body(err.message, err.type, err.param, err.code))
    finally:
        answer.close()
    yield "data: [DONE]\n\n"
