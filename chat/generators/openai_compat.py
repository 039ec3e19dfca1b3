"""Any OpenAI-compatible chat server: vLLM, Ollama, llama.cpp server, `transformers serve`.

Uses the official `openai` client. Every failure (server down, HTTP error, timeout, a broken
stream) becomes a ModelError that names the server and the setting to check; nothing hangs
longer than generator.timeout_s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from chat.generators.base import TextStream
from ingest.errors import ModelError

CONNECT_TIMEOUT_S = 5.0


class OpenAICompatibleGenerator:
    local = False

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        tokenizer: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.tokenizer_name = tokenizer

    @cached_property
    def client(self) -> Any:
        import httpx
        import openai

        return openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or "not-needed",  # local servers usually ignore it
            timeout=httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s)),
            max_retries=0,  # a retry would double the wait before the user sees the error
        )

    @cached_property
    def _tokenizer(self) -> Any:
        if not self.tokenizer_name:
            return None
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.tokenizer_name)
        except Exception as exc:
            raise ModelError(
                f"Could not load generator.tokenizer {self.tokenizer_name!r}: {exc}"
            ) from exc

    def load(self) -> None:
        """Check that the server is up (otherwise the first question finds out)."""
        import openai

        try:
            self.client.models.list()
        except openai.APIStatusError:
            return  # it answered; some servers (transformers serve offline) cannot list models
        except Exception as exc:
            raise self._error(exc) from exc

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=False))
        # No tokenizer for a remote model: over-estimate (English BPE averages ~4 bytes a
        # token) so the prompt never overflows the server's context.
        return math.ceil(len(text.encode("utf-8")) / 3)

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_new_tokens: int, temperature: float
    ) -> TextStream:
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=list(messages),
                max_tokens=max_new_tokens,
                temperature=temperature,
                stream=True,
            )
        except Exception as exc:
            raise self._error(exc) from exc
        try:
            for chunk in response:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            response.close()  # the server stops generating when the connection closes

    def _error(self, exc: Exception) -> ModelError:
        import openai

        where = f"the generator server at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(
                f"{where} did not answer within {self.timeout_s:g} s "
                "(generator.timeout_s); is it overloaded, or is the model still loading?"
            )
        if isinstance(exc, openai.APIConnectionError):
            return ModelError(
                f"Cannot reach {where}: {exc.__cause__ or exc}. Is it running? "
                "Check generator.base_url."
            )
        if isinstance(exc, openai.APIStatusError):
            detail = _detail(exc)
            return ModelError(
                f"{where} answered HTTP {exc.status_code}: {detail}. "
                "Check generator.model and generator.api_key."
            )
        return ModelError(f"{where} failed: {exc}")


def _detail(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("detail") or inner)
        return str(inner)
    return str(exc.message)
