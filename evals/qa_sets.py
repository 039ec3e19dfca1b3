"""Question sets for `python -m evals answers`: SQuAD v1.1 dev split by article, and the frozen
transfer set (evals/data/transfer). Each gives the documents to index, the answerable
questions, and groups of questions the index does not answer, each with the change to the
index that makes them so.

SQuAD's 48 articles are split once, by a fixed seed, into
- fit (24 articles): the questions docchat's trained model learns from (evals.train_qa),
- tune (10): every threshold, weight and prompt choice is made on these,
- test (14): reported, with a sample seed never used for a choice.
The whole dev set stays in the index whatever the split: only the questions are split.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evals.squad import Squad, load_squad
from ingest.types import SourceText

if TYPE_CHECKING:
    from chat.app import DocChat

SPLIT_SEED = 2026
SPLIT_SIZES = {"fit": 24, "tune": 10}  # the rest is test
SHARED_DOCUMENTS = Path(__file__).resolve().parents[2] / "shared/data/documents"
DEFAULT_SQUAD = Path(__file__).resolve().parents[2] / "shared/data/qa/squad-v1.1"
TRANSFER = Path(__file__).resolve().parent / "data" / "transfer"
GUIDE_QUESTIONS = Path(__file__).resolve().parent / "data" / "guide" / "questions.jsonl"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide"
DOCS_FOLDER = Path(__file__).resolve().parent / "data" / "docs" / "harborline"
DOCS_QUESTIONS = Path(__file__).resolve().parent / "data" / "docs" / "questions.jsonl"
DOCS_UNANSWERABLE = DOCS_QUESTIONS.with_name("unanswerable.jsonl")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...]  # empty: not answered by the documents
    document: str  # the document (paragraph id, or file path) that answers it


@dataclass
class QASet:
    name: str
    answerable: list[Item]
    # group name -> (questions, context manager that makes the index not answer them)
    unanswerable: dict[str, tuple[list[Item], Callable[["DocChat"], contextlib.AbstractContextManager]]]
    index: Callable[["DocChat"], dict]  # ingests the documents; returns ingest facts
    notes: dict = field(default_factory=dict)


def split_articles(titles: list[str]) -> dict[str, set[str]]:
    order = sorted(titles)
    random.Random(SPLIT_SEED).shuffle(order)
    fit = SPLIT_SIZES["fit"] if len(order) > 30 else 0
    tune = SPLIT_SIZES["tune"] if len(order) > 30 else 0
    return {"fit": set(order[:fit]), "tune": set(order[fit:fit + tune]),
            "test": set(order[fit + tune:]), "all": set(order)}


def squad_set(path: Path, split: str, questions: int, unanswerable: int, seed: int) -> QASet:
    squad = load_squad(path)
    titles = split_articles(sorted({p.title for p in squad.paragraphs.values()}))[split]
    pool = [q for q in squad.questions if squad.paragraphs[q.paragraph_id].title in titles]
    rng = random.Random(seed)
    answerable = rng.sample(pool, min(questions, len(pool)))
    used = {q.paragraph_id for q in answerable}
    rest = [q for q in pool if q.paragraph_id not in used]
    rng.shuffle(rest)
    held: list = []
    for q in rest:  # one question per paragraph: removing one's paragraph answers no other
        if len(held) == unanswerable:
            break
        if q.paragraph_id not in {h.paragraph_id for h in held}:
            held.append(q)
    item = lambda q: Item(q.id, q.text, q.answers, q.paragraph_id)
    articles = [squad.paragraphs[q.paragraph_id].title for q in held]
    return QASet(
        name=f"squad-{split}-seed{seed}",
        answerable=[item(q) for q in answerable],
        unanswerable={
            # The paragraph that answers removed; the article's other paragraphs kept.
            "neighbour_only": ([item(q) for q in held],
                               lambda app: _without(app, squad, {q.paragraph_id for q in held})),
            # The whole article removed: nothing on its topic is left.
            "withheld": ([item(q) for q in held],
                         lambda app: _without(app, squad, {p.id for p in squad.paragraphs.values()
                                                          if p.title in set(articles)})),
        },
        index=lambda app: index_squad(app, squad),
        notes={"split": split, "split_seed": SPLIT_SEED, "articles": len(titles),
               "paragraphs": squad.paragraphs},
    )


def index_squad(app: "DocChat", squad: Squad) -> dict:
    report = app.ingestor.ingest_texts(
        SourceText(p.id, p.text, p.title) for p in squad.paragraphs.values())
    return {"documents": len(report.results), "ingested_now": report.count("ingested"),
            "chunks": app.store.count(), "seconds": round(report.seconds, 1)}


@contextlib.contextmanager
def _without(app: "DocChat", squad: Squad, paragraph_ids: set[str]) -> Iterator[None]:
    """The index without these paragraphs for the duration; restored afterwards."""
    removed = app.ingestor.remove_sources(paragraph_ids)
    try:
        yield
    finally:
        paragraphs = [squad.paragraphs[pid] for pid in removed]
        app.ingestor.ingest_texts(SourceText(p.id, p.text, p.title) for p in paragraphs)


def transfer_set(folder: Path = TRANSFER, documents: Path = SHARED_DOCUMENTS,
                 questions: int | None = None) -> QASet:
    rows = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()
            if line.strip()]
    if questions is not None:  # a quick look: the first N of each part and kind
        rows = _first_of_each(rows, questions)

    def path(rel: str) -> str:
        base = folder if rel.startswith("guide/") else documents
        return str((base / rel).resolve())

    items = {kind: [Item(r["id"], r["question"], tuple(r["answers"]), path(r["file"]))
                    for r in rows if r["kind"] == kind]
             for kind in ("answerable", "unanswerable")}
    return QASet(
        name="transfer",
        answerable=items["answerable"],
        unanswerable={"unanswerable": (items["unanswerable"],
                                       lambda app: contextlib.nullcontext())},
        index=lambda app: _index_files(app, [folder / "guide", documents]),
        notes={"questions_file": str(folder / "questions.jsonl")},
    )


def _first_of_each(rows: list[dict], n: int) -> list[dict]:
    kept, counts = [], {}
    for row in rows:
        key = (row["id"].split("-")[0], row["kind"])
        if counts.get(key, 0) < n:
            counts[key] = counts.get(key, 0) + 1
            kept.append(row)
    return kept


def _index_files(app: "DocChat", paths: list[Path]) -> dict:
    report = app.ingestor.ingest(paths)
    return {"documents": len(report.results), "ingested_now": report.count("ingested"),
            "failed": report.count("failed"), "chunks": app.store.count(),
            "seconds": round(report.seconds, 1)}


def guide_set(questions: Path = GUIDE_QUESTIONS, guide: Path = GUIDE) -> QASet:
    """docchat's own user guide as it is now (docs/guide, the demo corpus, as Markdown) and
    16 questions a user asks of it: the demo's eight and eight written before any tuning
    (evals/data/guide/questions.jsonl). All answerable; a reply counts when it holds one of
    the key phrases."""
    rows = _jsonl(questions)
    items = [Item(r["id"], r["question"], tuple(r["answers"]),
                  str((guide / f"{r['file']}.md").resolve())) for r in rows]
    return QASet(name="guide", answerable=items, unanswerable={},
                 index=lambda app: _index_files(app, [guide]),
                 notes={"questions_file": str(questions)})


def docs_set(questions: Path = DOCS_QUESTIONS, folder: Path = DOCS_FOLDER,
             unanswerable: Path | None = DOCS_UNANSWERABLE, name: str = "docs") -> QASet:
    """A documentation folder as people keep one (evals/data/docs, issue 31): 40 questions,
    each answered by one file (its key phrase is the answer to look for; "alt" lists other
    ways to write it), and 20 on-topic ones the folder does not answer, 16 of them beside a
    fact it does give. For `--dataset docs`; `python -m evals docs-folder` scores retrieval
    alone, by passage."""
    rows = _jsonl(questions)
    items = []
    for r in rows:
        alt = r.get("alt", [])
        if not isinstance(alt, list):
            raise ValueError(f"{questions}: {r['id']}: \"alt\" must be a list of strings")
        items.append(Item(r["id"], r["question"], (r["key"], *alt),
                          str((folder / r["file"]).resolve())))
    unanswered = _jsonl(unanswerable) if unanswerable is not None else []
    # A question the folder does not answer has no document; "near" names the tempting one.
    missing = [Item(r["id"], r["question"], (), str((folder / (r.get("near") or "")).resolve()))
               for r in unanswered]
    groups = {"unanswerable": (missing, lambda app: contextlib.nullcontext())} if missing else {}
    return QASet(name=name, answerable=items, unanswerable=groups,
                 index=lambda app: _index_files(app, [folder]),
                 notes={"questions_file": str(questions),
                        "unanswerable_file": str(unanswerable) if missing else None})


RESERVED_SETS = {"squad", "transfer", "guide", "docs"}


def folder_set(path: Path) -> QASet:
    """Any folder laid out like evals/data/docs: questions.jsonl, optionally
    unanswerable.jsonl, and one subfolder with the documents. It is named after the folder
    (its collection and its reports' names), which must be a valid collection name other
    than a built-in set's. For `--dataset DIR`."""
    from chat.settings import valid_collection_name

    path = path.resolve()
    subfolders = sorted(p.name for p in path.iterdir()
                        if p.is_dir() and not p.name.startswith("."))
    if not (path / "questions.jsonl").is_file() or len(subfolders) != 1:
        raise ValueError(f"{path}: expected questions.jsonl, optionally unanswerable.jsonl, "
                         f"and exactly one folder of documents (found folders: "
                         f"{', '.join(subfolders) or 'none'})")
    name = path.name.replace("-", "_")
    if not valid_collection_name(name) or name in RESERVED_SETS:
        raise ValueError(f"{path}: the folder's name {path.name!r} names the set and its "
                         f"collection; rename the folder (3-63 letters, digits, '.', '_' or "
                         f"'-', not {', '.join(sorted(RESERVED_SETS))})")
    unanswerable = path / "unanswerable.jsonl"
    return docs_set(path / "questions.jsonl", path / subfolders[0],
                    unanswerable if unanswerable.is_file() else None, name=name)


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON object ({exc})") from exc
    return rows
