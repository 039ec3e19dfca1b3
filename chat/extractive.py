"""The extractive answer: the source sentences that match the question best, quoted and cited.

Shown as a near miss (the documents may not answer; also when the model's answer fails the
checks), and after a generated answer as the passage to check it against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chat.evidence import SentenceMatch
from chat.text import letters, strip_markers

MAX_SENTENCES = 2
# Quote a second sentence when it scores at least this share of the first. Chosen on SQuAD
# tune articles (400 questions, seed 5, evidence ranking only): the two quoted sentences hold
# the answer for 0.843 of questions at 0.7 against 0.812 at 0.9, for 10 more words.
CLOSE_SECOND = 0.7
HEADING_WORDS = 8
_WORDS_ONLY = re.compile(r"[^\W\d_][^\W\d_ ,'’&/()-]*(?:[ ,'’&/()-]+[^\W\d_]+)*[)]?")


def extractive_answer(ranked: Sequence[SentenceMatch],
                      besides: str = "") -> tuple[str, tuple[int, ...]]:
    """Quoted sentences with [n] markers, and the source numbers they cite. A sentence that
    `besides` (an answer that copied it) already says is not quoted again."""
    chosen: list[SentenceMatch] = []
    # A heading in a chunk's text splits off as a "sentence" of its own: it says nothing.
    candidates = [m for m in ranked if not _heading(m.text)] or list(ranked[:1])
    for match in candidates:
        if len(chosen) == MAX_SENTENCES or match.score < CLOSE_SECOND * candidates[0].score:
            break
        if all(match.text != c.text for c in chosen):  # overlapping chunks repeat sentences
            chosen.append(match)
    said = letters(strip_markers(besides))
    chosen = [m for m in chosen if not said or letters(strip_markers(m.text)) not in said]
    text = "\n".join(quote(m) for m in chosen)
    return text, tuple(dict.fromkeys(m.source for m in chosen))


def _heading(text: str) -> bool:
    """A short line of words only, without closing punctuation: "Where things are stored"
    (not a table row, a command or a number)."""
    text = strip_markers(text)
    return len(text.split()) <= HEADING_WORDS and bool(_WORDS_ONLY.fullmatch(text))


def quote(match: SentenceMatch) -> str:
    # A document's own footnote marks ("1968,[1]") would read as docchat citations.
    return f"“{strip_markers(match.text)}” [{match.source}]"
