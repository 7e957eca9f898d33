"""Settings from a file: rag.toml or .env in the working directory, or the file RAG_CONFIG names;
environment variables above the file, and every error naming the file, the key and the value."""
from __future__ import annotations

import json
import os

import pytest

from rag import ConfigError, explain_settings, load_settings
from ui.cli import main


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory of its own, read as a user's would be (no RAG_CONFIG)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("RAG_CONFIG")
    return folder


def sources(**overrides) -> dict[str, tuple[object, str]]:
    return {v.name: (v.value, v.source) for v in explain_settings(**overrides)}


def test_rag_toml_keys_are_setting_names(here):
    (here / "rag.toml").write_text('top_k = 3\nrefuse_ungrounded = false\nretrieval = ["dense", "keyword"]\n')
    s = load_settings()
    assert (s.top_k, s.refuse_ungrounded, s.retrieval) == (3, False, "dense,keyword")
    assert sources()["top_k"] == (3, str(here / "rag.toml"))
    assert sources()["candidates"] == (30, "default")


def test_precedence_environment_then_dotenv_then_rag_toml_then_default(here, monkeypatch):
    (here / "rag.toml").write_text("top_k = 3\ncandidates = 40\nchunk_size = 500\n")
    (here / ".env").write_text("RAG_TOP_K=4\nRAG_CANDIDATES=41\nPATH_OF_SOMETHING_ELSE=x\n")
    monkeypatch.setenv("RAG_TOP_K", "6")
    s = load_settings()
    assert (s.top_k, s.candidates, s.chunk_size, s.chunk_max) == (6, 41, 500, 900)
    found = sources()
    assert found["top_k"] == (6, "environment")
    assert found["candidates"] == (41, str(here / ".env"))
    assert found["chunk_size"] == (500, str(here / "rag.toml"))
    assert found["chunk_max"] == (900, "default")
    assert sources(top_k=7)["top_k"] == (7, "argument")  # load_settings' own arguments above all


def test_rag_config_names_the_file_and_the_working_directory_is_not_read(here, monkeypatch, tmp_path):
    (here / "rag.toml").write_text("top_k = 3\n")
    other = tmp_path / "elsewhere.toml"
    other.write_text("top_k = 8\ncandidates = 50\n")
    monkeypatch.setenv("RAG_CONFIG", str(other))
    assert sources()["top_k"] == (8, str(other))
    env_file = tmp_path / "prod.env"
    env_file.write_text("RAG_TOP_K=9\n")
    monkeypatch.setenv("RAG_CONFIG", str(env_file))
    assert sources()["top_k"] == (9, str(env_file))


def test_relative_paths_in_a_file_are_from_the_files_folder(here, tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "rag.toml").write_text('home = "data"\n')
    monkeypatch.setenv("RAG_CONFIG", str(conf / "rag.toml"))
    monkeypatch.delenv("RAG_HOME")
    assert load_settings().home == conf / "data"


@pytest.mark.parametrize("name, text, message", [
    ("rag.toml", "topk = 3\n", "invalid settings: {path}: unknown setting 'topk' (did you mean 'top_k'?)"),
    ("rag.toml", "zzz = 1\n", "invalid settings: {path}: unknown setting 'zzz'; known settings: home, chroma_url,"),
    ("rag.toml", "RAG_TOP_K = 3\n", "invalid settings: {path}: 'RAG_TOP_K': keys in rag.toml are setting names "
                                    "without the RAG_ prefix: top_k = ..."),
    ("rag.toml", 'top_k = "lots"\n', "invalid settings: {path}: top_k: Input should be a valid integer, unable to "
                                     "parse string as an integer (got 'lots')"),
    ("rag.toml", "top_k = 0\n", "invalid settings: {path}: top_k: Input should be greater than or equal to 1 (got 0)"),
    ("rag.toml", "top_k = \n", "invalid settings: {path} is not valid TOML: Invalid value (at line 1, column 9)"),
    (".env", "RAG_TOPK=3\n", "invalid settings: {path}: unknown setting 'RAG_TOPK' (did you mean 'RAG_TOP_K'?)"),
    (".env", "RAG_TOP_K=lots\n", "invalid settings: {path}: RAG_TOP_K: Input should be a valid integer, unable to "
                                 "parse string as an integer (got 'lots')"),
], ids=["unknown-close", "unknown-far", "prefixed", "type", "range", "syntax", "dotenv-unknown", "dotenv-type"])
def test_errors_name_the_file_the_key_and_the_value(here, name, text, message):
    (here / name).write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert str(e.value).startswith(message.format(path=here / name))


def test_a_missing_rag_config_file_is_an_error(here, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="^RAG_CONFIG: no such settings file: .*nope.toml$"):
        load_settings()


def test_the_environment_still_names_its_variable(here, monkeypatch):
    (here / "rag.toml").write_text("top_k = 3\n")
    monkeypatch.setenv("RAG_TOP_K", "lots")  # the environment's value is the one in force: it is named
    with pytest.raises(ConfigError, match=r"^invalid settings: RAG_TOP_K: .*\(got 'lots'\)$"):
        load_settings()


def test_rag_settings_prints_values_and_where_they_come_from(here, monkeypatch, capsys):
    (here / "rag.toml").write_text("top_k = 3\n")
    monkeypatch.setenv("RAG_AUTH", "ana:secret")
    assert main(["settings", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["top_k"] == {"name": "top_k", "value": 3, "source": str(here / "rag.toml")}
    assert rows["auth"] == {"name": "auth", "value": "********", "source": "environment"}  # never the secret
    assert rows["chroma_url"] == {"name": "chroma_url", "value": None, "source": "default"}
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows)
    top_k = next(line for line in lines if line.startswith("top_k = "))
    assert top_k.split() == ["top_k", "=", "3", "#", str(here / "rag.toml")]
    assert next(line for line in lines if line.startswith("chroma_url")).split() == \
        ["chroma_url", "=", '""', "#", "default", "(unset)"]
    assert "secret" not in "\n".join(lines)


def test_rag_settings_reports_a_bad_file_with_exit_2(here, capsys):
    (here / "rag.toml").write_text("topk = 3\n")
    assert main(["settings"]) == 2
    assert capsys.readouterr().err == \
        f"error: invalid settings: {here / 'rag.toml'}: unknown setting 'topk' (did you mean 'top_k'?)\n"


def test_the_tests_read_no_settings_file_of_the_checkout():
    assert os.environ["RAG_CONFIG"].endswith("no-settings.toml")
