"""Reuse the model's work on the part of the prompt every question shares.

docchat's answer prompt starts the same way each time (the instructions and a worked
example); only the last message (the excerpts and the question) changes. Its keys and values
are computed once and copied into each generation, so the model reads only the new part
before its first token. llama.cpp does this itself (it keeps the previous prompt's common
prefix); transformers needs it done by hand (its documented "prompt reuse" recipe: a
DynamicCache passed as `past_key_values`).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from threading import Lock
from typing import Any

MIN_PREFIX = 16  # shorter shared prefixes are not worth a cache entry
ENTRIES = 4


class PrefixCache:
    """Caches of shared prompt prefixes for one model, most recent first."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = Lock()

    def past_for(self, prefix_ids: list[int], input_ids: list[int]) -> Any | None:
        """A private copy of the cache of `prefix_ids`, if they start `input_ids` and leave
        at least one token to read; else None (generate reads the whole prompt)."""
        n = len(prefix_ids)
        if n < MIN_PREFIX or n >= len(input_ids) or input_ids[:n] != prefix_ids:
            return None
        key = tuple(prefix_ids)
        with self._lock:
            cache = self._entries.get(key)
            if cache is None:
                cache = self._compute(prefix_ids)
                self._entries[key] = cache
                while len(self._entries) > ENTRIES:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
            return copy.deepcopy(cache)  # generate appends to the copy, never to the entry

    def _compute(self, prefix_ids: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        ids = torch.tensor([prefix_ids], device=self.model.device)
        with torch.no_grad():
            return self.model(input_ids=ids, past_key_values=DynamicCache(),
                              use_cache=True).past_key_values
