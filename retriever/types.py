"""Typed inputs and results of retrieval."""

from dataclasses import dataclass

from langchain_core.documents import Document


@dataclass(frozen=True)
class RetrievedChunk:
    document: Document
    # Higher is more relevant. Its scale depends on the method: cosine similarity for dense,
    # BM25 for keyword, fused reciprocal-rank score for hybrid, cross-encoder logit if reranked.
    score: float

    @property
    def chunk_id(self) -> str:
        return self.document.metadata["chunk_id"]


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search. Each non-empty field must match (AND); values within a field OR."""

    files: tuple[str, ...] = ()  # absolute paths (or record ids) of sources
    folders: tuple[str, ...] = ()  # absolute folder paths: sources anywhere below them
    file_types: tuple[str, ...] = ()  # lower-case extensions without the dot, e.g. "pdf"

    @property
    def empty(self) -> bool:
        return not (self.files or self.folders or self.file_types)
