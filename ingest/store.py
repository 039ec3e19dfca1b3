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


# Chroma distance -> similarity (higher is better) for the normalised vectors docchat stores.
_SIMILARITY = {
    "cosine": lambda d: 1.0 - d,
    "ip": lambda d: 1.0 - d,  # Chroma's ip distance is 1 - dot product
    "l2": lambda d: 1.0 - d / 2.0,  # squared L2 of unit vectors = 2 - 2 cos
}


class ChunkStore:
    def __init__(self, path: Path, collection: str, distance: str = "cosine") -> None:
        self.path = Path(path)
        self.collection_name = collection
        self.distance = distance

    @cached_property
    def _collection(self):
        import chromadb
        from chromadb.config import Settings

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
            collection = client.get_or_create_collection(
                self.collection_name,
                configuration={"hnsw": {"space": self.distance}},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"Could not open the index at {self.path}: {exc}") from exc
        space = (collection.configuration_json.get("hnsw") or {}).get("space", self.distance)
        if space != self.distance:
            raise StoreError(
                f"Collection {self.collection_name!r} was built with distance {space!r}, but "
                f"ingest.distance is {self.distance!r}. Use {space!r}, or ingest into a new "
                "collection."
            )
        return collection

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

    def get(self, ids: Sequence[str]) -> list[Document]:
        """The chunks with these ids, in the order given (missing ids are left out)."""
        if not ids:
            return []
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            cid: Document(id=cid, page_content=text, metadata=dict(meta))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }
        return [by_id[i] for i in ids if i in by_id]

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"])}

    def all(self, include_embeddings: bool = False) -> dict[str, list]:
        """Every chunk: ids, documents, metadatas (and embeddings), read in pages."""
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        out: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        total = self.count()
        for offset in range(0, total, _WRITE_BATCH * 5):
            page = self._collection.get(include=include, limit=_WRITE_BATCH * 5, offset=offset)
            for key in out:
                if key == "ids" or key in include:
                    out[key].extend(page[key])
        return out

    def delete_sources(self, sources: Sequence[str]) -> None:
        for start in range(0, len(sources), _WRITE_BATCH):
            part = list(sources[start : start + _WRITE_BATCH])
            self._collection.delete(where={"source": {"$in": part}})

    def count(self) -> int:
        return self._collection.count()

    def _nearest(self, embedding, k: int, where, include: list[str]) -> dict | None:
        total = self.count()
        if total == 0:
            return None
        return self._collection.query(
            query_embeddings=[list(embedding)], n_results=min(k, total), where=where,
            include=include + ["distances"],
        )

    def query_ids(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Like query(), ids and similarities only: cheaper when most results are dropped."""
        result = self._nearest(embedding, k, where, [])
        if result is None:
            return []
        to_similarity = _SIMILARITY[self.distance]
        return [(cid, to_similarity(float(d)))
                for cid, d in zip(result["ids"][0], result["distances"][0])]

    def query(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """The k nearest chunks with their similarity (for cosine: 1 - cosine distance)."""
        result = self._nearest(embedding, k, where, ["documents", "metadatas"])
        if result is None:
            return []
        hits = zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                   result["distances"][0])
        to_similarity = _SIMILARITY[self.distance]
        return [
            (Document(id=cid, page_content=text, metadata=dict(meta)), to_similarity(float(dist)))
            for cid, text, meta, dist in hits
        ]
