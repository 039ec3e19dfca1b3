"""Does the model think its excerpts answer the question? One token, read before it answers
(the judge), and one read after, about the answer it wrote (the check).

The judge asks the model "Do the excerpts above answer this question?" about the very
prompt it is about to answer from, and reads the probabilities of "yes" and "no" as its next
token: P(yes) / (P(yes) + P(no)). The excerpts are the same as in the answer's prompt, so
llama.cpp's prompt cache reads them once for both. A profile (chat.profiles) that sets
`judge_below` turns the reply into a near miss below that share, before any answer is written.

The check asks the same about the written answer, as a third party would: the answer's
prompt, then "Proposed answer: …" and "Do the excerpts above state this answer?", so that the
model can see that an excerpt gives another year, another edition, or dimensions for
parameters. It costs the answer's tokens and the question's (the excerpts are in llama.cpp's
prompt cache from the answer just written). A profile that sets `verify_below` makes an
answer a near miss when the mean of the judge's share and the check's is below it. For
Qwen2.5-Coder-1.5B it separated weakly and did not hold on held-out questions, so no profile
sets it (docs/answers.md).

The certainty needs no question: while the model writes, llama.cpp reports each token's
probability and the runner-up's; the mean of their difference over the answer's first
CERTAIN_TOKENS tokens (as it wrote them, before docchat cuts or tidies the text) is how sure
the model was of its answer's opening, where the fact stands. The idea: a fact copied from an
excerpt that states it comes out sure, one pieced together from an excerpt about another year
or another thing hesitates. A profile that sets `sure_below` makes an answer a near miss when
the mean of the judge's share and the certainty is below it.
For Qwen2.5-Coder-1.5B the two together separated answerable from unanswerable questions
better than either alone on SQuAD tune, and worse than the judge alone on SQuAD test and the
transfer set, so no profile sets it (docs/answers.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

JUDGE_QUESTION = "\n\nDo the excerpts above answer this question? Reply yes or no."
VERIFY_QUESTION = ("\n\nProposed answer: {answer}\n\nDo the excerpts above state this answer "
                   "to the question? Reply yes or no.")
_MIN_MASS = 0.05  # below this, neither "yes" nor "no" was among the likely tokens
# The answer's opening, where the fact stands ("The default timeout is five seconds"); the
# explanation after it is worded freely. Chosen on SQuAD tune against the first sentence and
# the whole answer (docs/answers.md).
CERTAIN_TOKENS = 16


def judge_messages(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The answer's prompt with the judge's question after the last user message."""
    *head, last = messages
    return [*head, {**last, "content": last["content"] + JUDGE_QUESTION}]


def verify_messages(messages: Sequence[dict[str, str]], answer: str
                    ) -> list[dict[str, str]]:
    """The answer's prompt with the written answer and the check's question after the last
    user message."""
    *head, last = messages
    asked = VERIFY_QUESTION.format(answer=" ".join(answer.split()))
    return [*head, {**last, "content": last["content"] + asked}]


def confidence(judged: float | None, verified: float | None) -> float | None:
    """What verify_below is compared with: the mean of the judge's and the check's P(yes)
    (either alone when the other is missing). Each alone separates weakly for a small model;
    on SQuAD tune their mean removed more wrong answers per right one than either
    (docs/answers.md)."""
    shares = [p for p in (judged, verified) if p is not None]
    return sum(shares) / len(shares) if shares else None


def yes_share(probabilities: dict[str, float]) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the next-token candidates ("Yes", " yes", …); None when
    the model would say neither."""
    def mass(word: str) -> float:
        return sum(p for token, p in probabilities.items() if token.strip().lower() == word)

    yes, no = mass("yes"), mass("no")
    return round(yes / (yes + no), 4) if yes + no >= _MIN_MASS else None


def certainty(margins: Iterable[float]) -> float | None:
    """Mean probability margin (chosen token's probability minus the runner-up's) over the
    first CERTAIN_TOKENS tokens; None when the backend reported none."""
    first = list(islice(margins, CERTAIN_TOKENS))
    return round(sum(first) / len(first), 4) if first else None
