"""`docchat serve`: the OpenAI-compatible API and the Gradio web chat on one port.

Loopback only unless an API key is set: a docchat reachable from the network without one
would hand anyone the documents. What the server accepts is decided by ui.security.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from ui.api import FileLinks, build_api
from ui.conversations import ConversationStore
from ui.guard import Guard
from ui.conversations_view import browser_secret
from ui.security import BrowserIds, Policy, UploadRegistry
from ui.sessions import Sessions
from ui.web import CSS, FAVICON, build_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from chat.app import DocChat
    from chat.settings import ServerConfig

UPLOAD_DIR_ENV = "GRADIO_TEMP_DIR"


def require_safe_bind(server: "ServerConfig") -> None:
    Policy.from_config(server).check_bind(server.host)


def private_upload_dir() -> str:
    """Where Gradio keeps uploads: a private folder of this process (unless the user set
    GRADIO_TEMP_DIR) rather than a /tmp/gradio shared with other users' processes."""
    if not os.environ.get(UPLOAD_DIR_ENV):
        os.environ[UPLOAD_DIR_ENV] = tempfile.mkdtemp(prefix="docchat-uploads-")
    return os.environ[UPLOAD_DIR_ENV]


def build_server_app(docchat: "DocChat", server: "ServerConfig") -> "FastAPI":
    import gradio as gr
    from starlette.responses import FileResponse
    from starlette.routing import Mount

    policy = Policy.from_config(server)
    sessions = Sessions(docchat)  # the web chat and the API share the loaded models
    links = FileLinks()
    api = build_api(sessions, policy, links)
    auth = (lambda username, password: policy.key_matches(password)) if policy.auth_on \
        else None  # any user name; the key is the password
    uploads = UploadRegistry()
    private_upload_dir()
    conversations = ConversationStore(docchat.settings.data_dir / "conversations.sqlite")
    web = build_app(docchat, lambda source, collection: links.url(collection, source.chunk_id),
                    policy, sessions, uploads, conversations)
    # Gradio ignores favicon_path when mounted below "/": docchat's icon is served here, ahead
    # of the mount.
    api.add_api_route("/favicon.ico", lambda: FileResponse(FAVICON, media_type="image/svg+xml"),
                      include_in_schema=False)
    # show_error=False: exception text (paths, library internals) stays in the server log;
    # the handlers turn docchat's own errors into messages themselves.
    gr.mount_gradio_app(api, web, path="", css=CSS, ssr_mode=False, auth=auth,
                        show_error=False, max_file_size=policy.max_upload_bytes,
                        footer_links=[])
    # Mounted Blocks never "launch", and Gradio skips its own file-path checks until they
    # have; ui.documents checks upload paths itself as well.
    web.has_launched = True
    gradio_app = next(r.app for r in api.routes if isinstance(r, Mount))
    api.add_middleware(Guard, policy=policy, has_session=_session_check(gradio_app),
                       uploads=uploads, browsers=BrowserIds(browser_secret(
                           docchat.settings.data_dir)))
    return api


def _session_check(gradio_app):
    """Whether a request carries a logged-in Gradio session (its access-token cookie)."""
    from starlette.requests import cookie_parser

    def has_session(scope) -> bool:
        raw = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                    if k.lower() == b"cookie"), "")
        cookies = cookie_parser(raw)
        names = (f"access-token-{gradio_app.cookie_id}",
                 f"access-token-unsecure-{gradio_app.cookie_id}")
        return any(gradio_app.tokens.get(cookies.get(n, "")) is not None for n in names)

    return has_session


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
