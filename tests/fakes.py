"""Deterministic stand-ins for the models, for unit tests: no weights, no network."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

_WORD = re.compile(r"\w+")


class FakeEmbeddings(Embeddings):
    """Bag-of-words vectors hashed into `dim` buckets: texts sharing words are similar."""

    def __init__(self, dim: int = 64, max_tokens: int = 256) -> None:
        self.dim = dim
        self.max_tokens = max_tokens
        self.calls: list[list[str]] = []

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class FakeGenerator:
    """Replays queued answers word by word (then `default`, if given, for ever); records the
    messages it was given."""

    local = True  # scheduled like an in-process model (chat.scheduling)

    def __init__(self, *answers: str, default: str | None = None) -> None:
        self.answers = list(answers)
        self.default = default
        self.seen: list[Sequence[dict[str, str]]] = []
        self.closed_early = False
        self.pieces_sent = 0

    def enqueue(self, answer: str) -> None:
        self.answers.append(answer)

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def stream(self, messages, *, max_new_tokens: int, temperature: float):
        self.seen.append(messages)
        answer = self.answers.pop(0) if self.answers or self.default is None else self.default
        pieces = re.findall(r"\S+\s*", answer)[:max_new_tokens]
        finished = False
        try:
            for piece in pieces:
                self.pieces_sent += 1
                yield piece
            finished = True
        finally:
            if not finished:
                self.closed_early = True
