"""The transformers backend (torch; for a GPU): a local model directory, a hub id, or a GGUF
file, optionally with a LoRA adapter merged in (generator.adapter).

A GGUF file is dequantised by transformers on load (~20-30 s for SmolLM2-135M), and an
adapter is merged with peft. Both are done once and saved as safetensors under the cache
directory; later loads take well under a second.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path
from threading import Event, Thread
from typing import Any

from chat.config import ADAPTER_WEIGHTS
from chat.generators.base import TextStream, settled
from chat.generators.source import BUNDLED, ModelSource, resolve_model
from chat.scheduling import CURRENT, GATE
from ingest.errors import ModelError


class TransformersGenerator:
    local = True

    def __init__(
        self,
        model: str = BUNDLED,
        *,
        cache_dir: Path,
        device: str = "cpu",
        adapter: Path | None = None,
    ) -> None:
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.adapter = adapter  # a LoRA adapter directory (peft's files)

    @cached_property
    def _model_and_tokenizer(self) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        location = self.location
        try:
            tokenizer = AutoTokenizer.from_pretrained(location)
            model = AutoModelForCausalLM.from_pretrained(location, dtype="auto")
        except Exception as exc:
            raise ModelError(
                f"Could not load the generator {self.model_name!r}: {exc}. Set generator.model "
                "to a local model directory or GGUF file, or to a hub id with HF_HUB_OFFLINE=0."
            ) from exc
        model.to(self.device).eval()
        return model, tokenizer

    def _converted(self, source: ModelSource) -> str:
        gguf = Path(source.location, source.gguf_file)
        stat = gguf.stat()
        target = self.cache_dir / "models" / f"{gguf.stem}-{stat.st_size}"
        if (target / "config.json").is_file():
            return str(target)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
            model = AutoModelForCausalLM.from_pretrained(
                source.location, gguf_file=source.gguf_file, dtype="float32"
            )
        except Exception as exc:
            raise ModelError(f"Could not read the GGUF file {gguf}: {exc}") from exc
        # The weights are already dequantised; the GGUF marker only blocks saving.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        return _save(model, tokenizer, target)

    def _merged(self, base: str, adapter: Path) -> str:
        """`base` with the LoRA adapter merged into its weights, saved once per adapter."""
        digest = hashlib.sha256((adapter / ADAPTER_WEIGHTS).read_bytes()).hexdigest()[:12]
        target = self.cache_dir / "models" / f"{Path(base).name}+{adapter.name}-{digest}"
        if (target / "config.json").is_file():
            return str(target)
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(base)
            model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        except Exception as exc:
            raise ModelError(f"Could not merge the adapter {adapter} into {base}: {exc}. Unset "
                             "generator.adapter or set it to an adapter trained for this "
                             "model.") from exc
        return _save(model, tokenizer, target)

    def model_dir(self) -> str:
        """The base model's local directory (a GGUF file is converted once)."""
        source = resolve_model(self.model_name, self.cache_dir)
        return self._converted(source) if source.gguf_file else source.location

    @cached_property
    def location(self) -> str:
        """The model to load: the base model, with the adapter merged in if there is one
        (resolved once: merging reads and hashes the adapter's weights)."""
        location = self.model_dir()
        return location if self.adapter is None else self._merged(location, self.adapter)

    def load(self) -> None:
        """Load the model now (otherwise it loads on the first question)."""
        _ = self._model_and_tokenizer

    @property
    def _tokenizer(self) -> Any:
        return self._model_and_tokenizer[1]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_new_tokens: int, temperature: float
    ) -> TextStream:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        model, tokenizer = self._model_and_tokenizer
        inputs = tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(model.device)
        streamer = _token_streamer(TextIteratorStreamer)(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300
        )
        kwargs: dict[str, Any] = dict(
            **inputs,
            streamer=streamer,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        cancelled = Event()
        own = CURRENT.get()  # this answer's question: never wait for it (chat.scheduling)

        class _Cancel(StoppingCriteria):
            """Runs after every token: stop when cancelled; pause while a newer question
            waits for its first token (chat.scheduling)."""

            def __call__(self, input_ids, scores, **_: Any) -> bool:
                GATE.yield_to_new_questions(own)
                return cancelled.is_set()

        kwargs["stopping_criteria"] = StoppingCriteriaList([_Cancel()])
        errors: list[BaseException] = []

        def run() -> None:
            try:
                model.generate(**kwargs)
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)
                streamer.end()

        thread = Thread(target=run, daemon=True)
        thread.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            # The consumer may stop early (repetition, client gone): stop generating too.
            cancelled.set()
            thread.join()
        if errors:
            raise ModelError(f"Generation failed: {errors[0]}") from errors[0]


@cache
def _token_streamer(base: type) -> type:
    """`base` (transformers' TextIteratorStreamer) handing on each token's text as soon as it
    decodes to whole characters. transformers waits for the end of each word, which delays
    the first visible token by one token or more (~0.1 s each here). Trailing spaces wait
    for the next token: a tokenizer's clean-up may still drop a space before punctuation."""

    class TokenStreamer(base):
        def put(self, value: Any) -> None:
            if len(value.shape) > 1:
                value = value[0]  # batch size 1
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            self.token_cache.extend(value.tolist())
            stable = settled(self.tokenizer.decode(self.token_cache, **self.decode_kwargs))
            if len(stable) > self.print_len:
                self.on_finalized_text(stable[self.print_len:])
                self.print_len = len(stable)

    return TokenStreamer


def _save(model: Any, tokenizer: Any, target: Path) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)  # atomic: a crash never leaves a half-written model
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "config.json").is_file():  # another process may have won
            raise
    return str(target)
