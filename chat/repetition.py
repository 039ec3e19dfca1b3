"""Detect a model repeating itself, so generation can stop instead of looping to max tokens.

Small models under greedy decoding often repeat a sentence forever; a repetition penalty
fixes that only by also punishing the copying of source text, which answers need.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by whitespace, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
_MIN_CHARS = 12  # short fragments ("Yes.", "1.") may legitimately recur


def trim_repetition(text: str) -> str | None:
    """If the last complete sentence of `text` already occurred, return the text before it."""
    ends = [m.start() for m in _BOUNDARY.finditer(text)]
    if not ends:
        return None
    spans, start = [], 0
    for end in ends:
        spans.append((start, end))
        start = _BOUNDARY.match(text, end).end()
    last_start, last_end = spans[-1]
    last = _norm(text[last_start:last_end])
    if len(last) < _MIN_CHARS:
        return None
    for s, e in spans[:-1]:
        if _norm(text[s:e]) == last:
            return text[:last_start].rstrip()
    return None


def _norm(sentence: str) -> str:
    return " ".join(sentence.lower().split())
