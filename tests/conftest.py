"""Test-wide guard: no test may open a network connection except to this machine."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from pathlib import Path

import pytest

import ingest.offline  # noqa: F401  (the app's own switches, as in production)
from ingest.config import IndexConfig
from evals.servers import chroma_server

SHARED_DOCS = Path(__file__).resolve().parents[2] / "shared" / "data" / "documents"
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "", None}


def _is_local(host) -> bool:
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Records and refuses every connection (and name lookup) to a non-loopback address."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def install(self, mp: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo
        guard = self

        def check(sock, address) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
                guard.attempts.append(f"connect {address}")
                raise ConnectionRefusedError(f"network blocked in tests: {address}")

        def connect(sock, address):
            check(sock, address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            check(sock, address)
            return real_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            if not _is_local(host):
                guard.attempts.append(f"resolve {host}")
                raise socket.gaierror(f"network blocked in tests: {host}")
            return real_getaddrinfo(host, *args, **kwargs)

        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session", autouse=True)
def network_guard():
    guard = NetworkGuard()
    mp = pytest.MonkeyPatch()
    guard.install(mp)
    yield guard
    mp.undo()



@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory):
    """One real Chroma server for the session (tests use their own collections on it)."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "db") as url:
        yield url


@pytest.fixture(params=["embedded", "server"])
def index_config(request) -> IndexConfig:
    """Run a test against the embedded store and against a real Chroma server."""
    if request.param == "embedded":
        return IndexConfig()
    return IndexConfig(backend="server", url=request.getfixturevalue("chroma_url"),
                       refresh_s=0)


@pytest.fixture
def collection_name(index_config) -> str:
    """Unique per test on the shared server; a fixed name embedded (each test has its dir)."""
    return f"t-{uuid.uuid4().hex[:12]}" if index_config.backend == "server" else "test"
