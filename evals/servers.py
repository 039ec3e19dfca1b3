"""Real server processes on loopback (`chroma run`, `transformers serve`), started and stopped
for the tests and the benchmarks that need them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_command(name: str) -> str:
    """A console script installed beside this Python (chroma, transformers)."""
    return str(Path(sys.executable).with_name(name))


@contextmanager
def running(command: list[str], health_url: str, log: Path, *, env: dict[str, str] | None = None,
            start_s: float = 60) -> Iterator[None]:
    """Start `command`, wait until `health_url` answers, stop it on exit (SIGTERM)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                urllib.request.urlopen(health_url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def chroma_server(path: Path, port: int | None = None) -> Iterator[str]:
    """`chroma run` on 127.0.0.1 with its database at `path`; yields its URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [venv_command("chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
               "--port", str(port)]
    with running(command, f"{url}/api/v2/heartbeat", path.with_suffix(".log"),
                 env={"ANONYMIZED_TELEMETRY": "False"}):
        yield url


@contextmanager
def transformers_server(model_dir: str, log: Path) -> Iterator[str]:
    """`transformers serve` with one model on 127.0.0.1; yields its /v1 URL. The model's name
    on the server is `model_dir`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [venv_command("transformers"), "serve", model_dir, "--host", "127.0.0.1",
               "--port", str(port), "--device", "cpu"]
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
           "OTEL_SDK_DISABLED": "true"}
    with running(command, f"{url}/health", log, env=env, start_s=180):
        yield f"{url}/v1"
