from chat.prompt import SYSTEM_PROMPT, build_prompt
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
