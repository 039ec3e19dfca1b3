"""Signed links to original files and their views, and the cache and slots of page renders.

A link opens one indexed file (and its page and context views), only until it expires: a
leaked link is not a key for ever. Rendering a PDF page costs up to seconds of CPU, so
rendered pages are kept (by file, its size and time, page and passage) and only a few are
rendered at once; a request that finds no free slot soon is told to retry (503).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ingest.errors import DocchatError
from ui.security import LINK_TTL_S, RENDER_CACHE_PAGES, RENDER_SLOTS, RENDER_WAIT_S


class FileLinks:
    """Signed links to original files: a link opens one indexed file, and only that one."""

    def __init__(self, key: bytes | None = None, ttl_s: int | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self.ttl_s = LINK_TTL_S if ttl_s is None else ttl_s

    def url(self, collection: str, chunk_id: str) -> str:
        expires = int(time.time()) + self.ttl_s
        mac = self._sign(collection, chunk_id, expires)
        return f"/files/{collection}/{chunk_id}?sig={expires}-{mac}"

    def valid(self, collection: str, chunk_id: str, sig: str) -> bool:
        """A signature docchat made for this file, not past its expiry (which it carries:
        "<expiry>-<mac>")."""
        expires, _, mac = sig.partition("-")
        if not expires.isdigit() or len(expires) > 12:
            return False
        good = self._sign(collection, chunk_id, int(expires))
        return secrets.compare_digest(mac.encode(), good.encode()) and \
            int(expires) >= time.time()

    def _sign(self, collection: str, chunk_id: str, expires: int) -> str:
        message = f"{collection}/{chunk_id}/{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


class RenderBusy(DocchatError):
    """No render slot came free in time."""


class PageRenders:
    """Rendered pages, kept and rendered a few at a time. `render(path, page, passage)`
    returns the image (ui.page_view.render_page)."""

    def __init__(self, render: Callable, slots: int = RENDER_SLOTS,
                 capacity: int = RENDER_CACHE_PAGES) -> None:
        self._render = render
        self._slots = threading.BoundedSemaphore(slots)
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._drawing: dict[tuple, threading.Lock] = {}

    def get(self, path: Path, page: int, passage: str):
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns, page,
               hashlib.sha256(passage.encode()).hexdigest())
        if (found := self._cached(key)) is not None:
            return found
        with self._lock:  # requests for one page wait for one drawing of it
            same_page = self._drawing.setdefault(key, threading.Lock())
        busy = RenderBusy("Too many pages are being drawn; try again in a moment.")
        if not same_page.acquire(timeout=RENDER_WAIT_S):
            raise busy
        try:
            if (found := self._cached(key)) is not None:
                return found
            if not self._slots.acquire(timeout=RENDER_WAIT_S):
                raise busy
            try:
                image = self._render(path, page, passage)
            finally:
                self._slots.release()
            with self._lock:
                self._cache[key] = image
                while len(self._cache) > self._capacity:
                    self._cache.popitem(last=False)
            return image
        finally:
            same_page.release()
            with self._lock:
                self._drawing.pop(key, None)

    def _cached(self, key: tuple):
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None
