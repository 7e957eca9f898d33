"""The layout's rules, read from the source: arrows point one way (ui -> rag -> store), no module
imports another module's private name, and lab code varies the product only through parameters."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rag", "ui", "store")


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path, root: Path = ROOT) -> list[tuple[str, tuple[str, ...], int]]:
    """(module imported, names taken from it, line) for every import in the file, nested ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts)
    if path.name == "__init__.py":
        package += ".__init__"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against this file's package
                base = package.split(".")[: -node.level]
                module = ".".join(base + ([module] if module else []))
            found.append((module, tuple(a.name for a in node.names), node.lineno))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def test_rag_never_imports_ui():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in _modules("rag")
           for m, _, line in _imports(p) if _top(m) == "ui"]
    assert bad == []


def test_store_imports_neither_rag_nor_ui():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in _modules("store")
           for m, _, line in _imports(p) if _top(m) in ("rag", "ui")]
    assert bad == []


@pytest.mark.parametrize("forbidden", ["store", "chromadb", "llama_index", "openai", "llama_cpp"])
def test_ui_talks_only_to_rag(forbidden):
    bad = [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in _modules("ui")
           for m, _, line in _imports(p) if _top(m) == forbidden]
    assert bad == []


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    bad = []
    for module, names, line in _imports(path, root):
        if _top(module) not in (*PACKAGES, "bench"):
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        private += [part for part in module.split(".") if part.startswith("_") and part != "__init__"]
        if private:
            bad.append(f"{path.relative_to(root)}:{line} takes {private} from {module}")
    return bad


def test_no_module_imports_another_modules_private_name():
    bad = [v for folder in (*PACKAGES, "bench") for p in _modules(folder) for v in _private_imports(p)]
    assert bad == []


def test_the_private_import_check_catches_one(tmp_path):
    (tmp_path / "rag").mkdir()
    sample = tmp_path / "rag" / "sample.py"
    sample.write_text("from .citations import _SENTENCE, parse_reply\nfrom rag.text import numbers\n")
    assert _private_imports(sample, tmp_path) == ["rag/sample.py:1 takes ['_SENTENCE'] from rag.citations"]


def test_bench_imports_nothing_from_tests():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in _modules("bench")
           for m, _, line in _imports(p) if _top(m) == "tests"]
    assert bad == []


def test_bench_never_assigns_attributes_of_product_modules():
    """Experiments go through the product's parameters, never by replacing what a module holds."""
    bad = []
    for p in _modules("bench"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        product_names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                product_names |= {(a.asname or a.name).split(".")[0] for a in node.names
                                  if _top(a.name) in PACKAGES}
            elif isinstance(node, ast.ImportFrom) and _top(node.module or "") in PACKAGES:
                product_names |= {a.asname or a.name for a in node.names}
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                while isinstance(t, ast.Attribute):
                    if isinstance(t.value, ast.Name) and t.value.id in product_names:
                        bad.append(f"{p.relative_to(ROOT)}:{node.lineno} assigns {t.value.id}.{t.attr}")
                    t = t.value
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in product_names):
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno} setattr on {node.args[0].id}")
    assert bad == []
