"""The ONNX Runtime backend on a tiny random Llama the test saves: exported once, the same
tokens as the transformers backend, the shared prompt prefix reused, stop tokens, closing,
and a failed export reported."""

from __future__ import annotations

import numpy as np
import pytest

import chat.generators.onnx as onnx_backend
import chat.generators.prefix_cache as prefix_cache
from chat.generators.hf import TransformersGenerator
from chat.generators.onnx import OnnxGenerator, _pick
from ingest.errors import ModelError
from tests.tiny_models import save_tiny_llama

SYSTEM = {"role": "system", "content": " ".join(["the pump warranty lasts seven years"] * 4)}
ASKS = [[SYSTEM, {"role": "user", "content": text}]
        for text in ("the red button", "reset the router a pump", "hello")]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    # two layers, grouped keys/values and large weights: the next token depends on the
    # earlier ones, so a wrong cache or position shows in the output
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, hidden_size=32,
                           intermediate_size=64, initializer_range=0.5)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def exported(llama_dir, cache_dir):
    gen = OnnxGenerator(str(llama_dir), cache_dir=cache_dir)
    gen.load()
    return gen


def tokens(gen, messages, n=12):
    return list(gen.stream(messages, max_new_tokens=n, temperature=0.0))


def test_greedy_answers_are_the_transformers_backends(exported, llama_dir, tmp_path):
    torch_gen = TransformersGenerator(str(llama_dir), cache_dir=tmp_path)
    for messages in ASKS + [[{"role": "user", "content": "hello the pump"}]]:
        expected = tokens(torch_gen, messages)
        assert len("".join(expected).split()) >= 4, "the model writes several words"
        assert tokens(exported, messages) == expected


def test_the_model_is_exported_once_per_model(exported, llama_dir, cache_dir, monkeypatch):
    assert exported.exported().is_file()
    assert len(list((cache_dir / "models").iterdir())) == 1, "no staging folder left behind"

    def fail(*_):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_backend, "_export", fail)
    again = OnnxGenerator(str(llama_dir), cache_dir=cache_dir)
    assert tokens(again, ASKS[0]) == tokens(exported, ASKS[0])


def test_changed_model_files_are_exported_again(llama_dir, tmp_path):
    import shutil

    copy = shutil.copytree(llama_dir, tmp_path / "model")
    gen = OnnxGenerator(str(copy), cache_dir=tmp_path / "cache")
    before = gen.exported()
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")
    assert gen.exported() != before and gen.exported().is_file()


def test_the_shared_prompt_prefix_is_computed_once_and_changes_nothing(exported, llama_dir,
                                                                        cache_dir, monkeypatch):
    fresh = OnnxGenerator(str(llama_dir), cache_dir=cache_dir)
    cached = [tokens(fresh, m) for m in ASKS]
    assert len(fresh._prefix_cache._entries) == 1, "one shared prefix, computed once"
    monkeypatch.setattr(prefix_cache, "MIN_PREFIX", 10_000)  # off: read the whole prompt
    plain = OnnxGenerator(str(llama_dir), cache_dir=cache_dir)
    assert [tokens(plain, m) for m in ASKS] == cached
    assert not plain._prefix_cache._entries


def test_generation_ends_at_a_stop_token(exported, monkeypatch):
    picks = iter([7, 8, 6, 9, 10])  # 6 is the tiny model's end-of-sequence token
    monkeypatch.setattr(onnx_backend, "_pick", lambda *_: next(picks))
    assert "".join(tokens(exported, ASKS[2], n=50)).split() == ["the", "a"]


def test_closing_the_stream_stops_generation(exported, monkeypatch):
    calls = []
    forward = exported._forward
    monkeypatch.setattr(exported, "_forward", lambda *a: calls.append(1) or forward(*a))
    stream = exported.stream(ASKS[2], max_new_tokens=2000, temperature=0.0)
    next(stream)
    stream.close()
    assert len(calls) <= 2


def test_a_model_that_cannot_be_exported_is_a_clear_error(llama_dir, tmp_path, monkeypatch):
    def broken(model, path):
        path.write_bytes(b"half")
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_backend, "_trace", broken)
    gen = OnnxGenerator(str(llama_dir), cache_dir=tmp_path)
    with pytest.raises(ModelError, match='unsupported operator.*backend = "transformers"'):
        gen.load()
    assert list((tmp_path / "models").iterdir()) == [], "no half-written export is kept"


def test_sampling_follows_the_temperature():
    rng = np.random.default_rng(0)
    logits = np.array([0.0, 2.0, 1.0])
    assert _pick(logits, 0.0, rng) == 1
    picks = [_pick(logits, 1.0, rng) for _ in range(2000)]
    shares = np.bincount(picks, minlength=3) / len(picks)
    expected = np.exp(logits) / np.exp(logits).sum()
    assert np.allclose(shares, expected, atol=0.04)
    cold = [_pick(logits, 0.05, rng) for _ in range(200)]
    assert set(cold) == {1}


def test_a_cache_directory_that_cannot_be_written_is_a_clear_error(llama_dir, tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be")
    with pytest.raises(ModelError, match="Set cache_dir to a writable folder"):
        OnnxGenerator(str(llama_dir), cache_dir=blocked).load()
