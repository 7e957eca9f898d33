"""The web chat's page (Gradio): its layout and the events that tie the parts together.

The parts live beside it: the chat turn (chat.py), the source viewer (viewer.py), the Documents
tab (library.py), the export (export.py), the page's words (labels.py). Every browser tab gets its
own chat history and answers (Gradio keeps component values and State per session); the Assistant
it shares holds no per-user state. Retrieval runs concurrently, and generation passes through a
`Gate`: a user whose question waits for the model sees its sources at once and their place in the
queue in the chat.
"""
from __future__ import annotations

import gradio as gr  # after `rag` (imported by the ui package): the offline switches are set

from .chat import SKIP, chat_turn
from .export import export_conversation
from .gate import Gate
from .labels import request_language, say, translations
from .library import CONFIRM_DELETE_JS, add_files, delete_document, library_headers, library_rows, library_summary
from .viewer import SCROLL_JS, open_source, source_choices, translate_source

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


def create_app(assistant, gate: Gate | None = None):
    gate = gate or Gate(limit=max(1, assistant.settings.llm_concurrency))

    def respond(message: str, history: list[dict], answers: list):
        answers = list(answers or [])
        for out in chat_turn(assistant, message, history, gate):
            chat_out, box_out, panel_out, answer = out
            if answer is not None:
                answers = answers + [answer]
                choices = source_choices(answer)
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
                        # No fixed example questions: the empty chat says what is indexed (set on load).
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

        def summary(request: gr.Request):
            return gr.update(placeholder=library_summary(assistant, request_language(request)))

        def do_add(paths, request: gr.Request, progress=gr.Progress()):
            msg = add_files(assistant, [str(p) for p in (paths or [])], progress, request_language(request))
            return (msg, None, *refresh(request), summary(request))

        def do_delete(name, request: gr.Request):
            msg = delete_document(assistant, name, request_language(request))
            return (msg, *refresh(request), summary(request))

        # gr.I18n shows the labels at once, but only in the locales Gradio ships (French and Chinese,
        # not Vietnamese), and not on file boxes: every label is also set from the request's
        # Accept-Language when the page loads.
        page = [
            (intro, "value", "intro"), (chat_tab, "label", "tab_chat"), (docs_tab, "label", "tab_documents"),
            (chat, "label", "tab_chat"), (box, "label", "question"), (box, "placeholder", "placeholder"),
            (send, "value", "ask"), (stop, "value", "stop"), (again, "value", "retry"), (clear, "value", "clear"),
            (export, "value", "export"), (exported, "label", "exported"),
            (sources, "value", "sources_empty"), (pick, "label", "pick"), (translate, "value", "translate"),
            (upload, "label", "upload"), (add, "value", "add"), (remove, "value", "delete"),
        ]
        targets = list(dict.fromkeys(c for c, _, _ in page))

        def localize(request: gr.Request):
            lang = request_language(request)
            props: dict = {c: {} for c in targets}
            for c, prop, key in page:
                props[c][prop] = say(key, lang, types=accepted)
            props[chat]["placeholder"] = library_summary(assistant, lang)  # what is indexed, now
            return [gr.update(**props[c]) for c in targets]

        docs_tab.select(refresh, None, [library, victim], api_name=False)
        add.click(do_add, [upload], [added, upload, library, victim, chat], api_name=False)
        remove.click(do_delete, [victim], [removed, library, victim, chat], js=CONFIRM_DELETE_JS, api_name=False)
        demo.load(refresh, None, [library, victim], api_name=False)
        demo.load(localize, None, targets, api_name=False)
    demo.rag_i18n = t  # for ui.server, which mounts the page: Gradio takes the translations there
    return demo

