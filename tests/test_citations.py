"""Citation parsing: raw model text in, clean text and checked citation numbers out. No model."""
import pytest

from rag.answering.citations import parse_reply

CASES = [
    # (raw reply, passages retrieved, clean text, cited numbers, refused, dropped)
    ("Cambodia arrested 2,141 suspects [1].", 3, "Cambodia arrested 2,141 suspects [1].", (1,), False, ()),
    ("A [1]. B [2].", 3, "A [1]. B [2].", (1, 2), False, ()),
    ("A [1, 2]. B [2][3].", 3, "A [1][2]. B [2][3].", (1, 2, 3), False, ()),
    ("Invented [7]. Real [2].", 3, "Invented. Real [2].", (2,), False, (7,)),
    ("Only made up [4][5].", 3, "Only made up.", (), False, (4, 5)),
    ("柬埔寨逮捕了2141名嫌疑人【1】。", 3, "柬埔寨逮捕了2141名嫌疑人[1]。", (1,), False, ()),
    ("緬甸移交了1207名嫌疑人［2］。", 2, "緬甸移交了1207名嫌疑人[2]。", (2,), False, ()),
    ("See [Source 2] and [source 1].", 2, "See [2] and [1].", (2, 1), False, ()),
    ("Footnote style [^1].", 1, "Footnote style [1].", (1,), False, ()),
    ("Footnotes [^1, ^2].", 2, "Footnotes [1][2].", (1, 2), False, ()),
    ("Joined by words [1 and 2], [1 et 2].", 2, "Joined by words [1][2], [1][2].", (1, 2), False, ()),
    ("Range [1-3].", 3, "Range [1][2][3].", (1, 2, 3), False, ()),
    ("NO_ANSWER", 3, "", (), True, ()),
    ("no answer", 3, "", (), True, ()),
    ("The sources say nothing. NO_ANSWER", 3, "", (), True, ()),
    ("Plain text without markers.", 3, "Plain text without markers.", (), False, ()),
    ("Brackets that are not markers [sic] stay [a].", 2, "Brackets that are not markers [sic] stay [a].", (), False, ()),
    ("Year [2019] is not a passage.", 3, "Year is not a passage.", (), False, (2019,)),
    ("Trailing space before dot [1] .", 1, "Trailing space before dot [1].", (1,), False, ()),
    ("Repeated [1] again [1].", 1, "Repeated [1] again [1].", (1,), False, ()),
    ("Zero is not a passage [0].", 1, "Zero is not a passage.", (), False, (0,)),
    ("Marker after the stop. [1]", 1, "Marker after the stop [1].", (1,), False, ()),
    ("First.[1] Second. [2][3]", 3, "First [1]. Second [2][3].", (1, 2, 3), False, ()),
    ("柬埔寨逮捕了2141名嫌疑人。[3]", 3, "柬埔寨逮捕了2141名嫌疑人[3]。", (3,), False, ()),
]


@pytest.mark.parametrize("raw,n,text,cited,refused,dropped", CASES)
def test_parse_reply(raw, n, text, cited, refused, dropped):
    got = parse_reply(raw, n)
    assert (got.text, got.cited, got.refused) == (text, cited, refused)
    if not refused:
        assert got.dropped == dropped


from rag.answering.citations import attribute  # noqa: E402

SOURCES = [
    "Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc thông qua cơ chế phối hợp ba bên.",
    "9月6日，緬甸相關地方執法部門集中向我方移交涉詐犯罪嫌疑人1207名，以及一大批作案工具。",
    "La Chine a résolu 391 000 cas de fraude en 2022.",
]

ATTRIBUTION = [
    # (text without markers, expected text, attributed passage numbers)
    ("Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc.",
     "Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc [1].", (1,)),
    ("緬甸向我方移交涉詐犯罪嫌疑人1207名。", "緬甸向我方移交涉詐犯罪嫌疑人1207名[2]。", (2,)),
    ("The capital of Australia is Canberra.", "The capital of Australia is Canberra.", ()),
    # a translation: no shared words, but the one passage holding its distinctive number
    ("Cambodia has handed 5,500 people to China.", "Cambodia has handed 5,500 people to China [1].", (1,)),
    ("Only 5 people.", "Only 5 people.", ()),  # "5" is not distinctive enough
    # Simplified answer quoting the Traditional source
    ("缅甸相关地方执法部门向我方移交涉诈犯罪嫌疑人1207名。", "缅甸相关地方执法部门向我方移交涉诈犯罪嫌疑人1207名[2]。", (2,)),
    ("Already cited [3]. La Chine a résolu 391 000 cas de fraude",
     "Already cited [3]. La Chine a résolu 391 000 cas de fraude [3]", (3,)),
    # a bare value goes to the one passage that holds it, however short
    ("1207", "1207 [2]", (2,)),
    ("391 000.", "391 000 [3].", (3,)),
    ("5", "5", ()),  # held by no passage ("5.500" is another number)
    ("", "", ()),
]


