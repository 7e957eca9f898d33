"""Answer backends, chosen by name: `local` (llama-cpp-python in process), `openai`, `fake`.

Each one streams text deltas for a list of chat messages. Nothing is loaded until the first call,
so `ingest` and `search` never pay for the model.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

from rag.errors import BackendUnavailable, ModelUnavailable, UnknownBackend, server_errors
from rag.settings import Settings
from rag.text.patterns import CITED

log = logging.getLogger(__name__)

Message = dict[str, str]


class LLM(Protocol):
    name: str

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply as text deltas."""


class LocalLLM:
    """The packaged Qwen2.5-Coder-1.5B-Instruct GGUF in process. One generation at a time."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._llama = None
        self._lock = threading.Lock()  # llama.cpp contexts are not re-entrant: one generation at a time

    def _load(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelUnavailable(
                    "llama-cpp-python is not installed: run `make install` (or pip install -e '.[local]'), "
                    "or use another backend with RAG_LLM_BACKEND=openai"
                ) from None
            if self._settings.llm_model_path is not None:
                from rag.backends.gguf import check_gguf

                path = Path(self._settings.llm_model_path).expanduser()
                check_gguf(path)  # a missing, foreign or truncated file gets its reason, not llama.cpp's
            else:
                from rag.backends.model_file import ensure_model

                path = ensure_model(self._settings.model_dir)
            threads = self._settings.llm_threads or os.cpu_count() or 2
            started = time.perf_counter()
            try:
                # No chat_format: llama-cpp-python uses the chat template stored in the GGUF file.
                self._llama = Llama(
                    model_path=str(path),
                    n_ctx=self._settings.llm_context,
                    n_threads=threads,
                    n_threads_batch=threads,
                    verbose=False,
                )
            except ValueError as e:
                raise ModelUnavailable(f"llama.cpp could not load {path}: {e} (an architecture this "
                                       "llama-cpp-python does not support?)") from None
            log.info("loaded the answer model %s in %.1f s", path.name, time.perf_counter() - started)
        return self._llama

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            # llama-cpp-python reuses the KV cache for the prompt prefix shared with the last call,
            # so the fixed system prompt is only evaluated once per process.
            for part in llama.create_chat_completion(
                messages=list(messages), max_tokens=max_tokens, temperature=temperature, stream=True
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta


class OpenAILLM:
    """Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp's server, Ollama)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = None

    def _get(self):
        if self._client is None:
            from openai import OpenAI

            # max_retries=0: one explicit timeout, no retries stacked on top of each other.
            self._client = OpenAI(
                base_url=self._settings.llm_base_url,
                api_key=self._settings.llm_api_key,
                timeout=self._settings.llm_timeout,
                max_retries=0,
            )
        return self._client

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> Iterator[str]:
        url = self._settings.llm_base_url
        finished = False
        with server_errors("LLM", url, self._settings.llm_timeout):
            response = self._get().chat.completions.create(
                model=self._settings.llm_model,
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for part in response:
                if part.choices and part.choices[0].finish_reason:
                    finished = True
                if part.choices and part.choices[0].delta and part.choices[0].delta.content:
                    yield part.choices[0].delta.content
        if not finished:
            # A connection closed mid-reply ends the stream quietly; only the missing finish_reason
            # (which OpenAI, vLLM, llama.cpp and Ollama all send last) tells a cut from an answer.
            raise BackendUnavailable(f"the LLM server at {url} closed the connection before the answer was complete")


_SOURCE_LINE = re.compile(rf"^{CITED.pattern}\s*(.+)$", re.M)  # "[n] text": a source as the prompt numbers it


def _echo_first_source(messages: Sequence[Message]) -> str:
    """Default fake reply: the first sentence of source [1], cited; a refusal when there is none.
    Asked to translate, it returns the text tagged with the target language, so tests can see
    the request and the reply went through."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    target = re.match(r"You are a translator\. Translate the user's text into ([^.]+)\.", system)
    if target:
        return f"({target.group(1)}) {messages[-1]['content']}"
    prompt = messages[-1]["content"]
    m = _SOURCE_LINE.search(prompt)
    if not m:
        return "NO_ANSWER"
    first = re.split(r"(?<=[.!?])\s+|(?<=[。！？])", m.group(2).strip(), maxsplit=1)[0]
    return f"{first} [{m.group(1)}]"


class ScriptedLLM:
    """Fake LLM: replies from a script (or a function of the messages) and records every prompt."""

    name = "fake"

    def __init__(
        self,
        replies: Sequence[str] | None = None,
        fn: Callable[[Sequence[Message]], str] | None = None,
    ) -> None:
        self._replies = list(replies) if replies is not None else None
        self._fn = fn or _echo_first_source
        self.prompts: list[list[Message]] = []

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> Iterator[str]:
        self.prompts.append([dict(m) for m in messages])
        reply = self._replies.pop(0) if self._replies else self._fn(messages)
        # Stream word by word, as a real server would, so callers exercise their delta handling.
        for piece in re.findall(r"\S+\s*|\s+", reply):
            yield piece


LLMS: dict[str, Callable[[Settings], LLM]] = {
    "local": LocalLLM,
    "openai": OpenAILLM,
    "fake": lambda settings: ScriptedLLM(),
}


def make_llm(settings: Settings) -> LLM:
    try:
        factory = LLMS[settings.llm_backend]
    except KeyError:
        raise UnknownBackend("LLM", settings.llm_backend, list(LLMS)) from None
    return factory(settings)
