"""Other models by configuration: any transformers directory as the generator, any
sentence-transformers directory as the embedder, any cross-encoder as the reranker. No such
weights exist offline here, so the tests build tiny randomly initialised models and save them,
as a user's model directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.generators.hf import TransformersGenerator
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.errors import ModelError
from retriever.rerank import CrossEncoderReranker
from tests.tiny_models import (
    save_tiny_cross_encoder,
    save_tiny_llama,
    save_tiny_sentence_transformer,
)

@pytest.fixture(scope="module")
def tiny_llama_dir(tmp_path_factory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def tiny_embedder_dir(tmp_path_factory) -> Path:
    return save_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def tiny_cross_encoder_dir(tmp_path_factory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


def test_a_transformers_model_directory_works_as_the_generator(tiny_llama_dir, tmp_path):
    gen = TransformersGenerator(str(tiny_llama_dir), cache_dir=tmp_path)
    messages = [{"role": "user", "content": "the pump warranty"}]
    pieces = list(gen.stream(messages, max_new_tokens=5, temperature=0.0))
    assert pieces, "a random model still produces tokens"
    again = list(gen.stream(messages, max_new_tokens=5, temperature=0.0))
    assert again == pieces, "temperature 0 is repeatable"
    assert gen.count_tokens("the pump warranty") == 3
    assert not (tmp_path / "models").exists(), "only GGUF files are converted"


def test_closing_the_stream_stops_generation(tiny_llama_dir, tmp_path):
    gen = TransformersGenerator(str(tiny_llama_dir), cache_dir=tmp_path)
    stream = gen.stream([{"role": "user", "content": "hello"}], max_new_tokens=2000,
                        temperature=0.0)
    next(stream)
    stream.close()  # joins the generation thread: returns only once generation stopped


def test_a_sentence_transformers_directory_works_as_the_embedder(tiny_embedder_dir):
    emb = SentenceTransformerEmbeddings(str(tiny_embedder_dir))
    vectors = emb.embed_documents(["the pump warranty", "red button reset"])
    assert len(vectors) == 2 and len(vectors[0]) == 16
    assert abs(sum(v * v for v in vectors[0]) - 1.0) < 1e-4, "normalised"
    assert emb.max_tokens == 32
    assert emb.count_tokens("the pump warranty") == 3


def test_a_cross_encoder_directory_works_as_the_reranker(tiny_cross_encoder_dir):
    reranker = CrossEncoderReranker(str(tiny_cross_encoder_dir))
    scores = reranker.scores("pump warranty", ["the pump warranty lasts", "red button reset"])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    assert reranker.scores("pump warranty", ["the pump warranty lasts", "red button reset"]) \
        == scores, "deterministic"
    assert reranker.scores("q", []) == []


def test_an_unreachable_hub_id_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=0"):
        SentenceTransformerEmbeddings("someone/not-downloaded-model").model
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=0"):
        TransformersGenerator("someone/not-downloaded-llm", cache_dir=tmp_path).load()
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=0"):
        CrossEncoderReranker("someone/not-downloaded-reranker").model
