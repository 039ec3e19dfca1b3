"""SQuAD v1.1 dev as a retrieval benchmark in BEIR format: the 2,067 paragraphs are the corpus,
each question's one relevant document is the paragraph it was written on.

    python -m evals retrieval --dataset squad     (written on first use to build/evals/squad-beir)

Splits follow the article split of evals.qa_sets (seed 2026): `train` samples questions of the
fit + tune articles, `test` of the test articles; the whole corpus is indexed for both. Each
split is a fixed sample (seed 0) so that a run takes minutes, not an hour.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from evals.qa_sets import DEFAULT_SQUAD, split_articles
from evals.squad import load_squad

QUESTIONS_PER_SPLIT = 1000
SAMPLE_SEED = 0
DEFAULT_OUT = Path("build/evals/squad-beir")


def write_squad_beir(squad_path: Path = DEFAULT_SQUAD, out: Path = DEFAULT_OUT,
                     per_split: int = QUESTIONS_PER_SPLIT) -> Path:
    """Write (once) and return the BEIR folder; an existing complete folder is reused."""
    out = Path(out)
    if all((out / name).is_file() for name in ("corpus.jsonl", "queries.jsonl",
                                               "qrels/train.tsv", "qrels/test.tsv")):
        return out
    squad = load_squad(Path(squad_path))
    splits = split_articles(sorted({p.title for p in squad.paragraphs.values()}))
    articles = {"train": splits["fit"] | splits["tune"], "test": splits["test"]}
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for p in squad.paragraphs.values():
            fh.write(json.dumps({"_id": p.id, "title": p.title, "text": p.text}) + "\n")
    queries = {}
    for split, titles in articles.items():
        pool = [q for q in squad.questions if squad.paragraphs[q.paragraph_id].title in titles]
        picked = random.Random(SAMPLE_SEED).sample(pool, min(per_split, len(pool)))
        with open(out / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as fh:
            fh.write("query-id\tcorpus-id\tscore\n")
            for q in picked:
                fh.write(f"{q.id}\t{q.paragraph_id}\t1\n")
                queries[q.id] = q.text
    with open(out / "queries.jsonl", "w", encoding="utf-8") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    return out


def resolve_dataset(name: str | Path) -> Path:
    """`squad` names this benchmark (written on first use); anything else is a BEIR folder."""
    return write_squad_beir() if str(name) == "squad" else Path(name)
