"""Re-measure each grounding check for one model: the right answers it removes against the
wrong ones.

    python -m evals rules [--dataset squad|transfer|guide] [--split tune] [--questions 100]
                          [--unanswerable 50] [--seed 3] [--model NAME] [--sample 5]

Every question is answered once with the model's profile (chat.profiles) and once per check
with that check switched (left out if the profile has it, added if not); the model's text is
the same in every variant (the prompt does not depend on the checks), so it is generated once
and replayed (evals.generation_cache). For each check, over the questions whose reply it
changes:
- right removed: answerable questions whose answer (the answer part, without a quoted
  passage) holds a gold answer without the check and is not shown as an answer with it;
- wrong removed: answerable questions given an answer without the gold answer without the
  check, and no answer with it; and unanswerable questions given an unmarked answer without
  the check and none with it;
A sample of the texts each check removed is printed to read by hand. Keep a check only where
it removes more wrong answers than right ones, on tune; look at the transfer set once.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from chat.config import AnswerConfig
from chat.pipeline import ChatPipeline
from chat.profiles import ALL_CHECKS
from chat.types import Answer, AnswerEvent
from evals.answers import build, plain, without_quote
from evals.report import write_report
from evals.squad import contains_answer


def run(pipeline: ChatPipeline, question: str) -> Answer:
    return next(e.answer for e in pipeline.ask(question) if isinstance(e, AnswerEvent))


def reply(answer: Answer, gold: tuple[str, ...]) -> dict:
    part = plain(without_quote(answer.text)) if answer.outcome == "answer" else ""
    return {"outcome": answer.outcome, "answer_part": part,
            "right": bool(gold) and bool(part) and contains_answer(part, gold),
            "generated": answer.generated}


def variants(profile_checks: frozenset[str]) -> dict[str, frozenset[str]]:
    """The profile's checks, and each check switched."""
    out = {"profile": profile_checks}
    for check in sorted(ALL_CHECKS):
        out[check] = profile_checks ^ {check}
    return out


def removed(without: dict, with_check: dict, answerable: bool) -> str | None:
    """What the check removed from this reply: "right removed" (the gold answer was shown
    and no longer is: the answer became a near miss, or the sentence that held it was left
    out), "wrong removed" (an answer without the gold answer is no longer shown),
    "unanswerable removed" (an unmarked answer to an unanswerable question is no longer
    shown), or None."""
    if answerable and without["right"] and not with_check["right"]:
        return "right removed"
    if without["outcome"] == "answer" and with_check["outcome"] != "answer":
        return "wrong removed" if answerable else "unanswerable removed"
    return None


def evaluate(args: argparse.Namespace) -> dict:
    app, qa = build(args)
    qa.index(app)
    cfg = app.settings
    profile = cfg.answer.profile(cfg.generator)
    pipelines = {name: ChatPipeline(app.retriever, app.generator, cfg.generator,
                                    AnswerConfig(**{**cfg.answer.model_dump(),
                                                    "checks": sorted(checks)}),
                                    scorer=app.scorer, library=app.retriever)
                 for name, checks in variants(profile.checks).items()}
    groups = [("answerable", qa.answerable, contextlib.nullcontext)]
    groups += [(name, items, context) for name, (items, context) in qa.unanswerable.items()]
    replies: dict[str, dict[str, dict]] = {name: {} for name in pipelines}
    for group, items, context in groups:
        with context(app) if group != "answerable" else contextlib.nullcontext():
            for item in items:
                for name, pipeline in pipelines.items():
                    replies[name][f"{group}:{item.id}"] = reply(run(pipeline, item.question),
                                                               item.answers)
    result = {"dataset": qa.name, "model": cfg.generator.model,
              "profile_checks": sorted(profile.checks), "checks": {}}
    for check in sorted(ALL_CHECKS):
        has = check in profile.checks
        counts = {"right removed": 0, "wrong removed": 0, "unanswerable removed": 0}
        samples: dict[str, list[str]] = {k: [] for k in counts}
        for key, base in replies["profile"].items():
            other = replies[check][key]
            with_check, without = (base, other) if has else (other, base)
            label = removed(without, with_check, key.startswith("answerable:"))
            if label is not None:
                counts[label] += 1
                samples[label].append(without["answer_part"])
        result["checks"][check] = {"in_profile": has, **counts,
                                   "samples": {k: v[:args.sample] for k, v in samples.items()}}
    return result


def markdown(result: dict) -> str:
    lines = [f"# Grounding checks: {result['dataset']}, model {result['model']}", "",
             "| check | in profile | right removed | wrong removed | unanswerable removed |",
             "| --- | --- | --- | --- | --- |"]
    for check, r in result["checks"].items():
        lines.append(f"| {check} | {'yes' if r['in_profile'] else 'no'} | {r['right removed']} "
                     f"| {r['wrong removed']} | {r['unanswerable removed']} |")
    for check, r in result["checks"].items():
        for label, texts in r["samples"].items():
            if texts:
                lines += ["", f"### {check}: {label}", ""] + [f"- {t}" for t in texts]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals rules", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="squad")
    parser.add_argument("--split", default="tune", choices=["fit", "tune", "test", "all"])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--unanswerable", type=int, default=50)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--backend", choices=["llamacpp", "transformers", "openai"])
    parser.add_argument("--model")
    parser.add_argument("--base-url")
    parser.add_argument("--sample", type=int, default=5, help="texts shown per check and kind")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/answers-index"))
    parser.add_argument("--reuse-generations", type=Path,
                        default=Path("build/evals/generations.sqlite"))
    parser.add_argument("--out", type=Path, default=Path("build/evals/rules"))
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    args.questions_given, args.anchor = True, False
    args.max_new_tokens = args.adapter = args.answer = None
    result = evaluate(args)
    stem = f"{result['dataset']}-{Path(str(result['model'])).name}" + \
        (f"-{args.tag}" if args.tag else "")
    write_report(args.out, stem, result, markdown(result))
