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

import itertools
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat.prompt import PromptTooLong
from chat.types import Answer, AnswerEvent, TokenEvent
from ingest.errors import DocchatError
from ingest.types import neighbour_ids
from ui.documents_api import add_document_routes
from ui.links import FileLinks, PageRenders, RenderBusy
from ui.markup import StreamDefang, safe_markdown
from ui.page_view import PageNotFound, context_html, page_url, render_page, shows_page
from ui.render import after_stream
from ui.security import Policy, Refused, error_body

if TYPE_CHECKING:
    from chat.app import DocChat
    from ui.sessions import Sessions

log = logging.getLogger(__name__)

MODEL_ID = "docchat"
INTERNAL_ERROR = "Internal error; the server log has the details."


def _encodable(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"); they are not text and cannot be encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains invalid Unicode (a lone surrogate)") from None
    return text


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")  # image_url etc.: accepted, not read

    type: str
    text: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _encodable(value)

    @model_validator(mode="after")
    def _text_parts_have_text(self) -> "ContentPart":
        if self.type == "text" and self.text is None:
            raise ValueError('a "text" content part needs a string "text"')
        return self


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None

    @field_validator("content")
    @classmethod
    def _content(cls, value):
        return _encodable(value) if isinstance(value, str) else value

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, top_p, ...: the pipeline decides

    model: str = Field(MODEL_ID, max_length=200)
    messages: list[Message] = Field(min_length=1, max_length=1000)
    stream: bool = False

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return _encodable(value)


