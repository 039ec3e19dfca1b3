"""The document API beside /v1/chat/completions: add files over HTTP, list them, remove one,
re-sync a folder the configuration allows.

    POST   /v1/documents            multipart: one or more `files`, optional `collection`
    GET    /v1/documents            ?collection=NAME: indexed files with chunk counts
    DELETE /v1/documents/{id}       ?collection=NAME
    POST   /v1/documents/sync       JSON {"path": ..., "collection": ...}: under server.sync_roots

Uploads get the web chat's checks (ui.uploads: type by content, size, zip bombs, safe names)
and are kept in the same folder; ui.security.Guard has already checked the key, the Host and
the body size. A document's id is derived from its indexed path, so it is stable across
re-ingests and reveals nothing of the path.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Form, HTTPException, UploadFile
from pydantic import BaseModel, ConfigDict

from chat.settings import valid_collection_name
from ingest.errors import IngestBusyError
from ingest.types import IngestReport
from ui.security import UPLOAD_FILES_PER_REQUEST, Policy, Refused, error_body
from ui.uploads import UploadError, accept, discard_upload

if TYPE_CHECKING:
    from chat.app import DocChat
    from ui.sessions import Sessions


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    collection: str | None = None


def document_id(source: str) -> str:
    return "doc-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]


def add_document_routes(app: FastAPI, sessions: "Sessions", policy: Policy) -> None:
    def collection_app(name: str | None) -> "DocChat":
        name = name or sessions.base.settings.collection
        if not valid_collection_name(name):
            raise HTTPException(400, detail=error_body(
                f"{name[:80]!r} is not a valid collection name (letters, digits, '.', '_', "
                "'-'; 3 to 63 characters).", "invalid_request_error"))
        return sessions.app(sessions.default().with_(collection=name))

    def results(report: IngestReport, names: dict[str, str]) -> list[dict]:
        return [{"id": document_id(r.path), "object": "document",
                 "filename": names.get(r.path, Path(r.path).name), "status": r.status,
                 "chunks": r.chunks, "reason": r.reason, "notes": list(r.notes)}
                for r in report.results]

    @app.post("/v1/documents")
    def add(files: list[UploadFile], collection: str | None = Form(None)) -> dict:
        if not files:
            raise HTTPException(400, detail=error_body("Send one or more files as `files`.",
                                                       "invalid_request_error"))
        if len(files) > UPLOAD_FILES_PER_REQUEST:
            raise HTTPException(400, detail=error_body(
                f"At most {UPLOAD_FILES_PER_REQUEST} files per request.",
                "invalid_request_error"))
        docchat = collection_app(collection)
        folder = docchat.settings.data_dir / "uploads" / docchat.settings.collection
        refused, kept = [], {}
        with tempfile.TemporaryDirectory(prefix="docchat-api-") as scratch:
            for i, upload in enumerate(files):
                name = upload.filename or f"upload-{i}"
                spooled = Path(scratch) / f"{i}"
                with spooled.open("wb") as out:
                    shutil.copyfileobj(upload.file, out)
                try:
                    accepted = accept(spooled, name, folder, policy.max_upload_bytes)
                except UploadError as exc:
                    refused.append({"id": None, "object": "document", "filename": name,
                                    "status": "refused", "chunks": 0, "reason": exc.reason,
                                    "notes": []})
                    continue
                kept[str(accepted.path.resolve())] = name
        with _conflict_when_busy():
            report = docchat.ingestor.ingest([Path(p) for p in kept]) if kept \
                else IngestReport()
        return {"object": "list", "collection": docchat.settings.collection,
                "data": refused + results(report, kept)}

    @app.get("/v1/documents")
    def listing(collection: str | None = None) -> dict:
        docchat = collection_app(collection)
        files = docchat.state.files()
        shown = policy.display_paths(sorted(files))
        return {"object": "list", "collection": docchat.settings.collection, "data": [
            {"id": document_id(source), "object": "document", "filename": Path(source).name,
             "path": shown[source], "chunks": chunks, "status": "indexed"}
            for source, chunks in sorted(files.items())]}

    @app.delete("/v1/documents/{doc_id}")
    def delete(doc_id: str, collection: str | None = None) -> dict:
        docchat = collection_app(collection)
        by_id = {document_id(source): source for source in docchat.state.files()}
        if doc_id not in by_id:
            raise HTTPException(404, detail=error_body("No such document in this collection.",
                                                       "not_found"))
        with _conflict_when_busy():
            docchat.ingestor.remove_sources([by_id[doc_id]])
        discard_upload(by_id[doc_id], docchat.settings.data_dir)
        return {"id": doc_id, "object": "document", "deleted": True}

    @app.post("/v1/documents/sync")
    def sync(request: SyncRequest) -> dict:
        docchat = collection_app(request.collection)
        try:
            target = policy.sync_target(request.path)
        except Refused as exc:
            raise HTTPException(exc.status, detail=error_body(str(exc), exc.code)) from None
        with _conflict_when_busy():
            report = docchat.ingestor.ingest([target], prune=True, confine=policy.sync_roots)
        shown = policy.display_paths([r.path for r in report.results])
        data = results(report, {})
        for row, r in zip(data, report.results):
            row["path"] = shown.get(r.path, row["filename"])
        return {"object": "list", "collection": docchat.settings.collection, "data": data}


@contextmanager
def _conflict_when_busy():
    """Another run writing the collection is a 409 with the reason (retry later)."""
    try:
        yield
    except IngestBusyError as exc:
        raise HTTPException(409, detail=error_body(str(exc), "conflict")) from None
