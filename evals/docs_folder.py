"""Retrieval on a documentation folder as people keep one (issue 31).

    python -m evals docs-folder [--folder DIR] [--questions FILE] [--k 4] [--out DIR]

evals/data/docs/harborline is the docs folder of a made-up HTTP client written for this
benchmark (mkdocs and Docusaurus Markdown, Sphinx reStructuredText, Sphinx HTML, Org and
AsciiDoc), so the project can ship it; evals/data/docs/questions.jsonl holds 40 questions,
each with the file that answers it and a key phrase of the answering passage, written before
any tuning of the ingest stage. The folder is ingested afresh into a scratch index each run
(parsing changes must show), then each question is retrieved with the app's own retriever:

- passage hit@k: one of the top-k chunks is from the right file and holds the key phrase
  (compared case-blind, with whitespace and Markdown code ticks ignored);
- file hit@k: the right file is among the first k distinct files retrieved.

Reported overall, per class of question (heading-path, nested-list, admonition, ...), with the
ingest report's failures and notes.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from evals.qa_sets import DOCS_FOLDER, DOCS_QUESTIONS
from evals.report import write_report


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[`*]", "", text).lower().split())


def passage_hit(chunks: list, file: Path, key: str) -> bool:
    want = normalise(key)
    return any(Path(d.metadata["source"]) == file and want in normalise(d.page_content)
               for d in chunks)


def file_hit(ranked_sources: list[str], file: Path, k: int) -> bool:
    return str(file) in ranked_sources[:k]


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(folder: Path, questions: Path, k: int, data_dir: Path) -> dict:
    from chat.app import DocChat
    from chat.settings import load_settings

    app = DocChat(load_settings(data_dir=data_dir, collection="docs-folder"))
    report = app.ingestor.ingest([folder])
    rows = []
    for q in load_questions(questions):
        file = (folder / q["file"]).resolve()
        hits = app.retriever.retrieve(q["question"], k=k * 3)
        chunks = [h.document for h in hits[:k]]
        ranked: list[str] = []
        for h in hits:
            if h.document.metadata["source"] not in ranked:
                ranked.append(h.document.metadata["source"])
        rows.append({"id": q["id"], "class": q["class"], "file": q["file"],
                     "passage": passage_hit(chunks, file, q["key"]),
                     "file_hit": file_hit(ranked, file, k),
                     "top": [f"{Path(d.metadata['source']).name} [{d.metadata.get('section', '')}]"
                             for d in chunks]})
    share = lambda rs, key: round(sum(r[key] for r in rs) / len(rs), 4) if rs else None
    classes = defaultdict(list)
    for r in rows:
        classes[r["class"]].append(r)
    return {
        "folder": str(folder), "questions": len(rows), "k": k,
        "ingest": {"files": len(report.results), "ingested": report.count("ingested"),
                   "failed": [{"file": Path(r.path).name, "reason": r.reason}
                              for r in report.failed],
                   "notes": {Path(r.path).name: list(r.notes) for r in report.results
                             if r.notes},
                   "chunks": app.store.count()},
        f"passage_hit@{k}": share(rows, "passage"), f"file_hit@{k}": share(rows, "file_hit"),
        "classes": {c: {"questions": len(rs), "passage": share(rs, "passage"),
                        "file": share(rs, "file_hit")} for c, rs in sorted(classes.items())},
        "rows": rows,
    }


def markdown(result: dict) -> str:
    k = result["k"]
    lines = [f"# Docs folder: {result['folder']} ({result['questions']} questions, k={k})", "",
             f"passage hit@{k} {result[f'passage_hit@{k}']}, file hit@{k} "
             f"{result[f'file_hit@{k}']}", "", "| class | questions | passage | file |",
             "| --- | --- | --- | --- |"]
    for name, c in result["classes"].items():
        lines.append(f"| {name} | {c['questions']} | {c['passage']} | {c['file']} |")
    misses = [r for r in result["rows"] if not r["passage"]]
    if misses:
        lines += ["", "Passage misses:"]
        lines += [f"- {r['id']} ({r['file']}): top {r['top']}" for r in misses]
    lines += ["", f"Ingest: {json.dumps(result['ingest'])}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals docs-folder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=DOCS_FOLDER)
    parser.add_argument("--questions", type=Path, default=DOCS_QUESTIONS)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="index folder (default: a scratch folder, ingested afresh)")
    parser.add_argument("--out", type=Path, default=Path("build/evals/docs-folder"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docchat-docs-eval-") as scratch:
        result = evaluate(args.folder.resolve(), args.questions, args.k,
                          args.data_dir or Path(scratch))
    write_report(args.out, "docs-folder", result, markdown(result))
