"""Saved conversations: kept across restarts, each owner sees only its own."""

from __future__ import annotations

import pytest

from ui.conversations import ConversationNotFound, ConversationStore, Message, title_from


def test_a_conversation_survives_a_restart_and_exports_with_its_sources(tmp_path):
    store = ConversationStore(tmp_path / "conversations.sqlite")
    cid = store.create("alice", "How long does the Zephyr pump warranty last?", "docs")
    store.add("alice", cid, Message("user", "How long does the Zephyr pump warranty last?"),
              Message("assistant", "Seven years [1].", ({"number": 1, "label": "pump.md",
                                                          "section": "Warranty",
                                                          "text": "The warranty lasts\nseven years."},)))
    store.add("alice", cid, Message("user", "And the weight?"),
              Message("assistant", "Four kilograms [1]."))
    store.close()

    again = ConversationStore(tmp_path / "conversations.sqlite")
    (summary,) = again.list("alice")
    assert summary.title == "How long does the Zephyr pump warranty last?"
    _, messages = again.get("alice", cid)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].sources[0]["label"] == "pump.md"
    text = again.markdown("alice", cid)
    assert text.startswith("# How long does the Zephyr pump warranty last?\n")
    assert "Seven years [1].\n\nSources:\n- [1] pump.md — Warranty\n  > The warranty lasts seven years." in text
    assert text.index("And the weight?") > text.index("Seven years")


def test_another_owner_can_neither_list_open_change_nor_delete_it(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite")
    cid = store.create("alice", "secret plans", "docs")
    assert store.list("mallory") == []
    for attempt in (lambda: store.get("mallory", cid),
                    lambda: store.add("mallory", cid, Message("user", "x")),
                    lambda: store.rename("mallory", cid, "mine now"),
                    lambda: store.delete("mallory", cid),
                    lambda: store.markdown("mallory", cid)):
        with pytest.raises(ConversationNotFound):
            attempt()
    assert store.get("alice", cid)[0].title == "secret plans"
    assert store.get("alice", cid)[1] == []


def test_rename_delete_and_order(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite")
    first = store.create("me", "first question", "docs")
    second = store.create("me", "second question", "docs")
    store.add("me", first, Message("user", "more"))  # used last: listed first
    assert [s.id for s in store.list("me")] == [first, second]
    store.rename("me", second, "  Pump   questions ")
    assert store.get("me", second)[0].title == "Pump questions"
    with pytest.raises(ValueError):
        store.rename("me", second, "   ")
    store.delete("me", first)
    assert [s.id for s in store.list("me")] == [second]
    with pytest.raises(ConversationNotFound):
        store.get("me", first)


def test_titles_are_one_line_and_cut_at_a_word():
    assert title_from("  What is\nthis file about? ") == "What is this file about?"
    long = "word " * 30
    title = title_from(long)
    assert title.endswith("…") and len(title) <= 61 and "wor…" not in title
    assert title_from("   ") == "Untitled"


def test_a_missing_or_malformed_browser_id_owns_nothing(tmp_path):
    import gradio as gr

    from chat.settings import ServerConfig
    from ui.conversations_view import ConversationsView
    from ui.security import Policy

    store = ConversationStore(tmp_path / "c.sqlite")
    with gr.Blocks():
        view = ConversationsView(store, Policy.from_config(ServerConfig()), tmp_path)
    for bad in ("", "x" * 65):
        assert view.save(bad, None, "question", None, "answer", "docs") is None
        assert view.choices(bad).choices == []
    assert store.list("browser:") == [] and (tmp_path / "web-secret").stat().st_mode & 0o077 == 0
