"""The web chat's Settings tab: collection (choose, create, delete), retrieval (k, hybrid
weights, reranker) and generator (one of the configured ones, by name), for this browser
session only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat.settings import valid_collection_name
from ingest.errors import DocchatError
from ingest.state import IngestState

if TYPE_CHECKING:
    from ui.sessions import Choice, Sessions


def collection_names(sessions: "Sessions", current: str) -> list[str]:
    state = IngestState(sessions.base.settings.state_file, current)
    return sorted(set(state.collections()) | {current})


def settings_tab(sessions: "Sessions", choice, answers) -> None:
    import gradio as gr

    start = sessions.default()

    def apply(chosen: "Choice", collection, k, dense, bm25, rerank, generator):
        try:
            new = chosen.with_(collection=str(collection), k=int(k), dense_weight=float(dense),
                               bm25_weight=float(bm25), rerank=bool(rerank),
                               generator=str(generator))
            sessions.app(new)
        except (TypeError, ValueError):
            return chosen, "⚠ Those settings are not valid.", gr.skip()
        except DocchatError as exc:
            return chosen, f"⚠ {exc}", gr.skip()
        keep = {} if new.collection != chosen.collection else gr.skip()
        return new, f"Applied: collection {new.collection}, k={new.k}.", keep

    def create(name: str, chosen: "Choice"):
        name = (name or "").strip()
        if not valid_collection_name(name):
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
        # allow_custom_value on dropdowns: Gradio would answer a crafted value with the list
        # of choices; the handlers check values themselves.
        collection = gr.Dropdown(collection_names(sessions, start.collection),
                                 value=start.collection, label="Collection",
                                 elem_id="collection", allow_custom_value=True)
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
    generator = gr.Dropdown(
        [(_generator_label(sessions, name), name) for name in sessions.generator_names()],
        value=start.generator, label="Generator", elem_id="generator", allow_custom_value=True,
        info="The generators configured in [generator] and [generators.NAME].")
    apply_button = gr.Button("Apply", variant="primary", elem_id="apply-settings")
    status = gr.Markdown(elem_id="settings-status")
    fields = [collection, k, dense, bm25, rerank, generator]
    apply_button.click(apply, [choice, *fields], [choice, status, answers], api_name=False)
    create_button.click(create, [new_name, choice], [choice, status, collection, answers],
                        api_name=False)
    delete_button.click(delete, [choice, confirm], [choice, status, collection, confirm],
                        api_name=False)


def _generator_label(sessions: "Sessions", name: str) -> str:
    cfg = sessions.base.settings.generator_named(name)
    return f"{name} ({cfg.backend}, {cfg.model})"
