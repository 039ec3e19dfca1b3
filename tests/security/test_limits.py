"""Items 5, 8 and 9: what a request may ask. Bodies, questions and conversations have
limits with clear errors; the prompt never outgrows the model's budget; validation errors
are short and OpenAI-shaped; uploads have one size limit and leave nothing in Gradio's cache."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from chat.prompt import PromptTooLong, build_prompt, check_fits
from chat.settings import ServerConfig
from chat.types import Source
from tests.fakes import FakeGenerator
from tests.security.conftest import fn_index, gradio_call, served
from ui.security import Policy, Refused

count = FakeGenerator().count_tokens


def ask(url: str, content, **extra) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
        "model": "docchat", "messages": [{"role": "user", "content": content}], **extra})


def test_a_5_mb_request_is_refused_before_it_is_read(open_server):
    url, _ = open_server
    response = ask(url, "x" * 5_000_000)
    assert response.status_code == 413
    assert "server.max_request_kb" in response.json()["error"]["message"]


def test_a_chunked_body_over_the_limit_is_refused_too(open_server):
    url, _ = open_server

    def body():
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(3000):
            yield b"x" * 1000
        yield b'"}]}'

    response = httpx.post(f"{url}/v1/chat/completions", content=body(),
                          headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("stream", [False, True])
def test_a_200_kb_question_is_refused_with_the_limit_named(open_server, stream):
    url, app = open_server
    response = ask(url, "why " * 50_000, stream=stream)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "question_too_long" and "server.max_question_chars" in error["message"]


def test_long_conversations_keep_their_most_recent_messages():
    policy = Policy.from_config(ServerConfig(max_history_chars=1000))
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} " + "w" * 300}
               for i in range(10)]
    kept, dropped = policy.conversation("And then?", history)
    assert kept == history[-3:] and dropped == 7
    with pytest.raises(Refused, match="too long"):
        policy.conversation("q" * 4001, [])


def test_the_api_says_when_earlier_messages_were_left_out(open_server):
    url, _ = open_server
    messages = [{"role": "user", "content": "w " * 6000},
                {"role": "assistant", "content": "Fine."}] * 3
    messages.append({"role": "user", "content": "How long is the Zephyr pump warranty?"})
    reply = httpx.post(f"{url}/v1/chat/completions", json={"messages": messages}, timeout=60)
    assert reply.status_code == 200
    assert any("left out" in w for w in reply.json()["docchat"]["warnings"])


def test_the_prompt_builder_refuses_a_question_that_leaves_no_room_for_sources():
    source = Source(1, "c1", "/d/a.md", "a.md", None, "", "w " * 50, 0.5)
    with pytest.raises(PromptTooLong, match="generator.context_tokens = 2,048"):
        build_prompt("why " * 3000, [source], count_tokens=count, budget=2048)
    check_fits("why " * 100, count_tokens=count, budget=2048)  # fits: no error
    prompt = build_prompt("why " * 100, [source], count_tokens=count, budget=2048)
    assert sum(count(m["content"]) for m in prompt.messages) <= 2048


def test_a_question_too_long_for_the_model_is_a_400(tmp_path):
    # The character limit is high here; the model's budget (context_tokens) is what stops it.
    with served(tmp_path, max_question_chars=1_000_000) as (url, _):
        response = ask(url, "why " * 20_000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_the_web_chat_says_a_question_is_too_long(open_server):
    url, _ = open_server
    message = gradio_call(url, fn_index(url, "question", "submit"),
                          ["q" * 5000, [], None, None, "", None])
    assert message["success"] is True
    chat = message["output"]["data"][0]
    assert "too long" in str(chat) and "server.max_question_chars" in str(chat)


def test_validation_errors_are_short_openai_errors_that_echo_nothing(open_server):
    url, _ = open_server
    payload = {"model": "docchat", "messages": [{"role": "wizard", "content": "x" * 190_000}]}
    response = httpx.post(f"{url}/v1/chat/completions", json=payload)
    assert response.status_code == 400
    assert len(response.content) < 2000 and "xxxx" not in response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "messages.0.role" in response.json()["error"]["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_methods_are_405(open_server, method):
    url, _ = open_server
    response = httpx.request(method, f"{url}/v1/chat/completions")
    assert response.status_code == 405 and response.json()["error"]["code"]
    assert httpx.get(f"{url}/v1/nothing-here").status_code == 404


def upload(url: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/gradio_api/upload", files=[("files", (name, data))], timeout=60)


def test_one_upload_limit_and_nothing_left_in_gradios_cache(tmp_path):
    with served(tmp_path, max_upload_mb=1) as (url, app):
        over = upload(url, "big.txt", b"a" * 1_000_001)
        assert over.status_code in (400, 413), "Gradio refuses above docchat's limit"
        good = upload(url, "zephyr-note.txt", b"The Zephyr pump hums quietly at night.\n")
        refused = upload(url, "empty.txt", b"")
        assert good.status_code == 200 and refused.status_code == 200
        paths = [Path(good.json()[0]), Path(refused.json()[0])]
        assert all(p.exists() for p in paths)
        files = [{"path": str(p), "meta": {"_type": "gradio.FileData"}, "orig_name": p.name}
                 for p in paths]
        message = gradio_call(url, fn_index(url, "add-files"), [files, None])
        rows = message["output"]["data"][0]["data"]
        assert sorted(r[1] for r in rows) == ["ingested", "refused"], rows
        assert not any(p.exists() for p in paths), "ingested and refused uploads are deleted"
        assert any(s.endswith("zephyr-note.txt") for s in app.state.files())
