"""The other generator backends with real model servers and libraries.

- OpenAI-compatible: a real `transformers serve` process on loopback serving SmolLM2-135M
  (converted once to a transformers directory), streamed through docchat's pipeline; a wrong
  model name gives the server's error, clearly.
- llama.cpp (xllamacpp) with SmolLM2-135M, the smallest model: streaming, cancelling,
  counting tokens, concurrent answers in its slots, and no TCP port of its own.
"""

from __future__ import annotations

import time
from pathlib import Path

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


def test_llamacpp_backend_streams_counts_and_stops(docchat, indexed):
    app = app_with(docchat, backend="llamacpp", model="smollm2-135m")
    events = list(app.pipeline.ask("How do I reset the Kestrel router?"))
    answer = events[-1].answer
    assert [e for e in events if isinstance(e, TokenEvent)], "streamed"
    assert answer.generated and answer.sources[0].file_name == "router.pdf"
    assert app.generator.count_tokens("hello world") == 2
    # greedy: every token came first, so its margin over the runner-up is in [0, 1]
    assert answer.certainty is not None and 0.0 <= answer.certainty <= 1.0

    stream = app.generator.stream([{"role": "user", "content": "Count to fifty."}],
                                  max_new_tokens=200, temperature=0.0)
    first = next(stream)
    started = time.perf_counter()
    stream.close()  # llama.cpp cancels the generation
    assert first and time.perf_counter() - started < 2
    again = app.generator.stream([{"role": "user", "content": "Say yes."}], max_new_tokens=4,
                                 temperature=0.0)
    started = time.perf_counter()
    assert next(again) and time.perf_counter() - started < 2, "the slot is free at once"
    again.close()


def test_llamacpp_listens_on_no_tcp_port_and_its_socket_needs_a_key(docchat, indexed):
    """llama.cpp's server always listens for HTTP: docchat gives it a private Unix socket and
    a random key, so nothing else reaches the model (or its slot and props endpoints)."""
    import httpx
    import psutil

    def tcp_listeners() -> set:
        return {c.laddr for c in psutil.Process().net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN}

    app = app_with(docchat, backend="llamacpp", model="smollm2-135m")
    before = tcp_listeners()
    app.generator.load()
    assert tcp_listeners() <= before, "llama.cpp opened a TCP port"
    address = app.generator._server.listening_address
    assert address.startswith("unix://")
    path = Path(address.removeprefix("unix://"))
    assert path.parent.stat().st_mode & 0o077 == 0, "only this user may enter its folder"
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path))) as client:
        assert client.post("http://llama/tokenize", json={"content": "hi"}).status_code == 401
        assert client.get("http://llama/slots").status_code in (401, 404, 501)
    app.generator.close()
    assert not path.exists()


def test_llamacpp_answers_concurrent_questions_in_its_slots(docchat, indexed):
    """Concurrent answers share llama.cpp's slots: none crashes, none gets another's tokens."""
    import threading

    app = app_with(docchat, backend="llamacpp", model="smollm2-135m", parallel=2)
    questions = ["How do I reset the Kestrel router?",
                 "How long does the Zephyr pump warranty last?",
                 "How do I reset the Kestrel router?"]
    alone = {q: list(app.pipeline.ask(q))[-1].answer.generated for q in set(questions)}
    answers: dict[int, str] = {}
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            answers[i] = list(app.pipeline.ask(questions[i]))[-1].answer.generated
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert errors == []
    # Greedy answers begin as the lone ones do. (Not always to the last token: llama.cpp's
    # sums differ with the batch a slot shares and with what its prompt cache held, and a
    # near tie late in a 135M model's answer can go either way.)
    for i, question in enumerate(questions):
        assert answers[i].split()[:8] == alone[question].split()[:8], (answers[i], question)
    assert "Kestrel" not in answers[1] and "warranty" not in answers[0] + answers[2], \
        "no answer holds another question's tokens"
