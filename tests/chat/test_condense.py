from chat.condense import condense_query, refers_back
from tests.fakes import FakeGenerator

HISTORY = [
    {"role": "user", "content": "How do I reset the Kestrel router?"},
    {"role": "assistant", "content": "Hold the red button for twelve seconds [1]."},
]


def test_questions_that_refer_back_are_detected():
    assert refers_back("And what does it cost?")
    assert refers_back("Why?")
    assert not refers_back("How long does the Zephyr pump warranty last?")


def test_auto_mode_searches_a_follow_up_with_the_previous_question():
    assert condense_query("And what does it cost?", HISTORY) == (
        "How do I reset the Kestrel router? And what does it cost?"
    )
    standalone = "How long does the Zephyr pump warranty last?"
    assert condense_query(standalone, HISTORY) == standalone
    assert condense_query("And what does it cost?", []) == "And what does it cost?"
    assert condense_query("And what does it cost?", HISTORY, mode="off") == (
        "And what does it cost?"
    )


def test_llm_mode_uses_the_rewrite_and_falls_back_when_it_is_unusable():
    gen = FakeGenerator("What does the Kestrel router cost?")
    assert condense_query("And what does it cost?", HISTORY, "llm", gen) == (
        "What does the Kestrel router cost?"
    )
    assert "Kestrel" in gen.seen[0][-1]["content"]
    rambling = FakeGenerator("word " * 200)
    assert condense_query("And what does it cost?", HISTORY, "llm", rambling) == (
        "How do I reset the Kestrel router? And what does it cost?"
    )
