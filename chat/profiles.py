"""Answer profiles: how docchat decides and checks answers, per model.

What a model reads best, when it is trusted to decide whether the excerpts answer, which
checks its sentences need and at which thresholds: all of this depends on the model. A
135M model needs a lexical gate before it writes and a ring of checks after; a capable model
answers and declines itself, and those checks throw away its right paraphrases. So the
thresholds live here, one profile per model docchat knows, chosen on SQuAD tune articles
(`python -m evals answers --split tune`; docs/answers.md has the runs). A model docchat does
not know (a GGUF file of your own, a model server) gets the profile of CAPABLE_DEFAULT, the
capable model the profiles were fitted on; any answer.* setting you give wins over the profile.

Grounding checks (chat.grounding names them): each one is kept in a profile only where it
removed more wrong answers than right ones for that model on SQuAD tune.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

from chat.generators.source import model_name

# The grounding checks (chat.grounding) and the answer-level rules (chat.pipeline).
ALL_CHECKS = frozenset({
    "unsupported",  # the sources do not say it (support score, numbers the passage lacks)
    "new_share",  # most of what it adds to the question is not in its supporting window
    "restates",  # it says nothing beyond the question
    "off_question",  # it rests on a passage sentence that does not match the question
    "negates",  # a negation its window lacks
    "circular",  # "X is owned by X"
    "from_example",  # it copies the prompt's worked example
    "number_question",  # a how-many / what-year question answered without a number
    "invents_name",  # it names code (an option, a setting, a class) no source or the question has
})


@dataclass(frozen=True)
class AnswerProfile:
    # The evidence gate before generation (chat.evidence scores): from answer_above the
    # model answers; between nothing_below and answer_above a near miss without generating;
    # below nothing_below, nothing matches.
    answer_above: float
    nothing_below: float
    support_threshold: float  # support score a sentence needs (check "unsupported")
    max_unsupported: float  # share of failed sentences above which the answer is not shown
    context: Literal["evidence", "chunks"]  # what the model reads
    evidence_sentences: int
    evidence_neighbours: int
    max_sentences: int  # longest answer in sentences
    prompt: Literal["worked-example", "plain"]  # chat.prompt: the 135M model copies a shape
    checks: frozenset[str]
    quote_evidence: bool  # quote the best-matching passage after the answer
    # chat.judge: below this P(yes) that the excerpts answer, a near miss; None = not asked
    judge_below: float | None = None
    # chat.judge: below this mean of the judge's P(yes) and the check's (that the excerpts
    # state the written answer), a near miss; None = the answer is not checked
    verify_below: float | None = None
    # chat.judge: below this mean of the judge's P(yes) and the model's certainty over its
    # answer's first tokens, a near miss; None = not weighed
    sure_below: float | None = None


PROFILES: dict[str, AnswerProfile] = {
    # Tuned on the 135M model's failures (docs/answers.md, until 2026-12); invents_name came
    # later and was not measured for it.
    "smollm2-135m": AnswerProfile(
        answer_above=0.51, nothing_below=0.40, support_threshold=0.42, max_unsupported=0.5,
        context="evidence", evidence_sentences=3, evidence_neighbours=0, max_sentences=3,
        prompt="worked-example", checks=ALL_CHECKS - {"invents_name"}, quote_evidence=True),
}
# Qwen2.5-Coder-1.5B-Instruct, the default (docs/answers.md, "A capable default"): on SQuAD
# tune (seed 3, 60 answerable, 30 + 30 unanswerable) it never declined by itself, so two
# signals decide: the evidence floor (a clear miss: nothing generated) and the judge (its own
# P(yes) that the excerpts answer), chosen with `python -m evals answerability`. The check
# after the answer (verify_below) won on SQuAD tune but not on SQuAD test or the transfer
# set, and makes every near miss wait for an answer: not used; nor is the model's certainty
# over its answer's first tokens (sure_below), which did the same. Of the
# grounding checks, those that removed more wrong answers than right ones (`python -m evals
# rules`, read by hand) stay; the others removed nothing at all, or (new_share) 4 right
# answers for 8 wrong ones over two tune samples together but 22 right for at most 10 wrong
# over the held-out sets (a documentation answer words its value its own way): retired.
# invents_name (a name of code that no source has: `DOIT_BACKEND`, `state_file`) came later,
# the code-name twin of the number rule: over SQuAD tune, the docs and transfer sets, the guide
# and three unseen documentation folders it removed 2 made-up answers to unanswerable
# questions and 2 sentences naming what the sources lack, and no right answer.
CAPABLE_CHECKS = frozenset({"unsupported", "restates", "off_question", "invents_name"})
# Between 0.30 and the floor a near miss, not "nothing matches": on documentation folders the
# evidence score barely tells answerable questions from others, and there the closest passage
# held the answer to 8 of the 27 answerable questions told "nothing matches" (three unseen
# folders; 5 of 7 on the transfer set). It costs no generation.
PROFILES["qwen2.5-coder-1.5b"] = AnswerProfile(
    answer_above=0.40, nothing_below=0.30, support_threshold=0.42, max_unsupported=0.5,
    context="evidence", evidence_sentences=5, evidence_neighbours=1, max_sentences=3,
    prompt="plain", checks=CAPABLE_CHECKS, quote_evidence=True, judge_below=0.6)
# Qwen2.5-Coder-0.5B-Instruct: its judge does not separate (P(yes) 0.15-0.38 for answerable
# and unanswerable questions alike on the same run), so the floor alone decides; the 1.5B
# model's checks, not re-measured for it.
PROFILES["qwen2.5-coder-0.5b"] = replace(PROFILES["qwen2.5-coder-1.5b"], judge_below=None)
CAPABLE_DEFAULT = "qwen2.5-coder-1.5b"


def profile_for(model: str) -> AnswerProfile:
    """The profile of generator.model (a known name, "bundled", or anything else)."""
    return PROFILES.get(model_name(model), PROFILES[CAPABLE_DEFAULT])


def resolve(profile: AnswerProfile, overrides: dict) -> AnswerProfile:
    """`profile` with the answer.* settings the user gave (None = not given)."""
    given = {f.name: overrides[f.name] for f in fields(profile)
             if overrides.get(f.name) is not None}
    if "checks" in given:
        given["checks"] = frozenset(given["checks"])
    resolved = replace(profile, **given)
    if resolved.nothing_below > resolved.answer_above:
        raise ValueError(f"answer.nothing_below ({resolved.nothing_below}) must not exceed "
                         f"answer.answer_above ({resolved.answer_above})")
    return resolved
