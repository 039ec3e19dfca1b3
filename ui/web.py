"""The Gradio web chat: a streamed answer on the left, the sources it used on the right.

It only renders the pipeline's events; all answering logic lives in chat/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from chat.types import AnswerEvent, SourcesEvent, TokenEvent
from ingest.errors import DocchatError
from ui.render import sources_html

if TYPE_CHECKING:
    import gradio as gr

    from chat.app import DocChat

CSS = """
.dc-source { border: 1px solid var(--border-color-primary); border-radius: 6px;
             padding: 8px; margin-bottom: 8px; }
.dc-text { white-space: pre-wrap; font-size: 0.9em; max-height: 14em; overflow-y: auto; }
.dc-score { color: var(--body-text-color-subdued); font-size: 0.85em; }
.dc-cited { background: var(--color-accent-soft); border-radius: 4px; padding: 0 4px;
            font-size: 0.8em; }
"""


def conversation(history: list[dict]) -> list[dict[str, str]]:
    """The chat so far as plain {role, content} messages (Gradio may hold content as parts)."""
    out = []
    for message in history:
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(content, str) and message.get("role") in ("user", "assistant"):
            out.append({"role": message["role"], "content": content})
    return out


def build_app(docchat: "DocChat") -> "gr.Blocks":
    import gradio as gr

    def respond(message: str, history: list[dict]) -> Iterator[tuple[list[dict], str, str]]:
        message = (message or "").strip()
        if not message:
            yield history, gr.skip(), ""
            return
        earlier = conversation(history)
        history = history + [
            {"role": "user", "content": message},
            {"role": "assistant", "content": ""},
        ]
        panel = sources_html(())
        yield history, panel, ""
        try:
            for event in docchat.pipeline.ask(message, history=earlier):
                if isinstance(event, SourcesEvent):
                    panel = sources_html(event.sources)
                elif isinstance(event, TokenEvent):
                    history[-1]["content"] += event.text
                elif isinstance(event, AnswerEvent):
                    answer = event.answer
                    text = answer.text
                    if answer.warnings:
                        text += "\n\n" + "\n".join(f"⚠ {w}" for w in answer.warnings)
                    history[-1]["content"] = text
                    panel = sources_html(answer.sources, answer.cited)
                yield history, panel, ""
        except DocchatError as exc:
            history[-1]["content"] = f"⚠ {exc}"
            yield history, panel, ""

    with gr.Blocks(title="docchat") as demo:
        gr.Markdown("## docchat\nAsk about your documents. Answers cite their sources as [n].")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=520)
                question = gr.Textbox(
                    label="Question", placeholder="Ask a question…", elem_id="question"
                )
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New chat")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(()), elem_id="sources")
        outputs = [chatbot, sources, question]
        question.submit(respond, [question, chatbot], outputs, api_name="ask")
        ask.click(respond, [question, chatbot], outputs, api_name=False)
        clear.click(lambda: ([], sources_html(()), ""), None, outputs, api_name=False)
    demo.queue(default_concurrency_limit=1)  # one generation at a time on a small CPU
    return demo


def launch(demo: "gr.Blocks", host: str, port: int, *, block: bool = True) -> None:
    """Serve the app locally; never through a share link (that would need the network)."""
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        css=CSS,
        ssr_mode=False,  # server-side rendering would need a Node.js process
        prevent_thread_lock=not block,
        show_error=True,
    )
