"""Item 2: a web session chose another generator base_url in Settings, and docchat POSTed
the prompt, the passages and `Authorization: Bearer <configured key>` to it. Now a session
chooses a generator by name among the configured ones; each one's key goes only to its own
server. The model servers here are real HTTP servers on loopback that record what reaches
them."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.errors import ConfigError
from tests.security.conftest import fn_index, gradio_call, served
from ui.sessions import Sessions

KEY_A, KEY_B = "upstream-key-A-0001", "upstream-key-B-0002"


@contextlib.contextmanager
def model_server(answer: str):
    """A minimal OpenAI-compatible chat server that streams `answer` and records requests."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
            self._send(200, "application/json", json.dumps({"data": []}).encode())

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                         "body": body.decode("utf-8", "replace")})
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"content": answer},
                                  "finish_reason": None}]}
            self._send(200, "text/event-stream",
                       f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()


def test_a_session_cannot_send_the_configured_key_to_another_server(tmp_path):
    with model_server("The warranty lasts seven years [1].") as (url_a, seen_a), \
            model_server("B answers [1].") as (url_b, seen_b), \
            model_server("stolen") as (evil, seen_evil):
        settings = {
            "generator": {"backend": "openai", "base_url": url_a, "model": "a", "api_key": KEY_A},
            "generators": {"other": {"backend": "openai", "base_url": url_b, "model": "b",
                                     "api_key": KEY_B}},
        }
        with served(tmp_path, generator=False, settings=settings) as (url, _):
            session = "tab-1"
            apply = fn_index(url, "apply-settings")
            # The attack: a generator that is a URL (or a name nobody configured).
            for crafted in (evil, "evil"):
                message = gradio_call(url, apply, [None, "default", 4, 1, 1, False, crafted],
                                      session=session)
                status = message["output"]["data"][1]
                assert status.startswith("⚠ There is no generator named"), message
            # The old form (backend, model, base_url) names no configured generator.
            old = gradio_call(url, apply, [None, "default", 4, 1, 1, False, "openai", "m", evil],
                              session=session)
            assert old["output"]["data"][1].startswith("⚠"), old
            ask = fn_index(url, "question", "submit")
            gradio_call(url, ask,
                        ["How long is the Zephyr pump warranty?", [], None, None, "", None],
                        session=session)
            assert seen_evil == [], "nothing reached the other server"
            posts_a = [r for r in seen_a if r["path"].endswith("/chat/completions")]
            assert posts_a and all(r["auth"] == f"Bearer {KEY_A}" for r in posts_a)

            # A configured alternative gets its own key, never the default one's.
            gradio_call(url, apply, [None, "default", 4, 1, 1, False, "other"], session=session)
            gradio_call(url, ask,
                        ["How long is the Zephyr pump warranty?", [], None, None, "", None],
                        session=session)
            posts_b = [r for r in seen_b if r["path"].endswith("/chat/completions")]
            assert posts_b and all(r["auth"] == f"Bearer {KEY_B}" for r in posts_b)
            assert not any(KEY_A in (r["auth"] or "") for r in seen_b + seen_evil)


def test_sessions_take_generators_by_configured_name_only(tmp_path):
    from chat.settings import load_settings
    from tests.fakes import FakeGenerator
    from tests.ui.test_cli import fake_docchat

    settings = load_settings(None, data_dir=tmp_path, generators={
        "big": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "big"}})
    sessions = Sessions(fake_docchat(settings, FakeGenerator()))
    assert sessions.generator_names() == ["default", "big"]
    chosen = sessions.app(sessions.default().with_(generator="big"))
    assert chosen.settings.generator.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(ConfigError, match="no generator named"):
        sessions.app(sessions.default().with_(generator="http://127.0.0.1:1/v1"))
    with pytest.raises(TypeError):
        sessions.default().with_(base_url="http://127.0.0.1:1/v1")
