"""The one ASGI middleware in front of the whole server (API, file links, Gradio).

It holds no policy of its own: for each request it asks ui.security, in order, about the
Host, other sites, the key, the body's size and the files a web chat request names; and it
puts ui.security's headers on every answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import cookie_parser

from ui.security import (CONTENT_SECURITY_POLICY, PUBLIC_PATHS, PUBLIC_PREFIXES,
                         RESPONSE_HEADERS, SAFE_METHODS, UPLOAD_PATHS,
                         BrowserIds, Policy, Receive, Scope, Send, UploadRegistry, error_body,
                         file_objects, lax_cookie, same_origin, takes_files)

_CORS = (b"access-control-allow-origin", b"access-control-allow-credentials",
         b"access-control-allow-headers", b"access-control-allow-methods",
         b"access-control-expose-headers")


class Guard:
    """`has_session(scope)` tells whether a request carries a logged-in web chat session
    (Gradio's cookie); `uploads` gets every file Gradio's upload route stores."""

    def __init__(self, app, policy: Policy, has_session: Callable[[Scope], bool],
                 uploads: UploadRegistry, browsers: BrowserIds | None = None) -> None:
        self.app = app
        self.policy = policy
        self.has_session = has_session
        self.uploads = uploads
        self.browsers = browsers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        send = self._answering(send, headers, path)
        if not self.policy.host_allowed(headers.get("host")):
            await _refuse(scope, send, 421, "This server does not answer to that host name "
                          "(see server.allowed_hosts).", "misdirected_request")
            return
        if self.policy.changes_state(scope) and self.policy.cross_site(headers):
            await _refuse(scope, send, 403, "Refused: a page of another site sent this "
                          "request.", "cross_site_request")
            return
        if self.policy.auth_on and not self._authenticated(path, headers, scope):
            await _refuse(scope, send, 401, "Missing or wrong API key: send 'Authorization: "
                          "Bearer <server.api_key>', or log in to the web chat.",
                          "invalid_api_key")
            return
        if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS:
            receive = await self._limited(scope, receive, send, headers, path)
            if receive is None:
                return
            if path.rstrip("/").endswith(UPLOAD_PATHS):
                send = self._recording_uploads(send)
        if scope["type"] == "http" and self.browsers is not None \
                and not path.startswith(("/v1/", "/files/")):  # the web chat's only
            scope, send = self._identified(scope, send, headers)
        await self.app(scope, receive, send)

    def _identified(self, scope: Scope, send: Send, headers: dict[str, str]):
        """A request without a valid browser cookie gets a new one: in its answer, and in
        the request itself, so this request's handler sees it too."""
        cookies = cookie_parser(headers.get("cookie", ""))
        if self.browsers.verified(cookies.get(BrowserIds.COOKIE)) is not None:
            return scope, send
        value = self.browsers.issue()
        cookies[BrowserIds.COOKIE] = value
        raw = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode("latin-1")
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", [])
                                      if k.lower() != b"cookie"] + [(b"cookie", raw)]}
        cookie = self.browsers.set_cookie(value)

        async def setting(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", cookie)]}
            await send(message)

        return scope, setting

    def _answering(self, send: Send, headers: dict[str, str], path: str) -> Send:
        """`send` that adds the security headers, keeps CORS grants to this server's own
        origin, makes cookies SameSite=Lax and replaces Gradio's 422s (which echo the
        request) with a short error."""
        origin = headers.get("origin")
        foreign = origin is not None and not same_origin(origin, headers.get("host"))
        replaced = False

        async def answering(message: dict) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start":
                if message["status"] == 422 and not path.startswith("/v1/"):
                    replaced = True
                    body = json.dumps(error_body("Invalid request.",
                                                 "invalid_request_error")).encode()
                    message = {"type": "http.response.start", "status": 422, "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]}
                    await send(_with_headers(message, foreign))
                    await send({"type": "http.response.body", "body": body})
                    return
                message = _with_headers(message, foreign)
            elif replaced and message["type"] == "http.response.body":
                return
            await send(message)

        return answering

    def _recording_uploads(self, send: Send) -> Send:
        """`send` that notes the paths an upload answer lists (a JSON list, status 200)."""
        status, chunks = 0, []

        async def recording(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        stored = json.loads(b"".join(chunks))
                    except ValueError:
                        stored = []
                    for item in stored if isinstance(stored, list) else []:
                        if isinstance(item, str):
                            self.uploads.add(item)
            await send(message)

        return recording

    def _foreign_files(self, body: bytes) -> bool:
        """Whether a web chat request names a file that was not uploaded in this process
        (Gradio would copy it into its cache, or fetch a URL, before any handler runs).
        Decided on the decoded JSON, as Gradio reads it: no byte pattern to escape around."""
        try:
            decoded = json.loads(body)
        except ValueError:
            return False  # not JSON: Gradio refuses it itself
        except RecursionError:
            return True  # nested too deeply to check: refused, not passed on unchecked
        return any(not isinstance(f.get("path"), str) or f["path"] not in self.uploads
                   for f in file_objects(decoded))

    def _authenticated(self, path: str, headers: dict[str, str], scope: Scope) -> bool:
        if self.policy.bearer_ok(headers.get("authorization")):
            return True
        if path.startswith("/v1/") or path == "/openapi.json":
            return False  # the API takes the key only: a browser's cookie must not do
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return True
        return self.has_session(scope)

    async def _limited(self, scope: Scope, receive: Receive, send: Send,
                       headers: dict[str, str], path: str) -> Receive | None:
        """`receive` that replays a body within the limit, or None after refusing it."""
        limit = self.policy.body_limit(path)
        length = headers.get("content-length")
        too_large = (f"The request is too large (the limit is {limit:,} bytes; see "
                     "server.max_request_kb and server.max_upload_mb).")
        if length is not None:
            if not length.isdigit():
                await _refuse(scope, send, 400, "Bad Content-Length.", "invalid_request_error")
                return None
            if int(length) > limit:
                await _refuse(scope, send, 413, too_large, "request_too_large")
                return None
            if takes_files(path):
                return receive  # declared and within the limit: streamed on
        elif takes_files(path):
            await _refuse(scope, send, 411, "Uploads must declare their Content-Length.",
                          "length_required")
            return None
        # Read the body here (at most `limit` bytes), then hand it on.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(scope, send, 413, too_large, "request_too_large")
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if not path.startswith("/v1/") and self._foreign_files(body):
            await _refuse(scope, send, 403, "Only files uploaded through the web chat can be "
                          "used.", "forbidden")
            return None
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


async def _refuse(scope: Scope, send: Send, status: int, message: str, code: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps(error_body(message, code)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _with_headers(message: dict, foreign_origin: bool) -> dict:
    headers = []
    for name, value in message.get("headers", []):
        lower = name.lower()
        if foreign_origin and lower in _CORS:
            continue  # another site may not read this answer with the user's cookies
        if lower == b"set-cookie":
            value = lax_cookie(value.decode("latin-1")).encode("latin-1")
        if lower.decode("latin-1") in RESPONSE_HEADERS:
            continue
        headers.append((name, value))
    names = {n.lower() for n, _ in headers}
    if b"content-security-policy" not in names:  # file links bring their own, stricter
        headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    headers += [(k.encode(), v.encode()) for k, v in RESPONSE_HEADERS.items()]
    return {**message, "headers": headers}
