"""The one shape of the program's string tables, and the one way to read them.

A catalog maps each key to its text in every supported language: `{"key": {"en": ..., "fr": ...}}`.
`rag.present.messages` (what comes with an answer) and `ui.labels` (the page's own words) are two
such catalogs, read through `text`, so a reader's language is chosen the same way everywhere.
"""
from __future__ import annotations

from typing import Mapping

from rag.text.language import SUPPORTED

Catalog = Mapping[str, Mapping[str, str]]


def reader_language(language: str) -> str:
    """The supported language a reader of `language` gets: that one, Simplified Chinese for any
    other Chinese tag, English for the rest."""
    if language in SUPPORTED:
        return language
    return "zh-Hans" if language.startswith("zh") else "en"


def text(catalog: Catalog, key: str, language: str, **kwargs: object) -> str:
    """The text of `key` for a reader of `language` (English where the entry has no such text),
    its `{placeholders}` filled from `kwargs`."""
    entry = catalog[key]
    return entry.get(reader_language(language), entry["en"]).format(**kwargs)
