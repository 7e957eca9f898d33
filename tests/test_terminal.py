"""`rag chat`'s conversation logic, driven in-process with the fake backends (the real terminal and
pipe are driven in tests/test_chat_cli.py)."""
from __future__ import annotations

import io
import json

from rag.conversations import ConversationStore
from ui.terminal import TerminalChat

Q1 = "Myanmar đã trao trả bao nhiêu nghi phạm?"
Q2 = "Còn Lào thì sao?"


def chat(assistant, tmp_path, **kw):
    out = io.StringIO()
    store = ConversationStore(tmp_path / "c.sqlite")
    return TerminalChat(assistant, store, "local", "rag_chunks", out, **kw), out, store


def test_sources_come_before_the_streamed_answer_and_the_turn_is_saved(make, tmp_path):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    t, out, store = chat(assistant, tmp_path)
    assert t.run([Q1, "/quit", "never asked"]) == 0
    text = out.getvalue()
    assert text.index("[1] ") < text.index("Hơn 5.500 nghi phạm [1].")
    assert "never asked" not in text
    [saved] = store.list("local")
    conv = store.get(saved.id, "local")
    assert [t.question for t in conv.turns] == [Q1]
    assert conv.turns[0].answer.citations


def test_a_follow_up_sees_the_earlier_turn_and_new_starts_over(make, tmp_path):
    assistant, llm = make(["Hơn 5.500 nghi phạm [1].", "Lào đã bắt bao nhiêu nghi phạm?", "Hơn 600 nghi phạm [1].",
                           "Hơn 600 nghi phạm [1]."])
    t, out, store = chat(assistant, tmp_path)
    t.run([Q1, Q2, "/new", "Lào đã bắt bao nhiêu nghi phạm?"])
    # the follow-up went through the rewrite (it saw Q1), the question after /new did not
    assert Q1 in llm.prompts[1][-1]["content"]
    assert len(llm.prompts) == 4
    convs = store.list("local")
    assert sorted(c.turns for c in convs) == [1, 2]


def test_json_lines_one_object_per_question(make, tmp_path):
    # the second line is a follow-up: one reply for its rewrite (none usable), one for its answer
    assistant, _ = make(["Hơn 5.500 nghi phạm [1].", "NO_ANSWER", "NO_ANSWER"])
    t, out, _ = chat(assistant, tmp_path, as_json=True, interactive=False)
    assert t.run([Q1, "", "Thủ đô của Pháp là gì?"]) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["question"] for r in rows] == [Q1, "Thủ đô của Pháp là gì?"]
    assert rows[0]["citations"] and rows[0]["conversation"] == rows[1]["conversation"]
    assert rows[1]["refused"] is True


def test_sources_and_open_show_the_cited_text_in_its_document(make, tmp_path):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    t, out, _ = chat(assistant, tmp_path)
    t.run(["/sources", "/open 1", Q1, "/sources", "/open 9", "/open 1"])
    text = out.getvalue()
    assert "no sources yet" in text and "/open takes the number of a source of the last answer (1)" in text
    cited = t.last.citations[0]
    assert f"cited: {cited.text}" in text
    assert f">>> {' '.join(cited.passage.text.split())} <<<" in text


def test_an_error_is_said_and_the_chat_goes_on(make, tmp_path):
    assistant, _ = make(["Hơn 5.500 nghi phạm [1]."])
    t, out, _ = chat(assistant, tmp_path)
    assert t.run(["🔥🤔", Q1]) == 1  # one question failed: a script can tell
    text = out.getvalue()
    assert "error:" in text and "Hơn 5.500 nghi phạm [1]." in text
