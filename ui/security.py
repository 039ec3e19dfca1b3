"""Every security decision of `docchat serve`, in one place.

Is authentication on, which Host names are answered, which requests need the key, which came
from another site, how large a request may be, which server paths the web chat may read, how
long a question or comment may be, which headers every answer carries, how document paths
are shown. The API, the web chat and Gradio's own routes all ask this module (through
ui.guard's `Guard`, one ASGI middleware in front of everything, and the checks below), so
they cannot disagree. What the checks remember (uploads, browser ids) is in ui.registries;
how text is kept from becoming markup is in ui.markup.

Starlette's TrustedHostMiddleware answers with plain text and knows nothing of keys or body
sizes; one small middleware doing the checks in order keeps the decision in one place.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ingest.errors import ConfigError, DocchatError
from ui.registries import BrowserIds, UploadRegistry  # noqa: F401 (part of this API)

if TYPE_CHECKING:
    from chat.settings import ServerConfig

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A request that uploads files may carry several: up to this many times the per-file limit.
UPLOAD_FILES_PER_REQUEST = 10
UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
DOCUMENTS_PATH = "/v1/documents"  # the document API's uploads: same size limits as the web's
# Without a session, only what Gradio's login page needs is served (and signed file links,
# which carry their own capability).
PUBLIC_PATHS = frozenset({"/", "/login", "/login/", "/login_check", "/login_check/",
                          "/theme.css", "/favicon.ico", "/manifest.json", "/robots.txt",
                          "/gradio_api/login", "/gradio_api/login/"})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/files/", "/gradio_api/login")

# On every answer. Images and media only from this server (an answer or a quoted document
# cannot make the browser fetch a URL that carries document text), no plugins, no framing by
# another site (clickjacking), no Referer to other sites. Scripts and styles are left to
# Gradio, which needs inline ones.
CONTENT_SECURITY_POLICY = ("img-src 'self' data: blob:; media-src 'self' data: blob:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")
RESPONSE_HEADERS = {"x-frame-options": "DENY", "referrer-policy": "same-origin"}
# Disk the web chat may fill: a comment's length, the feedback file's size; Gradio's cache
# (uploads never added, export copies) is swept of files older than an hour.
MAX_COMMENT_CHARS = 4_000
MAX_FEEDBACK_BYTES = 50_000_000
CACHE_SWEEP_S, CACHE_MAX_AGE_S = 300, 3600
# Signed file links expire; PDF pages (seconds of CPU each) are cached and drawn a few at once.
LINK_TTL_S = 24 * 3600
RENDER_SLOTS, RENDER_WAIT_S, RENDER_CACHE_PAGES = 2, 10.0, 64
# Methods that may change state: refused when a browser says another site sent them; and
# Gradio's logout, a GET that ends the session.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATE_CHANGING_GETS = ("/logout",)

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class Refused(DocchatError):
    """A request the policy does not allow. `status` and `code` are for HTTP edges."""

    def __init__(self, message: str, status: int = 400,
                 code: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def takes_files(path: str) -> bool:
    """Whether a request to `path` may carry uploaded files (and so a larger body)."""
    path = path.rstrip("/")
    return path.endswith(UPLOAD_PATHS) or path == DOCUMENTS_PATH


def error_body(message: str, code: str = "error") -> dict:
    """An error as OpenAI's API shapes it (so its clients raise the right exception)."""
    return {"error": {"message": message, "type": code, "code": code}}


