from chat.evidence import SentenceMatch
from chat.prompt import (EVIDENCE_PROMPT, EXAMPLES, SYSTEM_PROMPT, build_evidence_prompt,
                         build_prompt)
from chat.types import Source
from tests.fakes import FakeGenerator

count = FakeGenerator().count_tokens


def source(n: int, words: int, page: int | None = None) -> Source:
    return Source(n, f"c{n}", f"/d/f{n}.pdf", f"f{n}.pdf", page, "Intro", "w " * words, 0.5)


def test_sources_are_numbered_with_file_page_and_section():
    prompt = build_prompt("What?", [source(1, 5, page=3), source(2, 5)], count_tokens=count,
                          budget=1000)
    system, user = prompt.messages
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert "[1] f1.pdf, p. 3 — Intro" in user["content"]
    assert "[2] f2.pdf — Intro" in user["content"]
    assert user["content"].endswith("Question: What?")
    assert prompt.dropped == 0


def test_sources_that_do_not_fit_are_left_out_whole_never_the_question():
    question = "Why is the sky blue?"
    sources = [source(1, 50), source(2, 500), source(3, 50)]
    prompt = build_prompt(question, sources, count_tokens=count, budget=200)
    assert [s.number for s in prompt.sources] == [1, 3]
    assert prompt.dropped == 1
    user = prompt.messages[1]["content"]
    assert question in user and "[2]" not in user
    total = sum(count(m["content"]) for m in prompt.messages)
    assert total <= 200


def test_the_evidence_prompt_shows_a_worked_example_then_the_excerpts_and_question():
    sources = [Source(1, "c1", "/d/a.md", "a.md", None, "Pumps", "Pumps hum. The Zephyr pump "
                      "lasts seven years. Oil it.", 0.5), source(2, 400)]
    ranked = [SentenceMatch(1, "The Zephyr pump lasts seven years.", 0.9, 1),
              SentenceMatch(2, "w " * 400, 0.2, 0)]
    prompt = build_evidence_prompt("How long does the pump last?", sources, ranked,
                                   count_tokens=count, budget=150, sentences=2, neighbours=0)
    roles = [m["role"] for m in prompt.messages]
    assert roles == ["system"] + ["user", "assistant"] * len(EXAMPLES) + ["user"]
    assert prompt.messages[0]["content"] == EVIDENCE_PROMPT
    assert prompt.messages[2]["content"].endswith("[1].")  # the example answer cites
    user = prompt.messages[-1]["content"]
    assert user == ("Excerpts:\n\n[1] a.md — Pumps\nThe Zephyr pump lasts seven years.\n\n"
                    "Question: How long does the pump last?")  # [2] did not fit the budget
    assert sum(count(m["content"]) for m in prompt.messages) <= 150


def test_the_best_excerpt_comes_last_next_to_the_question():
    """The 135M model answers from what it read last; the budget still goes to the best."""
    sources = [Source(1, "c1", "/d/a.md", "a.md", None, "Pumps", "Pumps hum. The Zephyr pump "
                      "lasts seven years.", 0.5),
               Source(2, "c2", "/d/b.md", "b.md", None, "Oil", "Oil the pump yearly.", 0.5),
               Source(3, "c3", "/d/c.md", "c.md", None, "Fans", "w " * 400, 0.5)]
    ranked = [SentenceMatch(1, "The Zephyr pump lasts seven years.", 0.9, 1),
              SentenceMatch(3, "w " * 400, 0.5, 0),
              SentenceMatch(2, "Oil the pump yearly.", 0.4, 0)]
    prompt = build_evidence_prompt("How long does the pump last?", sources, ranked,
                                   count_tokens=count, budget=200, sentences=3, neighbours=0)
    assert prompt.messages[-1]["content"] == (
        "Excerpts:\n\n[2] b.md — Oil\nOil the pump yearly.\n\n"
        "[1] a.md — Pumps\nThe Zephyr pump lasts seven years.\n\n"
        "Question: How long does the pump last?")  # [3] did not fit


def test_an_excerpt_names_its_own_section_and_keeps_its_line_breaks():
    # A chunk that packs several sections of a changelog: the excerpt's version heading is
    # what the question needs, and headings must not run into the text after them.
    text = ("Changelog\n\n2.1.0\n\nBrotli responses are decoded.\n\n2.0.0\n\n"
            "Timeout replaces timeout tuples\n\nA four-part object with connect, read, write "
            "and pool fields. The old tuples raise a TypeError.")
    outline = "\n".join(f"{text.index(marker)}\t{path}" for marker, path in (
        ("Changelog", "Changelog"), ("2.1.0", "Changelog > 2.1.0"),
        ("2.0.0", "Changelog > 2.0.0")))
    src = Source(1, "c1", "/d/changelog.md", "changelog.md", None, "Changelog", text, 0.5,
                 outline=outline)
    ranked = [SentenceMatch(1, "A four-part object with connect, read, write and pool "
                            "fields.", 0.9, 5)]
    prompt = build_evidence_prompt("What replaced timeout tuples?", [src], ranked,
                                   count_tokens=count, budget=300, sentences=1,
                                   neighbours=1, style="plain")
    assert prompt.messages[-1]["content"] == (
        "Excerpts:\n\n[1] changelog.md — Changelog > 2.0.0\nTimeout replaces timeout tuples\n"
        "A four-part object with connect, read, write and pool fields. The old tuples raise "
        "a TypeError.\n\nQuestion: What replaced timeout tuples?")
    assert src.section_at(0) == "Changelog" and src.section_at(len(text)) == "Changelog > 2.0.0"
    assert "outline" not in src.public(), "the outline is internal"
