"""SQuAD v1.1: loading, a fixed-seed question sample, and the official answer metrics.

The normalisation and the EM/F1 definitions follow the official SQuAD v1.1 evaluation script.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paragraph:
    id: str  # "<article title>#<index>", stored as the chunk source
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    paragraph_id: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Squad:
    paragraphs: dict[str, Paragraph]
    questions: list[Question]


def load_squad(path: Path) -> Squad:
    if path.is_dir():
        path = path / "dev-v1.1.json"
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs: dict[str, Paragraph] = {}
    questions: list[Question] = []
    for article in data:
        title = article["title"].replace("_", " ")
        for index, para in enumerate(article["paragraphs"]):
            pid = f"{article['title']}#{index}"
            paragraphs[pid] = Paragraph(pid, title, para["context"])
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(Question(qa["id"], qa["question"].strip(), pid, answers))
    return Squad(paragraphs, questions)


def sample(questions: list[Question], n: int, seed: int,
           exclude: set[str] = frozenset()) -> list[Question]:
    pool = [q for q in questions if q.id not in exclude]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, articles and extra whitespace (official SQuAD)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: tuple[str, ...]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def f1(prediction: str, golds: tuple[str, ...]) -> float:
    def one(gold: str) -> float:
        pred_tokens = normalize_answer(prediction).split()
        gold_tokens = normalize_answer(gold).split()
        common = Counter(pred_tokens) & Counter(gold_tokens)
        same = sum(common.values())
        if same == 0:
            return 0.0
        precision, recall = same / len(pred_tokens), same / len(gold_tokens)
        return 2 * precision * recall / (precision + recall)

    return max((one(g) for g in golds), default=0.0)


def contains_answer(text: str, golds: tuple[str, ...]) -> bool:
    """A gold answer appears in `text` (both normalised, on word boundaries)."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {normalize_answer(g)} " in haystack for g in golds if normalize_answer(g))