@dataclass(frozen=True)
class Policy:
    key: str | None
    hosts: frozenset[str]  # lower-case names answered; "*" = any; "*.x.org" = subdomains
    sync_roots: tuple[Path, ...]
    max_request_bytes: int
    max_upload_bytes: int
    max_question_chars: int
    max_history_chars: int
    relative_paths: bool

    @classmethod
    def from_config(cls, server: "ServerConfig") -> "Policy":
        key = server.api_key.get_secret_value() if server.api_key is not None else None
        hosts = set(LOOPBACK_HOSTS)
        if key is not None:  # without a key, loopback names only: nothing to rebind to
            hosts |= set(server.allowed_hosts)
            if not _is_wildcard(server.host):
                hosts.add(server.host.lower().strip("[]"))
        return cls(key=key, hosts=frozenset(hosts),
                   sync_roots=tuple(p.resolve() for p in server.sync_roots),
                   max_request_bytes=server.max_request_kb * 1024,
                   max_upload_bytes=server.max_upload_mb * 1_000_000,
                   max_question_chars=server.max_question_chars,
                   max_history_chars=server.max_history_chars,
                   relative_paths=server.show_paths == "relative")

    # -- authentication ------------------------------------------------------------------

    @property
    def auth_on(self) -> bool:
        """The one answer to "is authentication on": a key is configured (never empty: the
        configuration refuses that)."""
        return self.key is not None

    def key_matches(self, given: str) -> bool:
        return self.key is not None and secrets.compare_digest(given.encode(), self.key.encode())

    def owner(self, browser_id: str) -> str:
        """Whose saved conversations a request sees: its browser's random id, and with a key,
        the key too (a browser id alone opens nothing on a server with a key)."""
        if not browser_id or len(browser_id) > 64:
            raise ValueError("no browser id")
        if self.key is None:
            return f"browser:{browser_id}"
        key = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        return f"key:{key}:browser:{browser_id}"

    def bearer_ok(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and self.key_matches(token.strip())

    def check_bind(self, host: str) -> None:
        if not self.auth_on and not _is_loopback(host):
            raise ConfigError(
                f"Refusing to listen on {host} without authentication: anyone on the "
                "network could read your documents. Set server.api_key (or "
                "DOCCHAT_SERVER__API_KEY), or listen on 127.0.0.1."
            )

    # -- requests ------------------------------------------------------------------------

    def host_allowed(self, header: str | None) -> bool:
        name = _host_name(header)
        if name is None:
            return False
        if "*" in self.hosts or name in self.hosts:
            return True
        return any(p.startswith("*.") and name.endswith(p[1:]) for p in self.hosts)

    def body_limit(self, path: str) -> int:
        if takes_files(path):
            return self.max_upload_bytes * UPLOAD_FILES_PER_REQUEST + 1_000_000
        return self.max_request_bytes

    def conversation(self, question: str, history: Sequence[dict[str, str]]
                     ) -> tuple[list[dict[str, str]], int]:
        """Check the question's size and keep the most recent earlier messages that fit
        `max_history_chars`; returns them and how many were left out."""
        if len(question) > self.max_question_chars:
            raise Refused(f"The question is too long ({len(question):,} characters; the limit "
                          f"is {self.max_question_chars:,}, server.max_question_chars). Ask "
                          "about one thing at a time.", 400, "question_too_long")
        kept: list[dict[str, str]] = []
        used = 0
        for message in reversed(history):
            used += len(message["content"])
            if used > self.max_history_chars:
                break
            kept.append(message)
        return kept[::-1], len(history) - len(kept)

    def feedback(self, comment: str, file: Path) -> None:
        """Whether a rating or comment may be appended to `file`: nothing may grow the
        disk without bound."""
        if len(comment) > MAX_COMMENT_CHARS:
            raise Refused(f"The comment is too long ({len(comment):,} characters; the limit "
                          f"is {MAX_COMMENT_CHARS:,}).", 400, "comment_too_long")
        if file.is_file() and file.stat().st_size > MAX_FEEDBACK_BYTES:
            raise Refused("The feedback file is full; an administrator can move "
                          f"{file.name} away.", 507, "storage_full")

    # -- other sites -----------------------------------------------------------------------

    @staticmethod
    def changes_state(scope: Scope) -> bool:
        """Whether a request may change something (and so must come from docchat's page)."""
        return scope["type"] == "websocket" or scope.get("method") not in SAFE_METHODS \
            or scope.get("path", "").rstrip("/") in STATE_CHANGING_GETS

    def cross_site(self, headers: dict[str, str]) -> bool:
        """Whether a browser says another site's page sent this request (CSRF). A multipart
        or text POST is a "simple" request: the browser sends it without asking, so the
        server has to refuse it. Browsers say where a request comes from (Sec-Fetch-Site,
        Origin) and pages cannot forge either; clients that send neither (curl, SDKs) are
        not browsers, and the key decides for them."""
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return True
        origin = headers.get("origin")
        return origin is not None and not same_origin(origin, headers.get("host"))

    # -- server paths --------------------------------------------------------------------

    def sync_target(self, text: str) -> Path:
        """The folder (or file) the web chat asked to re-sync, if it lies under a sync root.
        A path outside the roots gets the same answer as one that does not exist, and
        neither names the roots: the answer must not tell which server paths exist."""
        if not self.sync_roots:
            raise Refused("Re-syncing server folders from the web chat is off: list the "
                          "folders it may read in server.sync_roots.", 403, "forbidden")
        nowhere = Refused("No such folder under the sync roots (server.sync_roots).", 404,
                          "not_found")
        try:
            target = Path(text.strip()).expanduser().resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise nowhere from None
        if not any(target.is_relative_to(root) for root in self.sync_roots):
            raise nowhere
        return target

    def uploaded_file(self, path: str | Path, uploads: "UploadRegistry") -> Path:
        """A path the web chat's upload handler got, accepted only if Gradio's upload route
        stored it in this process: a crafted request can name any server file, and Gradio
        copies what it names into the same cache folder, so the folder proves nothing."""
        try:
            resolved = Path(path).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise Refused("The upload is missing: send the file again.", 400) from None
        if resolved not in uploads or not resolved.is_file():
            raise Refused("Only files uploaded through the web chat can be added.", 403,
                          "forbidden")
        return resolved

    def display_paths(self, sources: Sequence[str]) -> dict[str, str]:
        """How each indexed file is shown: relative to the folder the collection's files
        share (so the server's layout stays private), or absolute if configured."""
        if not self.relative_paths or not sources:
            return {s: s for s in sources}
        return relative_to_common_root(sources)


def file_objects(value) -> Iterator[dict]:
    """Every file object in a decoded JSON body, however deeply nested: any object with a
    "path" (Gradio takes {"path": str} for a file even without its "gradio.FileData" mark).
    Decoded first, so an escaped spelling ("gradio\\u002eFileData") is what Gradio sees."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "path" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def relative_to_common_root(sources: Sequence[str]) -> dict[str, str]:
    paths = [Path(s) for s in sources]
    absolute = [p for p in paths if p.is_absolute()]
    root = _common_parent(absolute)
    shown = {}
    for source, path in zip(sources, paths):
        if root is not None and path.is_absolute() and path.is_relative_to(root):
            shown[source] = path.relative_to(root).as_posix()
        else:  # not a path (texts ingested by id): shown as it is
            shown[source] = path.name if path.is_absolute() else source
    return shown


def _common_parent(paths: list[Path]) -> Path | None:
    if not paths:
        return None
    parents = [p.parent for p in paths]
    common = parents[0]
    for parent in parents[1:]:
        while not parent.is_relative_to(common):
            common = common.parent
    return common


def same_origin(origin: str, host: str | None) -> bool:
    """Whether an Origin header names this server as the request reached it (its Host). A
    Host without a port (a reverse proxy's `$host`) matches the default ports."""
    try:
        parts = urlsplit(origin)
        name, port = parts.hostname, parts.port
        wanted = urlsplit("//" + (host or ""))
        wanted_name, wanted_port = wanted.hostname, wanted.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not name or name != wanted_name:
        return False  # "null" (a sandboxed frame, a file) included
    port = port or (443 if parts.scheme == "https" else 80)
    return port == wanted_port if wanted_port is not None else port in (80, 443)


def lax_cookie(header: str) -> str:
    """A Set-Cookie header with SameSite=Lax: Gradio marks its login cookie SameSite=None,
    which another site's page could then send along."""
    attributes = [a for a in header.split(";") if not a.strip().lower().startswith("samesite")]
    return ";".join(attributes) + "; SameSite=Lax"


def _host_name(header: str | None) -> str | None:
    if not header:
        return None
    try:
        parts = urlsplit("//" + header)
        name, _ = parts.hostname, parts.port  # .port raises ValueError on a bad port
    except ValueError:
        return None
    if not name or parts.username is not None or parts.password is not None or parts.path:
        return None
    return name.lower()


def _is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False
