"""Attacks on a real served docchat (fake models, loopback): helpers to start one and to call
the web chat's Gradio handlers the way a crafted request does (queue/join + queue/data)."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount

from chat.settings import ServerConfig, load_settings
from evals.servers import free_port
from tests.docs_fixtures import write_fixture_docs
from chat.app import DocChat
from tests.fakes import FakeEmbeddings, FakeGenerator
from tests.ui.test_cli import fake_docchat
from ui.serve import build_server_app, start_in_thread

KEY = "security-test-key-7c2e"


@contextlib.contextmanager
def served(tmp: Path, *, docs: bool = True, gradio_path_checks: bool = True, generator=None,
           settings: dict | None = None, **server):
    """A docchat server on 127.0.0.1 (fake embedder; a fake generator unless `generator` is
    False: then the configured one) with the guide fixture ingested; yields (base url,
    docchat). `gradio_path_checks=False` switches Gradio's own upload-path check off, as it
    is for Blocks mounted without launching, to test docchat's own."""
    configured = load_settings(None, data_dir=tmp / "data", ingest={"parse_workers": 0},
                               **(settings or {}))
    if generator is False:
        app = DocChat(configured)
        app.embedder = FakeEmbeddings()
    else:
        app = fake_docchat(configured, generator or FakeGenerator(
            default="The warranty lasts seven years [1]."))
    if docs:
        app.ingestor.ingest([write_fixture_docs(tmp / "docs")["guide.md"].parent])
    port = free_port()
    config = ServerConfig(port=port, **server)
    asgi = build_server_app(app, config)
    if not gradio_path_checks:
        gradio_app = next(r.app for r in asgi.routes if isinstance(r, Mount))
        gradio_app.get_blocks().has_launched = False
    uvicorn_server = start_in_thread(asgi, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        uvicorn_server.should_exit = True


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """No key: loopback only."""
    with served(tmp_path_factory.mktemp("open")) as found:
        yield found


@pytest.fixture(scope="module")
def unlaunched_server(tmp_path_factory):
    """No key, and Gradio's own upload-path check off (as for Blocks never launched)."""
    with served(tmp_path_factory.mktemp("unlaunched"), gradio_path_checks=False) as found:
        yield found


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    with served(tmp_path_factory.mktemp("keyed"), api_key=KEY,
                allowed_hosts=["docs.example.org"]) as found:
        yield found


def login(url: str, key: str = KEY) -> httpx.Cookies:
    """Log in to the web chat as a browser does; returns the session cookies."""
    response = httpx.post(f"{url}/login", data={"username": "me", "password": key})
    assert response.status_code == 200, response.text
    return response.cookies


def fn_index(url: str, elem_id: str | None, event: str = "click", **client) -> int:
    """The index of the handler bound to `event` of the component with `elem_id` (None: the
    page itself, for "load")."""
    config = httpx.get(f"{url}/config", **client).json()
    ids = [c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id]
    assert ids or elem_id is None, f"no component #{elem_id}"
    for index, dep in enumerate(config["dependencies"]):
        if any((elem_id is None or t[0] == ids[0]) and t[1] == event for t in dep["targets"]):
            return dep.get("id", index)
    raise AssertionError(f"no {event} handler on #{elem_id}")


def gradio_call(url: str, index: int, data: list, session: str | None = None,
                **client) -> dict:
    """Call a Gradio handler directly (what a crafted request does); returns the last
    message of its event stream ("process_completed", with `output` or an error). Calls
    with the same `session` share the session's state, as one browser tab's do."""
    session = session or uuid.uuid4().hex
    with httpx.Client(base_url=url, timeout=60, **client) as http:
        joined = http.post("/gradio_api/queue/join", json={
            "data": data, "fn_index": index, "session_hash": session, "trigger_id": None,
            "event_data": None})
        if joined.status_code != 200:  # refused before any handler ran
            return {"msg": "refused", "status": joined.status_code, "success": False,
                    "body": joined.json()}
        with http.stream("GET", "/gradio_api/queue/data",
                         params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the handler never completed")
