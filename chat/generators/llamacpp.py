"""The llama.cpp backend (the default): GGUF models run in this process by xllamacpp, a
prebuilt llama.cpp (one wheel, no compiler).

xllamacpp wraps llama.cpp's own server: requests are OpenAI-style chat completions handled in
process, with the GGUF's chat template, llama.cpp's prompt cache (a slot keeps its last
prompt, so the shared beginning of docchat's prompts is read once) and `parallel` slots
decoding concurrent answers in one batch (more questions than slots wait in its queue).

That server also listens for HTTP, always. docchat makes it listen on a Unix socket in a
private directory (mode 0700), behind a random key, with its web UI and its slot, metrics
and props endpoints off, so nothing on the network or on this machine can reach the model
through it. docchat uses the socket for one thing the in-process calls lack: counting
tokens (`/tokenize`).
"""

from __future__ import annotations

import math
import os
import queue
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from chat.config import DEFAULT_THREADS
from chat.generators.base import Piece, TextStream
from chat.generators.source import BUNDLED, resolve_model
from ingest.errors import ModelError

CHAT_TEMPLATE_MARGIN = 64  # tokens the chat template adds around the messages
_DONE = object()
_JOIN_S = 5.0  # how long closing a stream waits for llama.cpp to cancel the generation
TOP_TOKENS = 10  # candidates next_token_probabilities reports
# llama.cpp keeps earlier prompts' states in RAM to restore one that comes again (the same
# question asked again reads its ~500-token prompt at once instead of in ~8 s). Its default
# cap is 8 GiB, and with the 1.5B model each distinct question added ~17 MB (`python -m
# evals prompt-cache`): a long-running `docchat serve` would grow to 10 GB. This cap keeps
# the last dozen or so prompts.
PROMPT_CACHE_MIB = 256


