"""Machine translation of a cited passage by the configured LLM, for readers of another language.

The translation is a reading aid shown under the original; it is never used as a source.
"""
from __future__ import annotations

from rag.answering.prompts import DEFAULT, Prompts
from rag.backends.llm import LLM
from rag.text.language import name as language_name, to_script
from rag.text.numbers import localize


def translate(text: str, language: str, llm: LLM, max_tokens: int, prompts: Prompts = DEFAULT) -> str:
    """`text` rendered in `language` ("fr", "en", "vi", "zh-Hans", "zh-Hant")."""
    messages = [
        {"role": "system", "content": prompts.translate.format(language=language_name(language))},
        {"role": "user", "content": " ".join(text.split())},
    ]
    out = "".join(llm.stream(messages, max_tokens=max_tokens, temperature=0.0)).strip()
    # The same fixes as answers get: the right Chinese script, and numbers read the local way.
    return localize(to_script(out, language), language, sources=[text])
