"""The web chat's sidebar of saved conversations (ui.conversations keeps them): open one to go
on with it, rename, delete, export as Markdown.

A browser is known by an id the server issues in a signed, HttpOnly cookie (ui.security's
BrowserIds, signed with a secret kept in the data directory, so ids survive a server
restart); Policy.owner turns it, and the key when there is one, into the owner the store
checks. The id is never a value a client chooses or a page's script can read.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from chat.types import Answer
from ui.conversations import ConversationNotFound, ConversationStore, Message
from ui.markup import safe_markdown
from ui.security import BrowserIds, Policy

if TYPE_CHECKING:
    import gradio as gr

EXPORT_KEEP_S = 60  # Gradio has copied an export into its cache long before this


def browser_secret(data_dir: Path) -> str:
    """The secret that signs browser ids: made once, kept private."""
    path = Path(data_dir) / "web-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value


def answer_message(answer: Answer, shown: str) -> Message:
    """An answer as saved: the text shown, and the sources it cited."""
    cited = [s for s in answer.sources if s.number in set(answer.cited)]
    return Message("assistant", shown, tuple(
        {"number": s.number, "label": s.label, "section": s.section, "text": s.text}
        for s in cited))


class ConversationsView:
    """The sidebar's components and the hooks the chat calls as it answers."""

    def __init__(self, store: ConversationStore, policy: Policy, data_dir: Path) -> None:
        import gradio as gr

        self.store = store
        self.policy = policy
        self.browsers = BrowserIds(browser_secret(data_dir))
        self.exports = Path(tempfile.mkdtemp(prefix="docchat-exports-"))
        self.current = gr.State(None)  # id of the conversation on screen, None: a new one
        with gr.Sidebar(label="Conversations", open=True, elem_id="conversations-bar"):
            gr.Markdown("### Conversations")
            self.listing = gr.Radio(choices=[], label="Saved", elem_id="conversations")
            self.title = gr.Textbox(label="Title", elem_id="conversation-title")
            with gr.Row():
                self.rename_button = gr.Button("Rename", size="sm", elem_id="rename")
                self.delete_button = gr.Button("Delete", size="sm", variant="stop",
                                               elem_id="delete-conversation")
            self.export_button = gr.Button("Export as Markdown", size="sm",
                                           elem_id="export-conversation")
            self.export_file = gr.File(label="Export", interactive=False, elem_id="export-file")
            self.status = gr.Markdown(elem_id="conversation-status")

    # -- helpers the chat uses -------------------------------------------------------------
    def owner(self, browser_id: str) -> str:
        """The store's owner for this browser; a missing or malformed id owns nothing."""
        try:
            return self.policy.owner(browser_id)
        except ValueError:
            raise ConversationNotFound("no browser id") from None

    def browser(self, request: "gr.Request | None") -> str:
        """The browser id in a request's signed cookie ("" if there is none)."""
        cookies = getattr(request, "cookies", None) if request is not None else None
        value = cookies.get(BrowserIds.COOKIE) if cookies is not None else None
        return self.browsers.verified(value) or ""

    def choices(self, browser_id: str, selected: str | None = None) -> "gr.Radio":
        import gradio as gr

        try:
            listed = [(s.title, s.id) for s in self.store.list(self.owner(browser_id))]
        except ConversationNotFound:
            return gr.Radio(choices=[], value=None)
        return gr.Radio(choices=listed, value=selected)

    def save(self, browser_id: str, current: str | None, question: str, answer: Answer,
             shown: str, collection: str) -> str | None:
        """Keep one question and its answer; returns the conversation's id (new if needed).
        Without a valid browser id (the page has not finished loading) nothing is kept."""
        try:
            owner = self.owner(browser_id)
        except ConversationNotFound:
            return current
        question_and_answer = (Message("user", question), answer_message(answer, shown))
        if current is not None:
            try:
                self.store.add(owner, current, *question_and_answer)
                return current
            except ConversationNotFound:  # deleted in another tab meanwhile: start it again
                pass
        current = self.store.create(owner, question, collection)
        self.store.add(owner, current, *question_and_answer)
        return current

    # -- events ----------------------------------------------------------------------------
    def wire(self, demo: "gr.Blocks", chat_outputs: list, cleared: tuple) -> None:
        """`chat_outputs`: chatbot, sources panel, question box, answers state; `cleared`:
        their values for an empty chat."""
        import gradio as gr

        def start(request: gr.Request):
            return self.choices(self.browser(request))

        def open_(conversation: str | None, request: gr.Request):
            browser_id = self.browser(request)
            if not conversation or not browser_id:
                return (gr.skip(),) * (len(chat_outputs) + 3)
            try:
                summary, messages = self.store.get(self.owner(browser_id), conversation)
            except ConversationNotFound:
                return (*cleared, None, "", "⚠ That conversation is gone.")
            # escaped again: conversations saved before answers were escaped are shown safely
            history = [{"role": m.role, "content": safe_markdown(m.content)
                        if m.role == "assistant" else m.content} for m in messages]
            return (history, *cleared[1:], conversation, summary.title, "")

        def rename(conversation: str | None, title: str, request: gr.Request):
            browser_id = self.browser(request)
            if not conversation:
                return gr.skip(), "Open or start a conversation first."
            try:
                self.store.rename(self.owner(browser_id), conversation, title)
            except ConversationNotFound:
                return gr.skip(), "⚠ Not found."
            except ValueError as exc:
                return gr.skip(), f"⚠ {exc}"
            return self.choices(browser_id, conversation), "Renamed."

        def delete(conversation: str | None, request: gr.Request):
            browser_id = self.browser(request)
            if conversation:
                try:
                    self.store.delete(self.owner(browser_id), conversation)
                except ConversationNotFound:
                    pass
            return (*cleared, None, "", self.choices(browser_id), "Deleted.")

        def export(conversation: str | None, request: gr.Request):
            browser_id = self.browser(request)
            if not conversation:
                return None
            try:
                text = self.store.markdown(self.owner(browser_id), conversation)
            except ConversationNotFound:
                return None
            _sweep(self.exports)
            folder = Path(tempfile.mkdtemp(dir=self.exports))
            path = folder / "conversation.md"
            path.write_text(text, encoding="utf-8")
            return str(path)

        for handler in (start, open_, rename, delete, export):
            handler.__annotations__["request"] = gr.Request  # resolved for Gradio
        demo.load(start, None, [self.listing], api_name=False)
        self.listing.input(open_, [self.listing],
                           [*chat_outputs, self.current, self.title, self.status],
                           api_name=False)
        self.rename_button.click(rename, [self.current, self.title],
                                 [self.listing, self.status], api_name=False)
        self.delete_button.click(delete, [self.current],
                                 [*chat_outputs, self.current, self.title, self.listing,
                                  self.status], api_name=False)
        self.export_button.click(export, [self.current], [self.export_file],
                                 api_name=False)


def _sweep(exports: Path) -> None:
    """Delete earlier exports (Gradio serves its own copy, which its cache sweep removes)."""
    now = time.time()
    for folder in exports.iterdir():
        if now - folder.stat().st_mtime > EXPORT_KEEP_S:
            shutil.rmtree(folder, ignore_errors=True)
