"""Embedding backends: choosing one, where exports are cached, and the ONNX path end to end on a
tiny random BERT that the test builds (no real weights)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import ingest.embedder as embedder_module
from ingest.embedder import SentenceTransformerEmbeddings, default_cache_dir, export_dir
from ingest.errors import ModelError
from tests.tiny_models import save_tiny_sentence_transformer

TEXTS = ["the pump warranty lasts seven years", "red button reset", "hello", "the router"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return save_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-st"))


def fake_model(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"0" * 16)
    return path


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(ModelError, match=r"'torch', 'onnx', 'onnx-int8'.*ingest\.embed_backend"):
        SentenceTransformerEmbeddings(backend="tensorrt")


def test_onnx_backends_refuse_a_gpu_device():
    with pytest.raises(ModelError, match='ingest.embed_backend = "torch"'):
        SentenceTransformerEmbeddings(backend="onnx", device="cuda")


def test_the_export_folder_is_stable_and_keyed_on_model_backend_and_files(tmp_path):
    model = fake_model(tmp_path / "model")
    cache = tmp_path / "cache"
    first = export_dir(str(model), "onnx", cache)
    assert first == export_dir(str(model), "onnx", cache), "same model, same folder"
    assert first.parent == cache and first.name.startswith("model-onnx-")
    assert export_dir(str(model), "onnx-int8", cache) != first
    assert export_dir(str(tmp_path / "model" / ".." / "model"), "onnx", cache) == first
    (model / "model.safetensors").write_bytes(b"1" * 17)
    assert export_dir(str(model), "onnx", cache) != first, "changed weights: export again"


def test_the_default_cache_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "docchat" / "embedders"
    model = fake_model(tmp_path / "m")
    emb = SentenceTransformerEmbeddings(str(model), backend="onnx-int8")
    assert emb.onnx_file.parent.parent == tmp_path / "docchat" / "embedders"
    assert SentenceTransformerEmbeddings(str(model)).onnx_file is None


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_match_torch_and_export_into_the_cache_once(tiny_dir, tmp_path, backend):
    cache = tmp_path / "cache"
    before = sorted(p.name for p in tiny_dir.rglob("*"))
    torch_vectors = SentenceTransformerEmbeddings(str(tiny_dir)).encode(TEXTS)
    emb = SentenceTransformerEmbeddings(str(tiny_dir), backend=backend, cache_dir=cache, threads=1)
    vectors = emb.encode(TEXTS)
    assert vectors.shape == torch_vectors.shape
    cosines = np.sum(vectors * torch_vectors, axis=1)
    assert cosines.min() > (0.9999 if backend == "onnx" else 0.95)
    assert emb.onnx_file.is_file() and emb.onnx_file.is_relative_to(cache)
    assert sorted(p.name for p in tiny_dir.rglob("*")) == before, "nothing written to the model"
    assert emb.max_tokens == 32 and emb.count_tokens("the pump warranty") == 3
    assert len(emb.embed_query("hello")) == 16

    stamp = os.stat(emb.onnx_file).st_mtime_ns
    again = SentenceTransformerEmbeddings(str(tiny_dir), backend=backend, cache_dir=cache)
    assert np.allclose(again.encode(TEXTS), vectors, atol=1e-6)
    assert os.stat(emb.onnx_file).st_mtime_ns == stamp, "loaded from the cache, not exported"


def test_a_missing_onnxruntime_says_how_to_fix_it(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    emb = SentenceTransformerEmbeddings(str(tiny_dir), backend="onnx", cache_dir=tmp_path)
    with pytest.raises(ModelError, match=r"pip install onnxruntime.*embed_backend = \"torch\""):
        emb.model


def test_a_failed_export_says_how_to_fix_it_and_leaves_no_debris(tiny_dir, tmp_path,
                                                                  monkeypatch):
    def broken(model, file):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(embedder_module, "_export_transformer", broken)
    emb = SentenceTransformerEmbeddings(str(tiny_dir), backend="onnx", cache_dir=tmp_path)
    with pytest.raises(ModelError, match=r"unsupported operator.*embed_backend = \"torch\""):
        emb.model
    assert list(tmp_path.iterdir()) == [], "no half-written export"
