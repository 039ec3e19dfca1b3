"""The vector index: one Chroma collection of chunks with their embeddings and metadata.

docchat always passes its own embeddings; Chroma's default embedding function would try to
download a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.errors import StoreError

# Chroma's add() rejects batches above its max_batch_size (~5k); stay well below.
_WRITE_BATCH = 1000


class ChunkStore:
    def __init__(self, path: Path, collection: str) -> None:
        self.path = Path(path)
        self.collection_name = collection

    @cached_property
    def _collection(self):
        import chromadb
        from chromadb.config import Settings

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
            return client.get_or_create_collection(
                self.collection_name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"Could not open the index at {self.path}: {exc}") from exc

    def add(self, docs: Sequence[Document], embeddings: Sequence[Sequence[float]]) -> None:
        if len(docs) != len(embeddings):
            raise ValueError(f"{len(docs)} documents but {len(embeddings)} embeddings")
        for start in range(0, len(docs), _WRITE_BATCH):
            part = docs[start : start + _WRITE_BATCH]
            self._collection.upsert(
                ids=[d.metadata["chunk_id"] for d in part],
                documents=[d.page_content for d in part],
                metadatas=[d.metadata for d in part],
                embeddings=[list(e) for e in embeddings[start : start + _WRITE_BATCH]],
            )

    def delete_source(self, source: str) -> None:
        self._collection.delete(where={"source": source})

    def count(self) -> int:
        return self._collection.count()

    def query(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """The k nearest chunks with their cosine similarity (1 - cosine distance)."""
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=[list(embedding)],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                   result["distances"][0])
        return [
            (Document(id=cid, page_content=text, metadata=dict(meta)), 1.0 - float(dist))
            for cid, text, meta, dist in hits
        ]
