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
- file hit@k: the right file is among the first k distinct files retrieved;
- quote hit@k: the passage a near miss would quote from those k chunks (chat.extractive,
  no model) holds the key phrase.

Reported overall and per class of question (heading-path, nested-list, admonition, ...),
with passage hit@1 and the passage's reciprocal rank, and the ingest report's failures and
notes. With ../shared/data/documents present, its Markdown, HTML and text files are indexed
too as distractors (the folder alone is 12 files: nearly every chunk would be in the top 4);
`--no-distractors` leaves them out.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from chat.extractive import extractive_answer
from chat.types import Source
from evals.qa_sets import DOCS_FOLDER, DOCS_QUESTIONS, SHARED_DOCUMENTS
from evals.report import write_report


DISTRACTOR_SUFFIXES = (".md", ".html", ".txt")
# Site markup that should not survive ingest (issue 31, class 3), one pattern per line start
# (or anywhere, for the heading link mark ¶ and footnote references).
RESIDUE = re.compile(r"(?m)^\s*(!!!|\?\?\?|:::|\.\. [\w-]+::|---\s*$|<!--|\[\^|=+ \w|#+ \w|"
                     r"#\+\w+:|import .* from ['\"])|¶|\[\^\w+\]")


def distractors(shared: Path = SHARED_DOCUMENTS) -> list[Path]:
    if not shared.is_dir():
        return []
    return sorted(p for p in shared.rglob("*") if p.suffix.lower() in DISTRACTOR_SUFFIXES
                  and "groundtruth" not in p.parts)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[`*]", "", text).lower().split())


def passage_rank(chunks: list, file: Path, key: str) -> int | None:
    """1-based rank of the first chunk from `file` holding the key phrase, else None."""
    want = normalise(key)
    for rank, d in enumerate(chunks, start=1):
        if Path(d.metadata["source"]) == file and want in normalise(d.page_content):
            return rank
    return None


def file_hit(ranked_sources: list[str], file: Path, k: int) -> bool:
    return str(file) in ranked_sources[:k]


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(folder: Path, questions: Path, k: int, data_dir: Path,
             extra: list[Path] | None = None) -> dict:
    from chat.app import DocChat
    from chat.settings import load_settings

    app = DocChat(load_settings(data_dir=data_dir, collection="docs-folder"))
    report = app.ingestor.ingest([folder, *(extra or [])])
    rows = []
    for q in load_questions(questions):
        file = (folder / q["file"]).resolve()
        hits = app.retriever.retrieve(q["question"], k=k * 3)
        chunks = [h.document for h in hits]
        rank = passage_rank(chunks, file, q["key"])
        ranked: list[str] = []
        for h in hits:
            if h.document.metadata["source"] not in ranked:
                ranked.append(h.document.metadata["source"])
        # The passage a near miss would quote from these k chunks (chat.extractive).
        sources = [Source.from_chunk(n, h) for n, h in enumerate(hits[:k], start=1)]
        quoted, _ = extractive_answer(app.scorer.rank(q["question"], sources))
        rows.append({"id": q["id"], "class": q["class"], "file": q["file"],
                     "quote": normalise(q["key"]) in normalise(quoted), "quoted": quoted,
                     "passage": rank is not None and rank <= k,
                     "passage@1": rank == 1, "rr": 1 / rank if rank else 0.0,
                     "file_hit": file_hit(ranked, file, k),
                     "top": [f"{Path(d.metadata['source']).name} [{d.metadata.get('section', '')}]"
                             for d in chunks[:k]]})
    chunks = app.store.all()
    ours = [text for text, meta in zip(chunks["documents"], chunks["metadatas"])
            if Path(meta["source"]).is_relative_to(folder)]
    residue = [text for text in ours if RESIDUE.search(text)]
    share = lambda rs, key: round(sum(r[key] for r in rs) / len(rs), 4) if rs else None
    classes = defaultdict(list)
    for r in rows:
        classes[r["class"]].append(r)
    return {
        "folder": str(folder), "questions": len(rows), "k": k,
        "distractors": len(extra or []),
        "ingest": {"files": len(report.results), "ingested": report.count("ingested"),
                   "failed": [{"file": Path(r.path).name, "reason": r.reason}
                              for r in report.failed],
                   "notes": {Path(r.path).name: list(r.notes) for r in report.results
                             if r.notes},
                   "chunks": app.store.count()},
        f"passage_hit@{k}": share(rows, "passage"), f"file_hit@{k}": share(rows, "file_hit"),
        "passage_hit@1": share(rows, "passage@1"),
        f"quote_hit@{k}": share(rows, "quote"),
        "markup_residue": {"chunks": len(ours), "with_residue": len(residue),
                           "examples": [t[:120] for t in residue[:8]]},
        f"passage_mrr@{3 * k}": share(rows, "rr"),
        "classes": {c: {"questions": len(rs), "passage": share(rs, "passage"),
                        "file": share(rs, "file_hit"), "quote": share(rs, "quote")}
                    for c, rs in sorted(classes.items())},
        "rows": rows,
    }


def markdown(result: dict) -> str:
    k = result["k"]
    lines = [f"# Docs folder: {result['folder']} ({result['questions']} questions, k={k}, "
             f"{result['distractors']} distractor files)", "",
             f"passage hit@{k} {result[f'passage_hit@{k}']}, file hit@{k} "
             f"{result[f'file_hit@{k}']}, passage hit@1 {result['passage_hit@1']}, passage "
             f"MRR@{3 * k} {result[f'passage_mrr@{3 * k}']}, near-miss quote holds the key "
             f"phrase {result[f'quote_hit@{k}']}",
             f"chunks of the folder with site markup left: "
             f"{result['markup_residue']['with_residue']} of {result['markup_residue']['chunks']}",
             "", "| class | questions | passage | file | quote |",
             "| --- | --- | --- | --- | --- |"]
    for name, c in result["classes"].items():
        lines.append(f"| {name} | {c['questions']} | {c['passage']} | {c['file']} | "
                     f"{c['quote']} |")
    misses = [r for r in result["rows"] if not r["passage"]]
    if misses:
        lines += ["", "Passage misses:"]
        lines += [f"- {r['id']} ({r['file']}): top {r['top']}" for r in misses]
    quotes = [r for r in result["rows"] if not r["quote"]]
    if quotes:
        lines += ["", "Quotes without the key phrase:"]
        lines += [f"- {r['id']}: {' '.join(r['quoted'].split())[:160]}" for r in quotes]
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
    parser.add_argument("--no-distractors", action="store_true",
                        help="index the docs folder alone")
    parser.add_argument("--out", type=Path, default=Path("build/evals/docs-folder"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docchat-docs-eval-") as scratch:
        result = evaluate(args.folder.resolve(), args.questions, args.k,
                          args.data_dir or Path(scratch),
                          [] if args.no_distractors else distractors())
    write_report(args.out, "docs-folder", result, markdown(result))
