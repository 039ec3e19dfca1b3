"""The extractive answer: the source sentences that match the question best, quoted and cited.

Used when the generated answer is mostly unsupported, or when the model says it does not know
although the sources match the question well.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat.evidence import SentenceMatch
from chat.text import strip_markers

MAX_SENTENCES = 2
CLOSE_SECOND = 0.9  # quote a second sentence only when it scores almost as well as the first


def extractive_answer(ranked: Sequence[SentenceMatch]) -> tuple[str, tuple[int, ...]]:
    """Quoted sentences with [n] markers, and the source numbers they cite."""
    if not ranked:
        return "", ()
    chosen = [ranked[0]]
    for match in ranked[1:MAX_SENTENCES]:
        if match.score >= CLOSE_SECOND * ranked[0].score and match.text != ranked[0].text:
            chosen.append(match)
    text = "\n".join(quote(m) for m in chosen)
    return text, tuple(dict.fromkeys(m.source for m in chosen))


def quote(match: SentenceMatch) -> str:
    # A document's own footnote marks ("1968,[1]") would read as docchat citations.
    return f"“{strip_markers(match.text)}” [{match.source}]"
