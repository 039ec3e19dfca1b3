"""Answer quality on SQuAD v1.1 dev, through docchat's real ingest, retriever and pipeline.

    python -m evals answers [--dataset DIR] [--questions 300] [--withheld 100] [--seed 0]
                            [--backend transformers|llamacpp|openai] [--model NAME|FILE.gguf]
                            [--base-url URL] [--calibrate]

All 2,067 paragraphs are the corpus (title as heading). A fixed-seed sample of questions is
asked; reported: hit@1/4/10 of the gold paragraph, exact match and F1 (official SQuAD
normalisation), containment (a gold answer appears in the response), citation precision (the
cited passage contains a gold answer), unsupported sentences, abstention on answerable
questions and on withheld ones (their gold paragraphs removed from the index for the run),
time to first token and tokens/s. --calibrate only scores evidence (no generation) and
prints the abstention and support thresholds that separate the two groups best; calibrate
on another seed than the one you report.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from chat.app import DocChat
from chat.settings import load_settings
from chat.text import strip_markers
from chat.types import Answer, AnswerEvent
from evals.calibrate import calibrate
from evals.metrics import percentile
from evals.report import pyplot, write_report
from evals.squad import Question, Squad, contains_answer, exact_match, f1, load_squad, sample
from ingest.types import SourceText

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/qa/squad-v1.1"
HIT_KS = (1, 4, 10)


def open_index(data_dir: Path, squad: Squad, overrides: dict) -> tuple[DocChat, dict]:
    app = DocChat(load_settings(data_dir=data_dir, collection="squad-dev", **overrides))
    report = app.ingestor.ingest_texts(
        SourceText(p.id, p.text, p.title) for p in squad.paragraphs.values()
    )
    return app, {"paragraphs": len(report.results), "ingested_now": report.count("ingested"),
                 "chunks": app.store.count(), "seconds": round(report.seconds, 1)}


def hits(app: DocChat, questions: list[Question]) -> dict[str, float]:
    found = {k: 0 for k in HIT_KS}
    for q in questions:
        ranked: list[str] = []
        for chunk in app.retriever.retrieve(q.text, k=max(HIT_KS) * 3):
            source = chunk.document.metadata["source"]
            if source not in ranked:
                ranked.append(source)
        for k in HIT_KS:
            found[k] += q.paragraph_id in ranked[:k]
    return {f"hit@{k}": round(n / len(questions), 4) for k, n in found.items()}


def ask(app: DocChat, question: str) -> Answer:
    return next(e.answer for e in app.pipeline.ask(question) if isinstance(e, AnswerEvent))


def score_answer(app: DocChat, q: Question, answer: Answer) -> dict:
    shown = _plain(answer.text)
    generated = _plain(answer.generated)
    cited = [s for s in answer.citations]
    t = answer.timings
    generating = t["total_s"] - t.get("first_token_s", t["total_s"])
    tokens = app.generator.count_tokens(answer.generated) if answer.generated else 0
    return {
        "id": q.id, "question": q.text, "gold": list(q.answers), "answer": answer.text,
        "abstained": answer.abstained, "extractive": answer.extractive,
        "evidence": answer.evidence,
        "em": exact_match(shown, q.answers), "f1": round(f1(shown, q.answers), 4),
        "contains": contains_answer(shown, q.answers),
        # the model's own text, without quotes docchat added or put in its place
        "contains_generated": contains_answer(generated, q.answers),
        "cited": len(cited),
        "cited_with_answer": sum(contains_answer(s.text, q.answers) for s in cited),
        "checked_sentences": sum(s.supported is not None for s in answer.sentences),
        "unsupported_sentences": len(answer.unsupported),
        "first_token_s": t.get("first_token_s"),
        "tokens_per_s": round(tokens / generating, 2) if generating > 0 and tokens else None,
    }


def _plain(text: str) -> str:
    return strip_markers(text).replace("“", "").replace("”", "")


def summarise(rows: list[dict]) -> dict:
    answered = [r for r in rows if not r["abstained"]]
    mean = lambda key, rs=rows: round(statistics.mean(r[key] for r in rs), 4) if rs else None
    cited = sum(r["cited"] for r in answered)
    checked = sum(r["checked_sentences"] for r in rows)
    generated = [r for r in answered if not r["extractive"]]
    checked_shown = sum(r["checked_sentences"] for r in generated)
    values = lambda key: [r[key] for r in rows if r[key] is not None]
    return {
        "questions": len(rows),
        "exact_match": mean("em"), "f1": mean("f1"), "containment": mean("contains"),
        "containment_generated": mean("contains_generated"),
        "citation_precision": round(sum(r["cited_with_answer"] for r in answered) / cited, 4)
        if cited else None,
        "abstained": mean("abstained"),
        "extractive": mean("extractive"),
        # of the generator's sentences, and of the sentences shown (quotes are sources' own)
        "unsupported_generated": round(sum(r["unsupported_sentences"] for r in rows) / checked, 4)
        if checked else None,
        "unsupported_shown": round(
            sum(r["unsupported_sentences"] for r in generated) / checked_shown, 4
        ) if checked_shown else 0.0,
        "first_token_s_p50": round(percentile(values("first_token_s"), 50), 3)
        if values("first_token_s") else None,
        "tokens_per_s_p50": round(statistics.median(values("tokens_per_s")), 2)
        if values("tokens_per_s") else None,
    }


def withheld_run(app: DocChat, squad: Squad, questions: list[Question], fn) -> list:
    """Ask `questions` with their gold paragraphs removed from the index, then restore them."""
    removed = app.ingestor.remove_sources({q.paragraph_id for q in questions})
    try:
        return [fn(q) for q in questions]
    finally:
        paragraphs = [squad.paragraphs[pid] for pid in removed]
        app.ingestor.ingest_texts(SourceText(p.id, p.text, p.title) for p in paragraphs)


def evaluate(args: argparse.Namespace) -> dict:
    squad = load_squad(args.dataset)
    generator = {"backend": args.backend, "model": args.model, "base_url": args.base_url,
                 "max_new_tokens": args.max_new_tokens}
    app, ingest = open_index(args.data_dir, squad, {"generator": generator,
                                                    "retrieval": {"k": args.k}})
    answerable = sample(squad.questions, args.questions, args.seed)
    withheld = sample(squad.questions, args.withheld, args.seed + 1000,
                      exclude={q.id for q in answerable})
    withheld = [q for q in withheld if q.paragraph_id not in {a.paragraph_id for a in answerable}]
    result = {"dataset": str(args.dataset), "seed": args.seed, "k": args.k,
              "settings": {"generator": app.settings.generator.model_dump(mode="json"),
                           "answer": app.settings.answer.model_dump(),
                           "retrieval": app.settings.retrieval.model_dump()},
              "ingest": ingest, "retrieval": hits(app, answerable)}
    if args.calibrate:
        result["calibration"] = calibrate(app, squad, answerable, withheld, withheld_run)
        return result
    rows = [score_answer(app, q, ask(app, q.text)) for q in answerable]
    held = withheld_run(app, squad, withheld, lambda q: score_answer(app, q, ask(app, q.text)))
    result["answerable"] = summarise(rows)
    result["withheld"] = {"questions": len(held), "abstained": round(
        statistics.mean(r["abstained"] for r in held), 4) if held else None}
    result["rows"] = {"answerable": rows, "withheld": held}
    return result


def markdown(result: dict) -> str:
    lines = [f"# Answers: SQuAD v1.1 dev (seed {result['seed']}, k={result['k']})", "",
             f"Generator: `{result['settings']['generator']['backend']}` "
             f"`{result['settings']['generator']['model']}`", "",
             "Retrieval: " + ", ".join(f"{k} {v}" for k, v in result["retrieval"].items()), ""]
    if "calibration" in result:
        lines += ["## Calibration", "", "```", json.dumps(result["calibration"], indent=2), "```"]
        return "\n".join(lines) + "\n"
    lines += ["| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in result["answerable"].items()]
    lines += [f"| abstained on withheld ({result['withheld']['questions']} questions) | "
              f"{result['withheld']['abstained']} |"]
    return "\n".join(lines) + "\n"


def plot(result: dict) -> "Figure":
    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if "answerable" in result:
        a = result["answerable"]
        bars = {**result["retrieval"], "containment": a["containment"], "F1": a["f1"],
                "cit. precision": a["citation_precision"] or 0,
                "answered": 1 - a["abstained"], "abstained (withheld)":
                result["withheld"]["abstained"]}
        left.bar(list(bars), list(bars.values()))
        left.set_ylim(0, 1)
        left.tick_params(axis="x", rotation=45)
        groups = {name: [r["evidence"] for r in rows if r["evidence"] is not None]
                  for name, rows in result["rows"].items()}
    else:
        groups = result["calibration"]["evidence_scores"]
    for name, values in groups.items():
        right.hist(values, bins=30, alpha=0.6, label=name)
    right.axvline(result["settings"]["answer"]["abstain_below"], color="k", ls="--",
                  label="abstain_below")
    right.set_xlabel("evidence score")
    right.legend()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals answers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--withheld", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=4, help="chunks given to the generator")
    parser.add_argument("--backend", choices=["transformers", "llamacpp", "openai"])
    parser.add_argument("--model", help='"bundled", a GGUF file, a model directory or name')
    parser.add_argument("--base-url", help="backend openai: the server's /v1 URL")
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--calibrate", action="store_true",
                        help="score evidence only and print the thresholds that fit best")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/squad-index"))
    parser.add_argument("--out", type=Path, default=Path("build/evals/answers"))
    args = parser.parse_args(argv)
    result = evaluate(args)
    stem = f"squad-seed{args.seed}" + ("-calibration" if args.calibrate else "")
    write_report(args.out, stem, result, markdown(result), plot)
