"""Does the model think its excerpts answer the question? One token, read before it answers.

The judge asks the model "Do the excerpts above answer this question?" about the very
prompt it is about to answer from, and reads the probabilities of "yes" and "no" as its next
token: P(yes) / (P(yes) + P(no)). The excerpts are the same as in the answer's prompt, so
llama.cpp's prompt cache reads them once for both. A profile (chat.profiles) that sets
`judge_below` turns the reply into a near miss below that share, before any answer is written.
"""

from __future__ import annotations

from collections.abc import Sequence

JUDGE_QUESTION = "\n\nDo the excerpts above answer this question? Reply yes or no."
_MIN_MASS = 0.05  # below this, neither "yes" nor "no" was among the likely tokens


def judge_messages(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The answer's prompt with the judge's question after the last user message."""
    *head, last = messages
    return [*head, {**last, "content": last["content"] + JUDGE_QUESTION}]


def yes_share(probabilities: dict[str, float]) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the next-token candidates ("Yes", " yes", …); None when
    the model would say neither."""
    def mass(word: str) -> float:
        return sum(p for token, p in probabilities.items() if token.strip().lower() == word)

    yes, no = mass("yes"), mass("no")
    return round(yes / (yes + no), 4) if yes + no >= _MIN_MASS else None
