"""docchat's own cross-encoder path: train (evals.train_qa) → int8 ONNX export → load and
score with ONNX Runtime, on a tiny random model the test builds (the real one is tested end
to end)."""

from __future__ import annotations

import pytest

from evals.qa_pairs import Pair, decoy, windows
from evals.train_qa import export, train
from ingest.errors import ModelError
from retriever.rerank import OnnxCrossEncoder, make_reranker
from tests.tiny_models import save_tiny_cross_encoder

PAIRS = [Pair("pump warranty", "the pump warranty lasts seven years", 1, "t"),
         Pair("pump warranty", "reset the router with the red button", 0, "t")] * 8


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = save_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))
    model, tokenizer, stats = train(PAIRS, base=str(base), layers=1, epochs=15, batch=4,
                                    max_length=32, lr=3e-3, seed=1)
    assert stats["steps"] == 60
    folder = tmp_path_factory.mktemp("exported")
    export(model, tokenizer, folder, max_length=32)
    return folder, model, tokenizer


def test_the_exported_model_scores_like_the_trained_one(exported):
    import torch

    folder, model, tokenizer = exported
    passages = ["reset the router with the red button", "the pump warranty lasts seven years",
                "hello"]
    onnx = OnnxCrossEncoder(folder, batch_size=2).scores("pump warranty", passages)
    with torch.no_grad():
        inputs = tokenizer(["pump warranty"] * 3, passages, padding=True, return_tensors="pt")
        torch_scores = model(**inputs)[:, 0].tolist()
    assert len(onnx) == 3
    assert len(onnx) == len(torch_scores) == 3
    assert max(abs(a - b) for a, b in zip(onnx, torch_scores)) < 0.1, "int8: close to fp32"
    assert onnx[1] - onnx[0] > 0.3 and torch_scores[1] - torch_scores[0] > 0.3, \
        "learned: the warranty passage answers the warranty question, the router one not"


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="retrieval.reranker"):
        OnnxCrossEncoder(tmp_path / "nothing").scores("q", ["p"])


def test_a_trained_folder_loads_as_onnx(exported):
    folder, _, _ = exported
    reranker = make_reranker(str(folder))
    assert isinstance(reranker, OnnxCrossEncoder) and reranker.folder == folder


def test_training_pairs_helpers():
    import random

    assert windows(["A.", "B.", "C."]) == ["A. B.", "A. B. C.", "B. C."]
    made = decoy("How long does the Zephyr pump warranty last?", random.Random(0))
    assert made.endswith(".") and "zephyr" in made.lower() and "how" not in made.lower()


def test_training_pairs_from_squad_and_scifact(tmp_path):
    """evals.qa_pairs on a tiny SQuAD file and a tiny SciFact folder in their real formats."""
    import csv
    import io
    import json
    import zipfile
    from collections import Counter

    from evals.qa_pairs import build_pairs

    squad = {"data": [{"title": "Pump", "paragraphs": [
        {"context": "The pump is blue. The warranty lasts seven years. Keep the receipt. "
                    "It hums at night. Oil it yearly.",
         "qas": [{"id": "q1", "question": "How long is the warranty?",
                  "answers": [{"text": "seven years", "answer_start": 36}]}]},
        {"context": "The router is red. Reset it with the button. It has six bands.",
         "qas": [{"id": "q2", "question": "How many bands does the router have?",
                  "answers": [{"text": "six", "answer_start": 48}]}]}]}]}
    (tmp_path / "squad.json").write_text(json.dumps(squad))
    sci = tmp_path / "scifact"
    (sci / "qrels").mkdir(parents=True)
    (sci / "source").mkdir()
    docs = {"d1": ("Pumps", "Blue pumps last long. Pumps hum."),
            "d2": ("Routers", "Routers have bands. Red routers reset."),
            "d3": ("Oil", "Oil keeps pumps quiet. Oil yearly.")}
    (sci / "corpus.jsonl").write_text("\n".join(
        json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in docs.items()))
    (sci / "queries.jsonl").write_text(json.dumps({"_id": "c1", "text": "Pumps hum."}))
    (sci / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nc1\td1\t1\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["doc_id", "title", "abstract", "structured"])
        writer.writerow(["d1", "Pumps", "['Blue pumps last long.'\n 'Pumps hum.' 'Pumps rest.']",
                         "False"])
        archive.writestr("corpus_train.csv", rows.getvalue())
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["id", "claim", "evidence_doc_id", "evidence_label",
                         "evidence_sentences", "cited_doc_ids"])
        writer.writerow(["c1", "Pumps hum.", "d1", "SUPPORT", "[1]", "[d1]"])
        archive.writestr("claims_train.csv", rows.getvalue())
    (sci / "source" / "scifact_hf_csv.zip").write_bytes(buffer.getvalue())

    pairs = build_pairs(tmp_path / "squad.json", sci, seed=1, split="all")
    kinds = Counter(p.kind for p in pairs)
    assert kinds["squad-window"] == 2 and kinds["squad-passage"] == 2
    assert kinds["scifact-abstract"] == 1 and kinds["scifact-abstract-retrieved"] >= 1
    assert kinds["scifact-evidence"] == 1
    window = next(p for p in pairs if p.kind == "squad-window" and "warranty" in p.question)
    assert "seven years" in window.text and window.label == 1
    evidence = next(p for p in pairs if p.kind == "scifact-evidence")
    assert evidence.text == "Blue pumps last long. Pumps hum. Pumps rest."
    assert all(p.label == 0 for p in pairs if p.kind.endswith(("retrieved", "other", "decoy")))
