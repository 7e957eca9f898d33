"""Every error a user can meet, as one family of exceptions.

Only the CLI turns them into exit codes and the UI into notices; the library raises them.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class RagError(Exception):
    """Base class: the message is written for the person who ran the command."""

    exit_code = 1


class InvalidInput(RagError):
    """The user gave something we cannot use (empty question, bad option value)."""

    exit_code = 2


class EmptyQuestion(InvalidInput):
    def __init__(self) -> None:
        super().__init__("the question is empty: type a question")


class QuestionWithoutWords(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "the question has no words (only symbols or emoji): type a question in French, English, "
            "Vietnamese or Chinese"
        )


class PathNotFound(InvalidInput):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no such file or directory: {path}")


class UnreadableFile(RagError):
    """A file exists but cannot be turned into text (binary, unknown encoding, permissions)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot read {path}: {reason}")


class DocumentNotFound(InvalidInput):
    def __init__(self, document: str) -> None:
        self.document = document
        super().__init__(f"no ingested document named {document!r}")


class ConversationNotFound(InvalidInput):
    def __init__(self, conversation: str) -> None:
        self.conversation = conversation
        super().__init__(f"no conversation {conversation!r}")


class ConfigError(RagError):
    """A setting has a value we cannot use, or names something unknown."""

    exit_code = 2


class UnknownBackend(ConfigError):
    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} backend {name!r}; known: {', '.join(sorted(known))}")


class ModelUnavailable(RagError):
    """The local model cannot be assembled or loaded."""


class BackendUnavailable(RagError):
    """A server we depend on (LLM, embeddings, Chroma) cannot be reached or failed."""


class IndexBusy(RagError):
    """Another ingestion holds the index."""


class KeywordIndexStale(RagError):
    """The keyword index file was built by another version (or is not an index): rebuild it."""


@contextmanager
def server_errors(what: str, url: str | None, timeout: float) -> Iterator[None]:
    """Turn the openai client's errors into BackendUnavailable naming the server ("LLM", "embeddings")."""
    import httpx
    import openai

    try:
        yield
    except openai.APITimeoutError:
        raise BackendUnavailable(f"the {what} server at {url} did not answer within {timeout:g} s") from None
    except openai.APIConnectionError:
        raise BackendUnavailable(f"cannot reach the {what} server at {url}") from None
    except openai.APIStatusError as e:
        raise BackendUnavailable(f"the {what} server at {url} answered {e.status_code}: {e.message}") from None
    except openai.APIError as e:  # e.g. an error event inside a stream
        raise BackendUnavailable(f"the {what} server at {url} failed: {e.message}") from None
    # While a streamed reply is read, the client hands on httpx's own errors, unwrapped.
    except httpx.TimeoutException:
        raise BackendUnavailable(
            f"the {what} server at {url} stopped answering for more than {timeout:g} s"
        ) from None
    except httpx.HTTPError as e:
        raise BackendUnavailable(f"the {what} server at {url} broke off the connection ({e})") from None
