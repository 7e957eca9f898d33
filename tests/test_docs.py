"""Docs that cannot drift: the generated parts are regenerated and compared, every path and module
the docs name exists, the Python API page covers `rag`'s public names, the docs read as
documentation (not as a history of the project), and the README's commands are CI's."""
import importlib.util
import re
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_settings_table_is_the_generated_one():
    from rag.settings import docs_table

    block = README.split("<!-- settings:start (generated: python -m rag.settings) -->\n")[1].split("\n<!-- settings:end -->")[0]
    assert block == docs_table(), "run: python docs/generate.py (or python -m rag.settings, and paste the table)"


def test_every_setting_is_documented():
    missing = [f"RAG_{n.upper()}" for n in Settings.model_fields if f"`RAG_{n.upper()}`" not in README]
    assert not missing, f"README lacks: {missing}"


def test_readme_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make run" in README and "make test" in README
    assert "make test" in ci


def test_cli_reference_is_the_generated_one():
    generate = _generator()
    on_disk = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert on_disk == generate.cli_reference(), "run: python docs/generate.py"


def test_cli_reference_has_every_command():
    from ui.cli import build_parser

    text = _generator().cli_reference()
    commands = _generator().commands(build_parser())
    assert commands, "no subcommands found in the parser"
    assert [name for name in commands if f"\n## rag {name}\n" not in text] == []
    assert "$ rag --help\nusage: rag" in text


# A word about how the project was developed, not about what it does. User-facing meanings of
# "session" (a browser's, Gradio's, sticky sessions behind a proxy) are taken out before the check.
HISTORY = re.compile(
    r"\bsessions?\b|\bissues? #?\d|already done|\bmachine lent\b|earlier version of the page"
    r"|\b(first|second|third|fourth|fifth|sixth|seventh|eighth) (answers )?session",
    re.IGNORECASE,
)
USER_SESSIONS = re.compile(
    r"(chat|gradio(_client)?|gradio's|browser|login|sticky|simultaneous|user|its own gradio|20|6|n) sessions?\b"
    r"|\bsessions? \|"        # a table column of the load test
    r"|--sessions\b|\bsessions, (the|fake|the packaged)|[\w-]+-sessions\b"  # the last: a heading's anchor
    r"|a gradio session",
    re.IGNORECASE,
)


def _history_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if HISTORY.search(USER_SESSIONS.sub("", line))]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_tell_no_development_history(path):
    """No sessions, issue numbers or 'already done': decisions stay as decision records."""
    assert _history_lines(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("line, flagged", [
    ("### Fifth session: the number check reads dates", True),
    ("the answers are the same as the sixth session's", True),
    ("Targets of issue 3 (R@5 ≥ 0.95)", True),
    ("`tests/test_crash.py::test_sigkill` (already done)", True),
    ("the GPU machine lent to us could not be given one", True),
    ("several `rag serve` workers sit behind one address with sticky sessions", False),
    ("20 `gradio_client` clients, each its own Gradio session, submit", False),
    ("## Load: 20 simultaneous chat sessions", False),
    ("python -m bench.load --url http://127.0.0.1:8088 --sessions 6", False),
])
def test_the_history_check_tells_the_two_apart(line, flagged):
    assert bool(_history_lines(line)) is flagged


# Paths the docs name, in code spans or links: rag/..., ui/..., store/..., bench/..., tests/..., eval/...,
# seeds/..., docs/... (a test id's `::name` is cut off, placeholders and globs are skipped).
PATH = re.compile(r"(?<![\w./-])((?:rag|ui|store|bench|tests|eval|seeds|docs)/[\w./-]*[\w/])")


def _named_paths(text: str) -> set[str]:
    spans = re.findall(r"`([^`\n]+)`", text) + re.findall(r"\]\(([^)\s]+)\)", text)
    found = set()
    for span in spans:
        for m in PATH.finditer(span):
            path = m.group(1).split("::")[0].rstrip(".")
            # what a run writes (bench/results/) is not in the checkout
            if not any(c in path for c in "*<>{}") and "means." not in path and not path.startswith("bench/results/"):
                found.add(path)
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_the_docs_name_exists(path):
    base = path.parent
    missing = []
    for name in sorted(_named_paths(path.read_text(encoding="utf-8"))):
        # links are relative to the page, code spans to the checkout
        if not ((ROOT / name).exists() or (base / name).exists()):
            missing.append(name)
    assert missing == [], f"{path.relative_to(ROOT)} names paths that do not exist"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_the_docs_run_exists(path):
    modules = set(re.findall(r"python -m ((?:rag|ui|store|bench)(?:\.\w+)*)", path.read_text(encoding="utf-8")))
    missing = [m for m in sorted(modules) if importlib.util.find_spec(m) is None]
    assert missing == []


def test_the_python_api_page_covers_the_public_names():
    import rag

    page = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    assert [n for n in rag.__all__ if f"`{n}" not in page] == [], "docs/python.md lacks these public names"
    imported = {n.strip() for line in re.findall(r"from rag import ([\w, ]+)", page + README) for n in line.split(",")}
    assert [n for n in sorted(imported) if not hasattr(rag, n)] == []


def test_seeds_hold_only_the_articles():
    assert sorted(p.suffix for p in (ROOT / "seeds").iterdir()) == [".txt"] * 5


@pytest.mark.parametrize("answer, marks, original, translation, problem", [
    ("柬埔寨逮捕了2141名詐騙嫌疑人[2]。", 1, "phía Campuchia đã bắt giữ 2.141 nghi phạm", "柬埔寨逮捕了2141名嫌疑人。", None),
    ("柬埔寨逮捕了2141名詐騙嫌疑人[2]。", 1, "phía Campuchia đã bắt giữ 2.141 nghi phạm",
     "phía  Campuchia đã bắt giữ 2.141 nghi phạm", "untranslated"),
    ("柬埔寨逮捕了2141名詐騙嫌疑人[2]。", 1, "phía Campuchia", "Cambodia arrested 2,141 suspects", "not Chinese"),
    ("柬埔寨逮捕了2141名詐騙嫌疑人[2]。", 1, "phía Campuchia", "", "no translation"),
    ("柬埔寨逮捕了2141名詐騙嫌疑人。", 1, "phía Campuchia", "柬埔寨", "cites nothing"),
    ("柬埔寨逮捕了兩千名詐騙嫌疑人[2]。", 1, "phía Campuchia", "柬埔寨", "2141"),
    ("柬埔寨逮捕了2141名詐騙嫌疑人[2]。", 0, "phía Campuchia", "柬埔寨", "highlighted"),
])
def test_the_screenshot_is_saved_only_when_it_shows_its_caption(answer, marks, original, translation, problem):
    from bench.screenshots import caption_problems

    problems = caption_problems(answer, marks, original, translation)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    heads = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in heads}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_to_a_heading_finds_it(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        page = (path.parent / target) if target else path
        if page.suffix == ".md" and page.exists() and anchor not in _anchors(page):
            broken.append(f"{target}#{anchor}")
    assert broken == []
