"""An OpenAI-compatible HTTP API over docchat's answering pipeline (FastAPI).

`POST /v1/chat/completions` (streaming as server-sent events, or not) answers the last user
message from the documents, with the earlier messages as the conversation; the response is
an ordinary chat completion plus `sources` (and `docchat`: cited numbers, abstention,
warnings), so any OpenAI client works and a docchat-aware one gets the evidence. `GET
/v1/models` lists the models (below). With `server.api_key` set, every request needs
`Authorization: Bearer <key>`. `docchat serve` mounts the Gradio web chat on the same app.

Collections are models: "docchat" answers from the configured collection, "docchat/<name>"
from collection <name>, so any OpenAI client's model picker chooses the collection. Each
source carries a signed `url` to its original file (`/files/<collection>/<chunk id>`).

FastAPI is imported at the top (it reads the endpoints' annotations at run time); only the
serving commands import this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chat.types import Answer, AnswerEvent, TokenEvent
from ingest.errors import DocchatError
from ui.render import after_stream

if TYPE_CHECKING:
    from chat.app import DocChat
    from ui.sessions import Sessions

MODEL_ID = "docchat"


class FileLinks:
    """Signed links to original files: a link opens one indexed file, and only that one."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def url(self, collection: str, chunk_id: str) -> str:
        return f"/files/{collection}/{chunk_id}?sig={self._sign(collection, chunk_id)}"

    def valid(self, collection: str, chunk_id: str, sig: str) -> bool:
        return secrets.compare_digest(sig.encode(), self._sign(collection, chunk_id).encode())

    def _sign(self, collection: str, chunk_id: str) -> str:
        message = f"{collection}/{chunk_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p, ...: the pipeline decides

    model: str = MODEL_ID
    messages: list[Message] = Field(min_length=1)
    stream: bool = False


def build_api(sessions: "Sessions", api_key: str | None, links: FileLinks) -> FastAPI:
    def collections() -> list[str]:
        state = sessions.base.state
        return sorted(set(state.collections()) | {sessions.base.settings.collection})

    def app_for(model: str) -> "DocChat":
        name = sessions.base.settings.collection if model == MODEL_ID else \
            model.removeprefix(f"{MODEL_ID}/") if model.startswith(f"{MODEL_ID}/") else None
        if name is None or name not in collections():
            known = ", ".join([MODEL_ID, *(f"{MODEL_ID}/{c}" for c in collections())])
            raise HTTPException(404, detail=_error(
                f"The model {model!r} does not exist. Models: {known} (\"{MODEL_ID}\" is "
                f"collection {sessions.base.settings.collection!r}).", "model_not_found"))
        return sessions.app(sessions.default().with_(collection=name))

    def authorised(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
            raise HTTPException(401, detail=_error("Missing or wrong API key: send "
                                                   "'Authorization: Bearer <server.api_key>'.",
                                                   "invalid_api_key"))

    app = FastAPI(title="docchat", docs_url=None, redoc_url=None)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else _error(str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code)

    @app.get("/v1/models", dependencies=[Depends(authorised)])
    def models() -> dict:
        ids = [MODEL_ID, *(f"{MODEL_ID}/{c}" for c in collections())]
        return {"object": "list", "data": [
            {"id": i, "object": "model", "created": 0, "owned_by": "docchat"} for i in ids]}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorised)])
    def completions(request: ChatRequest):
        question, history = _split(request.messages)
        if not question:
            raise HTTPException(400, detail=_error("The last message must be a user message "
                                                   "with text.", "invalid_request_error"))
        docchat = app_for(request.model)
        events = docchat.pipeline.ask(question, history=history)
        reply = _Reply(request.model, docchat.settings.collection, links)
        if request.stream:
            return StreamingResponse(reply.sse(events), media_type="text/event-stream")
        try:
            answer = _final(events)
        except DocchatError as exc:
            raise HTTPException(503, detail=_error(str(exc), "server_error")) from exc
        return reply.completion(answer)

    @app.get("/files/{collection}/{chunk_id}")
    def original_file(collection: str, chunk_id: str, sig: str = ""):
        """The original file of a source, only for links docchat signed, and only for files
        indexed in that collection that still exist."""
        if not links.valid(collection, chunk_id, sig):
            raise HTTPException(403, detail=_error("This link is not valid.", "forbidden"))
        docchat = sessions.app(sessions.default().with_(collection=collection))
        found = docchat.store.get([chunk_id])
        source = found[0].metadata["source"] if found else None
        if source is None or source not in docchat.state.files() or not Path(source).is_file():
            raise HTTPException(404, detail=_error("The file is no longer indexed.", "not_found"))
        return _file_response(Path(source))

    return app


# Opened in the browser: formats that cannot run script. Everything else is downloaded.
_INLINE = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
           ".jpeg": "image/jpeg", ".txt": "text/plain; charset=utf-8"}


def _file_response(path: Path) -> FileResponse:
    media = _INLINE.get(path.suffix.lower())
    response = FileResponse(path, media_type=media or "application/octet-stream",
                            filename=path.name,
                            content_disposition_type="inline" if media else "attachment")
    # A document is never trusted as part of the app: no scripts, no sniffing.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; " \
        "img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; plugin-types application/pdf"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _split(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """The question (last user message) and the conversation before it."""
    if messages[-1].role != "user":
        return "", []
    history = [{"role": m.role, "content": m.text()} for m in messages[:-1]
               if m.role in ("user", "assistant") and m.text()]
    return messages[-1].text().strip(), history


def _final(events: Iterator) -> Answer:
    answer = None
    for event in events:
        if isinstance(event, AnswerEvent):
            answer = event.answer
    assert answer is not None  # the pipeline always ends with an AnswerEvent
    return answer


class _Reply:
    """An answer as the OpenAI API shapes it, plus the sources (with file links) and checks."""

    def __init__(self, model: str, collection: str, links: FileLinks) -> None:
        self.model, self.collection, self.links = model, collection, links

    def completion(self, answer: Answer) -> dict:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer.text}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **self.evidence(answer),
        }

    def evidence(self, answer: Answer) -> dict:
        sources = [dict(asdict(s), url=self.links.url(self.collection, s.chunk_id))
                   for s in answer.sources]
        return {
            "sources": sources,
            "docchat": {"query": answer.query, "cited": list(answer.cited),
                        "abstained": answer.abstained, "collection": self.collection,
                        "extractive": answer.extractive, "warnings": list(answer.warnings),
                        "unsupported": [s.text for s in answer.unsupported]},
        }

    def sse(self, events: Iterator) -> Iterator[str]:
        """Chunks as the model writes; then whatever the checks added (as the CLI prints it),
        and a last chunk with finish_reason and the sources. Errors end the stream with an
        error."""
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created,
                    "model": self.model, "choices": [{"index": 0, "delta": delta,
                                                      "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        streamed = ""
        try:
            for event in events:
                if isinstance(event, TokenEvent):
                    streamed += event.text
                    yield chunk({"content": event.text})
                elif isinstance(event, AnswerEvent):
                    tail = after_stream(streamed, event.answer.text)
                    if tail:
                        yield chunk({"content": tail})
                    yield chunk({}, "stop", **self.evidence(event.answer))
        except DocchatError as exc:
            yield f"data: {json.dumps(_error(str(exc), 'server_error'))}\n\n"
        yield "data: [DONE]\n\n"


def _error(message: str, code: str = "error") -> dict:
    return {"error": {"message": message, "type": code, "code": code}}
