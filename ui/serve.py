"""`docchat serve`: the OpenAI-compatible API and the Gradio web chat on one port.

Loopback only unless an API key is set: a docchat reachable from the network without one
would hand anyone the documents.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import TYPE_CHECKING

from ingest.errors import ConfigError
from ui.api import FileLinks, build_api
from ui.sessions import Sessions
from ui.web import CSS, build_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from chat.app import DocChat
    from chat.settings import ServerConfig


def require_safe_bind(server: "ServerConfig") -> None:
    if server.api_key is None and not _is_loopback(server.host):
        raise ConfigError(
            f"Refusing to listen on {server.host} without authentication: anyone on the "
            "network could read your documents. Set server.api_key (or DOCCHAT_SERVER__API_KEY)"
            ", or listen on 127.0.0.1."
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def build_server_app(docchat: "DocChat", server: "ServerConfig") -> "FastAPI":
    import gradio as gr

    key = server.api_key.get_secret_value() if server.api_key else None
    sessions = Sessions(docchat)  # the web chat and the API share the loaded models
    links = FileLinks()
    api = build_api(sessions, key, links)
    auth = None
    if key is not None:
        def auth(username: str, password: str) -> bool:  # any user name; the key is the password
            return secrets.compare_digest(password.encode(), key.encode())

    web = build_app(docchat, lambda source, collection: links.url(collection, source.chunk_id),
                    server.max_upload_mb, sessions)
    return gr.mount_gradio_app(api, web, path="", css=CSS, ssr_mode=False, auth=auth,
                               show_error=True, max_file_size=f"{server.max_upload_mb}mb")


def serve(docchat: "DocChat", server: "ServerConfig") -> None:
    import uvicorn

    require_safe_bind(server)
    app = build_server_app(docchat, server)
    uvicorn.run(app, host=server.host, port=server.port, log_level="warning")


def start_in_thread(app, host: str, port: int):
    """Serve `app` from a daemon thread (tests, load scripts); returns the uvicorn server, whose
    `should_exit = True` stops it."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on {host}:{port} did not start")
        time.sleep(0.05)
    return server
