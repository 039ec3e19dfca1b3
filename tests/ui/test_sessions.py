"""Per-session choices in the web chat: each gets its own DocChat, sharing loaded models."""

import pytest

from chat.settings import load_settings
from ingest.errors import ConfigError
from tests.docs_fixtures import write_fixture_docs
from tests.fakes import FakeGenerator
from tests.ui.test_cli import fake_docchat
from ui.sessions import Sessions


def test_choices_get_their_own_app_and_share_the_models(tmp_path):
    base = fake_docchat(load_settings(None, data_dir=tmp_path / "data"), FakeGenerator())
    sessions = Sessions(base)
    default = sessions.default()
    assert sessions.app(default) is base
    other = sessions.app(default.with_(collection="second", k=2, bm25_weight=0.5))
    assert other is not base and other.settings.collection == "second"
    assert other.settings.retrieval.k == 2 and other.settings.retrieval.bm25_weight == 0.5
    assert other.embedder is base.embedder and other.generator is base.generator
    assert sessions.app(default.with_(collection="second", k=2, bm25_weight=0.5)) is other

    other.ingestor.ingest([write_fixture_docs(tmp_path / "docs")["guide.md"]])
    assert len(other.state.files()) == 1 and base.state.files() == {}
    assert other.ingestor.drop_collection() == 1
    assert other.state.files() == {} and other.store.count() == 0


def test_invalid_choices_are_config_errors(tmp_path):
    sessions = Sessions(fake_docchat(load_settings(None, data_dir=tmp_path), FakeGenerator()))
    for bad in (dict(k=0), dict(collection="x"), dict(dense_weight=float("nan")),
                dict(generator="nope")):
        with pytest.raises(ConfigError):
            sessions.app(sessions.default().with_(**bad))
