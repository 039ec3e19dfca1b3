"""Reuse the model's work on the part of the prompt every question shares.

docchat's answer prompt starts the same way each time (the instructions and a worked
example); only the last message (the excerpts and the question) changes. Its keys and values
are computed once and reused by each generation, so the model reads only the new part
before its first token. llama.cpp does this itself (it keeps the previous prompt's common
prefix); transformers needs it done by hand (its documented "prompt reuse" recipe: a
DynamicCache passed as `past_key_values`), and so does the ONNX Runtime backend.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

MIN_PREFIX = 16  # shorter shared prefixes are not worth a cache entry
ENTRIES = 4


class PrefixCache:
    """Caches of shared prompt prefixes for one model, most recent first.

    `compute` reads prefix token ids and returns the model's keys and values for them;
    `private` makes the copy one generation may change (the identity when generation never
    changes its input, as with ONNX Runtime's arrays)."""

    def __init__(self, compute: Callable[[list[int]], Any],
                 private: Callable[[Any], Any] = copy.deepcopy) -> None:
        self.compute = compute
        self._private = private
        self._entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = Lock()

    def past_for(self, prefix_ids: list[int], input_ids: list[int]) -> Any | None:
        """A private copy of the cache of `prefix_ids`, if they start `input_ids` and leave
        at least one token to read; else None (the whole prompt is read)."""
        n = len(prefix_ids)
        if n < MIN_PREFIX or n >= len(input_ids) or input_ids[:n] != prefix_ids:
            return None
        key = tuple(prefix_ids)
        with self._lock:
            cache = self._entries.get(key)
            if cache is None:
                cache = self.compute(prefix_ids)
                self._entries[key] = cache
                while len(self._entries) > ENTRIES:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
            return self._private(cache)  # generation appends to the copy, never to the entry


def torch_prefix_cache(model: Any) -> PrefixCache:
    """A prefix cache of a transformers model: DynamicCache entries, deep-copied per use."""
    def compute(prefix_ids: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        ids = torch.tensor([prefix_ids], device=model.device)
        with torch.no_grad():
            return model(input_ids=ids, past_key_values=DynamicCache(),
                         use_cache=True).past_key_values

    return PrefixCache(compute)
