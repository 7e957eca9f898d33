"""The real-server helpers the tests share with the bench scripts; written once, in bench/servers.py
(lab code imports nothing from tests/, so the helpers live on its side)."""
from bench.servers import BIN, ServerFailed, chroma_server, free_port, llama_server, running_server, stop  # noqa: F401
