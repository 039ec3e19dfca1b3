from pathlib import Path

import pytest

from chat.settings import load_settings
from ingest.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("DOCCHAT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray ./docchat.toml


def test_defaults_are_offline_ready():
    s = load_settings()
    assert s.collection == "default"
    assert s.ingest.embedding_model == "bundled" and s.generator.model == "bundled"
    assert s.server.host == "127.0.0.1" and s.server.port == 7860
    assert s.chroma_dir == s.data_dir / "chroma"


def test_precedence_file_then_environment_then_flags(tmp_path, monkeypatch):
    cfg = tmp_path / "docchat.toml"
    cfg.write_text('collection = "fromfile"\n[retrieval]\nk = 2\n[generator]\nmax_new_tokens = 9\n')
    s = load_settings()
    assert (s.collection, s.retrieval.k, s.generator.max_new_tokens) == ("fromfile", 2, 9)

    monkeypatch.setenv("DOCCHAT_RETRIEVAL__K", "5")
    monkeypatch.setenv("DOCCHAT_DATA_DIR", str(tmp_path / "env-data"))
    s = load_settings()
    assert s.retrieval.k == 5 and s.data_dir == tmp_path / "env-data"
    assert s.generator.max_new_tokens == 9, "nested values from the file survive env overrides"

    s = load_settings(retrieval={"k": 8}, collection=None)
    assert s.retrieval.k == 8 and s.collection == "fromfile", "None means 'flag not given'"


def test_explicit_config_file_and_env_variable(tmp_path, monkeypatch):
    other = tmp_path / "other.toml"
    other.write_text('collection = "viaenv"\n')
    monkeypatch.setenv("DOCCHAT_CONFIG", str(other))
    assert load_settings().collection == "viaenv"
    with pytest.raises(ConfigError, match="Config file not found"):
        load_settings(Path(tmp_path / "nope.toml"))


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"retrieval": {"k": 0}}, ["retrieval.k", "greater than or equal to 1",
                                   "DOCCHAT_RETRIEVAL__K"]),
        ({"collection": "x"}, ["collection", "3-63 characters", "DOCCHAT_COLLECTION"]),
        ({"ingest": {"chunk_tokens": 50, "chunk_overlap": 60}}, ["chunk_overlap (60)"]),
        ({"generator": {"backend": "magic"}}, ["generator.backend", "'magic'"]),
        ({"server": {"port": 70000}}, ["server.port", "DOCCHAT_SERVER__PORT"]),
    ],
)
def test_bad_values_fail_with_a_message_that_says_what_to_change(overrides, expected):
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    for fragment in expected:
        assert fragment in str(err.value)


def test_unknown_keys_and_broken_toml_are_refused(tmp_path):
    cfg = tmp_path / "docchat.toml"
    cfg.write_text("[generator]\ntemprature = 1\n")
    with pytest.raises(ConfigError, match="generator.temprature: unknown setting"):
        load_settings()
    cfg.write_text("collection = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
