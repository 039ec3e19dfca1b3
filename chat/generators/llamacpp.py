"""The llama.cpp backend (llama-cpp-python) for GGUF files: ~5x faster than transformers on CPU.

An optional extra: llama-cpp-python has no binary wheel here and compiles from source.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from chat.generators.base import TextStream
from chat.generators.source import BUNDLED, resolve_model
from ingest.errors import ModelError

CHAT_TEMPLATE_MARGIN = 64  # tokens the chat template adds around the messages


class LlamaCppGenerator:
    local = True

    def __init__(
        self, model: str = BUNDLED, *, context_tokens: int, max_new_tokens: int,
        threads: int | None = None,
    ) -> None:
        self.model_name = model
        self.n_ctx = context_tokens + max_new_tokens + CHAT_TEMPLATE_MARGIN
        self.threads = threads or os.cpu_count() or 1
        # One llama.cpp context serves one generation at a time (it is not thread-safe):
        # concurrent answers queue here.
        self._busy = threading.Lock()

    @cached_property
    def llm(self) -> Any:
        path = resolve_model(self.model_name).gguf_path
        if path is None:
            raise ModelError(
                f"generator.backend = \"llamacpp\" needs a GGUF file; got {self.model_name!r}."
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(
                "generator.backend = \"llamacpp\" needs llama-cpp-python: "
                "`pip install llama-cpp-python` (compiles for a few minutes), "
                "or use the transformers backend."
            ) from exc
        try:
            return Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.threads,
                         verbose=False)
        except Exception as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc

    def load(self) -> None:
        _ = self.llm

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_new_tokens: int, temperature: float
    ) -> TextStream:
        with self._busy:
            yield from self._stream(messages, max_new_tokens, temperature)

    def _stream(self, messages: Sequence[dict[str, str]], max_new_tokens: int,
                temperature: float) -> TextStream:
        try:
            chunks = self.llm.create_chat_completion(
                messages=list(messages), max_tokens=max_new_tokens, temperature=temperature,
                repeat_penalty=1.0,  # plain greedy, like the other backends
                stream=True,
            )
            for chunk in chunks:  # lazy: closing this generator stops llama.cpp
                content = chunk["choices"][0]["delta"].get("content")
                if content:
                    yield content
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp generation failed: {exc}") from exc
