"""Dense retrieval: embed the query, ask the Chroma collection for its nearest chunks."""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.store import ChunkStore
from retriever.types import RetrievedChunk


class DenseRetriever:
    def __init__(self, store: ChunkStore, embedder: Embeddings, k: int = 4) -> None:
        self.store = store
        self.embedder = embedder
        self.k = k

    def retrieve(
        self, query: str, k: int | None = None, where: dict[str, Any] | None = None
    ) -> list[RetrievedChunk]:
        k = self.k if k is None else k
        if not query.strip():
            return []
        vector = self.embedder.embed_query(query)
        return [RetrievedChunk(doc, score) for doc, score in self.store.query(vector, k, where)]
