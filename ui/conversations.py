"""Saved conversations of the web chat: one SQLite file in the data directory.

Each conversation belongs to an owner, an opaque string the web chat derives from the browser
(a random id it keeps in the browser's local storage) and, when the server has a key, from the
key: whoever does not present the same owner can neither list nor open it. Every read and
write names the owner, so one user's id in another's request finds nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ui.markup import quoted_text

TITLE_CHARS = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, collection TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS messages (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, sources TEXT NOT NULL,
    PRIMARY KEY (conversation, seq));
"""


class ConversationNotFound(LookupError):
    """No conversation with this id belongs to this owner."""


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    collection: str
    updated: float


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str
    sources: tuple[dict, ...] = ()  # what an answer cited: number, label, section, text


def title_from(question: str) -> str:
    """A conversation's title: its first question, on one line, cut at a word."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text or "Untitled"
    return text[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


class ConversationStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        with self._db:
            self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()  # one connection, shared by the server's threads

    def create(self, owner: str, first_question: str, collection: str) -> str:
        conversation = uuid.uuid4().hex
        now = time.time()
        with self._lock, self._db:
            self._db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation, owner, title_from(first_question), collection,
                              now, now))
        return conversation

    def add(self, owner: str, conversation: str, *messages: Message) -> None:
        with self._lock, self._db:
            self._check(owner, conversation)
            (last,) = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM messages "
                                       "WHERE conversation = ?", (conversation,)).fetchone()
            self._db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", [
                (conversation, last + 1 + i, m.role, m.content, json.dumps(list(m.sources)))
                for i, m in enumerate(messages)])
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?",
                             (time.time(), conversation))

    def list(self, owner: str) -> list[Summary]:
        """The owner's conversations, the most recently used first."""
        with self._lock:
            rows = self._db.execute("SELECT id, title, collection, updated FROM conversations "
                                    "WHERE owner = ? ORDER BY updated DESC", (owner,)).fetchall()
        return [Summary(*row) for row in rows]

    def get(self, owner: str, conversation: str) -> tuple[Summary, list[Message]]:
        with self._lock:
            summary = self._check(owner, conversation)
            rows = self._db.execute("SELECT role, content, sources FROM messages "
                                    "WHERE conversation = ? ORDER BY seq",
                                    (conversation,)).fetchall()
        return summary, [Message(r, c, tuple(json.loads(s))) for r, c, s in rows]

    def rename(self, owner: str, conversation: str, title: str) -> None:
        title = " ".join((title or "").split())[:200]
        if not title:
            raise ValueError("A conversation's title cannot be empty.")
        with self._lock, self._db:
            self._check(owner, conversation)
            self._db.execute("UPDATE conversations SET title = ? WHERE id = ?",
                             (title, conversation))

    def delete(self, owner: str, conversation: str) -> None:
        with self._lock, self._db:
            self._check(owner, conversation)
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    def markdown(self, owner: str, conversation: str) -> str:
        """The conversation as Markdown: each question, each answer with the sources it cited."""
        summary, messages = self.get(owner, conversation)
        lines = [f"# {summary.title}", "", f"Collection: {summary.collection}", ""]
        for message in messages:
            if message.role == "user":
                lines += [f"**Question:** {message.content}", ""]
                continue
            lines += [message.content, ""]
            if message.sources:
                lines.append("Sources:")
                for s in message.sources:
                    # document text: escaped, so a Markdown viewer loads nothing it names
                    where = f" — {quoted_text(s['section'])}" if s.get("section") else ""
                    lines.append(f"- [{s['number']}] {quoted_text(s['label'])}{where}")
                    if s.get("text"):
                        lines.append(f"  > {quoted_text(' '.join(s['text'].split()))}")
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def _check(self, owner: str, conversation: str) -> Summary:
        row = self._db.execute("SELECT id, title, collection, updated FROM conversations "
                               "WHERE id = ? AND owner = ?", (conversation, owner)).fetchone()
        if row is None:
            raise ConversationNotFound(conversation)
        return Summary(*row)

    def close(self) -> None:
        self._db.close()
