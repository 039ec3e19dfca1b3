"""What the server remembers for its security checks (ui.security decides with them): the
files Gradio's upload route stored in this process, and the browser ids it issued."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from pathlib import Path


class UploadRegistry:
    """The files Gradio's upload route stored in this process (Guard records each upload's
    answer): the only files a web chat handler may take."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._paths: OrderedDict[Path, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, path: str) -> None:
        with self._lock:
            self._paths[Path(path).resolve()] = None
            while len(self._paths) > self._capacity:
                self._paths.popitem(last=False)

    def discard(self, path: Path) -> None:
        with self._lock:
            self._paths.pop(path.resolve(), None)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, (str, Path)):
            return False
        with self._lock:
            return Path(path).resolve() in self._paths


class BrowserIds:
    """Which browser a web chat request comes from, for its saved conversations: an id the
    server issues in a signed, HttpOnly cookie (the Guard sets it). A page's script cannot
    read it and a client cannot choose another browser's id: it would need the signature."""

    COOKIE = "docchat-browser"

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def issue(self) -> str:
        browser = secrets.token_hex(16)
        return f"{browser}.{self._sign(browser)}"

    def verified(self, value: str | None) -> str | None:
        """The browser id a cookie value carries, or None if it is not one docchat signed."""
        browser, _, signature = (value or "").partition(".")
        if browser and signature and secrets.compare_digest(signature.encode(),
                                                              self._sign(browser).encode()):
            return browser
        return None

    def set_cookie(self, value: str) -> bytes:
        return (f"{self.COOKIE}={value}; Path=/; Max-Age=31536000; HttpOnly; "
                "SameSite=Lax").encode()

    def _sign(self, browser: str) -> str:
        return hmac.new(self._key, browser.encode(), hashlib.sha256).hexdigest()[:32]
