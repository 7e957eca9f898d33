"""The conversation as a Markdown file with footnote citations, offered for download.

Each export is written to its own folder under one folder of the system's temporary directory. The
page hands the file to Gradio, which copies it into its own cache to serve it (and deletes that
copy on its schedule, see ui/app.py), so ours is needed only for a moment: exports older than
EXPORT_TTL_S are deleted at each export and when the server starts (`prune_exports`).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rag.present.render import conversation_markdown

EXPORT_TTL_S = 600


def exports_folder() -> Path:
    return Path(tempfile.gettempdir()) / "rag-exports"


def prune_exports(older_than_s: float = EXPORT_TTL_S, folder: Path | None = None) -> int:
    """Delete the export folders older than `older_than_s` seconds; how many were deleted."""
    folder = folder or exports_folder()
    deadline = time.time() - older_than_s
    gone = 0
    for sub in folder.glob("rag-export-*") if folder.is_dir() else ():
        try:
            if sub.stat().st_mtime < deadline:
                shutil.rmtree(sub, ignore_errors=True)
                gone += 1
        except FileNotFoundError:  # another server pruned it meanwhile
            pass
    return gone


def export_conversation(answers: list, folder: Path | None = None) -> str | None:
    """Write the conversation's answers to a fresh folder under `folder` (default: `exports_folder()`);
    the file's path, or None when there is nothing to export. Older exports are deleted first."""
    if not answers:
        return None
    folder = folder or exports_folder()
    prune_exports(folder=folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.now()
    path = Path(tempfile.mkdtemp(prefix="rag-export-", dir=folder)) / f"conversation-{now:%Y%m%d-%H%M%S}.md"
    path.write_text(conversation_markdown(answers, when=now.strftime("%Y-%m-%d %H:%M")), encoding="utf-8")
    return str(path)
