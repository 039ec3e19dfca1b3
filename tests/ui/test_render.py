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


def test_supporting_words_are_highlighted_and_markup_stays_escaped():
    src = Source(1, "c1", "/d/r.pdf", "r.pdf", 2, "", "Hold the <b>red</b> button for twelve "
                 "seconds to reset the router.", 0.8)
    page = sources_html((src,), (1,), answer="Hold the red button for twelve seconds [1].",
                        link=lambda s: f"/files/{s.chunk_id}?sig=x&y")
    assert "<mark>red</mark>" in page and "<mark>seconds</mark>" in page
    assert "&lt;b&gt;" in page and "<b>red" not in page
    assert "<mark>router</mark>" not in page, "words the answer does not use stay plain"
    assert "href='/files/c1?sig=x&amp;y#page=2'" in page and "rel='noopener noreferrer'" in page
    # a PDF source also links to its page as an image, the passage highlighted
    assert "class='dc-page' href='/files/c1/page?sig=x&amp;y'" in page and "page 2</a>" in page
    other = Source(2, "c2", "/d/notes.md", "notes.md", None, "", "Some text.", 0.5)
    plain = sources_html((other,), link=lambda s: f"/files/{s.chunk_id}?sig=x")
    assert "href='/files/c2?sig=x'" in plain and "dc-page" not in plain
    # any other file: the passage between its neighbours
    assert "class='dc-context' href='/files/c2/context?sig=x'" in plain


def test_unsupported_sentences_are_marked_in_the_answer():
    from chat.types import Answer, SentenceSupport

    answer = Answer("q", "The pump costs 249 euros [1]. It is made of gold [1].", (1,), (),
                    sentences=(SentenceSupport("The pump costs 249 euros [1].", (1,), True, 0.9),
                               SentenceSupport("It is made of gold [1].", (1,), False, 0.1)))
    from ui.render import marked_answer

    assert marked_answer(answer) == ("The pump costs 249 euros [1]. ⚠ *It is made of gold [1].*"
                                     " (not supported by the sources)")


def test_a_near_miss_is_marked_and_its_passage_quoted():
    from chat.pipeline import NEAR_MISS
    from chat.types import Answer
    from ui.render import marked_answer

    answer = Answer("q", f"{NEAR_MISS}\n“The pump is blue.” [1]", (1,), (), outcome="near_miss")
    assert marked_answer(answer) == f"🔎 *{NEAR_MISS}*\n\n> “The pump is blue.” [1]"


def test_feedback_lines_round_trip(tmp_path):
    from chat.types import Answer
    from ui.feedback import append_feedback, feedback_record, read_feedback

    src = Source(1, "c1", "/d/r.pdf", "r.pdf", 2, "", "text", 0.8)
    answer = Answer("How?", "Like this [1].", (1,), (src,), query="How?")
    append_feedback(tmp_path / "f.jsonl", feedback_record(answer, "default", True))
    append_feedback(tmp_path / "f.jsonl", feedback_record(answer, "default", None, " too short "))
    rows = read_feedback(tmp_path / "f.jsonl")
    assert [r["liked"] for r in rows] == [True, None] and rows[1]["comment"] == "too short"
    assert rows[0]["sources"] == [{"file": "/d/r.pdf", "page": 2, "chunk_id": "c1",
                                   "cited": True}]


def test_the_map_rings_the_last_questions_sources(tmp_path):
    from chat.types import Answer
    from ingest.store import ChunkStore
    from langchain_core.documents import Document
    from tests.fakes import FakeEmbeddings
    from ui.map_view import map_figure

    store = ChunkStore(tmp_path / "chroma", "map")
    texts = [f"passage {i} about {'pumps' if i % 2 else 'orchids'}" for i in range(30)]
    docs = [Document(page_content=t, metadata={"chunk_id": f"c{i}", "source": f"/d/{i % 3}.md"})
            for i, t in enumerate(texts)]
    store.add(docs, FakeEmbeddings().embed_documents(texts))
    hit = Source(1, "c3", "/d/0.md", "0.md", None, "", texts[3], 0.7)
    asked = []

    def embed_query(text):
        asked.append(text)
        return FakeEmbeddings().embed_query(text)

    figure = map_figure(store, Answer("Which pumps?", "x", (1,), (hit,)), embed_query)
    ax = figure.axes[0]
    assert "Which pumps?" in ax.get_title() and "1 sources ringed" in ax.get_title()
    assert asked == ["Which pumps?"], "the question is placed by its own embedding"
    assert "question" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts())[:3] == ["0.md", "1.md",
                                                                            "2.md"]


def test_after_a_stream_only_what_the_checks_added_is_printed():
    from ui.render import after_stream

    # citations added: nothing is printed again (the sources list marks what was cited)
    assert after_stream("Paris is the capital. It is big.",
                        "Paris is the capital [1]. It is big [2].") == ""
    # citations added and a passage appended: only the passage
    assert after_stream("Paris is the capital.",
                        "Paris is the capital [1].\n\n> “Paris is…” [1]") == "\n\n> “Paris is…” [1]"
    # the words changed (a sentence dropped): the whole checked answer, labelled
    assert after_stream("Paris is the capital. Rome is too.", "Paris is the capital [1].") == (
        "\n\nChecked answer:\nParis is the capital [1].")
    assert after_stream("Same.", "Same.") == ""


def test_on_a_terminal_the_checked_answer_replaces_the_stream_in_place(monkeypatch):
    import io
    import os

    from ui import cli

    class Tty(io.StringIO):
        def isatty(self):
            return True

    screen = Tty()
    monkeypatch.setattr("sys.stdout", screen)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((20, 24)))
    streamed = "Paris is the capital of France."  # 31 columns: two rows at width 20
    assert cli._redraw(streamed, "Paris is the capital of France [1].")
    assert screen.getvalue() == "\r\x1b[1A\x1b[JParis is the capital of France [1].\n"
    # taller than the screen, or not a terminal: not redrawn
    assert not cli._redraw("line\n" * 30, "line [1]")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not cli._redraw(streamed, "Paris is the capital of France [1].")
