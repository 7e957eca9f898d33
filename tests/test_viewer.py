"""The document viewer serves only ingested documents: by name from the index, never by path, and
the web server around it serves no file of the machine."""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from rag.errors import DocumentNotFound
from tests.servers import free_port
from ui.app import create_app
from ui.viewer import open_source

VI_DOC = "003_912a6ae6278a5b97.txt"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "seeds/" + VI_DOC, "README.md", "", "notes.txt"])
def test_document_serves_only_ingested_documents(lib, seeds_copy, name):
    (seeds_copy / "notes.txt").write_text("on disk next to the seeds but never ingested", encoding="utf-8")
    with pytest.raises(DocumentNotFound):
        lib.document(name)


def test_the_viewer_handler_only_opens_sources_of_the_answer(lib):
    answer = lib.ask("Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?")
    # values come from the browser: anything that is not one of this answer's sources opens nothing
    for value in ["c99", "r5", "", "c", "x1", "c-1", "../etc/passwd"]:
        assert open_source(lib, answer, value) == ""
    assert open_source(lib, None, "c1") == ""


def test_the_served_app_gives_out_no_file_of_the_machine(lib, seeds_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web", encoding="utf-8")
    demo = create_app(lib)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        for path in [str(secret), "/etc/passwd", str(seeds_copy / VI_DOC), "../../../../etc/passwd"]:
            for route in ("gradio_api/file=", "file="):
                url = f"http://127.0.0.1:{port}/{route}{urllib.parse.quote(path)}"
                try:
                    body = urllib.request.urlopen(url, timeout=10).read().decode("utf-8", "replace")
                except urllib.error.HTTPError as e:
                    assert e.code in (403, 404), (url, e.code)
                else:
                    assert "not for the web" not in body and "root:" not in body and "Myanmar" not in body, url
    finally:
        demo.close()
