"""Answer quality through docchat's real ingest, retriever and pipeline.

    python -m evals answers [--dataset squad|transfer|PATH] [--split tune|test|fit|all]
                            [--questions 200] [--unanswerable 100] [--seed 0] [--k 4]
                            [--backend ...] [--model ...] [--base-url URL] [--adapter A]
                            [--calibrate]

Datasets (evals.qa_sets): SQuAD v1.1 dev (all 2,067 paragraphs indexed; questions from one
split of its articles: fit / tune / test), or the frozen transfer set (the guide snapshot and
../shared documents in one collection, 120 answerable and 120 unanswerable questions).

Reported for answerable questions:
- outcomes: answer / near miss (closest passage quoted, marked) / no match;
- shown: the answer text as the user sees it, for outcomes answer + near miss whether it
  contains a gold answer; containment and F1 of the shown text over all questions;
- own: the model's own text (`Answer.generated`, before docchat quotes or replaces anything):
  containment and F1 over all answerable questions (no generation counts as a miss), also
  where docchat withheld it; own shown: the same, counted only where it was shown as the
  answer (outcome answer): what the user reads in the model's words, to set beside the naive
  anchor's containment (the anchor shows everything it writes);
- words: median length of the shown answers (outcome answer), without the quoted passage;
- quotes: share of questions whose shown text is a quote (near misses);
- unsupported: share of generated sentences the grounding check failed;
- first-token time (p50) of the generated answers, hit@1/4/10 of the answering document.
For each group of unanswerable questions (SQuAD: `neighbour_only`, the answering paragraph
removed and its article kept; `withheld`, the whole article removed; transfer:
`unanswerable`): the outcomes, and the share given no unmarked answer (near miss + no match).

In the same run, every question also goes to the naive anchor (evals.anchor: the same
retrieval and model in LangChain's tutorial "stuff" prompt, no gate, no checks): its share of
refusals, and the containment of its text, beside docchat's own text. `--reuse-generations`
replays the model's text for prompts an earlier run asked (evals.generation_cache); timings of
replayed answers are not reported.

--calibrate scores evidence only (no generation) and prints the answer.answer_above,
answer.nothing_below and answer.support_threshold that fit the questions best. Choose
settings on the tune split; report on test with a seed never used for a choice, and on the
transfer set once.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from chat.app import DocChat
from chat.pipeline import EVIDENCE_LABEL
from chat.settings import load_settings
from chat.text import strip_markers
from chat.types import Answer, AnswerEvent
from evals.anchor import anchor_answer
from evals.calibrate import calibrate
from evals.generation_cache import CachingGenerator
from evals.metrics import percentile
from evals.qa_sets import (DEFAULT_SQUAD, Item, QASet, docs_set, folder_set, guide_set,
                            squad_set, transfer_set)
from evals.report import pyplot, write_report
from evals.squad import contains_answer, f1

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HIT_KS = (1, 4, 10)
OUTCOMES = ("answer", "near_miss", "no_match")


def ask(app: DocChat, question: str) -> Answer:
    return next(e.answer for e in app.pipeline.ask(question) if isinstance(e, AnswerEvent))


def hits(app: DocChat, items: list[Item]) -> dict[str, float]:
    found = {k: 0 for k in HIT_KS}
    for item in items:
        ranked: list[str] = []
        for chunk in app.retriever.retrieve(item.question, k=max(HIT_KS) * 3):
            source = chunk.document.metadata["source"]
            if source not in ranked:
                ranked.append(source)
        for k in HIT_KS:
            found[k] += item.document in ranked[:k]
    return {f"hit@{k}": round(n / len(items), 4) for k, n in found.items()} if items else {}


def without_quote(text: str) -> str:
    return text.split(f"\n\n{EVIDENCE_LABEL}", 1)[0]


def plain(text: str) -> str:
    return strip_markers(text).replace("“", "").replace("”", "")


def score(app: DocChat, item: Item, answer: Answer, anchor: bool = True) -> dict:
    shown, own = plain(answer.text), plain(answer.generated)
    t = answer.timings
    generating = t["total_s"] - t.get("first_token_s", t["total_s"])
    tokens = app.generator.count_tokens(answer.generated) if answer.generated else 0
    replayed = _replayed(app)
    row = {
        "id": item.id, "question": item.question, "gold": list(item.answers),
        "outcome": answer.outcome, "answer": answer.text, "generated": answer.generated,
        "evidence": answer.evidence, "judged": answer.judged, "verified": answer.verified,
        "certainty": answer.certainty,
        "words": len(plain(without_quote(answer.text)).split()),
        "checked_sentences": sum(s.supported is not None for s in answer.sentences),
        "unsupported_sentences": len(answer.unsupported),
        "problems": [s.problem for s in answer.unsupported],
        "first_token_s": t.get("first_token_s"), "total_s": t.get("total_s"),
        "retrieve_s": t.get("retrieve_s"), "evidence_s": t.get("evidence_s"),
        "verify_s": t.get("verify_s"),
        "tokens_per_s": round(tokens / generating, 2) if generating > 0 and tokens else None,
    }
    if replayed:  # the model's timings are not in a replayed answer
        row.update(first_token_s=None, total_s=None, tokens_per_s=None, replayed=True)
    if item.answers:
        row.update(contains=contains_answer(shown, item.answers),
                   contains_own=contains_answer(own, item.answers),
                   f1=round(f1(shown, item.answers), 4), f1_own=round(f1(own, item.answers), 4))
    if anchor:
        naive = anchor_answer(app, item.question, app.settings.retrieval.k)
        row["anchor"] = {"text": naive.text, "refused": naive.refused,
                         "first_token_s": None if _replayed(app) else naive.first_token_s}
        if item.answers:
            row["anchor"]["contains"] = contains_answer(plain(naive.text), item.answers)
    return row


def _replayed(app: DocChat) -> bool:
    """Whether the last generation was replayed from the cache (and resets the count)."""
    gen = app.generator
    if not isinstance(gen, CachingGenerator):
        return False
    replayed, gen.replayed = gen.replayed > 0, 0
    return replayed


def outcome_shares(rows: list[dict]) -> dict[str, float]:
    return {o: round(sum(r["outcome"] == o for r in rows) / len(rows), 4) if rows else None
            for o in OUTCOMES}


def summarise_answerable(rows: list[dict]) -> dict:
    mean = lambda key, rs=rows: round(statistics.mean(r[key] for r in rs), 4) if rs else None
    answered = [r for r in rows if r["outcome"] == "answer"]
    checked = sum(r["checked_sentences"] for r in rows)
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    totals = [r["total_s"] for r in rows if r["total_s"] is not None and r["outcome"] == "answer"]
    speeds = [r["tokens_per_s"] for r in rows if r["tokens_per_s"] is not None]
    return {
        "questions": len(rows),
        "outcomes": outcome_shares(rows),
        # answered or near miss, and the shown text contains a gold answer
        "shown_contains_1_2": round(sum(r["outcome"] != "no_match" and r["contains"]
                                        for r in rows) / len(rows), 4) if rows else None,
        "containment_shown": mean("contains"), "f1_shown": mean("f1"),
        "containment_own": mean("contains_own"), "f1_own": mean("f1_own"),
        "containment_own_when_answered": mean("contains_own", answered),
        "containment_own_shown": round(sum(r["contains_own"] for r in answered) / len(rows), 4)
        if rows else None,
        "median_words_answered": statistics.median(r["words"] for r in answered)
        if answered else None,
        "quotes": round(sum(r["outcome"] == "near_miss" for r in rows) / len(rows), 4)
        if rows else None,
        "unsupported_generated": round(sum(r["unsupported_sentences"] for r in rows) / checked,
                                       4) if checked else None,
        "first_token_s_p50": round(percentile(firsts, 50), 3) if firsts else None,
        "answer_s_p50": round(percentile(totals, 50), 3) if totals else None,
        "replayed": sum(bool(r.get("replayed")) for r in rows),
        **_anchor_answerable(rows),
        "tokens_per_s_p50": round(statistics.median(speeds), 2) if speeds else None,
        # where the first-token time goes: retrieval, then scoring the evidence sentences
        **{f"{part}_s_p50": round(percentile(values, 50), 3)
           for part in ("retrieve", "evidence")
           if (values := [r[f"{part}_s"] for r in rows if r.get(f"{part}_s") is not None])},
    }


def _anchor_answerable(rows: list[dict]) -> dict:
    naive = [r["anchor"] for r in rows if "anchor" in r]
    if not naive:
        return {}
    firsts = [a["first_token_s"] for a in naive if a["first_token_s"] is not None]
    return {"anchor_answered": round(sum(not a["refused"] for a in naive) / len(naive), 4),
            "anchor_containment": round(sum(a["contains"] for a in naive) / len(naive), 4),
            "anchor_first_token_s_p50": round(percentile(firsts, 50), 3) if firsts else None}


def summarise_unanswerable(rows: list[dict]) -> dict:
    shares = outcome_shares(rows)
    summary = {"questions": len(rows), "outcomes": shares,
               "no_unmarked_answer": round(1 - shares["answer"], 4) if rows else None}
    naive = [r["anchor"] for r in rows if "anchor" in r]
    if naive:
        summary["anchor_refused"] = round(sum(a["refused"] for a in naive) / len(naive), 4)
    return summary


def build(args: argparse.Namespace) -> tuple[DocChat, QASet]:
    if args.dataset == "transfer":
        qa = transfer_set(questions=args.questions if args.questions_given else None)
    elif args.dataset == "guide":
        qa = guide_set()
    elif args.dataset == "docs":
        qa = docs_set()
    elif args.dataset != "squad" and Path(args.dataset).is_dir():
        qa = folder_set(Path(args.dataset))
    else:
        path = DEFAULT_SQUAD if args.dataset == "squad" else Path(args.dataset)
        qa = squad_set(path, args.split, args.questions, args.unanswerable, args.seed)
    generator = {"backend": args.backend, "model": args.model, "base_url": args.base_url,
                 "max_new_tokens": args.max_new_tokens, "adapter": args.adapter}
    overrides = {"generator": generator, "retrieval": {"k": args.k},
                 "answer": json.loads(args.answer) if args.answer else {}}
    app = DocChat(load_settings(data_dir=args.data_dir, collection=qa.name.split("-")[0],
                                **overrides))
    if args.reuse_generations:
        g = app.settings.generator
        weighs_margins = app.settings.answer.profile(g).sure_below is not None
        app.generator = CachingGenerator(app.generator, args.reuse_generations,
                                         f"{g.backend}:{g.model}:{g.base_url or ''}",
                                         margins=weighs_margins)
    return app, qa


def _profile(app: DocChat) -> dict:
    profile = asdict(app.pipeline.profile)
    return {**profile, "checks": sorted(profile["checks"])}


def evaluate(args: argparse.Namespace) -> dict:
    app, qa = build(args)
    notes = {k: v for k, v in qa.notes.items() if k != "paragraphs"}
    result = {"dataset": qa.name, "seed": args.seed, "k": args.k, **notes,
              "settings": {"generator": app.settings.generator.model_dump(mode="json"),
                           "answer": app.settings.answer.model_dump(),
                           # the thresholds and checks in effect: the model's profile with
                           # the answer.* settings given
                           "profile": _profile(app),
                           "retrieval": app.settings.retrieval.model_dump()},
              "ingest": qa.index(app), "retrieval": hits(app, qa.answerable)}
    if args.calibrate:
        result["calibration"] = calibrate(app, qa)
        return result
    rows = [score(app, item, ask(app, item.question), args.anchor) for item in qa.answerable]
    result["answerable"] = summarise_answerable(rows)
    result["rows"] = {"answerable": rows}
    result["unanswerable"] = {}
    for name, (items, context) in qa.unanswerable.items():
        with context(app):
            group = [score(app, item, ask(app, item.question), args.anchor) for item in items]
        result["unanswerable"][name] = summarise_unanswerable(group)
        result["rows"][name] = group
    return result


def markdown(result: dict) -> str:
    g = result["settings"]["generator"]
    lines = [f"# Answers: {result['dataset']} (k={result['k']})", "",
             f"Generator: `{g['backend']}` `{g['model']}`", "",
             "Retrieval: " + ", ".join(f"{k} {v}" for k, v in result["retrieval"].items()), ""]
    if "calibration" in result:
        shown = {k: v for k, v in result["calibration"].items() if k != "evidence_scores"}
        lines += ["## Calibration", "", "```", json.dumps(shown, indent=2), "```"]
        return "\n".join(lines) + "\n"
    lines += ["## Answerable", "", "| metric | value |", "| --- | --- |"]
    for key, value in result["answerable"].items():
        lines.append(f"| {key} | {value} |")
    for name, group in result["unanswerable"].items():
        anchor = (f"; naive anchor refused {group['anchor_refused']}"
                  if "anchor_refused" in group else "")
        lines += ["", f"## Not answered: {name} ({group['questions']} questions)", "",
                  f"outcomes {group['outcomes']}, no unmarked answer "
                  f"{group['no_unmarked_answer']}{anchor}"]
    return "\n".join(lines) + "\n"


def plot(result: dict) -> "Figure":
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if "answerable" in result:
        groups = {"answerable": result["answerable"]["outcomes"],
                  **{k: v["outcomes"] for k, v in result["unanswerable"].items()}}
        bottom = [0.0] * len(groups)
        for outcome in OUTCOMES:
            values = [g[outcome] or 0 for g in groups.values()]
            left.bar(list(groups), values, bottom=bottom, label=outcome)
            bottom = [b + v for b, v in zip(bottom, values)]
        left.set_ylim(0, 1)
        left.legend()
        scores = {name: [r["evidence"] for r in rows if r["evidence"] is not None]
                  for name, rows in result["rows"].items()}
    else:
        scores = result["calibration"]["evidence_scores"]
    for name, values in scores.items():
        right.hist(values, bins=30, alpha=0.5, label=name)
    for key in ("answer_above", "nothing_below"):
        right.axvline(result["settings"]["profile"][key], color="k", ls="--")
    right.set_xlabel("evidence score")
    right.legend()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals answers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="squad",
                        help='"squad" (../shared SQuAD dev), "transfer", "guide" (docchat\'s '
                             'user guide, 16 questions), "docs" (a documentation folder, 40 '
                             "questions), a folder laid out like evals/data/docs "
                             "(questions.jsonl, unanswerable.jsonl, one folder of documents), "
                             "or a SQuAD JSON file")
    parser.add_argument("--split", default="tune", choices=["fit", "tune", "test", "all"])
    parser.add_argument("--questions", type=int, default=None,
                        help="answerable questions (SQuAD, default 200); transfer: the first "
                             "N of each part and kind (default all)")
    parser.add_argument("--unanswerable", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="question sample (SQuAD)")
    parser.add_argument("--k", type=int, default=4, help="chunks retrieved per question")
    parser.add_argument("--backend", choices=["llamacpp", "transformers", "openai"])
    parser.add_argument("--model", help='a known model ("qwen2.5-coder-1.5b", …), a GGUF file, '
                                        "a model directory or a served model's name")
    parser.add_argument("--base-url", help="backend openai: the server's /v1 URL")
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--adapter", help="generator.adapter: a LoRA adapter directory")
    parser.add_argument("--answer", help='answer.* settings as JSON, e.g. \'{"context": '
                                         '"chunks"}\'')
    parser.add_argument("--no-anchor", dest="anchor", action="store_false",
                        help="skip the naive anchor (it doubles the run's generation time)")
    parser.add_argument("--reuse-generations", type=Path, nargs="?", default=None,
                        const=Path("build/evals/generations.sqlite"),
                        help="replay the model's text for prompts asked before (timings of "
                             "replayed answers are not reported)")
    parser.add_argument("--calibrate", action="store_true",
                        help="score evidence only and print the thresholds that fit best")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/answers-index"))
    parser.add_argument("--out", type=Path, default=Path("build/evals/answers"))
    parser.add_argument("--tag", default="", help="added to the report's file name")
    args = parser.parse_args(argv)
    args.questions_given = args.questions is not None
    if args.questions is None:
        args.questions = 200
    result = evaluate(args)
    stem = result["dataset"] + ("-calibration" if args.calibrate else "") + \
        (f"-{args.tag}" if args.tag else "")
    write_report(args.out, stem, result, markdown(result), plot)
