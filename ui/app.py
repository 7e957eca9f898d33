"""The web chat (Gradio). It calls only `rag`'s public API and renders with `rag.render`.

Every browser tab gets its own chat history and answers (Gradio keeps component values and State
per session); the Assistant it shares holds no per-user state. Retrieval runs concurrently, and
generation passes through a `Gate`: a user whose question waits for the model sees its sources at
once and their place in the queue in the chat.
"""
from __future__ import annotations

import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Iterator

import store as _store  # noqa: F401  (offline switches before gradio is imported)

EXAMPLES = [
    "Combien de suspects le Cambodge a-t-il arrêtés ?",
    "How many fraud dens did Operation First Light destroy?",
    "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?",
    "緬甸向中方移交了多少名涉詐犯罪嫌疑人？",
]
EMPTY_SOURCES = "_Sources appear here._"

CSS = """
body, .gradio-container { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; }
.sources-panel { max-height: 560px; overflow-y: auto; }
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
CONFIRM_DELETE_JS = "(name) => (name && confirm('Delete ' + name + ' from the library?')) ? name : ''"


class Gate:
    """At most `limit` generations at once; the others wait in arrival order and can see their place."""

    def __init__(self, limit: int = 1) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._waiting: list[object] = []
        self._running = 0

    def enter(self, poll: float = 0.5) -> Iterator[int]:
        """Yield the number of questions ahead while waiting; return once it is this one's turn.
        The caller must call `leave()` after; closing the generator early gives up the place."""
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._running < self.limit and self._waiting[0] is ticket:
                        self._waiting.pop(0)
                        self._running += 1
                        self._cond.notify_all()
                        return
                    ahead = self._waiting.index(ticket) + self._running
                yield ahead
                with self._cond:
                    self._cond.wait(timeout=poll)
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._cond.notify_all()
            raise

    def leave(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()


def _answer_markdown(answer) -> str:
    from rag.render import FLAG_TEXT, escape_md

    text = escape_md(answer.text)
    # escape_md protects brackets; the markers we checked ourselves are safe to show plainly.
    for c in answer.citations:
        text = text.replace(f"\\[{c.n}\\]", f"[{c.n}]")
    head = f"_(understood as: {escape_md(answer.standalone_question)})_\n\n" if answer.standalone_question else ""
    flags = "".join(f"\n\n⚠️ _{FLAG_TEXT.get(f, f)}_" for f in answer.flags)
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
    from rag.messages import error_message, message as say
    from rag.render import sources_markdown

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
            return _copy(history), "", sources_markdown(passages), None
        if isinstance(event, Delta):
            current = history[-1]["content"]
            fresh = current == "…" or current.startswith("⏳")
            history[-1]["content"] = ("" if fresh else current) + event.text
            return _copy(history), "", SKIP, None
        answer = event.answer  # the Final event: the checked answer
        history[-1]["content"] = _answer_markdown(answer)
        if answer.refused:
            panel = sources_markdown(answer.related, title="Possibly related (not cited)")
        else:
            panel = sources_markdown(passages, cited=_spans_by_passage(answer))
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
    from rag.render import document_html

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
    from rag.language import name as language_name

    passage, spans = _chosen(answer, value)
    if passage is None:
        return "<p>Choose a source first.</p>"
    if passage.language == answer.language:
        return f"<p>This source is already in {language_name(answer.language)}.</p>"
    text = passage.text
    if spans:
        text = " ".join(passage.text[max(0, a - passage.start) : max(0, b - passage.start)] for a, b in spans)
    try:
        out = assistant.translate(text, answer.language)
    except RagError as e:
        return f"<p>⚠️ {html.escape(str(e))}</p>"
    return (
        f"<blockquote>{html.escape(' '.join(text.split()))}</blockquote>"
        f'<p class="machine">Machine translation into {language_name(answer.language)} '
        f"by the configured model; it may contain errors. The source above is what is cited.</p>"
        f"<blockquote>{html.escape(out)}</blockquote>"
    )


def library_rows(assistant) -> list[list]:
    from rag import RagError

    try:
        docs = assistant.documents()
    except RagError as e:
        # Said in the table itself: an empty list would read as "your library is empty".
        return [[f"⚠️ The library could not be read: {e}", "", "", ""]]
    return [[d.document, d.language, d.chunks, d.ingested_at[:19].replace("T", " ")] for d in docs]


def add_files(assistant, paths: list[str], progress=None) -> str:
    """Upload handler: each file through `Assistant.add_file`; one line per file, good or bad."""
    from rag import RagError

    if not paths:
        return "Choose one or more files first."
    lines = []
    for i, p in enumerate(paths):
        name = Path(p).name
        if progress is not None:
            progress((i, len(paths)), desc=f"Indexing {name}")
        try:
            report = assistant.add_file(p, name)
        except RagError as e:
            lines.append(f"✗ {e}")
            continue
        if report.added or report.updated or report.repaired:
            lines.append(f"✓ {name}: added ({report.chunks} passages)")
        elif report.unchanged:
            lines.append(f"✓ {name}: already in the library, unchanged")
        else:
            lines.append(f"✗ {name}: no text left after cleaning; nothing stored")
    return "\n\n".join(lines)


def delete_document(assistant, name: str) -> str:
    from rag import RagError

    if not name:
        return "Nothing deleted."
    try:
        return f"Deleted {name}." if assistant.delete(name) else f"{name} was not in the library."
    except RagError as e:
        return f"⚠️ {e}"


def export_conversation(answers: list) -> str | None:
    """Write the conversation as Markdown with footnote citations; the path is offered for download."""
    from rag.render import conversation_markdown

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

    with gr.Blocks(title="Ask the documents") as demo:
        answers = gr.State([])
        gr.Markdown(
            "### Ask the documents\nQuestions in French, English, Vietnamese or Chinese; "
            "answers cite the passages they come from."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(label="Chat", height=480, elem_id="chat")
                        box = gr.Textbox(
                            label="Your question",
                            placeholder="Ask in French, English, Vietnamese or Chinese…",
                            lines=2,
                            max_lines=6,
                            elem_id="question",
                        )
                        with gr.Row():
                            send = gr.Button("Ask", variant="primary", elem_id="ask", min_width=80)
                            stop = gr.Button("Stop", elem_id="stop", min_width=80)
                            again = gr.Button("Retry", elem_id="retry", min_width=80)
                            clear = gr.Button("Clear", elem_id="clear", min_width=80)
                            export = gr.Button("Export", elem_id="export", min_width=80)
                        exported = gr.File(label="Conversation (Markdown)", visible=False, elem_id="exported")
                        gr.Examples(EXAMPLES, inputs=box, label="Examples")
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.Markdown(EMPTY_SOURCES, elem_classes="sources-panel", elem_id="sources")
                        pick = gr.Radio(label="Open a source in its document", choices=[], visible=False,
                                        elem_id="pick")
                        translate = gr.Button("Translate this source into the answer's language",
                                              size="sm", elem_id="translate")
                        translation = gr.HTML("", elem_id="translation")
                        viewer = gr.HTML("", elem_id="viewer")
            with gr.Tab("Documents", id="documents") as docs_tab:
                library = gr.Dataframe(
                    headers=["document", "language", "passages", "ingested at (UTC)"],
                    value=lambda: library_rows(assistant),
                    interactive=False,
                    elem_id="library",
                )
                types = sorted(assistant.settings.allowed_suffixes)
                upload = gr.File(label="Add documents (" + ", ".join(types) + ")",
                                 file_count="multiple", file_types=types, elem_id="upload")
                add = gr.Button("Add to the library", variant="primary", elem_id="add")
                added = gr.Markdown("", elem_id="upload-result")
                with gr.Row():
                    victim = gr.Dropdown(label="Document to delete", choices=[], elem_id="victim")
                    remove = gr.Button("Delete", variant="stop", elem_id="delete")
                removed = gr.Markdown("", elem_id="delete-result")

        outs = [chat, box, sources, answers, pick, translation, viewer]
        events = [
            send.click(respond, [box, chat, answers], outs, api_name="ask"),
            box.submit(respond, [box, chat, answers], outs, api_name=False),
            again.click(retry, [chat, answers], outs, api_name=False),
        ]
        stop.click(None, None, None, cancels=events)
        clear.click(lambda: ([], "", EMPTY_SOURCES, [], gr.update(choices=[], visible=False), "", ""),
                    None, outs, queue=False, api_name=False)
        export.click(lambda a: gr.update(value=export_conversation(a), visible=bool(a)), [answers], [exported],
                     api_name=False)
        pick.change(lambda a, v: open_source(assistant, last_answer(a), v), [answers, pick], [viewer],
                    api_name=False).then(None, None, None, js=SCROLL_JS)
        translate.click(lambda a, v: translate_source(assistant, last_answer(a), v) if a else "",
                        [answers, pick], [translation], api_name=False)

        def refresh():
            rows = library_rows(assistant)
            return rows, gr.update(choices=[r[0] for r in rows], value=None)

        def do_add(paths, progress=gr.Progress()):
            msg = add_files(assistant, [str(p) for p in (paths or [])], progress)
            return (msg, None, *refresh())

        def do_delete(name):
            msg = delete_document(assistant, name)
            return (msg, *refresh())

        docs_tab.select(refresh, None, [library, victim], api_name=False)
        add.click(do_add, [upload], [added, upload, library, victim], api_name=False)
        remove.click(do_delete, [victim], [removed, library, victim], js=CONFIRM_DELETE_JS, api_name=False)
        demo.load(refresh, None, [library, victim], api_name=False)
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
        show_error=True,
        inbrowser=False,
        max_file_size=f"{assistant.settings.max_file_mb:g}mb",
    )
