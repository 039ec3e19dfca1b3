"""Parse [n] citation markers in an answer and check them against the numbered sources; put
the markers the grounding check found right where the model left them out or cited wrongly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chat.text import fenced_lines, strip_markers
from chat.types import SentenceSupport

# [1], [1, 3], [1][2], also [Source 1] which small models like to write.
MARKER = re.compile(r"\[(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\]", re.I)
_NUMBER = re.compile(r"\d+")
_ACCORDING_TO_NOTHING = re.compile(r"(^|[.!?]\s+)according to,\s*(\w)", re.I)
_AFTER_STOP = re.compile(r"([.!?])((?:[ \t]*\[\d+\])+)\.?")


@dataclass(frozen=True)
class ParsedCitations:
    text: str  # answer with markers that point at no source removed
    cited: tuple[int, ...]  # valid source numbers in order of first use
    invalid: tuple[int, ...]  # numbers that point at no source


def parse_citations(answer: str, valid: set[int]) -> ParsedCitations:
    cited: list[int] = []
    invalid: list[int] = []

    def rewrite(match: re.Match) -> str:
        numbers = [int(n) for n in _NUMBER.findall(match.group(1))]
        good = [n for n in numbers if n in valid]
        for n in numbers:
            target = cited if n in valid else invalid
            if n not in target:
                target.append(n)
        return "".join(f"[{n}]" for n in good)

    text = MARKER.sub(rewrite, answer)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # a removed marker leaves " ." behind
    # "According to [5], X" without its marker: "X"
    text = _ACCORDING_TO_NOTHING.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    # "demo. [1]." -> "demo [1].": a marker after the full stop would read as a sentence
    text = _AFTER_STOP.sub(lambda m: f" {' '.join(m.group(2).split())}{m.group(1)}", text)
    return ParsedCitations(text=text.strip(), cited=tuple(cited), invalid=tuple(invalid))


def correct_citations(text: str, sentences: Sequence[SentenceSupport]
                      ) -> tuple[str, list[SentenceSupport], int]:
    """Point the markers of sentences supported only by a source they do not cite at the
    source that supports them; the sentences as they now read, and how many moved."""
    out, moved = [], 0
    for s in sentences:
        if s.supported and s.cited and s.supported_by not in s.cited and s.text in text:
            fixed = _marked(strip_markers(s.text), s.supported_by)
            text = text.replace(s.text, fixed, 1)
            s = replace(s, text=fixed, cited=(s.supported_by,))
            moved += 1
        out.append(s)
    return text, out, moved


def add_citations(text: str, sentences: Sequence[SentenceSupport]) -> tuple[str, int]:
    """Append [n] to supported sentences that cite nothing; n is the source that supports them."""
    added, code = 0, fenced_lines(text)  # (a marker adds no line)
    for s in sentences:
        at = text.find(s.text)
        if s.cited or not s.supported_by or at < 0:
            continue
        if text.count("\n", 0, at) in code:  # a marker would break the code
            continue
        text = text.replace(s.text, _marked(s.text, s.supported_by), 1)
        added += 1
    return text, added


def _marked(sentence: str, number: int) -> str:
    """`sentence` with the marker [number] before its closing punctuation."""
    body, punctuation = re.match(r"(.*?)([.!?…]*)$", sentence, re.S).groups()
    return f"{body} [{number}]{punctuation}"
