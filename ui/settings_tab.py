"""The web chat's Settings tab: collection (choose, create, delete), retrieval (k, hybrid
weights, reranker) and generator (backend, model), for this browser session only."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ingest.errors import DocchatError
from ingest.state import IngestState

if TYPE_CHECKING:
    from ui.sessions import Choice, Sessions

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")  # as chat.settings checks


def collection_names(sessions: "Sessions", current: str) -> list[str]:
    state = IngestState(sessions.base.settings.state_file, current)
    return sorted(set(state.collections()) | {current})


def settings_tab(sessions: "Sessions", choice, answers) -> None:
    import gradio as gr

    start = sessions.default()

    def apply(chosen: "Choice", collection, k, dense, bm25, rerank, backend, model, base_url):
        new = chosen.with_(collection=collection, k=int(k), dense_weight=float(dense),
                           bm25_weight=float(bm25), rerank=bool(rerank), backend=backend,
                           model=(model or "").strip() or "bundled",
                           base_url=(base_url or "").strip())
        try:
            sessions.app(new)
        except DocchatError as exc:
            return chosen, f"⚠ {exc}", gr.skip()
        keep = {} if new.collection != chosen.collection else gr.skip()
        return new, f"Applied: collection {new.collection}, k={new.k}.", keep

    def create(name: str, chosen: "Choice"):
        name = (name or "").strip()
        if not _NAME.match(name):
            return chosen, "⚠ Use 3-63 letters, digits, '.', '_' or '-'.", gr.skip(), gr.skip()
        new = chosen.with_(collection=name)
        names = collection_names(sessions, name)
        return new, f"Collection {name} chosen: add files in the Documents tab.", \
            gr.update(choices=names, value=name), {}

    def delete(chosen: "Choice", confirmed: bool):
        if not confirmed:
            return chosen, "Tick the box to confirm: this deletes the collection's index " \
                           "(your files on disk stay).", gr.skip(), False
        count = sessions.app(chosen).ingestor.drop_collection()
        sessions.forget_collection(chosen.collection)
        new = chosen.with_(collection=sessions.default().collection)
        names = collection_names(sessions, new.collection)
        return new, f"Deleted collection {chosen.collection} ({count} files).", \
            gr.update(choices=names, value=new.collection), False

    with gr.Row():
        collection = gr.Dropdown(collection_names(sessions, start.collection),
                                 value=start.collection, label="Collection",
                                 elem_id="collection")
        new_name = gr.Textbox(label="New collection name", elem_id="new-collection")
        create_button = gr.Button("Create and choose", elem_id="create-collection")
    with gr.Row():
        confirm = gr.Checkbox(label="Yes, delete the chosen collection's index",
                              elem_id="confirm-delete")
        delete_button = gr.Button("Delete collection", variant="stop", elem_id="delete-collection")
    k = gr.Slider(1, 20, value=start.k, step=1, label="Sources per answer (k)", elem_id="k")
    with gr.Row():
        dense = gr.Slider(0, 3, value=start.dense_weight, step=0.1, label="Dense weight")
        bm25 = gr.Slider(0, 3, value=start.bm25_weight, step=0.1, label="BM25 weight")
    rerank = gr.Checkbox(value=start.rerank, label="Rerank with the cross-encoder",
                         interactive=sessions.reranker_available,
                         info=None if sessions.reranker_available else
                         "Set retrieval.reranker in docchat.toml to enable it.")
    with gr.Row():
        backend = gr.Dropdown(["transformers", "llamacpp", "openai"], value=start.backend,
                              label="Generator backend", elem_id="backend")
        model = gr.Textbox(value=start.model, label="Model (bundled, a path or a served name)")
        base_url = gr.Textbox(value=start.base_url, label="Server URL (openai backend)")
    apply_button = gr.Button("Apply", variant="primary", elem_id="apply-settings")
    status = gr.Markdown(elem_id="settings-status")
    fields = [collection, k, dense, bm25, rerank, backend, model, base_url]
    apply_button.click(apply, [choice, *fields], [choice, status, answers], api_name=False)
    create_button.click(create, [new_name, choice], [choice, status, collection, answers],
                        api_name=False)
    delete_button.click(delete, [choice, confirm], [choice, status, collection, confirm],
                        api_name=False)
