"""The web chat's Documents tab: upload files, see each one's result, list and remove the
collection's documents, re-sync a folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import DocchatError
from ui.uploads import UploadError, accept

if TYPE_CHECKING:
    from ui.sessions import Choice, Sessions

RESULT_COLUMNS = ["file", "result", "chunks", "details"]
DOCUMENT_COLUMNS = ["document", "chunks", "path"]


def documents_tab(sessions: "Sessions", choice, max_upload_mb: int):
    """Build the tab; returns (listing function, its outputs) to fill it when a page opens.
    Every action works on the session's chosen collection (`choice`, a gr.State)."""
    import gradio as gr

    def listing(chosen: "Choice") -> tuple[list[list], dict]:
        files = sessions.app(chosen).state.files()
        rows = [[Path(source).name, chunks, source] for source, chunks in files.items()]
        return rows, gr.update(choices=sorted(files), value=None)

    def add(files: list[str] | None, chosen: "Choice", progress=gr.Progress()) -> tuple:
        docchat = sessions.app(chosen)
        folder = docchat.settings.data_dir / "uploads" / docchat.settings.collection
        rows: list[list] = []
        kept: dict[str, str] = {}  # stored path -> name as uploaded
        for upload in files or []:
            name = Path(upload).name
            try:
                accepted = accept(Path(upload), name, folder, max_upload_mb * 1_000_000)
            except UploadError as exc:
                rows.append([name, "refused", 0, exc.reason])
                continue
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

    def remove(source: str | None, chosen: "Choice") -> tuple:
        if source:
            sessions.app(chosen).ingestor.remove_sources([source])
        return listing(chosen)

    def resync(path: str, chosen: "Choice") -> tuple:
        target = Path((path or "").strip()).expanduser()
        if not path or not target.exists():
            return [[path, "failed", 0, "no such file or folder on the server"]], *listing(chosen)
        report = sessions.app(chosen).ingestor.ingest([target], prune=True)
        rows = [[Path(r.path).name, r.status, r.chunks, r.reason or "; ".join(r.notes)]
                for r in report.results]
        return (rows, *listing(chosen))

    gr.Markdown(f"Files go into the collection chosen in Settings. Uploads are checked (type, "
                f"size up to {max_upload_mb} MB) and kept under the data directory.")
    uploads = gr.File(label="Add files", file_count="multiple", elem_id="upload")
    add_button = gr.Button("Add to the collection", variant="primary", elem_id="add-files")
    results = gr.Dataframe(headers=RESULT_COLUMNS, label="Result per file", elem_id="results",
                           interactive=False, wrap=True)
    documents = gr.Dataframe(headers=DOCUMENT_COLUMNS, label="Documents", elem_id="documents",
                             interactive=False, wrap=True)
    with gr.Row():
        picked = gr.Dropdown(label="Remove a document", choices=[], elem_id="remove-choice")
        remove_button = gr.Button("Remove")
    with gr.Row():
        sync_path = gr.Textbox(label="Re-sync a folder on the server (adds, updates, removes)")
        sync_button = gr.Button("Sync")
    add_button.click(add, [uploads, choice], [results, documents, picked, uploads],
                     api_name="upload")
    remove_button.click(remove, [picked, choice], [documents, picked], api_name=False)
    sync_button.click(resync, [sync_path, choice], [results, documents, picked], api_name=False)
    choice.change(listing, [choice], [documents, picked], api_name=False)
    return listing, [documents, picked]