class LlamaCppGenerator:
    local = True
    reports_margins = True  # its stream yields base.Piece with each token's margin

    def __init__(
        self, model: str = BUNDLED, *, cache_dir: Path, context_tokens: int,
        max_new_tokens: int, threads: int | None = None, parallel: int = 1,
        prompt_cache_mib: int = PROMPT_CACHE_MIB,
    ) -> None:
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.slot_tokens = context_tokens + max_new_tokens + CHAT_TEMPLATE_MARGIN
        self.threads = threads or DEFAULT_THREADS
        self.parallel = parallel
        self.prompt_cache_mib = prompt_cache_mib
        self._key = secrets.token_urlsafe(32)
        self._socket_dir: str | None = None

    @cached_property
    def model_path(self) -> Path:
        path = resolve_model(self.model_name, self.cache_dir).gguf_path
        if path is None:
            raise ModelError(
                f'generator.backend = "llamacpp" needs a GGUF file or a model docchat knows by '
                f'name; got {self.model_name!r}. For a transformers model directory or hub id '
                'set generator.backend = "transformers".'
            )
        return path

    @cached_property
    def _server(self) -> Any:
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise ModelError('generator.backend = "llamacpp" needs xllamacpp: '
                             "`pip install xllamacpp` (make installs it).") from exc
        path = self.model_path
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_parallel = self.parallel
        params.n_ctx = self.slot_tokens * self.parallel  # each slot gets slot_tokens
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = self.threads
        params.cache_ram_mib = self.prompt_cache_mib
        params.verbosity = -1  # llama.cpp's own log says every step; errors reach us as results
        self._socket_dir = tempfile.mkdtemp(prefix="docchat-llama-")  # mode 0700
        weakref.finalize(self, shutil.rmtree, self._socket_dir, True)
        params.hostnames = [os.path.join(self._socket_dir, "llama.sock")]
        params.api_keys = [self._key]
        params.ui = False
        params.endpoint_slots = params.endpoint_metrics = params.endpoint_props = False
        try:
            return xlc.Server(params)
        except Exception as exc:
            self.close()
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc

    @cached_property
    def _http(self) -> Any:
        import httpx

        server = self._server
        socket = server.listening_address.removeprefix("unix://")
        return httpx.Client(transport=httpx.HTTPTransport(uds=socket), base_url="http://llama",
                            headers={"Authorization": f"Bearer {self._key}"}, timeout=60)

    def load(self) -> None:
        _ = self._server

    def close(self) -> None:
        """Stop llama.cpp and remove its socket (also done when the process ends)."""
        if "_http" in self.__dict__:
            self.__dict__.pop("_http").close()
        self.__dict__.pop("_server", None)  # its destructor stops llama.cpp's loop
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def count_tokens(self, text: str) -> int:
        response = self._http.post("/tokenize", json={"content": text, "add_special": False})
        if response.status_code != 200:
            raise ModelError(f"llama.cpp could not count tokens: HTTP {response.status_code} "
                             f"{response.text[:200]}")
        return len(response.json()["tokens"])

    def next_token_probabilities(self, messages: Sequence[dict[str, str]]) -> dict[str, float]:
        """One token of the reply, greedy, with llama.cpp's top candidates. The prompt cache
        makes it nearly free before an answer to the same excerpts."""
        body = {"messages": list(messages), "max_tokens": 1, "temperature": 0.0,
                "cache_prompt": True, "logprobs": True, "top_logprobs": TOP_TOKENS}
        try:
            reply = self._server.handle_chat_completions(body)
            content = reply["choices"][0]["logprobs"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"llama.cpp gave no token probabilities: {exc}") from exc
        candidates = content[0]["top_logprobs"] if content else []
        return {c["token"]: math.exp(c["logprob"]) for c in candidates}

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_new_tokens: int, temperature: float
    ) -> TextStream:
        server = self._server
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()
        # Each token's two likeliest candidates: how sure the model was (chat.judge.certainty)
        body = {"messages": list(messages), "max_tokens": max_new_tokens,
                "temperature": temperature, "stream": True, "cache_prompt": True,
                "logprobs": True, "top_logprobs": 2}
        pending: list[float] = []  # margins of tokens whose text is not complete yet

        def on_chunk(data: dict) -> bool:  # llama.cpp's thread; True stops (and cancels) it
            if "choices" not in data:
                pieces.put(ModelError(f"llama.cpp generation failed: {_error_text(data)}"))
                return True
            choice = data["choices"][0]
            pending.extend(_margins(choice))
            content = choice.get("delta", {}).get("content")
            if content:
                pieces.put(Piece(content, pending))
                pending.clear()
            return stop.is_set()

        def run() -> None:
            try:
                server.handle_chat_completions(body, on_chunk)
            except Exception as exc:  # handed to the consumer below
                pieces.put(ModelError(f"llama.cpp generation failed: {exc}"))
            finally:
                pieces.put(_DONE)

        worker = threading.Thread(target=run, name="llama.cpp stream", daemon=True)
        worker.start()
        try:
            while (item := pieces.get()) is not _DONE:
                if isinstance(item, ModelError):
                    raise item
                yield item
        finally:
            # The consumer may stop early (an echo, a repeat, the user's Stop): the next token
            # returns True from on_chunk, and llama.cpp cancels the generation.
            stop.set()
            worker.join(_JOIN_S)


def _margins(choice: dict) -> list[float]:
    """The margins of the tokens a streamed chunk reports (the first token's come with the
    role's chunk, before its text); none where the chunk has none or another shape. An
    exception here would end llama.cpp's generation silently (its callback wrapper cancels
    on any error), so a chunk that cannot be read only loses its margins."""
    try:
        return [_margin(token) for token in (choice.get("logprobs") or {}).get("content") or ()]
    except (KeyError, TypeError, ValueError, AttributeError):
        return []


def _margin(token: dict) -> float:
    """The chosen token's probability minus the likeliest other candidate's (negative only
    when sampling chose a less likely token). Candidates are told apart by id: a token's
    text may carry bytes held back from the one before (a character split in two)."""
    def same(candidate: dict) -> bool:
        if "id" in candidate and "id" in token:
            return candidate["id"] == token["id"]
        return candidate["token"] == token["token"]

    others = [c["logprob"] for c in token.get("top_logprobs") or () if not same(c)]
    return math.exp(token["logprob"]) - (math.exp(max(others)) if others else 0.0)


def _error_text(data: dict) -> str:
    error = data.get("error", data)
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error)[:300]
