"""The web chat (Gradio). It calls only `rag`'s public API and renders with `rag.render`.

Every browser tab gets its own chat history (Gradio keeps component values per session); the
Assistant it shares holds no per-user state. The queue serialises generations, so waiting users
see their place in line instead of errors.
"""
from __future__ import annotations

from typing import Iterator

import store as _store  # noqa: F401  (offline switches before gradio is imported)

EXAMPLES = [
    "Combien de suspects le Cambodge a-t-il arrêtés ?",
    "How many fraud dens did Operation First Light destroy?",
    "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?",
    "緬甸向中方移交了多少名涉詐犯罪嫌疑人？",
]

CSS = """
.sources-panel { max-height: 640px; overflow-y: auto; }
body, .gradio-container { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; }
"""


def _answer_markdown(answer) -> str:
    from rag.render import escape_md

    from rag.render import FLAG_TEXT

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


def chat_turn(assistant, message: str, history: list[dict]) -> Iterator[tuple]:
    """One chat turn as a stream of (history, textbox, sources panel); SKIP leaves an output as is.

    Kept free of Gradio so it can be tested directly with the fake backends.
    """
    from rag import Delta, Final, RagError, Sources
    from rag.render import sources_markdown

    history = list(history or [])
    if not message or not message.strip():
        yield history, message, "_Type a question first._"
        return
    prior = _pairs(history)
    history += [{"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
    yield history, "", "_Searching the documents…_"
    passages: tuple = ()
    try:
        for event in assistant.ask_stream(message, prior):
            if isinstance(event, Sources):
                passages = event.passages
                yield history, "", sources_markdown(passages)
            elif isinstance(event, Delta):
                current = history[-1]["content"]
                history[-1]["content"] = ("" if current == "…" else current) + event.text
                yield history, "", SKIP
            elif isinstance(event, Final):
                answer = event.answer
                history[-1]["content"] = _answer_markdown(answer)
                if answer.refused:
                    panel = sources_markdown(answer.related, title="Possibly related (not cited)")
                else:
                    spans: dict[int, list] = {}
                    for c in answer.citations:
                        # citations number the passages shown to the model, which are the first ones
                        spans.setdefault(c.n, []).append((c.start, c.end))
                    panel = sources_markdown(passages, cited=spans)
                yield history, "", panel
    except RagError as e:
        history[-1]["content"] = f"⚠️ {e}"
        yield history, "", SKIP


def create_app(assistant):
    import gradio as gr

    def respond(message: str, history: list[dict]):
        for out in chat_turn(assistant, message, history):
            yield tuple(gr.skip() if o is SKIP else o for o in out)

    with gr.Blocks(title="Ask the documents") as demo:
        gr.Markdown(
            "### Ask the documents\nQuestions in French, English, Vietnamese or Chinese; "
            "answers cite the passages they come from."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=520)
                box = gr.Textbox(
                    label="Your question",
                    placeholder="Ask in French, English, Vietnamese or Chinese…",
                    lines=2,
                    max_lines=6,
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary")
                    stop = gr.Button("Stop")
                    clear = gr.Button("Clear")
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
            with gr.Column(scale=2):
                sources = gr.Markdown("_Sources appear here._", elem_classes="sources-panel")
        events = [
            send.click(respond, [box, chat], [chat, box, sources], api_name="ask"),
            box.submit(respond, [box, chat], [chat, box, sources], api_name=False),
        ]
        stop.click(None, None, None, cancels=events)
        clear.click(lambda: ([], "", "_Sources appear here._"), None, [chat, box, sources], queue=False)
    return demo


def launch(assistant, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None) -> None:
    import gradio as gr

    demo = create_app(assistant)
    # One generation at a time (the local model has one context); others wait in the visible queue.
    demo.queue(default_concurrency_limit=1, max_size=64)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        css=CSS,
        theme=gr.themes.Soft(),
        show_error=True,
        inbrowser=False,
    )
