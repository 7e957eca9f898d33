"""The conversation as a Markdown file with footnote citations, offered for download."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from rag.present.render import conversation_markdown


def export_conversation(answers: list) -> str | None:
    """Write the conversation's answers to a fresh temporary folder; the file's path, or None
    when there is nothing to export."""
    if not answers:
        return None
    now = datetime.now()
    folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
    path = folder / f"conversation-{now:%Y%m%d-%H%M%S}.md"
    path.write_text(conversation_markdown(answers, when=now.strftime("%Y-%m-%d %H:%M")), encoding="utf-8")
    return str(path)
