"""Pages right for every PDF: a citation carries the page of its own span, and a passage that runs
over pages says so ("pp. 1–2"); the same for slides."""
from __future__ import annotations

import json

import pytest

from rag import Assistant, load_settings
from rag.backends.llm import ScriptedLLM
from rag.ingestion.locations import Location, locations_in, span_label
from rag.ingestion.write import where
from rag.present.render import answer_text, sources_markdown
from tests.format_files import make_pdf

PAGE1 = "Le port de Marseille a reçu quarante navires en mars."
PAGE2 = "Les quokkas de Perth sont 7741 selon le recensement."

LOCS = (Location(0, 10, 1, "p. 1", 91.0), Location(12, 20, 2, "p. 2", 55.5), Location(22, 30, 3, "p. 3"))


@pytest.mark.parametrize(("start", "end", "label"), [
    (0, 5, "p. 1"),
    (5, 15, "pp. 1–2"),
    (5, 25, "pp. 1–3"),
    (10, 12, None),  # the blank line between pages
    (14, 16, "p. 2"),
])
def test_span_label(start, end, label):
    assert span_label(locations_in(LOCS, start, end)) == label


def test_span_label_of_slides_and_of_headings():
    slides = (Location(0, 5, 3, "slide 3"), Location(7, 9, 4, "slide 4"))
    assert span_label(slides) == "slides 3–4"
    headings = (Location(0, 5, None, "Introduction"), Location(7, 9, None, "Méthode"))
    assert span_label(headings) == "Introduction"  # no run of sections: where it starts


def test_a_chunk_over_two_pages_keeps_each_page_and_the_lowest_ocr_confidence():
    meta = where(LOCS, 5, 15)
    assert {k: meta[k] for k in ("page", "location", "ocr_confidence")} == {
        "page": 1, "location": "pp. 1–2", "ocr_confidence": 55.5}
    assert json.loads(meta["places"]) == [[0, 10, 1, "p. 1"], [12, 20, 2, "p. 2"]]
    assert where(LOCS, 22, 28) == {"page": 3, "location": "p. 3"}  # one page: no places, no OCR


def test_a_sentence_on_page_2_of_a_passage_from_page_1_is_cited_p_2(tmp_path):
    pdf = tmp_path / "deux-pages.pdf"
    pdf.write_bytes(make_pdf([PAGE1, PAGE2]))
    llm = ScriptedLLM(fn=lambda messages: "Les quokkas de Perth sont 7741 [1].")
    a = Assistant(load_settings(min_score=-1.0), llm=llm)
    a.ingest([pdf])
    (passage,) = a.search("quokkas Perth recensement", k=1)
    assert (passage.page, passage.location) == (1, "pp. 1–2")  # the short pages make one passage
    answer = a.ask("Combien de quokkas à Perth ?")
    (cited,) = answer.citations
    assert PAGE2.rstrip(".") in cited.text
    assert (cited.page, cited.location) == (2, "p. 2")
    assert "[1] deux-pages.pdf, p. 2 (" in answer_text(answer)
    shown = sources_markdown([cited.passage], {1: [(cited.start, cited.end)]}, "fr")
    assert "**[1] deux-pages.pdf, p. 2**" in shown
    assert "**[1] deux-pages.pdf, pp. 1–2**" in sources_markdown([cited.passage], (), "fr")
