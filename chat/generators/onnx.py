"""The ONNX Runtime backend (the default): the transformers model, exported once to ONNX and
run with ONNX Runtime.

Why: on a 2-core CPU, ONNX Runtime reads the bundled SmolLM2's prompt ~1.3x and writes each
token ~1.8x faster than torch (docs/answers.md). The export (torch.onnx, ~20 s for SmolLM2)
runs once per model and is cached under the cache directory, like the GGUF conversion; later
loads take a few seconds. Greedy decoding gives the tokens the transformers backend gives,
up to float rounding.

Written by hand: the decoding loop (greedy, or sampling at a temperature; a cached prompt
prefix; the model's stop tokens). optimum's ONNX models do this too, but it pins an older
transformers. Decoder models whose cache transformers keeps as a DynamicCache (Llama,
SmolLM, Qwen, Mistral …) export; for others set generator.backend = "transformers".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from chat.generators.base import TextStream, settled
from chat.generators.hf import TransformersGenerator
from chat.generators.prefix_cache import PrefixCache
from chat.scheduling import CURRENT, GATE
from ingest.errors import ModelError

MODEL_FILE = "model.onnx"
OPSET = 17


class OnnxGenerator(TransformersGenerator):
    """Same models and adapters as the transformers backend; CPU only."""

    @cached_property
    def _tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.location)
        except Exception as exc:
            raise ModelError(f"Could not load the tokenizer of {self.model_name!r}: {exc}") \
                from exc

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        path = self.exported()
        try:
            return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"Could not load {path}: {exc}. Delete that folder to export the "
                             "model again.") from exc

    @cached_property
    def _layout(self) -> tuple[list[str], tuple[int, int]]:
        """The past key/value input names, and their (heads, head size)."""
        past = [i for i in self._session.get_inputs() if i.name.startswith("past_")]
        return [i.name for i in past], (past[0].shape[1], past[0].shape[3])

    @cached_property
    def _stop_ids(self) -> frozenset[int]:
        from transformers import GenerationConfig

        ids = {self._tokenizer.eos_token_id}
        try:
            eos = GenerationConfig.from_pretrained(self.location).eos_token_id
        except OSError:  # no generation_config.json
            eos = None
        ids.update(eos if isinstance(eos, list) else [eos])
        return frozenset(i for i in ids if i is not None)

    @cached_property
    def _prefix_cache(self) -> PrefixCache:
        # ONNX Runtime returns new arrays and never changes its inputs: no copies needed.
        return PrefixCache(lambda ids: self._forward(ids, self._empty_past())[1],
                           private=lambda past: past)

    def exported(self) -> Path:
        """The model's ONNX file, exported once per model (and adapter)."""
        location = self.location
        target = self.cache_dir / "models" / f"{Path(location).name}-onnx-{_fingerprint(location)}"
        if not (target / MODEL_FILE).is_file():
            _export(location, target, self.model_name)
        return target / MODEL_FILE

    def load(self) -> None:
        _ = self._session, self._tokenizer

    def _empty_past(self) -> list[np.ndarray]:
        names, (heads, size) = self._layout
        return [np.zeros((1, heads, 0, size), dtype=np.float32) for _ in names]

    def _forward(self, ids: list[int], past: list[np.ndarray]) -> tuple[np.ndarray, list]:
        """Logits of the token after `ids`, and the keys and values of past + ids."""
        done, n = past[0].shape[2], len(ids)
        feed = {"ids": np.array([ids], dtype=np.int64),
                "pos": np.arange(done, done + n, dtype=np.int64)[None],
                "mask": np.ones((1, done + n), dtype=np.int64),
                **dict(zip(self._layout[0], past))}
        try:
            logits, *present = self._session.run(None, feed)
        except Exception as exc:
            raise ModelError(f"Generation failed: {exc}") from exc
        return logits[0], present

    def stream(self, messages: Sequence[dict[str, str]], *, max_new_tokens: int,
               temperature: float) -> TextStream:
        tokenizer = self._tokenizer
        ids = list(tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                 return_dict=True)["input_ids"])
        past, done = None, 0
        if len(messages) > 1:  # everything before the last message is shared between prompts
            prefix = list(tokenizer.apply_chat_template(list(messages[:-1]),
                                                        return_dict=True)["input_ids"])
            past = self._prefix_cache.past_for(prefix, ids)
            done = len(prefix) if past is not None else 0
        past = past if past is not None else self._empty_past()
        rng = np.random.default_rng()
        own = CURRENT.get()  # this answer's question: never wait for it (chat.scheduling)
        new: list[int] = []
        shown = 0
        feed = ids[done:]
        for _ in range(max_new_tokens):
            logits, past = self._forward(feed, past)
            token = _pick(logits, temperature, rng)
            if token in self._stop_ids:
                break
            new.append(token)
            # Hand on each token's text as soon as it decodes to whole characters.
            text = settled(tokenizer.decode(new, skip_special_tokens=True))
            if len(text) > shown:
                yield text[shown:]
                shown = len(text)
            GATE.yield_to_new_questions(own)  # a newer question waiting for its first token
            feed = [token]
        rest = tokenizer.decode(new, skip_special_tokens=True)[shown:]
        if rest:
            yield rest


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature <= 0:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature
    p = np.exp(scaled - scaled.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def _fingerprint(location: str) -> str:
    """Changes when the model's files do: a re-downloaded or retrained model is exported
    again."""
    folder = Path(location)
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    stamp = [location] + [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                          for f in files if f.is_file()]
    return hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:12]


