"""The retrieval benchmark end to end on a tiny BEIR-format dataset the test writes, with the
real embedder and a tiny cross-encoder for the hybrid+rerank row."""

from __future__ import annotations

import json

import pytest

from evals.__main__ import BENCHMARKS
from evals.retrieval import main as retrieval_main
from tests.tiny_models import save_tiny_cross_encoder

DOCS = {
    "d1": ("Zephyr pump", "The Zephyr pump warranty lasts seven years."),
    "d2": ("Kestrel router", "Hold the red button for twelve seconds to reset the router."),
    "d3": ("Orchids", "Water orchids once a week with rainwater."),
    "d4": ("Sourdough", "Feed the starter flour and water every day."),
}
QUERIES = {"q1": ("how long is the pump warranty", "d1"),
           "q2": ("reset the router", "d2"),
           "q3": ("watering orchids", "d3")}


def write_beir(folder):
    folder.mkdir()
    (folder / "qrels").mkdir()
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in DOCS.items()))
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": q, "text": t}) + "\n" for q, (t, _) in QUERIES.items()))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, (_, d) in QUERIES.items()))


def test_retrieval_benchmark_writes_metrics_for_every_method(tmp_path, capsys):
    assert set(BENCHMARKS) >= {"retrieval", "latency", "speed", "tune-fusion"}
    dataset = tmp_path / "tiny"
    write_beir(dataset)
    reranker = save_tiny_cross_encoder(tmp_path / "ce")
    out = tmp_path / "out"
    retrieval_main(["--dataset", str(dataset), "--data-dir", str(tmp_path / "index"),
                    "--out", str(out), "--reranker", str(reranker)])
    result = json.loads((out / "tiny-test.json").read_text())
    assert set(result["methods"]) == {"dense", "bm25", "hybrid", "hybrid+rerank",
                                      "naive bm25", "naive dense", "naive hybrid"}
    for metrics in result["methods"].values():
        assert set(metrics) >= {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
        assert all(0.0 <= metrics[m] <= 1.0 for m in ("ndcg@10", "recall@10", "mrr@10"))
    assert result["methods"]["hybrid"]["ndcg@10"] == 1.0, "each query names its document"
    assert result["methods"]["hybrid"]["recall@100"] == 1.0
    assert result["ingest"]["documents"] == 4
    assert 0.0 < result["ann_vs_exact"]["recall@10"] <= 1.0
    assert result["latency"]["queries"] == 3
    assert (out / "tiny-test.md").read_text().startswith("# Retrieval")
    assert (out / "tiny-test.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "| hybrid+rerank |" in printed and "| naive hybrid |" in printed
    assert "nDCG@10 against the naive baseline" in printed


SQUAD = {"data": [
    {"title": "Zephyr_pump", "paragraphs": [
        {"context": "The Zephyr pump warranty lasts seven years from the date of purchase.",
         "qas": [{"id": "z1", "question": "How long does the Zephyr pump warranty last?",
                  "answers": [{"text": "seven years", "answer_start": 32}]}]},
        {"context": "The Zephyr pump weighs four kilograms and runs on mains power.",
         "qas": [{"id": "z2", "question": "How much does the Zephyr pump weigh?",
                  "answers": [{"text": "four kilograms", "answer_start": 24}]}]}]},
    {"title": "Kestrel_router", "paragraphs": [
        {"context": "To reset the Kestrel router, hold the red button for twelve seconds.",
         "qas": [{"id": "k1", "question": "Which button resets the Kestrel router?",
                  "answers": [{"text": "the red button", "answer_start": 34}]}]},
        {"context": "The Kestrel router supports six wireless bands in every country.",
         "qas": [{"id": "k2", "question": "How many wireless bands does the Kestrel support?",
                  "answers": [{"text": "six", "answer_start": 28}]}]}]},
]}


def test_answers_benchmark_reports_every_metric(docchat, tmp_path, monkeypatch):
    from evals.answers import main as answers_main

    monkeypatch.setenv("DOCCHAT_CACHE_DIR", str(docchat.settings.cache_dir))  # converted model
    dataset = tmp_path / "squad.json"
    dataset.write_text(json.dumps(SQUAD))
    common = ["--dataset", str(dataset), "--split", "all", "--data-dir", str(tmp_path / "index"),
              "--out", str(tmp_path / "out"), "--questions", "2", "--unanswerable", "2"]
    answers_main(common + ["--max-new-tokens", "16"])
    result = json.loads((tmp_path / "out" / "squad-all-seed0.json").read_text())
    assert result["retrieval"]["hit@1"] == 1.0, "each question names its paragraph"
    assert result["ingest"]["documents"] == 4
    a = result["answerable"]
    assert a["questions"] == 2 and sum(a["outcomes"].values()) == pytest.approx(1.0)
    for key in ("shown_contains_1_2", "containment_shown", "f1_shown", "containment_own",
                "f1_own", "quotes", "containment_own_shown"):
        assert 0.0 <= a[key] <= 1.0, key
    assert a["containment_own_shown"] <= a["containment_own"], "shown is a part of own"
    for group in ("neighbour_only", "withheld"):
        assert result["unanswerable"][group]["questions"] >= 1
        assert 0.0 <= result["unanswerable"][group]["no_unmarked_answer"] <= 1.0
    assert (tmp_path / "out" / "squad-all-seed0.png").stat().st_size > 1000

    answers_main(common + ["--calibrate"])
    calibration = json.loads(
        (tmp_path / "out" / "squad-all-seed0-calibration.json").read_text())["calibration"]
    for name in ("answer_above", "nothing_below", "support_threshold"):
        assert 0.0 <= calibration[name]["threshold"] <= 1.0
    assert len(calibration["evidence_scores"]["answerable"]) == 2


def test_tune_retrieval_chooses_each_component_on_train_splits_only(tmp_path):
    from evals.tune_retrieval import main as tune_main

    folders = []
    for name, docs in (("one", DOCS), ("two", {f"x{i}": (t, x.replace("the", "a"))
                                               for i, (t, x) in enumerate(DOCS.values())})):
        folder = tmp_path / name
        write_beir(folder)
        ids = list(docs)
        (folder / "corpus.jsonl").write_text("".join(
            json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items()))
        (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
            f"{q}\t{ids[int(d[1]) - 1]}\t1\n" for q, (_, d) in QUERIES.items()))
        (folder / "qrels" / "train.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + f"q1\t{ids[0]}\t1\nq2\t{ids[1]}\t1\n")
        folders.append(str(folder))
    out = tmp_path / "out"
    tune_main(["--collections", *folders, "--data-dir", str(tmp_path / "index"),
               "--cache-dir", str(tmp_path / "cache"), "--out", str(out)])
    result = json.loads((out / "tune-retrieval.json").read_text())
    stages = result["components"]
    assert set(stages) == {"bm25", "bm25 stemming", "bm25 feedback", "dense", "fusion"}
    for picks in stages.values():
        assert set(picks) == {f"chosen on {folders[0]}", f"chosen on {folders[1]}",
                              "default (best worst case)"}
        for pick in picks.values():
            for name in folders:
                assert 0.0 <= pick[name]["test"] <= 1.0
    # the tables hold train and test for every setting: choices read only "train"
    table = result["tables"]["fusion"]
    assert all(set(row[name]) == {"train", "test"} for row in table.values() for name in folders)
    assert result["naive"][folders[0]]["test"]["hybrid"]["ndcg@10"] > 0
    assert "| default (best worst case) |" in (out / "tune-retrieval.md").read_text()


def test_threads_benchmark_measures_each_thread_count(docchat, monkeypatch):
    from evals.threads import measure

    monkeypatch.setenv("DOCCHAT_CACHE_DIR", str(docchat.settings.cache_dir))
    result = measure("smollm2-135m", threads=1, busy=1, count=1, max_new_tokens=8)
    assert (result["threads"], result["busy"]) == (1, 1)
    assert 0 < result["first_token_s_p50"] < 120 and result["tokens_per_s_p50"] > 0


def test_prompt_cache_benchmark_reads_a_cached_prompt_sooner(docchat, monkeypatch):
    from evals.prompt_cache import measure

    monkeypatch.setenv("DOCCHAT_CACHE_DIR", str(docchat.settings.cache_dir))
    result = measure("smollm2-135m", cache_mib=64, count=3)
    assert result["cache_mib"] == 64 and result["rss_after_mb"] > 0
    assert result["again_s"] < 0.5 * result["new_s"], "a prompt asked before comes from the cache"