@pytest.mark.parametrize("text,expected,added", ATTRIBUTION)
def test_attribute_quoted_sentences(text, expected, added):
    assert attribute(text, SOURCES) == (expected, added)


from rag.answering.citations import verify  # noqa: E402

PASSAGES = [
    "Myanmar đã trao trả hơn 5.500 nghi phạm. Trong khi đó, phía Campuchia đã bắt giữ 2.141 nghi phạm.",
    "Cuộc họp ngày 14/11 nêu rõ tình trạng tội phạm lừa đảo xuyên biên giới.",
    "Theo thông báo của Bộ Công an Trung Quốc, đại diện 6 nước đã ký văn kiện hợp tác.",
]

VERIFY = [
    # (text, expected text, cited, corrected sentences)
    ("Campuchia đã bắt giữ 2.141 nghi phạm [3].", "Campuchia đã bắt giữ 2.141 nghi phạm [1].", (1,), 1),
    ("Cambodia arrested 2,141 suspects [2].", "Cambodia arrested 2,141 suspects [1].", (1,), 1),
    ("Campuchia đã bắt giữ 2.141 nghi phạm [1].", "Campuchia đã bắt giữ 2.141 nghi phạm [1].", (1,), 0),
    ("Cambodia arrested 9,999 suspects [2].", "Cambodia arrested 9,999 suspects [2].", (2,), 0),  # no holder: unchanged
    ("Đại diện 6 nước đã ký văn kiện hợp tác [2].", "Đại diện 6 nước đã ký văn kiện hợp tác [3].", (3,), 1),
    ("Six countries signed [3]. Cambodia arrested 2141 people [1][2].",
     "Six countries signed [3]. Cambodia arrested 2141 people [1][2].", (3, 1, 2), 0),
]


@pytest.mark.parametrize("text,expected,cited,fixed", VERIFY)
def test_verify_moves_markers_to_the_evidence(text, expected, cited, fixed):
    assert verify(text, PASSAGES) == (expected, cited, fixed)


def test_verify_moves_a_small_number_only_to_a_single_holder():
    two = [*PASSAGES, "Có 6 nghi phạm bị bắt."]  # "6" is now in passages 3 and 4
    assert verify("There were 6 of them [2].", two) == ("There were 6 of them [2].", (2,), 0)
    assert verify("There were 6 of them [2].", PASSAGES) == ("There were 6 of them [3].", (3,), 1)


# --- property: the parser never raises and never cites what was not shown --------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

REPLY_TEXT = st.text(alphabet="ab 12390[]【】［］^,，-–;、.。andetvà和Source source\n", max_size=80)


@given(raw=st.one_of(REPLY_TEXT, st.text(max_size=200)), n=st.integers(0, 6))
def test_parse_reply_never_raises_and_cites_only_shown_passages(raw, n):
    got = parse_reply(raw, n)
    assert all(1 <= k <= n for k in got.cited)
    assert len(set(got.cited)) == len(got.cited)
    assert not set(got.cited) & set(got.dropped)
    if not got.refused:
        # every marker left in the text is a kept one
        assert {int(k) for k in __import__("re").findall(r"\[(\d+)\]", got.text)} <= set(got.cited)


@given(raw=st.text(alphabet=st.characters(blacklist_characters="[]【】［］"), max_size=200), n=st.integers(1, 6))
def test_text_without_brackets_cites_nothing(raw, n):
    got = parse_reply(raw, n)
    assert got.cited == () and got.dropped == ()


@given(text=st.one_of(REPLY_TEXT, st.text(max_size=120)),
       passages=st.lists(st.text(alphabet="ab 1234.,。電信", max_size=60), min_size=1, max_size=4))
def test_attribute_and_verify_never_raise_and_stay_in_range(text, passages):
    clean_text = parse_reply(text, len(passages)).text
    out, added = attribute(clean_text, passages)
    assert all(1 <= k <= len(passages) for k in added)
    out, cited, _ = verify(out, passages)
    assert all(1 <= k <= len(passages) for k in cited)