def _export(location: str, target: Path, name: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".onnx-"))
    except OSError as exc:
        raise ModelError(f"Could not write the ONNX export under {target.parent}: {exc}. "
                         "Set cache_dir to a writable folder.") from exc
    try:
        # eager attention: its mask traces to plain ONNX operators
        model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        _trace(model, staging / MODEL_FILE)
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"Could not export the generator {name!r} to ONNX: {exc}. Set "
                         'generator.backend = "transformers" to run it with torch.') from exc
    try:
        os.replace(staging, target)  # atomic: a crash never leaves a half-written model
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / MODEL_FILE).is_file():  # else another process won the race
            raise ModelError(f"Could not save the ONNX export to {target}: {exc}") from exc


def _trace(model: Any, path: Path) -> None:
    """Export `model` as one graph: (ids, positions, mask, past keys and values) → (logits of
    the last token, keys and values of past + ids)."""
    import torch
    from transformers import DynamicCache

    config = model.config
    layers = config.num_hidden_layers
    heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    size = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads

    class Step(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids, pos, mask, *past):
            cache = DynamicCache()
            for i in range(layers):
                cache.update(past[2 * i], past[2 * i + 1], i)
            out = self.model(input_ids=ids, position_ids=pos, attention_mask=mask,
                             past_key_values=cache, use_cache=True, logits_to_keep=1)
            present = [t for layer in out.past_key_values.layers
                       for t in (layer.keys, layer.values)]
            return (out.logits[:, -1], *present)

    past_names = [f"past_{kv}{i}" for i in range(layers) for kv in "kv"]
    present_names = [f"present_{kv}{i}" for i in range(layers) for kv in "kv"]
    done, n = 3, 2  # example sizes; both axes are dynamic
    example = (torch.ones(1, n, dtype=torch.long), torch.arange(done, done + n)[None],
               torch.ones(1, done + n, dtype=torch.long),
               *[torch.zeros(1, heads, done, size) for _ in past_names])
    axes = {"ids": {1: "new"}, "pos": {1: "new"}, "mask": {1: "total"},
            **{p: {2: "past"} for p in past_names}, **{p: {2: "total"} for p in present_names}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on Python-level shape checks
        torch.onnx.export(Step(), example, str(path), input_names=["ids", "pos", "mask",
                                                                   *past_names],
                          output_names=["logits", *present_names], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
