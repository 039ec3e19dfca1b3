"""Detect a model repeating itself, so generation can stop instead of looping to max tokens.

Small models under greedy decoding often repeat a sentence forever, or a phrase inside one
("Word (DOCX), Word (DOCX), …"); a repetition penalty fixes that only by also punishing the
copying of source text, which answers need.
"""

from __future__ import annotations

import re

from chat.text import letters, unfinished_tail

# A sentence ends at . ! ? followed by whitespace, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
_MIN_CHARS = 12  # short fragments ("Yes.", "1.") may legitimately recur
# A run of this many words said twice is a loop: an answer of a sentence or two does not
# repeat six words in a row ("converted models are kept in the cache directory …; converted
# models are kept in the cache directory …").
LOOP_WORDS = 6
_WORD = re.compile(r"\S+")
_DANGLING = " \t\n,;:(–—-"


def trim_repetition(text: str) -> str | None:
    """If `text` now repeats itself (its last complete sentence already occurred, or a run of
    LOOP_WORDS words occurs twice), the text before the repeat; else None."""
    return _repeated_sentence(text) or _repeated_run(text)


def _repeated_sentence(text: str) -> str | None:
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


def _repeated_run(text: str) -> str | None:
    """The text before the second occurrence of a LOOP_WORDS-word run (case and punctuation
    ignored): its complete sentences, or, when the loop began in the first sentence, that
    sentence up to the repeat without the comma or semicolon that led into it."""
    words = [(m.start(), letters(m.group())) for m in _WORD.finditer(text)]
    words = [(start, word) for start, word in words if word]  # "—" alone is no word
    first: dict[tuple[str, ...], int] = {}
    for j in range(len(words) - LOOP_WORDS + 1):
        run = tuple(word for _, word in words[j:j + LOOP_WORDS])
        if run in first:
            kept = text[:words[j][0]].rstrip(_DANGLING)
            return unfinished_tail(kept) or kept or None  # without the looping sentence
        first[run] = j
    return None


def _norm(sentence: str) -> str:
    return " ".join(sentence.lower().split())
