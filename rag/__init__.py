"""Multilingual, offline-first question answering with exact-span citations.

    from rag import ask, search, ingest
    ingest(["seeds/"])
    answer = ask("Combien de suspects le Cambodge a-t-il arrêtés ?")
    print(answer.text, [c.document for c in answer.citations])

Attributes are resolved lazily so that `import rag` (and `rag --help`) stays fast.
"""
from __future__ import annotations

import store as _store  # noqa: F401  (first: makes the process offline before any library import)

__all__ = [
    "ask", "ask_stream", "search", "ingest", "documents", "Assistant",
    "Answer", "Citation", "Passage", "IngestReport", "DocumentInfo",
    "Sources", "Delta", "Final", "Settings", "load_settings", "RagError",
]

_WHERE = {
    "ask": "api", "ask_stream": "api", "search": "api", "ingest": "api", "documents": "api",
    "Assistant": "api",
    "Answer": "types", "Citation": "types", "Passage": "types", "IngestReport": "types",
    "DocumentInfo": "types",
    "Sources": "answering.generate", "Delta": "answering.generate", "Final": "answering.generate",
    "Settings": "settings", "load_settings": "settings",
    "RagError": "errors",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
