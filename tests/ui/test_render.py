from chat.types import Source
from ui.render import sources_html


def test_document_text_in_the_sources_panel_is_escaped():
    evil = Source(1, "c1", "/d/x.html", "<b>x</b>.html", 2, "<i>s</i>",
                  "<script>alert(1)</script><img src=x onerror=alert(2)>", 0.5)
    page = sources_html((evil,), cited=(1,))
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;.html, p. 2" in page
    assert "cited" in page


def test_web_chat_history_becomes_plain_messages():
    from ui.web import conversation

    history = [
        {"role": "user", "content": "How do I reset the router?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Hold the button [1]."}]},
        {"role": "assistant", "content": {"path": "image.png"}},  # a file: not conversation
    ]
    assert conversation(history) == [
        {"role": "user", "content": "How do I reset the router?"},
        {"role": "assistant", "content": "Hold the button [1]."},
    ]
