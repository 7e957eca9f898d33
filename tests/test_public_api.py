"""`rag`'s public API: every name listed, each resolving, nothing heavy loaded by `import rag`, and
the interfaces (ui/) using nothing else of `rag` but its presentation helpers."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rag

ROOT = Path(__file__).resolve().parent.parent
# The names the README and existing callers use: they stay importable from `rag` as they are.
CORE = ["ask", "ask_stream", "search", "ingest", "documents", "Assistant", "Answer", "Citation", "Passage",
        "IngestReport", "DocumentInfo", "Sources", "Delta", "Final", "Settings", "load_settings", "RagError"]


def test_dir_lists_the_public_api():
    assert set(CORE) <= set(rag.__all__)
    assert set(rag.__all__) <= set(dir(rag))
    assert len(rag.__all__) == len(set(rag.__all__))


@pytest.mark.parametrize("name", rag.__all__)
def test_each_public_name_resolves(name):
    value = getattr(rag, name)
    assert value is not None and getattr(rag, name) is value
    if isinstance(value, type) and issubclass(value, Exception):
        assert issubclass(value, rag.RagError)  # one family: interfaces catch RagError alone


def test_public_names_are_the_modules_own():
    from rag.errors import InvalidInput
    from rag.text.language import SUPPORTED

    assert rag.InvalidInput is InvalidInput and rag.SUPPORTED_LANGUAGES is SUPPORTED
    assert rag.InvalidInput.exit_code == 2 and rag.RagError.exit_code == 1


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rag.nope  # noqa: B018


def _fresh(code: str) -> str:
    """Run `code` in a fresh interpreter without the offline switches in its environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "GRADIO_ANALYTICS_ENABLED", "ANONYMIZED_TELEMETRY")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_rag_and_the_cli_load_no_pipeline():
    """`import rag` and `rag --help` stay fast: no pipeline, client, store or page until first use."""
    loaded = _fresh(
        "import sys, rag, ui.cli\n"
        "heavy = ['rag.api', 'chromadb', 'llama_index.core', 'openai', 'gradio', 'ui.app']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    assert loaded == ""


def test_the_page_goes_offline_before_gradio_is_imported():
    """The ui package imports `rag` first, which sets the offline switches gradio reads at import."""
    out = _fresh(
        "import os, sys\n"
        "import ui.library\n"
        "assert 'gradio' not in sys.modules\n"
        "print(os.environ['GRADIO_ANALYTICS_ENABLED'], os.environ['HF_HUB_OFFLINE'])"
    )
    assert out == "False 1"


def _rag_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.append(node.module or "")
    return [m for m in found if m.split(".")[0] == "rag"]


def test_the_interfaces_use_only_the_public_api_and_the_presentation_helpers():
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p in sorted((ROOT / "ui").glob("*.py"))
           for m in _rag_imports(p) if m != "rag" and not m.startswith("rag.present")]
    assert bad == []
