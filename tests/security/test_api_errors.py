"""Item 7: every API error is an OpenAI-shaped JSON error with a 4xx/5xx status, and inside a
stream an error event followed by [DONE]; the connection is never just reset."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes import FakeGenerator
from tests.security.conftest import served


def post(url: str, body: dict | str | bytes, stream: bool = False) -> httpx.Response:
    if isinstance(body, dict):
        return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)
    return httpx.post(f"{url}/v1/chat/completions", content=body, timeout=60,
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize("content", [
    [{"type": "text", "text": None}],
    [{"type": "text", "text": 5}],
    [{"type": "text"}],
    [{"text": "no type"}],
    [None],
    {"type": "text", "text": "a dict, not a list"},
    7,
])
@pytest.mark.parametrize("stream", [False, True])
def test_malformed_content_parts_are_400s(open_server, content, stream):
    url, _ = open_server
    response = post(url, {"messages": [{"role": "user", "content": content}], "stream": stream})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("where", ["content", "part", "model"])
def test_lone_surrogates_are_400s(open_server, stream, where):
    url, _ = open_server
    content = '"Zephyr \\ud800 warranty?"'
    if where == "part":
        content = '[{"type": "text", "text": "Zephyr \\udfff?"}]'
    model = '"docchat\\ud800"' if where == "model" else '"docchat"'
    raw = (f'{{"model": {model}, "stream": {str(stream).lower()}, '
           f'"messages": [{{"role": "user", "content": {content}}}]}}')
    response = post(url, raw)
    assert response.status_code == 400, response.text
    assert "surrogate" in response.json()["error"]["message"]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00{", b"{not json", b"", b"[]", b"null",
                                 b'{"messages": []}', b"[" * 100_000 + b"]" * 100_000])
def test_broken_bodies_are_400s(open_server, raw):
    url, _ = open_server
    response = post(url, raw)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


class BrokenGenerator(FakeGenerator):
    """Fails after its first piece, with an internal message that must not reach clients."""

    def stream(self, messages, *, max_new_tokens: int, temperature: float):
        yield "The warranty "
        raise RuntimeError("CUDA kernel exploded in /srv/secret/model.py")


def test_an_error_inside_a_stream_is_an_error_event_then_done(tmp_path):
    with served(tmp_path, generator=BrokenGenerator()) as (url, _):
        with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=60, json={
                "stream": True, "messages": [{"role": "user",
                                              "content": "How long is the Zephyr warranty?"}]}
                          ) as response:
            assert response.status_code == 200
            events = [line[len("data: "):] for line in response.iter_lines()
                      if line.startswith("data: ")]
        non_stream = post(url, {"messages": [{"role": "user",
                                              "content": "How long is the Zephyr warranty?"}]})
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert error["code"] == "server_error" and "/srv/secret" not in error["message"]
    assert non_stream.status_code == 500
    assert non_stream.json()["error"]["code"] == "server_error"
    assert "/srv/secret" not in non_stream.text
