"""Training pairs for docchat's question-passage model (evals.train_qa): (question, text,
label), label 1 when the text answers the question (or is the document a claim cites).

Varied on purpose: a model trained only on SQuAD's gold sentences learns SQuAD's word
overlap, and that does not transfer. So:
- SQuAD, fit articles only (evals.qa_sets): the answering sentence window (positive), other
  windows of the same paragraph and of the paragraphs retrieval returns for the question
  (negatives: same topic, many shared words, no answer); the answering paragraph and a
  retrieved neighbour (passage level, for reranking);
- SciFact train claims: the cited abstract and the abstracts BM25 returns instead (passage
  level), the evidence sentence window and the abstract's other windows;
- decoys: the question's own words made into a statement, which shares every word and
  answers nothing.
Windows are a sentence with one neighbour on each side, as docchat's evidence prompt shows.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import random
import re
import tokenize
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chat.text import split_sentences
from evals.qa_sets import split_articles
from evals.squad import Squad, load_squad

SCIFACT = Path(__file__).resolve().parents[2] / "shared/data/retrieval/scifact"
_WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are",
       "was", "were", "do", "does", "did", "can", "could", "in", "on", "at", "of"}


@dataclass(frozen=True)
class Pair:
    question: str
    text: str
    label: int
    kind: str  # where it came from, for the provenance counts


def windows(sentences: list[str]) -> list[str]:
    return [" ".join(sentences[max(0, i - 1):i + 2]) for i in range(len(sentences))]


def _bm25(texts: list[str]):
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    index = bm25s.BM25()
    index.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                show_progress=False)
    return lambda query, k: index.retrieve(
        bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False),
        k=min(k, len(texts)), show_progress=False)[0][0].tolist()


def decoy(question: str, rng: random.Random) -> str:
    """The question's own words as a statement: "the warranty of the Zephyr pump lasts"."""
    words = [w for w in question.rstrip("?").split() if w.lower() not in _WH]
    if len(words) > 3 and rng.random() < 0.5:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return (" ".join(words) + ".").capitalize()


def squad_pairs(squad: Squad, rng: random.Random, split: str = "fit") -> Iterator[Pair]:
    fit = split_articles(sorted({p.title for p in squad.paragraphs.values()}))[split]
    paragraphs = list(squad.paragraphs.values())
    search = _bm25([f"{p.title} {p.text}" for p in paragraphs])
    contexts = {}
    for q in squad.questions:
        gold = squad.paragraphs[q.paragraph_id]
        if gold.title not in fit:
            continue
        raw = q.answers
        sentences = split_sentences(gold.text)
        if gold.id not in contexts:
            contexts[gold.id] = windows(sentences)
        wins = contexts[gold.id]
        positive = [i for i, s in enumerate(sentences) if any(a in s for a in raw)]
        if not positive:
            continue
        yield Pair(q.text, wins[positive[0]], 1, "squad-window")
        others = [w for i, w in enumerate(wins)
                  if abs(i - positive[0]) > 1 and not any(a in w for a in raw)]
        for w in rng.sample(others, min(2, len(others))):
            yield Pair(q.text, w, 0, "squad-window-same-paragraph")
        retrieved = [paragraphs[i] for i in search(q.text, 4) if paragraphs[i].id != gold.id]
        retrieved = [p for p in retrieved if not any(a in p.text for a in raw)]
        if retrieved:
            neighbour = retrieved[0]
            yield Pair(q.text, f"{neighbour.title}. {neighbour.text}", 0, "squad-passage-retrieved")
            near = windows(split_sentences(neighbour.text))
            if near:
                yield Pair(q.text, rng.choice(near), 0, "squad-window-retrieved")
        yield Pair(q.text, f"{gold.title}. {gold.text}", 1, "squad-passage")
        if rng.random() < 0.25:
            yield Pair(q.text, decoy(q.text, rng), 0, "decoy")


def _abstract_sentences(value: str) -> list[str]:
    """The CSV's numpy-style list of string literals: "['a' 'b'\\n 'c']"."""
    tokens = tokenize.generate_tokens(io.StringIO(value).readline)
    return [ast.literal_eval(t.string) for t in tokens if t.type == tokenize.STRING]


def scifact_pairs(folder: Path, rng: random.Random) -> Iterator[Pair]:
    corpus = {}
    for line in (folder / "corpus.jsonl").read_text().splitlines():
        doc = json.loads(line)
        corpus[doc["_id"]] = f"{doc['title']}. {doc['text']}"
    queries = {json.loads(line)["_id"]: json.loads(line)["text"]
               for line in (folder / "queries.jsonl").read_text().splitlines()}
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        qid, did, _ = line.split("\t")
        qrels.setdefault(qid, set()).add(did)
    ids = list(corpus)
    search = _bm25([corpus[i] for i in ids])
    for qid, relevant in sorted(qrels.items()):
        claim = queries[qid]
        for did in sorted(relevant):
            yield Pair(claim, corpus[did], 1, "scifact-abstract")
        wrong = [ids[i] for i in search(claim, 6) if ids[i] not in relevant][:3]
        for did in wrong:
            yield Pair(claim, corpus[did], 0, "scifact-abstract-retrieved")
    yield from _scifact_evidence(folder, rng)


def _scifact_evidence(folder: Path, rng: random.Random) -> Iterator[Pair]:
    with zipfile.ZipFile(folder / "source" / "scifact_hf_csv.zip") as archive:
        read = lambda name: list(csv.DictReader(io.TextIOWrapper(archive.open(name), "utf-8")))
        csv.field_size_limit(1 << 30)
        abstracts = {row["doc_id"]: _abstract_sentences(row["abstract"])
                     for row in read("corpus_train.csv")}
        claims = read("claims_train.csv")
    for row in claims:
        if row["evidence_label"] not in ("SUPPORT", "CONTRADICT"):
            continue
        sentences = abstracts.get(row["evidence_doc_id"])
        evidence = [int(i) for i in re.findall(r"\d+", row["evidence_sentences"])]
        if not sentences or not evidence:
            continue
        wins = windows(sentences)
        yield Pair(row["claim"], wins[evidence[0]], 1, "scifact-evidence")
        others = [w for i, w in enumerate(wins) if all(abs(i - e) > 1 for e in evidence)]
        for w in rng.sample(others, min(2, len(others))):
            yield Pair(row["claim"], w, 0, "scifact-evidence-other")


def build_pairs(squad_path: Path, scifact: Path, seed: int, split: str = "fit") -> list[Pair]:
    """The pairs, shuffled. `split`: the SQuAD articles to use ("all" for tiny test data)."""
    rng = random.Random(seed)
    pairs = list(squad_pairs(load_squad(squad_path), rng, split))
    if scifact.is_dir():
        pairs += list(scifact_pairs(scifact, rng))
    rng.shuffle(pairs)
    return pairs
