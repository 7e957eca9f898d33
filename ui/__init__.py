"""The interfaces: the `rag` command (cli.py); the web page (app.py: its layout, with chat.py,
conversations.py, viewer.py, library.py, export.py and the page's words in labels.py); the
server that carries the page and the OpenAI-compatible API (server.py, http_api.py, api_*.py);
the terminal chat (terminal.py); and the generation queue they share (gate.py).

They call `rag`'s public API and its presentation helpers (`rag.present`) only. Importing `rag`
here, before any of them runs, makes the process offline (`store.offline`) before gradio, which
reads those switches when it is imported, can be.
"""
import rag  # noqa: F401
