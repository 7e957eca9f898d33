"""The interfaces: the `rag` command (cli), the web page (app, and its chat, viewer, library and
export) and the generation queue they share (gate).

They call `rag`'s public API and its presentation helpers (`rag.present`) only. Importing `rag`
here, before any of them runs, makes the process offline (`store.offline`) before gradio, which
reads those switches when it is imported, can be.
"""
import rag  # noqa: F401
