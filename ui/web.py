"""The Gradio web chat: a streamed answer on the left, the sources it used on the right.

It only renders the pipeline's events; all answering logic lives in chat/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chat.types import AnswerEvent, Source, SourcesEvent, TokenEvent
from ingest.errors import DocchatError
from ui.conversations import ConversationStore
from ui.conversations_view import ConversationsView
from ui.documents import documents_tab
from ui.feedback import append_feedback, feedback_record
from ui.map_view import map_figure
from ui.markup import safe_markdown
from ui.render import marked_answer, sources_html
from ui.security import (CACHE_MAX_AGE_S, CACHE_SWEEP_S, MAX_COMMENT_CHARS, Policy,
                         UploadRegistry)
from ui.sessions import Choice, Sessions
from ui.settings_tab import settings_tab

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
.dc-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.dc-open { font-size: 0.85em; margin-left: 6px; }
"""


FOCUS_QUESTION = "() => { document.querySelector('#question textarea')?.focus(); }"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"


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


def _asking(choice: Choice) -> str:
    return f"Asking collection **{choice.collection}** (change it in Settings)."


def build_app(docchat: "DocChat", link: Callable[[Source, str], str] | None,
              policy: Policy, sessions: Sessions, uploads: UploadRegistry,
              conversations: ConversationStore) -> "gr.Blocks":
    """`link(source, collection)` is the URL that opens a source's original file; `policy`
    (ui.security) limits questions and what the Documents tab may read; `uploads` are the
    files Gradio's upload route stored; `conversations` keeps the saved conversations."""
    import gradio as gr

    settings = docchat.settings
    feedback_file = settings.data_dir / "feedback.jsonl"

    def respond(message: str, history: list[dict], answers: dict, choice: Choice,
                current: str | None, request: gr.Request):
        """Streams (chat, sources panel, question box, answers, conversation id, sidebar)."""
        browser_id = saved.browser(request)
        keep = (gr.skip(), gr.skip())  # the conversation id and the sidebar, unchanged
        message = (message or "").strip()
        if not message:
            yield history, gr.skip(), "", answers, *keep
            return
        try:
            app = sessions.app(choice)
            earlier, dropped = policy.conversation(message, conversation(history))
        except DocchatError as exc:
            yield history + [{"role": "assistant", "content": safe_markdown(f"⚠ {exc}")}], \
                gr.skip(), \
                message, answers, *keep
            return
        history = history + [
            {"role": "user", "content": message},
            {"role": "assistant", "content": ""},
        ]
        panel = sources_html(())
        yield history, panel, "", answers, *keep
        opens = (lambda source: link(source, choice.collection)) if link else None
        streamed = ""  # shown escaped: the grounding check has not read it yet
        try:
            for event in app.pipeline.ask(message, history=earlier):
                if isinstance(event, SourcesEvent):
                    panel = sources_html(event.sources, link=opens)
                elif isinstance(event, TokenEvent):
                    streamed += event.text
                    history[-1]["content"] = safe_markdown(streamed)
                elif isinstance(event, AnswerEvent):
                    answer = event.answer
                    text = marked_answer(answer)
                    warnings = [*answer.warnings, *([f"{dropped} earlier message(s) were left "
                                                     "out (server.max_history_chars)."]
                                                    if dropped else [])]
                    if warnings:
                        text += "\n\n" + "\n".join(f"⚠ {w}" for w in warnings)
                    text = safe_markdown(text)
                    history[-1]["content"] = text
                    panel = sources_html(answer.sources, answer.cited, answer.text, opens)
                    answers = {**answers, len(history) - 1: answer}
                    current = saved.save(browser_id, current, message, answer, text,
                                         choice.collection)
                    yield history, panel, "", answers, current, \
                        saved.choices(browser_id, current)
                    continue
                yield history, panel, "", answers, *keep
        except DocchatError as exc:
            history[-1]["content"] = safe_markdown(f"⚠ {exc}")
            yield history, panel, "", answers, *keep

    def rate(answers: dict, chosen: Choice, data: gr.LikeData) -> str:
        answer = answers.get(data.index if isinstance(data.index, int) else data.index[0])
        if answer is None:
            return "Nothing to rate yet."
        # True/False, or the option's label when feedback_options are named.
        liked = data.liked if isinstance(data.liked, bool) else str(data.liked) == "Like"
        try:
            policy.feedback("", feedback_file)
        except DocchatError as exc:
            return f"⚠ {exc}"
        append_feedback(feedback_file, feedback_record(answer, chosen.collection, liked))
        return "Thanks: feedback saved."

    # Gradio passes event data by the parameter's annotation; postponed annotations are
    # strings it cannot resolve here, so give it the class.
    rate.__annotations__["data"] = gr.LikeData
    respond.__annotations__["request"] = gr.Request

    def comment(text: str, answers: dict, chosen: Choice) -> tuple[str, str]:
        if not answers or not (text or "").strip():
            return text, "Write a comment about the last answer first."
        last = answers[max(answers)]
        try:
            policy.feedback(text, feedback_file)
        except DocchatError as exc:
            return text[:MAX_COMMENT_CHARS], f"⚠ {exc}"
        append_feedback(feedback_file, feedback_record(last, chosen.collection, None, text))
        return "", "Thanks: comment saved."

    def draw_map(answers: dict, chosen: Choice):
        app = sessions.app(chosen)
        return map_figure(app.store, answers[max(answers)] if answers else None,
                          app.embedder.embed_query)

    # Gradio's cache (uploads never added, copies of exports) is swept of old files.
    with gr.Blocks(title="docchat", delete_cache=(CACHE_SWEEP_S, CACHE_MAX_AGE_S)) as demo:
        gr.Markdown("## docchat\nAsk about your documents. Answers cite their sources as [n].")
        answers = gr.State({})
        choice = gr.State(sessions.default())
        saved = ConversationsView(conversations, policy, settings.data_dir)
        with gr.Tab("Chat"):
            asking = gr.Markdown(_asking(sessions.default()), elem_id="chat-collection")
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=520,
                                         buttons=["copy"], feedback_options=("Like", "Dislike"),
                                         allow_tags=False)  # no custom tags from a model
                    question = gr.Textbox(label="Question", placeholder="Ask a question…",
                                          elem_id="question")
                    with gr.Row():
                        ask = gr.Button("Ask", variant="primary", elem_id="ask")
                        stop = gr.Button("Stop", variant="stop", elem_id="stop")
                        clear = gr.Button("New chat")
                    with gr.Accordion("Comment on the last answer", open=False):
                        note = gr.Textbox(label="Comment", lines=2, elem_id="comment")
                        send = gr.Button("Send comment")
                    status = gr.Markdown(elem_id="feedback-status")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html(()), elem_id="sources")
        with gr.Tab("Documents"):
            listing, listing_outputs = documents_tab(sessions, choice, policy, uploads)
        with gr.Tab("Settings"):
            settings_tab(sessions, choice, answers)
        with gr.Tab("Map"):
            gr.Markdown("The collection's passages in 2-D (t-SNE of their embeddings), "
                        "coloured by file; the last question is a star and its sources "
                        "are ringed.")
            draw = gr.Button("Draw the map", elem_id="draw-map")
            chart = gr.Plot(elem_id="map")
        outputs = [chatbot, sources, question, answers, saved.current, saved.listing]
        inputs = [question, chatbot, answers, choice, saved.current]
        # No event is a public API endpoint: the API is /v1 (api_name=False keeps them out of
        # the schema Gradio would embed in the page).
        answering = [question.submit(respond, inputs, outputs, api_name=False),
                     ask.click(respond, inputs, outputs, api_name=False)]
        for event in answering:  # ready for the next question without reaching for the mouse
            event.then(None, None, None, js=FOCUS_QUESTION, api_name=False)
        # Cancelling closes respond's generator, which closes the pipeline's: the model stops
        # at its next token (chat.generators), not only the page.
        stop.click(None, None, None, cancels=answering, js=FOCUS_QUESTION, api_name=False)
        empty = ([], sources_html(()), "", {})
        clear.click(lambda: (*empty, None, None), None, outputs, api_name=False)
        choice.change(_asking, [choice], [asking], api_name=False)
        chatbot.like(rate, [answers, choice], [status], api_name=False)
        send.click(comment, [note, answers, choice], [note, status], api_name=False)
        demo.load(listing, [choice], listing_outputs, api_name=False)
        draw.click(draw_map, [answers, choice], [chart], api_name=False)
        saved.wire(demo, outputs[:4], empty)
    # Answers run concurrently; chat.scheduling orders their use of the CPU (first tokens
    # first, one question at a time), as it does for the API.
    demo.queue(default_concurrency_limit=16)
    return demo
