"""Make the process offline: no model downloads, no telemetry, no analytics.

chromadb, gradio, huggingface_hub and llama-index read these variables when they are imported (some
copy them into module-level constants), so they must be set before any of those is imported. This is
the one place that sets them; `store/__init__.py` calls `apply()` first, so importing `store` (and
`rag`, which imports it) is enough. `setdefault` leaves a value the user set explicitly alone.
TIKTOKEN_CACHE_DIR and NLTK_DATA are deliberately left unset: llama-index-core uses the tiktoken and
NLTK caches bundled in its wheel (`llama_index/core/_static/`) only when they are unset, and setting
them would send it looking elsewhere (and downloading).
"""
from __future__ import annotations

import os

SETTINGS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


def apply() -> None:
    """Set each variable of SETTINGS unless the environment already has it."""
    for name, value in SETTINGS.items():
        os.environ.setdefault(name, value)
