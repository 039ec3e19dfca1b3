"""The retrieval benchmarks' pure parts: SQuAD written as a BEIR dataset, the choice of a
setting across collections, and chunk rankings read as document rankings."""

from __future__ import annotations

import json

from evals.beir import load_beir
from evals.squad_retrieval import write_squad_beir
from evals.tune_retrieval import choose, to_docs


def _squad(articles: int) -> dict:
    return {"data": [
        {"title": f"Article_{a}", "paragraphs": [
            {"context": f"Paragraph {p} of article {a}.",
             "qas": [{"id": f"q{a}-{p}-{i}", "question": f"Question {i} on {a}/{p}?",
                      "answers": [{"text": "x", "answer_start": 0}]} for i in range(2)]}
            for p in range(3)]}
        for a in range(40)[:articles]]}


def test_squad_becomes_beir_with_train_and_test_articles_apart(tmp_path):
    source = tmp_path / "dev-v1.1.json"
    source.write_text(json.dumps(_squad(40)))
    out = write_squad_beir(source, tmp_path / "beir", per_split=30)
    train, test = load_beir(out, "train"), load_beir(out, "test")
    assert len(train.corpus) == 40 * 3, "every paragraph is a document of both splits"
    assert len(train.queries) == len(test.queries) == 30
    article = lambda doc: doc.split("#")[0]
    train_articles = {article(d) for r in train.qrels.values() for d in r}
    test_articles = {article(d) for r in test.qrels.values() for d in r}
    assert not train_articles & test_articles, "no article gives questions to both splits"
    for qid, rel in test.qrels.items():  # a question's one relevant doc is its own paragraph
        (doc,) = rel
        a, p, _ = qid[1:].split("-")
        assert doc == f"Article_{a}#{p}"
    # written once: a second call reuses the folder even if the source is gone
    source.unlink()
    assert write_squad_beir(source, tmp_path / "beir", per_split=30) == out


def test_the_default_is_the_best_worst_case_and_picks_are_reported_on_the_other():
    naive = {"A": {"train": 0.50, "test": 0.50}, "B": {"train": 0.30, "test": 0.30}}
    table = {
        "wins A only": {"A": {"train": 0.60, "test": 0.58}, "B": {"train": 0.25, "test": 0.26}},
        "wins B only": {"A": {"train": 0.45, "test": 0.46}, "B": {"train": 0.40, "test": 0.39}},
        "good on both": {"A": {"train": 0.55, "test": 0.54}, "B": {"train": 0.35, "test": 0.36}},
    }
    picks = choose(table, naive)
    assert picks["chosen on A"]["setting"] == "wins A only"
    assert picks["chosen on A"]["B"]["test gain"] == -0.04, "reported on the other collection"
    assert picks["chosen on B"]["setting"] == "wins B only"
    default = picks["default (best worst case)"]
    assert default["setting"] == "good on both"
    assert default["A"]["test"] == 0.54 and default["B"]["test gain"] == 0.06


def test_documents_are_ranked_by_their_best_chunk():
    source_of = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    docs = to_docs([("a2", 9.0), ("b1", 5.0), ("a1", 4.0), ("c1", 1.0)], source_of)
    assert sorted(docs, key=lambda d: -docs[d]) == ["A", "B", "C"]


def test_a_tie_in_the_worst_case_goes_to_the_better_mean():
    naive = {"A": {"train": 0.5, "test": 0.5}, "B": {"train": 0.5, "test": 0.5}}
    table = {"worse mean": {"A": {"train": 0.51, "test": 0.5}, "B": {"train": 0.51, "test": 0.5}},
             "better mean": {"A": {"train": 0.51, "test": 0.5}, "B": {"train": 0.53, "test": 0.5}}}
    assert choose(table, naive)["default (best worst case)"]["setting"] == "better mean"
