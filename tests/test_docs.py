"""Docs that cannot drift: every setting is in the README, and the README's commands are CI's."""
from pathlib import Path

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_settings_table_is_the_generated_one():
    from rag.settings import docs_table

    block = README.split("<!-- settings:start (generated: python -m rag.settings) -->\n")[1].split("\n<!-- settings:end -->")[0]
    assert block == docs_table(), "run: python -m rag.settings, and paste the table into the README"


def test_every_setting_is_documented():
    missing = [f"RAG_{n.upper()}" for n in Settings.model_fields if f"`RAG_{n.upper()}`" not in README]
    assert not missing, f"README lacks: {missing}"


def test_readme_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make run" in README and "make test" in README
    assert "make test" in ci
