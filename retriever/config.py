"""Settings of the retrieval stage (part of docchat's one configuration, see chat.settings)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class RetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(4, ge=1, le=100, description="How many chunks an answer is built from.")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid = dense and BM25 results fused; or one of them alone."
    )
    fetch_k: int = Field(
        100, ge=1, le=2000, description="Candidates each method contributes before fusion."
    )
    fusion: Literal["convex", "rrf"] = Field(
        "convex",
        description="convex = weighted sum of z-normalised scores; rrf = reciprocal rank fusion.",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    # 0.45 / 0.55: chosen after the BM25 and dense settings by `python -m evals tune-retrieval`
    # (best worst case over SciFact and SQuAD train queries; docs/retrieval.md).
    dense_weight: float = Field(0.45, ge=0.0, le=100.0, allow_inf_nan=False,
                                description="Weight of the dense ranking.")
    bm25_weight: float = Field(0.55, ge=0.0, le=100.0, allow_inf_nan=False,
                               description="Weight of the BM25 ranking.")
    mmr_lambda: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Maximal marginal relevance: 1 = relevance only, 0 = diversity only; "
        "unset = off.",
    )
    reranker: str | None = Field(
        None,
        description='A cross-encoder: a folder made by `python -m evals train-qa` (ONNX), or a '
        "sentence-transformers cross-encoder directory or hub id; unset (null / empty) = no "
        "reranking. Off by default: no cross-encoder trained here has yet beaten hybrid "
        "search on held-out questions (docs/answers.md).",
    )
    rerank_candidates: int = Field(
        12, ge=1, le=500, description="Fused candidates the cross-encoder rescores."
    )
    rerank_weight: float = Field(
        0.5, ge=0.0, le=1.0, allow_inf_nan=False,
        description="Share of the cross-encoder's score in the reranked order (the rest is the "
        "fused retrieval score; both standardised).",
    )

    @field_validator("reranker", mode="before")
    @classmethod
    def _empty_is_off(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _weights(self) -> "RetrieverConfig":
        if self.mode == "hybrid" and self.dense_weight + self.bm25_weight == 0:
            raise ValueError("dense_weight and bm25_weight cannot both be 0 in hybrid mode")
        return self
