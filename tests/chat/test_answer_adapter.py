"""The answer adapter path: train a LoRA adapter (evals.train_answerer) → save → the
transformers generator merges it at load (once, cached), on a tiny random model the test
builds."""

from __future__ import annotations

import pytest

from chat.generators.hf import TransformersGenerator
from chat.settings import load_settings
from evals.squad import Question
from evals.train_answerer import Example, answer_target, encode, excerpts, save, train
from ingest.errors import ConfigError
from tests.tiny_models import save_tiny_llama

# The tiny model knows only these words (tests/tiny_models.VOCAB).
ASK = [{"role": "user", "content": "pump warranty"}]
EXAMPLES = [Example(ASK, "seven years", "answer"),
            Example([{"role": "user", "content": "router reset"}], "red button", "answer")] * 4


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
    model, stats = train(EXAMPLES, str(base), rank=4, lr=3e-2, batch=4, epochs=20, seed=1)
    assert stats["steps"] == 40
    adapter = tmp_path_factory.mktemp("adapter")
    assert save(model, adapter) > 0
    return base, adapter


def answer(generator: TransformersGenerator, messages) -> str:
    return "".join(generator.stream(messages, max_new_tokens=3, temperature=0.0)).strip()


def test_the_merged_adapter_answers_as_trained_and_the_base_model_does_not(trained, tmp_path):
    base, adapter = trained
    tuned = TransformersGenerator(str(base), cache_dir=tmp_path, adapter=adapter)
    plain = TransformersGenerator(str(base), cache_dir=tmp_path)
    assert answer(tuned, ASK).startswith("seven years")
    assert answer(tuned, [{"role": "user", "content": "router reset"}]).startswith("red button")
    assert not answer(plain, ASK).startswith("seven years")
    merged = [p for p in (tmp_path / "models").iterdir() if "+" in p.name]
    assert len(merged) == 1, "merged once and kept in the cache"
    again = TransformersGenerator(str(base), cache_dir=tmp_path, adapter=adapter)
    assert again.model_dir() == str(base) and answer(again, ASK).startswith("seven years")


def test_only_the_answer_tokens_are_learned(trained):
    from transformers import AutoTokenizer

    base, _ = trained
    tokenizer = AutoTokenizer.from_pretrained(base)
    ids, labels = encode(tokenizer, EXAMPLES[0])
    learned = [i for i, label in zip(ids, labels) if label != -100]
    assert len(ids) == len(labels) and labels[0] == -100
    assert tokenizer.decode(learned).split() == ["seven", "years"]


def test_the_target_is_the_gold_span_with_the_excerpt_that_holds_it():
    user = ("Excerpts:\n\n[1] pumps.md — Warranty\nThe pump comes with a warranty.\n\n"
            "[3] pumps.md — Terms\nIt lasts seven years from purchase.\n\nQuestion: How long?")
    blocks = excerpts(type("P", (), {"messages": [{"role": "user", "content": user}]})())
    assert blocks == [(1, "The pump comes with a warranty."),
                      (3, "It lasts seven years from purchase.")]
    question = Question("q", "How long?", "p", ("seven years", "seven years from purchase"))
    assert answer_target(question, blocks) == "Seven years [3]."
    assert answer_target(Question("q", "?", "p", ("ten years",)), blocks) is None


def test_the_sentence_target_is_the_excerpt_sentence_that_holds_the_span():
    blocks = [(2, "The pump is blue. It lasts seven years from purchase. Ask the shop.")]
    question = Question("q", "How long?", "p", ("seven years",))
    assert answer_target(question, blocks, "sentence") == \
        "It lasts seven years from purchase [2]."
    assert answer_target(question, blocks, "span") == "Seven years [2]."


def test_a_missing_or_misplaced_adapter_fails_at_start(tmp_path, trained):
    _, adapter = trained
    with pytest.raises(ConfigError, match="no LoRA adapter"):
        load_settings(data_dir=tmp_path, generator={"adapter": str(tmp_path / "nothing"),
                                                    "backend": "transformers"})
    with pytest.raises(ConfigError, match='backend "transformers" only'):
        load_settings(data_dir=tmp_path, generator={"adapter": str(adapter)})
    assert load_settings(data_dir=tmp_path, generator={
        "adapter": str(adapter), "backend": "transformers"}).generator.adapter == str(adapter)
    assert load_settings(data_dir=tmp_path).generator.adapter is None


def test_the_configured_adapter_reaches_the_generator(tmp_path, trained):
    from chat.generators.factory import make_generator

    _, adapter = trained
    settings = load_settings(data_dir=tmp_path, generator={"adapter": str(adapter),
                                                           "backend": "transformers"})
    assert make_generator(settings.generator, tmp_path).adapter == adapter
    plain = load_settings(data_dir=tmp_path, generator={"backend": "transformers"})
    assert make_generator(plain.generator, tmp_path).adapter is None


def test_training_examples_are_docchat_prompts_with_the_span_or_an_abstention():
    from types import SimpleNamespace

    from langchain_core.documents import Document

    from chat.config import GeneratorConfig
    from chat.evidence import EvidenceScorer
    from chat.pipeline import ChatPipeline
    from evals.squad import Paragraph, Squad
    from evals.train_answerer import ABSTAIN, build_examples
    from retriever.types import RetrievedChunk
    from tests.fakes import FakeEmbeddings, FakeGenerator

    texts = {"A#0": "The pump warranty lasts seven years from purchase.",
             "A#1": "Hold the red button to reset the router."}
    squad = Squad({pid: Paragraph(pid, "A", text) for pid, text in texts.items()},
                  [Question("q1", "How long does the pump warranty last?", "A#0",
                            ("seven years",)),
                   Question("q2", "Which button resets the router?", "A#1", ("red button",))])
    chunks = [RetrievedChunk(Document(page_content=text, metadata={
        "chunk_id": pid, "source": pid, "file_name": pid, "section": "A"}), 1.0)
        for pid, text in texts.items()]
    retriever = SimpleNamespace(retrieve=lambda question, k: chunks[:k])
    pipeline = ChatPipeline(retriever, FakeGenerator(), GeneratorConfig(),
                            scorer=EvidenceScorer(FakeEmbeddings().embed_documents))
    app = SimpleNamespace(retriever=retriever, pipeline=pipeline)

    answers, counts = build_examples(app, squad, 2, 0, seed=0, split="all")
    assert counts["answer"] == 2
    assert sorted(e.target for e in answers) == ["Red button [2].", "Seven years [1]."]
    assert all(e.messages[-1]["content"].endswith(f"Question: {q.text}")
               for e, q in zip(sorted(answers, key=lambda e: e.target), squad.questions[::-1]))

    abstains, counts = build_examples(app, squad, 0, 2, seed=0, split="all")
    assert counts["abstain"] == 2 and {e.target for e in abstains} == {ABSTAIN}
    for example in abstains:  # the answering paragraph is not among the excerpts
        user = example.messages[-1]["content"]
        asked = next(q for q in squad.questions if user.endswith(q.text))
        assert texts[asked.paragraph_id] not in user and asked.answers[0] not in user
