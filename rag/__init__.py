"""Multilingual, offline-first question answering with exact-span citations.

    from rag import ask, search, ingest
    ingest(["seeds/"])
    answer = ask("Combien de suspects le Cambodge a-t-il arrêtés ?")
    print(answer.text, [c.document for c in answer.citations])

This is the whole public API: the interfaces (`ui/`: the `rag` command, the web page) use these
names and `rag.present.*` (rendering, messages), nothing else. Attributes are resolved lazily so
that `import rag` (and `rag --help`) stays fast: `rag.ask` imports the pipeline on first use.
"""
from __future__ import annotations

import importlib

import store as _store  # noqa: F401  (first: makes the process offline before any library import)

# name -> "module" (the attribute has the same name) or "module:attribute" (public under another name)
_WHERE = {
    # Questions and the library, through a default Assistant built on first call.
    "ask": "api", "ask_stream": "api", "search": "api", "ingest": "api", "documents": "api",
    "document_text": "api",
    "Assistant": "api", "get_assistant": "api", "delete": "api",
    # Warm before ready: load what a first question needs (`Assistant.warm_up`), and say how far it got.
    "warm_up": "api", "Readiness": "readiness",
    # This process serves requests: embedded stores write in short calls that never stall them.
    "serving": "stores",
    # Collections: separate libraries in one data directory (every function above takes `collection=`).
    "collections": "api", "create_collection": "api", "delete_collection": "api",
    "CollectionInfo": "collection", "CollectionNotFound": "collection", "COLLECTION_NAME_RULE": "collection:NAME_RULE",
    # Conversations that last: in the SQL database (RAG_DATABASE_URL), every call naming its owner.
    "open_conversations": "conversations", "ConversationStore": "conversations",
    # A value every worker sharing the database agrees on, made by the first to ask.
    "shared_value": "database.values:setting_value",
    "Conversation": "conversations", "ConversationInfo": "conversations", "Turn": "conversations",
    # What they return.
    "Answer": "types", "Citation": "types", "Passage": "types", "IngestReport": "types",
    "DocumentInfo": "types", "Chunk": "types",
    "Sources": "types", "Delta": "types", "Final": "types",
    # Settings, the languages answered in, the packaged local model.
    "Settings": "settings", "load_settings": "settings", "explain_settings": "settings",
    "SettingValue": "settings",
    "SUPPORTED_LANGUAGES": "text.language:SUPPORTED",
    "ensure_model": "backends.model_file",
    # Errors: every one a RagError; its exit_code is what the `rag` command exits with.
    "RagError": "errors", "InvalidInput": "errors", "EmptyQuestion": "errors", "QuestionWithoutWords": "errors",
    "PathNotFound": "errors", "UnreadableFile": "errors", "DocumentNotFound": "errors", "ConfigError": "errors",
    "ConversationNotFound": "errors",
    "ModelUnavailable": "errors", "BackendUnavailable": "errors", "IndexBusy": "errors",
    # Evaluation: retrieval recall over stage combinations, and answers end to end (`rag eval`).
    "load_dataset": "evaluation.datasets", "sample_questions": "evaluation.datasets:sample",
    "evaluate_retrieval": "evaluation.retrieval:run_eval", "retrieval_table": "evaluation.report",
    "EmbeddingCache": "backends.embed_cache",
    "load_answer_cases": "evaluation.datasets:load_cases", "answer_records_path": "evaluation.answers:records_path",
    "evaluate_answers": "evaluation.answers:run_answer_eval", "answers_table": "evaluation.report",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
