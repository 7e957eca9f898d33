"""The web chat (Gradio). It calls only `rag`'s public API and renders with `rag.present.render`.

Every browser tab gets its own chat history and answers (Gradio keeps component values and State
per session); the Assistant it shares holds no per-user state. Retrieval runs concurrently, and
generation passes through a `Gate`: a user whose question waits for the model sees its sources at
once and their place in the queue in the chat.
"""
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Iterator

import store as _store  # noqa: F401  (offline switches before gradio is imported)

from .gate import Gate
from .labels import LANGUAGES, request_language, say, translations

EXAMPLES = [
    "Combien de suspects le Cambodge a-t-il arrêtés ?",
    "How many fraud dens did Operation First Light destroy?",
    "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?",
    "緬甸向中方移交了多少名涉詐犯罪嫌疑人？",
]

CSS = """
body, .gradio-container { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; }
.sources-panel { max-height: 560px; overflow-y: auto; }
/* The table's default monospace font draws Vietnamese tone marks apart from their letters. */
#library, #library * { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif !important; }
#viewer .doc-text { position: relative; max-height: 420px; overflow-y: auto; white-space: pre-wrap; line-height: 1.6; }
#viewer .doc-title { font-weight: 600; margin-bottom: .4em; }
#viewer .gap { color: #888; }
#translation .machine { font-size: .85em; color: #8a5a00; }
mark { background: #ffe58a; color: inherit; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
"""
# After the viewer is filled: scroll the viewer box (only it, not the page) to the cited span.
SCROLL_JS = (
    "() => { const box = document.querySelector('#viewer .doc-text');"
    " const m = document.querySelector('#viewer #cited');"
    " if (box && m) box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3); }"
)

def _confirm_delete_js() -> str:
    """Asks before deleting, in the browser's language (the page's own, as gr.I18n picks it)."""
    import json

    texts = {lang: say("confirm_delete", lang, name="{name}") for lang in LANGUAGES}
    return (
        "(name) => { if (!name) return ''; const t = " + json.dumps(texts, ensure_ascii=False) + ";"
        " const l = (navigator.language || 'en'); const z = /^zh-(TW|HK|MO|Hant)/i.test(l) ? 'zh-Hant' : 'zh-Hans';"
        " const k = l.startsWith('zh') ? z : (t[l.slice(0, 2)] ? l.slice(0, 2) : 'en');"
        " return confirm(t[k].replace('{name}', name)) ? name : ''; }"
    )


CONFIRM_DELETE_JS = _confirm_delete_js()


def _answer_markdown(answer) -> str:
    from rag.present.messages import message
    from rag.present.render import escape_md, flag_text

    text = escape_md(answer.text)
    # escape_md protects brackets; the markers we checked ourselves are safe to show plainly.
    for c in answer.citations:
        text = text.replace(f"\\[{c.n}\\]", f"[{c.n}]")
    lang = answer.language
    head = (f"_({message('understood_as', lang, question=escape_md(answer.standalone_question))})_\n\n"
            if answer.standalone_question else "")
    flags = "".join(f"\n\n⚠️ _{flag_text(f, lang)}_" for f in answer.flags)
    notes = "".join(f"\n\n_{escape_md(n)}_" for n in answer.notices)
    return head + text + flags + notes


def _pairs(history: list[dict]) -> list[tuple[str, str]]:
    """Chat messages -> (question, answer) pairs for `ask`."""
    pairs, question = [], None
    for m in history:
        if m.get("role") == "user":
            question = str(m.get("content", ""))
        elif m.get("role") == "assistant" and question is not None:
            pairs.append((question, str(m.get("content", ""))))
            question = None
    return pairs


SKIP = object()  # "leave this output as it is"


def _copy(history: list[dict]) -> list[dict]:
    # Each output is a snapshot: later deltas must not rewrite what was already handed out.
    return [dict(m) for m in history]


def _spans_by_passage(answer) -> dict[int, list[tuple[int, int]]]:
    spans: dict[int, list] = {}
    for c in answer.citations:
        # citations number the passages shown to the model, which are the first ones
        spans.setdefault(c.n, []).append((c.start, c.end))
    return spans


