"""The Map tab: the collection's chunk embeddings in 2-D (t-SNE), coloured by file, with the
last question's retrieved chunks ringed and numbered as in the answer.

t-SNE keeps neighbours together, so passages on one topic form islands; a question's sources
should sit on one island. t-SNE cannot place a point after fitting, so the question's own
embedding (of the query that was searched) is fitted with the passages and drawn as a star.
Large collections are sampled (the retrieved chunks always kept).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from chat.types import Answer
    from ingest.store import ChunkStore

MAX_POINTS = 3000
_MAX_FILES_IN_LEGEND = 12


def project(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.manifold import TSNE

    if len(vectors) < 4:  # t-SNE needs a few points; a line is honest for fewer
        return np.column_stack([np.arange(len(vectors)), np.zeros(len(vectors))])
    perplexity = max(2.0, min(30.0, (len(vectors) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                max_iter=500).fit_transform(vectors)


def map_figure(store: "ChunkStore", answer: "Answer | None" = None,
               embed_query: Callable[[str], list[float]] | None = None):
    """`embed_query` (the ingest embedder's) places the answer's question among the passages."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chunks = store.all(include_embeddings=True)
    ids, metas = chunks["ids"], chunks["metadatas"]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.set_xticks([])
    ax.set_yticks([])
    if not ids:
        ax.set_title("The collection is empty: add documents first.")
        return fig
    retrieved = {s.chunk_id: s for s in answer.sources} if answer else {}
    keep = _sample(ids, retrieved)
    vectors = [chunks["embeddings"][i] for i in keep]
    question = answer is not None and embed_query is not None
    if question:
        vectors.append(embed_query(answer.query or answer.question))
    points = project(np.asarray(vectors, dtype=np.float32))
    star, points = (points[-1], points[:-1]) if question else (None, points)
    files = [Path(metas[i]["source"]).name for i in keep]
    names = sorted(set(files))
    colours = plt.get_cmap("tab20")
    for n, name in enumerate(names):
        mask = np.array([f == name for f in files])
        ax.scatter(points[mask, 0], points[mask, 1], s=8, alpha=0.6, color=colours(n % 20),
                   label=name if n < _MAX_FILES_IN_LEGEND else None)
    hits = [(j, retrieved[ids[i]]) for j, i in enumerate(keep) if ids[i] in retrieved]
    for j, source in hits:
        ax.scatter(*points[j], s=120, facecolors="none", edgecolors="black", linewidths=1.5)
        ax.annotate(f"[{source.number}]", points[j], textcoords="offset points", xytext=(6, 6))
    if star is not None:
        ax.scatter(*star, marker="*", s=300, color="crimson", label="question")
    if hits:
        ax.set_title(f"“{answer.question[:70]}”: its {len(hits)} sources ringed")
    else:
        ax.set_title(f"{len(keep)} chunks of {len(names)} files")
    ax.legend(fontsize=7, loc="best", markerscale=1.5)
    fig.tight_layout()
    return fig


def _sample(ids: list[str], retrieved: dict) -> list[int]:
    if len(ids) <= MAX_POINTS:
        return list(range(len(ids)))
    rng = np.random.default_rng(0)
    must = [i for i, cid in enumerate(ids) if cid in retrieved]
    rest = sorted(set(range(len(ids))) - set(must))
    return sorted(must + list(rng.choice(rest, MAX_POINTS - len(must), replace=False)))
