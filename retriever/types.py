"""Typed results of retrieval."""

from dataclasses import dataclass

from langchain_core.documents import Document


@dataclass(frozen=True)
class RetrievedChunk:
    document: Document
    score: float  # higher is more relevant; for dense search, cosine similarity in [-1, 1]

    @property
    def chunk_id(self) -> str:
        return self.document.metadata["chunk_id"]
