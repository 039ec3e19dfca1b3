"""Cross-encoders: a (query, text) pair in, a relevance score out, loaded on first use.

`retrieval.reranker` may name a folder made by `python -m evals train-qa` (its PROVENANCE.md
says from what): an int8 ONNX cross-encoder read with ONNX Runtime and the `tokenizers`
library, so scoring needs no torch. Any other value is a sentence-transformers CrossEncoder
directory or hub id.

The same object scores retrieval candidates (reranking) and, for the answering pipeline,
question-sentence windows (chat.evidence).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

from ingest.errors import ModelError


class Reranker(Protocol):
    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        """One score per passage, higher = more relevant (logits, not probabilities)."""
        ...


def make_reranker(name: str, *, device: str = "cpu") -> Reranker:
    """A folder exported by evals.train_qa, or a sentence-transformers model."""
    if (Path(name).expanduser() / "docchat-qa.json").is_file():
        return OnnxCrossEncoder(Path(name).expanduser())
    return CrossEncoderReranker(name, device=device)


class OnnxCrossEncoder:
    """A cross-encoder exported by evals.train_qa: model.onnx, tokenizer.json, docchat-qa.json."""

    def __init__(self, folder: Path, *, threads: int | None = None, batch_size: int = 16) -> None:
        self.folder = Path(folder)
        self.threads = threads
        self.batch_size = batch_size

    @cached_property
    def _parts(self):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            config = json.loads((self.folder / "docchat-qa.json").read_text())
            tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tokenizer.enable_truncation(config["max_length"], strategy="only_second")
            tokenizer.enable_padding()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads or 0
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(str(self.folder / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # missing files, a broken export, no onnxruntime
            raise ModelError(
                f"Could not load the reranker in {self.folder}: {exc}. Run `python -m evals "
                "train-qa --out FOLDER` again, or set retrieval.reranker to another "
                "cross-encoder, or unset it."
            ) from exc
        return tokenizer, session, config["inputs"]

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        import numpy as np

        tokenizer, session, inputs = self._parts
        # Sorted by length, so a batch pads little; answered in the passages' order.
        order = sorted(range(len(passages)), key=lambda i: len(passages[i]))
        scored = {}
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            encoded = tokenizer.encode_batch([(query, passages[i]) for i in batch])
            feeds = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = session.run(None, {k: v for k, v in feeds.items() if k in inputs})[0]
            scored.update(zip(batch, logits[:, 0].tolist()))
        return [float(scored[i]) for i in range(len(passages))]


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder (a directory or hub id)."""

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
