"""Parse [n] citation markers in an answer and check them against the numbered sources."""

from __future__ import annotations

import re
from dataclasses import dataclass

# [1], [1, 3], [1][2], also [Source 1] which small models like to write.
MARKER = re.compile(r"\[(?:sources?\s*)?(\d+(?:\s*[,;]\s*(?:sources?\s*)?\d+)*)\]", re.I)
_NUMBER = re.compile(r"\d+")


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
    return ParsedCitations(text=text.strip(), cited=tuple(cited), invalid=tuple(invalid))
