"""The web chat's Documents tab: upload files, see each one's result, list and remove the
collection's documents, re-sync a folder under the configured sync roots."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import DocchatError
from ui.security import Policy, Refused, UploadRegistry
from ui.uploads import UploadError, accept, discard_upload

if TYPE_CHECKING:
    from ui.sessions import Choice, Sessions

RESULT_COLUMNS = ["file", "result", "chunks", "details"]
DOCUMENT_COLUMNS = ["document", "chunks", "path"]


def documents_tab(sessions: "Sessions", choice, policy: Policy, registry: UploadRegistry):
    """Build the tab; returns (listing function, its outputs) to fill it when a page opens.
    Every action works on the session's chosen collection (`choice`, a gr.State)."""
    import gradio as gr

    def shown(chosen: "Choice") -> dict[str, str]:
        """Indexed file -> how it is shown (ui.security decides: relative by default)."""
        return policy.display_paths(sorted(sessions.app(chosen).state.files()))

    def listing(chosen: "Choice") -> tuple[list[list], dict]:
        files = sessions.app(chosen).state.files()
        names = policy.display_paths(sorted(files))
        rows = [[Path(source).name, chunks, names[source]] for source, chunks in files.items()]
        return rows, gr.update(choices=sorted(names.values()), value=None)

    def add(files: list[str] | None, chosen: "Choice", progress=gr.Progress()) -> tuple:
        docchat = sessions.app(chosen)
        folder = docchat.settings.data_dir / "uploads" / docchat.settings.collection
        rows: list[list] = []
        kept: dict[str, str] = {}  # stored path -> name as uploaded
        for upload in files or []:
            name = Path(upload).name
            try:
                # Only a file Gradio's upload route stored: a crafted request can name any
                # server path here.
                cached = policy.uploaded_file(upload, registry)
            except Refused as exc:
                rows.append([name, "refused", 0, str(exc)])
                continue
            try:
                accepted = accept(cached, name, folder, policy.max_upload_bytes)
            except UploadError as exc:
                rows.append([name, "refused", 0, exc.reason])
                continue
            finally:
                _forget_cached(cached, registry)  # copied or refused: not kept twice
            kept[str(accepted.path.resolve())] = name
        done = [0]

        def advance(result) -> None:
            done[0] += 1
            progress((done[0], max(1, len(kept))), desc=f"ingesting {Path(result.path).name}")

        if kept:
            try:
                report = docchat.ingestor.ingest([Path(p) for p in kept], progress=advance)
            except DocchatError as exc:
                rows.append(["", "failed", 0, str(exc)])
            else:
                for r in report.results:
                    details = r.reason or "; ".join(r.notes)
                    rows.append([kept.get(r.path, Path(r.path).name), r.status, r.chunks, details])
        return (rows, *listing(chosen), None)  # None empties the upload box for the next files

    def remove(picked: str | None, chosen: "Choice") -> tuple:
        by_shown = {v: k for k, v in shown(chosen).items()}
        if picked in by_shown:
            app = sessions.app(chosen)
            app.ingestor.remove_sources([by_shown[picked]])
            discard_upload(by_shown[picked], app.settings.data_dir)
        return listing(chosen)

    def resync(path: str, chosen: "Choice") -> tuple:
        try:
            target = policy.sync_target(path or "")
            report = sessions.app(chosen).ingestor.ingest([target], prune=True,
                                                          confine=policy.sync_roots)
        except DocchatError as exc:
            return [[path, "refused", 0, str(exc)]], *listing(chosen)
        rows = [[Path(r.path).name, r.status, r.chunks, r.reason or "; ".join(r.notes)]
                for r in report.results]
        return (rows, *listing(chosen))

    gr.Markdown(f"Files go into the collection chosen in Settings. Uploads are checked (type, "
                f"size up to {policy.max_upload_bytes // 1_000_000} MB) and kept under the "
                "data directory.")
    uploads = gr.File(label="Add files", file_count="multiple", elem_id="upload")
    add_button = gr.Button("Add to the collection", variant="primary", elem_id="add-files")
    results = gr.Dataframe(headers=RESULT_COLUMNS, label="Result per file", elem_id="results",
                           interactive=False, wrap=True)
    documents = gr.Dataframe(headers=DOCUMENT_COLUMNS, label="Documents", elem_id="documents",
                             interactive=False, wrap=True)
    with gr.Row():
        # allow_custom_value: Gradio's own check would answer a crafted value with the list
        # of choices; remove() looks the value up itself.
        picked = gr.Dropdown(label="Remove a document", choices=[], elem_id="remove-choice",
                             allow_custom_value=True)
        remove_button = gr.Button("Remove", elem_id="remove")
    if policy.sync_roots:
        roots = ", ".join(f"`{r}`" for r in policy.sync_roots)
        with gr.Row():
            sync_path = gr.Textbox(label="Re-sync a folder on the server (adds, updates, "
                                   "removes)", elem_id="sync-path",
                                   info=f"Folders under {roots} (server.sync_roots).")
            sync_button = gr.Button("Sync", elem_id="sync")
        sync_button.click(resync, [sync_path, choice], [results, documents, picked],
                          api_name=False)
    else:
        gr.Markdown("Re-syncing folders on the server is off: an administrator can list the "
                    "folders the web chat may read in `server.sync_roots`.", elem_id="sync-off")
    add_button.click(add, [uploads, choice], [results, documents, picked, uploads],
                     api_name=False)
    remove_button.click(remove, [picked, choice], [documents, picked], api_name=False)
    choice.change(listing, [choice], [documents, picked], api_name=False)
    return listing, [documents, picked]


def _forget_cached(cached: Path, registry: UploadRegistry) -> None:
    """Delete an upload from Gradio's cache (Gradio keeps each in a folder of its own)."""
    from gradio.utils import get_upload_folder

    registry.discard(cached)
    cached.unlink(missing_ok=True)
    parent = cached.parent
    if parent != Path(get_upload_folder()).resolve() and not any(parent.iterdir()):
        shutil.rmtree(parent, ignore_errors=True)