def chat_turn(assistant, message: str, history: list[dict], gate: Gate | None = None) -> Iterator[tuple]:
    """One chat turn as a stream of (history, textbox, sources panel, answer or None); SKIP leaves an
    output as is. The answer (an `rag.Answer`) comes with the last output when there is one.

    Kept free of Gradio so it can be tested directly with the fake backends.
    """
    from rag import Delta, RagError, Sources
    from rag.present.messages import error_message, message as say
    from rag.present.render import sources_markdown

    history = list(history or [])
    language = assistant.language_of(message) if message and message.strip() else "en"
    if not message or not message.strip():
        yield _copy(history), message, say("empty_question", language), None
        return
    prior = _pairs(history)
    history += [{"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
    yield _copy(history), "", f"_{say('searching', language)}_", None
    passages: tuple = ()
    gate = gate or Gate(limit=1 << 30)
    events = assistant.ask_stream(message, prior)
    inside = False

    def show(event) -> tuple:
        nonlocal passages
        if isinstance(event, Sources):
            passages = event.passages
            return _copy(history), "", sources_markdown(passages, language=language), None
        if isinstance(event, Delta):
            current = history[-1]["content"]
            fresh = current == "…" or current.startswith("⏳")
            history[-1]["content"] = ("" if fresh else current) + event.text
            return _copy(history), "", SKIP, None
        answer = event.answer  # the Final event: the checked answer
        history[-1]["content"] = _answer_markdown(answer)
        if answer.refused:
            panel = sources_markdown(answer.related, language=answer.language, related=True)
        else:
            panel = sources_markdown(passages, cited=_spans_by_passage(answer), language=answer.language)
        return _copy(history), "", panel, answer

    try:
        if not prior:
            # Retrieval needs no model: show the sources before waiting for a turn at the model.
            yield show(next(events))
        for ahead in gate.enter():
            history[-1]["content"] = say("queued", language, n=ahead)
            yield _copy(history), "", SKIP, None
        inside = True
        for event in events:  # lazily: deltas must stream
            yield show(event)
    except RagError as e:
        history[-1]["content"] = f"⚠️ {error_message(e, language)}"
        yield _copy(history), "", SKIP, None
    finally:
        events.close()
        if inside:
            gate.leave()


def _source_choices(answer) -> list[tuple[str, str]]:
    """(label, value) for the "open a source" radio: the passages the answer cites, else the related."""
    if answer is None:
        return []
    if answer.refused:
        return [(f"{p.document} · {p.language}", f"r{i}") for i, p in enumerate(answer.related)]
    seen, out = set(), []
    for c in answer.citations:
        if c.n not in seen:
            seen.add(c.n)
            out.append((f"[{c.n}] {c.document} · {c.language}", f"c{c.n}"))
    return out


def _chosen(answer, value: str):
    """The passage and cited spans behind a radio value."""
    if answer is None or not value or value[:1] not in ("r", "c") or not value[1:].isdigit():
        return None, []  # values come from the browser: anything else opens nothing
    if value.startswith("r"):
        i = int(value[1:])
        return (answer.related[i], []) if i < len(answer.related) else (None, [])
    n = int(value[1:])
    cs = [c for c in answer.citations if c.n == n]
    return (cs[0].passage, [(c.start, c.end) for c in cs]) if cs else (None, [])


def open_source(assistant, answer, value: str) -> str:
    """The viewer's HTML: the whole document of the chosen source, its cited span marked."""
    import html

    from rag import RagError
    from rag.present.render import document_html

    passage, spans = _chosen(answer, value)
    if passage is None:
        return ""
    try:
        chunks = assistant.document(passage.document)
    except RagError as e:
        return f"<p>⚠️ {html.escape(str(e))}</p>"
    return document_html(chunks, spans or [(passage.start, passage.end)], title=passage.document)


def translate_source(assistant, answer, value: str) -> str:
    """The chosen source's cited text (or passage) translated into the answer's language, marked as
    machine-made and shown under the original."""
    import html

    from rag import RagError
    from rag.present.messages import error_message, language_label, message

    passage, spans = _chosen(answer, value)
    if passage is None:
        return f"<p>{message('choose_source', answer.language if answer else 'en')}</p>"
    lang = answer.language
    name = language_label(lang, lang)
    if passage.language == lang:
        return f"<p>{html.escape(message('already_in', lang, name=name))}</p>"
    text = passage.text
    if spans:
        text = " ".join(passage.text[max(0, a - passage.start) : max(0, b - passage.start)] for a, b in spans)
    try:
        out = assistant.translate(text, answer.language)
    except RagError as e:
        return f"<p>⚠️ {html.escape(error_message(e, lang))}</p>"
    return (
        f"<blockquote>{html.escape(' '.join(text.split()))}</blockquote>"
        f'<p class="machine">{html.escape(message("machine_translation", lang, name=name))}</p>'
        f"<blockquote>{html.escape(out)}</blockquote>"
    )


def library_headers(language: str = "en") -> list[str]:
    return [say(k, language) for k in ("col_document", "col_language", "col_passages", "col_ingested")]


def library_rows(assistant, language: str = "en") -> list[list]:
    from rag import RagError
    from rag.present.messages import language_label

    try:
        docs = assistant.documents()
    except RagError as e:
        # Said in the table itself: an empty list would read as "your library is empty".
        return [[say("library_unreadable", language, detail=e), "", "", ""]]
    return [[d.document, language_label(d.language, language), d.chunks, d.ingested_at[:19].replace("T", " ")]
            for d in docs]


def add_files(assistant, paths: list[str], progress=None, language: str = "en") -> str:
    """Upload handler: each file through `Assistant.add_file`; one line per file, good or bad, in
    the page's `language` (an error's own detail, which names the file, stays as raised)."""
    from rag import RagError

    if not paths:
        return say("choose_files", language)
    lines = []
    for i, p in enumerate(paths):
        name = Path(p).name
        if progress is not None:
            progress((i, len(paths)), desc=say("indexing", language, name=name))
        try:
            report = assistant.add_file(p, name)
        except RagError as e:
            lines.append(f"✗ {say('not_added', language, detail=e)}")
            continue
        if report.added or report.updated or report.repaired:
            lines.append(f"✓ {say('added', language, name=name, n=report.chunks)}")
        elif report.unchanged:
            lines.append(f"✓ {say('unchanged', language, name=name)}")
        else:
            lines.append(f"✗ {say('nothing_stored', language, name=name)}")
    return "\n\n".join(lines)


def delete_document(assistant, name: str, language: str = "en") -> str:
    from rag import RagError
    from rag.present.messages import error_message

    if not name:
        return say("nothing_deleted", language)
    try:
        return say("deleted" if assistant.delete(name) else "not_in_library", language, name=name)
    except RagError as e:
        return f"⚠️ {error_message(e, language)}"


def export_conversation(answers: list) -> str | None:
    """Write the conversation as Markdown with footnote citations; the path is offered for download."""
    from rag.present.render import conversation_markdown

    if not answers:
        return None
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
    path = folder / f"conversation-{datetime.now():%Y%m%d-%H%M%S}.md"
    path.write_text(conversation_markdown(answers, when=stamp), encoding="utf-8")
    return str(path)


def create_app(assistant, gate: Gate | None = None):
    import gradio as gr

    gate = gate or Gate(limit=max(1, assistant.settings.llm_concurrency))

    def respond(message: str, history: list[dict], answers: list):
        answers = list(answers or [])
        for out in chat_turn(assistant, message, history, gate):
            chat_out, box_out, panel_out, answer = out
            if answer is not None:
                answers = answers + [answer]
                choices = _source_choices(answer)
                yield (chat_out, box_out, panel_out, answers,
                       gr.update(choices=choices, value=None, visible=bool(choices)), "", "")
            else:
                yield (chat_out, box_out, gr.skip() if panel_out is SKIP else panel_out, gr.skip(),
                       gr.skip(), gr.skip(), gr.skip())

    def retry(history: list[dict], answers: list):
        history = list(history or [])
        if len(history) < 2 or history[-2].get("role") != "user":
            yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        question = str(history[-2]["content"])
        kept = list(answers or [])
        if kept and kept[-1].question == question:
            kept = kept[:-1]
        yield from respond(question, history[:-2], kept)

    def last_answer(answers):
        return answers[-1] if answers else None

    types = sorted(assistant.settings.allowed_suffixes)
    # The page's own words follow the browser's language (ui/labels.py); answers follow the question's.
    accepted = ", ".join(types)  # named in the upload box's label
    t = gr.I18n(**translations(types=accepted))
    with gr.Blocks(title="Ask the documents") as demo:
        answers = gr.State([])
        intro = gr.Markdown(t("intro"))
        with gr.Tabs():
            with gr.Tab(t("tab_chat"), id="chat") as chat_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(label=t("tab_chat"), height=480, elem_id="chat")
                        box = gr.Textbox(
                            label=t("question"),
                            placeholder=t("placeholder"),
                            lines=2,
                            max_lines=6,
                            elem_id="question",
                        )
                        with gr.Row():
                            send = gr.Button(t("ask"), variant="primary", elem_id="ask", min_width=80)
                            stop = gr.Button(t("stop"), elem_id="stop", min_width=80)
                            again = gr.Button(t("retry"), elem_id="retry", min_width=80)
                            clear = gr.Button(t("clear"), elem_id="clear", min_width=80)
                            export = gr.Button(t("export"), elem_id="export", min_width=80)
                        exported = gr.File(label=say("exported"), visible=False, elem_id="exported")
                        examples = gr.Examples(EXAMPLES, inputs=box, label=t("examples"))
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.Markdown(t("sources_empty"), elem_classes="sources-panel", elem_id="sources")
                        pick = gr.Radio(label=t("pick"), choices=[], visible=False, elem_id="pick")
                        translate = gr.Button(t("translate"), size="sm", elem_id="translate")
                        translation = gr.HTML("", elem_id="translation")
                        viewer = gr.HTML("", elem_id="viewer")
            with gr.Tab(t("tab_documents"), id="documents") as docs_tab:
                library = gr.Dataframe(
                    headers=library_headers(),
                    value=lambda: library_rows(assistant),
                    interactive=False,
                    elem_id="library",
                )
                upload = gr.File(label=say("upload", types=accepted),
                                 file_count="multiple", file_types=types, elem_id="upload")
                add = gr.Button(t("add"), variant="primary", elem_id="add")
                added = gr.Markdown("", elem_id="upload-result")
                with gr.Row():
                    victim = gr.Dropdown(label=t("victim"), choices=[], elem_id="victim")
                    remove = gr.Button(t("delete"), variant="stop", elem_id="delete")
                removed = gr.Markdown("", elem_id="delete-result")

        outs = [chat, box, sources, answers, pick, translation, viewer]
        events = [
            send.click(respond, [box, chat, answers], outs, api_name="ask"),
            box.submit(respond, [box, chat, answers], outs, api_name=False),
            again.click(retry, [chat, answers], outs, api_name=False),
        ]
        stop.click(None, None, None, cancels=events)

        def clear_all(request: gr.Request):
            empty = say("sources_empty", request_language(request))
            return [], "", empty, [], gr.update(choices=[], visible=False), "", ""

        def export_file(a, request: gr.Request):
            return gr.update(value=export_conversation(a), visible=bool(a),
                             label=say("exported", request_language(request)))

        clear.click(clear_all, None, outs, queue=False, api_name=False)
        export.click(export_file, [answers], [exported], api_name=False)
        pick.change(lambda a, v: open_source(assistant, last_answer(a), v), [answers, pick], [viewer],
                    api_name=False).then(None, None, None, js=SCROLL_JS)
        translate.click(lambda a, v: translate_source(assistant, last_answer(a), v) if a else "",
                        [answers, pick], [translation], api_name=False)

        def refresh(request: gr.Request):
            lang = request_language(request)
            rows = library_rows(assistant, lang)
            names = [r[0] for r in rows] if rows and rows[0][1] else []  # not the "could not be read" row
            return ({"headers": library_headers(lang), "data": rows},
                    gr.update(choices=names, value=None, label=say("victim", lang)))

        def do_add(paths, request: gr.Request, progress=gr.Progress()):
            msg = add_files(assistant, [str(p) for p in (paths or [])], progress, request_language(request))
            return (msg, None, *refresh(request))

        def do_delete(name, request: gr.Request):
            msg = delete_document(assistant, name, request_language(request))
            return (msg, *refresh(request))

        # gr.I18n shows the labels at once, but only in the locales Gradio ships (French and Chinese,
        # not Vietnamese), and not on file boxes: every label is also set from the request's
        # Accept-Language when the page loads.
        page = [
            (intro, "value", "intro"), (chat_tab, "label", "tab_chat"), (docs_tab, "label", "tab_documents"),
            (chat, "label", "tab_chat"), (box, "label", "question"), (box, "placeholder", "placeholder"),
            (send, "value", "ask"), (stop, "value", "stop"), (again, "value", "retry"), (clear, "value", "clear"),
            (export, "value", "export"), (exported, "label", "exported"), (examples.dataset, "label", "examples"),
            (sources, "value", "sources_empty"), (pick, "label", "pick"), (translate, "value", "translate"),
            (upload, "label", "upload"), (add, "value", "add"), (remove, "value", "delete"),
        ]
        targets = list(dict.fromkeys(c for c, _, _ in page))

        def localize(request: gr.Request):
            lang = request_language(request)
            props: dict = {c: {} for c in targets}
            for c, prop, key in page:
                props[c][prop] = say(key, lang, types=accepted)
            return [gr.update(**props[c]) for c in targets]

        docs_tab.select(refresh, None, [library, victim], api_name=False)
        add.click(do_add, [upload], [added, upload, library, victim], api_name=False)
        remove.click(do_delete, [victim], [removed, library, victim], js=CONFIRM_DELETE_JS, api_name=False)
        demo.load(refresh, None, [library, victim], api_name=False)
        demo.load(localize, None, targets, api_name=False)
    demo.rag_i18n = t  # for launch(): Gradio takes the translations there
    return demo


def launch(assistant, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None) -> None:
    import gradio as gr

    demo = create_app(assistant)
    # Retrieval is cheap and runs for many users at once; the Gate inside queues the generations.
    demo.queue(default_concurrency_limit=16, max_size=128)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        css=CSS,
        theme=gr.themes.Soft(),
        i18n=getattr(demo, "rag_i18n", None),
        show_error=True,
        inbrowser=False,
        max_file_size=f"{assistant.settings.max_file_mb:g}mb",
    )