def build_api(sessions: "Sessions", policy: Policy, links: FileLinks) -> FastAPI:
    """The API. Authentication, Host names and body sizes are checked before any route by
    ui.security.Guard (installed by ui.serve); the routes check what only they can see."""
    def collections() -> list[str]:
        state = sessions.base.state
        return sorted(set(state.collections()) | {sessions.base.settings.collection})

    def app_for(model: str) -> "DocChat":
        name = sessions.base.settings.collection if model == MODEL_ID else \
            model.removeprefix(f"{MODEL_ID}/") if model.startswith(f"{MODEL_ID}/") else None
        if name is None or name not in collections():
            known = ", ".join([MODEL_ID, *(f"{MODEL_ID}/{c}" for c in collections())])
            raise HTTPException(404, detail=error_body(
                f"That model does not exist. Models: {known} (\"{MODEL_ID}\" is "
                f"collection {sessions.base.settings.collection!r}).", "model_not_found"))
        return sessions.app(sessions.default().with_(collection=name))

    app = FastAPI(title="docchat", docs_url=None, redoc_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else error_body(
            str(exc.detail), _CODES.get(exc.status_code, "error"))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Say what is wrong and where, never echo the input (it may be megabytes).
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {str(err.get('msg', 'invalid'))[:200]}")
        return JSONResponse(error_body("Invalid request: " + "; ".join(problems),
                                       "invalid_request_error"), status_code=400)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return JSONResponse(error_body(INTERNAL_ERROR, "server_error"), status_code=500)

    @app.get("/v1/models")
    def models() -> dict:
        ids = [MODEL_ID, *(f"{MODEL_ID}/{c}" for c in collections())]
        return {"object": "list", "data": [
            {"id": i, "object": "model", "created": 0, "owned_by": "docchat"} for i in ids]}

    @app.post("/v1/chat/completions")
    def completions(request: ChatRequest):
        question, history = _split(request.messages)
        if not question:
            raise HTTPException(400, detail=error_body("The last message must be a user "
                                                       "message with text.",
                                                       "invalid_request_error"))
        try:
            history, dropped = policy.conversation(question, history)
        except Refused as exc:
            raise HTTPException(exc.status, detail=error_body(str(exc), exc.code)) from None
        docchat = app_for(request.model)
        events = docchat.pipeline.ask(question, history=history)
        try:  # the question's own faults (too long for the model) are the client's: 400
            first = next(events)
        except PromptTooLong as exc:
            raise HTTPException(400, detail=error_body(str(exc), "context_length_exceeded")) \
                from None
        except DocchatError as exc:
            raise HTTPException(400, detail=error_body(str(exc), "invalid_request_error")) \
                from None
        events = itertools.chain([first], events)
        note = (f"{dropped} earlier message(s) were left out of the conversation "
                f"(server.max_history_chars).") if dropped else None
        reply = _Reply(request.model, docchat, links, policy, note)
        if request.stream:
            return StreamingResponse(reply.sse(events), media_type="text/event-stream")
        try:
            answer = _final(events)
        except DocchatError as exc:
            raise HTTPException(503, detail=error_body(str(exc), "server_error")) from exc
        return reply.completion(answer)

    @app.api_route("/v1/chat/completions", methods=["GET", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    @app.api_route("/v1/models", methods=["POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def wrong_method(request: Request):
        raise HTTPException(405, detail=error_body(
            f"{request.method} is not allowed here.", "method_not_allowed"),
            headers={"Allow": "POST" if request.url.path.endswith("completions") else "GET"})

    add_document_routes(app, sessions, policy)  # /v1/documents: ui.documents_api

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def unknown(rest: str):  # /v1 is the API's: never fall through to the web chat
        raise HTTPException(404, detail=error_body("No such API route.", "not_found"))

    pages = PageRenders(render_page)

    def indexed_chunk(collection: str, chunk_id: str, sig: str):
        """The chunk a signed link names and its file, if that file is still indexed."""
        if not links.valid(collection, chunk_id, sig):
            raise HTTPException(403, detail=error_body("This link is not valid.", "forbidden"))
        docchat = sessions.app(sessions.default().with_(collection=collection))
        found = docchat.store.get([chunk_id])
        source = found[0].metadata["source"] if found else None
        # The file itself, not a link put in its place since it was indexed (the source is a
        # resolved path): a link would serve whatever it points to.
        if source is None or source not in docchat.state.files() or not Path(source).is_file() \
                or Path(source).resolve() != Path(source):
            raise HTTPException(404, detail=error_body("The file is no longer indexed.",
                                                       "not_found"))
        return found[0], Path(source)

    @app.get("/files/{collection}/{chunk_id}")
    def original_file(collection: str, chunk_id: str, sig: str = ""):
        """The original file of a source, only for links docchat signed (and not expired),
        and only for files indexed in that collection that still exist."""
        return _file_response(indexed_chunk(collection, chunk_id, sig)[1])

    @app.get("/files/{collection}/{chunk_id}/page")
    def cited_page(collection: str, chunk_id: str, sig: str = ""):
        """The PDF page a source comes from, as an image with its passage highlighted
        (ui.page_view); same signed link as the file."""
        chunk, path = indexed_chunk(collection, chunk_id, sig)
        page = chunk.metadata.get("page")
        if path.suffix.lower() != ".pdf" or not page:
            raise HTTPException(404, detail=error_body("This source has no PDF page to show.",
                                                       "not_found"))
        try:
            image = pages.get(path, int(page), chunk.page_content)
        except PageNotFound as exc:
            raise HTTPException(404, detail=error_body(str(exc), "not_found")) from exc
        except RenderBusy as exc:
            raise HTTPException(503, detail=error_body(str(exc), "server_busy"),
                                headers={"Retry-After": "5"}) from exc
        return Response(image.png, media_type="image/png", headers={
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})

    @app.get("/files/{collection}/{chunk_id}/context")
    def cited_context(collection: str, chunk_id: str, sig: str = ""):
        """The passage marked between its neighbouring passages (any format)."""
        chunk, path = indexed_chunk(collection, chunk_id, sig)
        docchat = sessions.app(sessions.default().with_(collection=collection))
        before_id, after_id = neighbour_ids(chunk_id)
        around = {d.id: d for d in docchat.store.get([i for i in (before_id, after_id) if i])
                  if d.metadata.get("source") == chunk.metadata["source"]}
        text = lambda i: around[i].page_content if i in around else ""  # noqa: E731
        section = chunk.metadata.get("section", "")
        title = f"{path.name} — {section}" if section else path.name
        page = context_html(title, text(before_id), chunk.page_content, text(after_id))
        return Response(page, media_type="text/html; charset=utf-8", headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff"})

    return app


_CODES = {404: "not_found", 405: "method_not_allowed", 401: "invalid_api_key",
          403: "forbidden", 413: "request_too_large"}


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

    def __init__(self, model: str, docchat: "DocChat", links: FileLinks, policy: Policy,
                 note: str | None = None) -> None:
        self.model, self.collection, self.links = model, docchat.settings.collection, links
        self.docchat, self.policy, self.note = docchat, policy, note

    def completion(self, answer: Answer) -> dict:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant",
                                     "content": safe_markdown(answer.text)}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **self.evidence(answer),
        }

    def evidence(self, answer: Answer) -> dict:
        shown = self.policy.display_paths(sorted(self.docchat.state.files())
                                          + [s.source for s in answer.sources])
        sources = []
        for s in answer.sources:
            url = self.links.url(self.collection, s.chunk_id)
            sources.append(dict(s.public(), source=shown[s.source], url=url,
                                page_url=page_url(url) if shows_page(s) else None,
                                context_url=page_url(url, "context")))
        warnings = [*answer.warnings, *([self.note] if self.note else [])]
        return {
            "sources": sources,
            "docchat": {"query": answer.query, "cited": list(answer.cited),
                        "outcome": answer.outcome, "abstained": answer.abstained,
                        "summary_of": shown.get(answer.summary_of),
                        "collection": self.collection,
                        "extractive": answer.extractive, "warnings": warnings,
                        "unsupported": [s.text for s in answer.unsupported],
                        # the model's own text (also when docchat replaced it), where the
                        # time went and what decided the outcome, as `docchat ask --json`
                        # gives them
                        "generated": answer.generated, "timings": answer.timings,
                        "evidence": answer.evidence, "judged": answer.judged,
                        "verified": answer.verified, "certainty": answer.certainty},
        }

    def sse(self, events: Iterator) -> Iterator[str]:
        """Chunks as the model writes; then whatever the checks added (as the CLI prints it),
        and a last chunk with finish_reason and the sources. Any error ends the stream with
        an error event and [DONE]."""
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created,
                    "model": self.model, "choices": [{"index": 0, "delta": delta,
                                                      "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        streamed = ""
        # Clients render content as Markdown before docchat has checked it: no HTML, no
        # images (ui.markup).
        defang = StreamDefang()
        try:
            for event in events:
                if isinstance(event, TokenEvent):
                    streamed += event.text
                    safe = defang.feed(event.text)
                    if safe:
                        yield chunk({"content": safe})
                elif isinstance(event, AnswerEvent):
                    tail = defang.feed(after_stream(streamed, event.answer.text)) \
                        + defang.flush()
                    if tail:
                        yield chunk({"content": tail})
                    yield chunk({}, "stop", **self.evidence(event.answer))
        except DocchatError as exc:
            yield f"data: {json.dumps(error_body(str(exc), 'server_error'))}\n\n"
        except Exception:  # the client gets an error event, the log the details
            log.exception("internal error while streaming an answer")
            yield f"data: {json.dumps(error_body(INTERNAL_ERROR, 'server_error'))}\n\n"
        yield "data: [DONE]\n\n"
