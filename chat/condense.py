"""Follow-up questions: turn "and what does it cost?" into a query that finds the right passages.

"auto" (default) needs no model: when a question refers back (a pronoun, "and ...", or too few
content words to stand alone), the previous question is searched with it. "llm" asks the
generator to rewrite the question; it suits stronger models than the bundled 135M one, and
falls back to "auto" when the rewrite is unusable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chat.generators.base import Generator
from chat.text import content_terms

Message = dict[str, str]

_REFERS_BACK = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|"
    r"there|then|one|ones|same|former|latter|above)\b", re.I,
)
_CONTINUES = re.compile(r"^\s*(and|but|also|so|or|what about|how about|why|then)\b", re.I)
MIN_STANDALONE_TERMS = 3

REWRITE_PROMPT = (
    "Rewrite the last question so that it can be understood without the conversation. "
    "Keep its meaning; name what pronouns refer to. Reply with the question only."
)


def previous_question(history: Sequence[Message]) -> str | None:
    for message in reversed(history):
        if message.get("role") == "user" and message.get("content", "").strip():
            return message["content"].strip()
    return None


def refers_back(question: str) -> bool:
    return bool(
        _REFERS_BACK.search(question)
        or _CONTINUES.search(question)
        or len(content_terms(question)) < MIN_STANDALONE_TERMS
    )


def condense_query(
    question: str,
    history: Sequence[Message],
    mode: str = "auto",
    generator: Generator | None = None,
) -> str:
    """The search query for `question` asked after `history` (user/assistant messages)."""
    previous = previous_question(history)
    if mode == "off" or previous is None:
        return question
    if mode == "llm" and generator is not None:
        rewritten = _rewrite(question, history, generator)
        if rewritten:
            return rewritten
    return f"{previous} {question}" if refers_back(question) else question


def _rewrite(question: str, history: Sequence[Message], generator: Generator) -> str | None:
    turns = "\n".join(
        f"{m['role']}: {m['content'].strip()[:500]}" for m in list(history)[-4:]
        if m.get("role") in ("user", "assistant")
    )
    messages = [
        {"role": "system", "content": REWRITE_PROMPT},
        {"role": "user", "content": f"Conversation:\n{turns}\n\nLast question: {question}"},
    ]
    stream = generator.stream(messages, max_new_tokens=64, temperature=0.0)
    try:
        text = "".join(stream).strip().strip('"').splitlines()
    finally:
        stream.close()
    rewritten = text[0].strip() if text else ""
    # A rewrite that lost the question or rambles on is worse than the heuristic.
    if not rewritten or len(rewritten) > 4 * len(question) + 200:
        return None
    return rewritten
