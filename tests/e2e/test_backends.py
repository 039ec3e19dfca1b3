"""The other generator backends with real model servers and libraries.

- OpenAI-compatible: a real `transformers serve` process on loopback serving the bundled model
  (converted once to a transformers directory), streamed through docchat's pipeline; a wrong
  model name gives the server's error, clearly.
- llama.cpp: the bundled GGUF through llama-cpp-python, where it is installed (CI builds it).
"""

from __future__ import annotations

import pytest

from chat.app import DocChat
from chat.config import GeneratorConfig
from chat.types import AnswerEvent, TokenEvent
from ingest.errors import ModelError


def app_with(docchat, **generator) -> DocChat:
    settings = docchat.settings.model_copy(
        update={"generator": GeneratorConfig(max_new_tokens=24, **generator)}
    )
    app = DocChat(settings)
    app.embedder = docchat.embedder  # load the embedder once per session
    return app


def test_openai_backend_streams_from_a_real_server(docchat, indexed, model_server, model_dir):
    app = app_with(docchat, backend="openai", base_url=model_server, model=model_dir,
                   tokenizer=model_dir)
    app.generator.load()
    events = list(app.pipeline.ask("How do I reset the Kestrel router?"))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerEvent)
    assert len(tokens) >= 2, "tokens arrive one by one"
    assert answer.generated == "".join(t.text for t in tokens).strip()
    assert answer.sources[0].file_name == "router.pdf"
    assert app.generator.count_tokens("hello world") == 2  # the served model's own tokenizer


def test_openai_backend_reports_the_servers_error(docchat, indexed, model_server):
    app = app_with(docchat, backend="openai", base_url=model_server, model="not-the-served-model",
                   timeout_s=30)
    with pytest.raises(ModelError, match=r"answered HTTP \d{3}:.*generator.model"):
        list(app.pipeline.ask("How do I reset the Kestrel router?"))


def test_llamacpp_backend_answers_with_the_bundled_gguf(docchat, indexed):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is an optional extra")
    app = app_with(docchat, backend="llamacpp")
    events = list(app.pipeline.ask("How do I reset the Kestrel router?"))
    answer = events[-1].answer
    assert [e for e in events if isinstance(e, TokenEvent)], "streamed"
    assert answer.generated and answer.sources[0].file_name == "router.pdf"
    assert app.generator.count_tokens("hello world") == 2

    stream = app.generator.stream([{"role": "user", "content": "Count to fifty."}],
                                  max_new_tokens=200, temperature=0.0)
    first = next(stream)
    stream.close()  # stops llama.cpp early, without error
    assert first


def test_llamacpp_answers_concurrent_questions_one_after_the_other(docchat, indexed):
    """One llama.cpp context is not thread-safe: concurrent answers must queue, not crash or
    mix their tokens."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is an optional extra")
    import threading

    app = app_with(docchat, backend="llamacpp")
    alone = list(app.pipeline.ask("How do I reset the Kestrel router?"))[-1].answer.generated
    answers: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            events = list(app.pipeline.ask("How do I reset the Kestrel router?"))
            answers.append(events[-1].answer.generated)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    workers = [threading.Thread(target=ask) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert errors == [] and answers == [alone] * 3, "greedy answers equal the lone one"
