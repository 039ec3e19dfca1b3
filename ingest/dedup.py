"""Near-duplicate chunks: the same passage in two files, or a page repeated in one file.

A chunk whose text matches a stored chunk (after normalising case, spacing and punctuation),
or whose embedding is at least `threshold` cosine-similar to one, is not stored again; the
state records it as a duplicate of the stored chunk, so retrieval shows the passage once and
the file is re-done if the stored copy's file goes away. Embedding similarity is the seeds'
approach; it is confirmed on the words, because embeddings barely see numbers: two monthly
reports from one template embed alike, but their figures differ and both must be kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from langchain_core.documents import Document

from ingest.state import Duplicate
from ingest.store import ChunkStore

_WORDS = re.compile(r"[^\W_]+")


def normalized_key(text: str) -> str:
    return hashlib.sha256(" ".join(_WORDS.findall(text.lower())).encode()).hexdigest()


def split_duplicates(
    docs: Sequence[Document], embeddings: Sequence[Sequence[float]], store: ChunkStore,
    threshold: float,
) -> tuple[list[int], list[Duplicate]]:
    """Indices of the chunks to store, and the others as duplicates of stored or kept ones.

    The batch's files must already be deleted from the store (their old chunks are not
    duplicates of their new ones).
    """
    keep: list[int] = []
    duplicates: list[Duplicate] = []
    by_key: dict[str, int] = {}
    vectors = np.asarray(embeddings, dtype=np.float32)
    nearest = store.nearest_each(vectors) if len(vectors) else []
    for i, doc in enumerate(docs):
        canonical = _in_batch(i, docs, vectors, keep, by_key, threshold)
        if canonical is not None:
            duplicates.append(_duplicate(doc, docs[canonical].metadata["chunk_id"],
                                         docs[canonical].metadata["source"]))
            continue
        if nearest:
            cid, source, text, similarity = nearest[i]
            if similarity >= threshold and same_words(doc.page_content, text):
                duplicates.append(_duplicate(doc, cid, source))
                continue
        by_key.setdefault(normalized_key(doc.page_content), i)
        keep.append(i)
    return keep, duplicates


def _in_batch(i, docs, vectors, keep, by_key, threshold) -> int | None:
    doc = docs[i]
    exact = by_key.get(normalized_key(doc.page_content))
    if exact is not None:
        return exact
    if not keep:
        return None
    similarities = vectors[keep] @ vectors[i]
    best = int(np.argmax(similarities))
    if similarities[best] < threshold:
        return None
    return keep[best] if same_words(doc.page_content, docs[keep[best]].page_content) else None


def same_words(a: str, b: str, min_overlap: float = 0.9) -> bool:
    """Nearly the same words (Jaccard over word sets) and exactly the same numbers."""
    words_a, words_b = _WORDS.findall(a.lower()), _WORDS.findall(b.lower())
    if [w for w in words_a if w.isdigit()] != [w for w in words_b if w.isdigit()]:
        return False
    set_a, set_b = set(words_a), set(words_b)
    return len(set_a & set_b) >= min_overlap * max(1, len(set_a | set_b))


def _duplicate(doc: Document, canonical_id: str, canonical_source: str) -> Duplicate:
    return Duplicate(doc.metadata["source"], doc.metadata["chunk_id"], canonical_id,
                     canonical_source)
