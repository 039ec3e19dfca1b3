"""End-to-end fixtures: the real bundled models, loaded once per test session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from chat.app import DocChat
from chat.generators.hf import TransformersGenerator
from chat.settings import load_settings
from evals.servers import transformers_server
from tests.conftest import SHARED_DOCS
from tests.docs_fixtures import write_fixture_docs

# A handful of real documents from ../shared, each with a question only it answers.
SHARED_QUESTIONS = {
    "Who appoints and supervises standing trustees?": "unstructured/handbook-1p.docx",
    "Where was Iwan Roberts born?": "unstructured/norwich-city.txt",
    "What is LayoutParser, the unified toolkit for document image analysis?":
        "unstructured/pdf/layout-parser-paper-fast.pdf",
    "How do you get new ideas, according to the essay?": "unstructured/ideas-page.html",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def docchat(tmp_path_factory) -> DocChat:
    # DOCCHAT_TEST_CACHE keeps the converted model between runs on a developer machine.
    cache = os.environ.get("DOCCHAT_TEST_CACHE") or tmp_path_factory.mktemp("model-cache")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("e2e-data"),
        cache_dir=Path(cache),
        collection="e2e",
        generator={"max_new_tokens": 64},
        # A second generator a web chat session may choose (the browser test switches to it).
        generators={"transformers": {"backend": "transformers", "model": "smollm2-135m",
                                     "max_new_tokens": 64}},
    )
    return DocChat(settings)


@pytest.fixture(scope="session")
def fixture_docs(tmp_path_factory) -> dict[str, Path]:
    return write_fixture_docs(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="session")
def indexed(docchat, fixture_docs):
    """Ingest the test's own documents plus, where ../shared is present, a few real ones."""
    paths = [next(iter(fixture_docs.values())).parent]
    if SHARED_DOCS.is_dir():
        paths += [SHARED_DOCS / rel for rel in SHARED_QUESTIONS.values()]
    started = time.perf_counter()
    report = docchat.ingestor.ingest(paths)
    seconds = time.perf_counter() - started
    print(f"\ne2e ingest: {len(report.results)} files, {report.chunks} chunks, {seconds:.1f} s")
    return report


@pytest.fixture(scope="session")
def model_dir(docchat) -> str:
    """SmolLM2-135M as a transformers directory (converted once, cached)."""
    gen = TransformersGenerator("smollm2-135m", cache_dir=docchat.settings.cache_dir)
    return gen.model_dir()


@pytest.fixture(scope="session")
def model_server(model_dir, tmp_path_factory):
    """A real OpenAI-compatible server on loopback: `transformers serve` with the bundled
    model. Yields its /v1 URL; the model name is `model_dir`."""
    with transformers_server(model_dir, tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield url
