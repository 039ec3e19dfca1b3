"""Cross-encoder reranking (sentence-transformers CrossEncoder), loaded on first use."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from ingest.errors import ModelError


class CrossEncoderReranker:
    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def model(self):
        from sentence_transformers import CrossEncoder

        try:
            return CrossEncoder(self.model_name, device=self.device)
        except Exception as exc:
            raise ModelError(
                f"Could not load the reranker {self.model_name!r}: {exc}. Set "
                "retrieval.reranker to a cross-encoder directory (or a hub id with "
                "HF_HUB_OFFLINE=0), or unset it to turn reranking off."
            ) from exc

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        pairs = [(query, p) for p in passages]
        return [float(s) for s in self.model.predict(pairs, batch_size=self.batch_size,
                                                     show_progress_bar=False)]
