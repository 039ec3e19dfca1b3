"""Where an answer ends: at an echo of the prompt, or after the sentence limit; what may
still be cut is held back from the stream."""

from chat.echo import MAX_CODE_LINES, MAX_LIST_ITEMS, AnswerEnd, tidy

END = AnswerEnd.for_prompt("Where does docchat store its index?",
                           ["[1] 01-introduction.md — How it works",
                            "[2] 02-installing.md — Data"], max_sentences=3)


def test_an_answer_without_echo_goes_on():
    assert END.cut("The index is in the data directory [1].") is None
    assert END.cut("The index is in the data directory [1]. It is") is None


def test_a_copied_source_header_ends_the_answer():
    text = ("The index is in the data directory [1].\n\n"
            "01-introduction.md — Introduction to docchat > How it works\nIt reads")
    assert END.cut("The index is in the data directory [1].\n\n[1] 01-intro") == \
        "The index is in the data directory [1]."
    # the sentence the header broke off goes too
    assert END.cut(text + "\n[2] 02-installing.md — Data") == (
        "The index is in the data directory [1].\n\n"
        "01-introduction.md — Introduction to docchat > How it works")


def test_a_sentence_the_echo_broke_off_is_not_kept():
    # the bundled model on "What embedding model does docchat use?", before this check
    text = ("The default embedding model is all-MiniLM-L6-v2 [1].\n\nThe configuration is set "
            "by ingest your documents again into a new collection, because vectors from\n\n[1] 0")
    assert END.cut(text) == "The default embedding model is all-MiniLM-L6-v2 [1]."
    # one sentence alone stays, and so does a list item
    assert END.cut("The index is in the data\n[1] 0") == "The index is in the data"
    listed = "docchat reads:\n- PDF files\n- Word files"
    assert END.cut(listed + "\nQuestion: x") == listed


def test_prompt_labels_and_the_question_end_the_answer():
    for tail in ("\nQuestion: Where does docchat store its index [1]?",
                 "\n\nSources:\n[1] x", "\nBest matching passage: “…”",
                 " Where does docchat store its index?"):
        assert END.cut("In the data directory [1]." + tail) == "In the data directory [1]."


def test_a_label_at_the_very_start_is_not_an_echo():
    assert END.cut("Note: the index is in the data directory.") is None
    assert tidy("Answer: In the data directory [1].") == "In the data directory [1]."


def test_the_sentence_limit():
    two = AnswerEnd(max_sentences=2)
    assert two.cut("One is here. Two is there.") is None
    assert two.cut("One is here. Two is there. Three") == "One is here. Two is there."


def test_list_items_have_a_limit_of_their_own():
    """A how-to answer lists its steps: they are not cut at the prose limit, but a list that
    runs on is, and so is prose after it."""
    two = AnswerEnd(max_sentences=2)
    steps = "Do this:\n" + "\n".join(f"{i}. Step {i} is done." for i in range(1, 6))
    assert two.cut(steps + "\nThen it works.") is None
    assert two.holdback(steps + "\nThen it") == 0
    assert two.cut(steps + "\nThen it works. Enjoy") == steps + "\nThen it works."
    assert two.holdback(steps + "\nThen it works. Enj") == len(" Enj")
    endless = "\n".join(f"- Step {i}." for i in range(MAX_LIST_ITEMS + 2))
    assert two.cut(endless) == endless.rsplit("\n", 2)[0]
    block = "Run:\n```console\n$ make venv\n$ make demo\n$ make test\n```\nIt is done. Enjoy"
    assert two.cut(block) == block.removesuffix(" Enjoy"), "a code block is one item"
    # A digit streams before its "." (and ` before ```): the line may yet begin an item.
    three = AnswerEnd(max_sentences=3)
    prose = "It works offline. It cites its sources. To install it, follow these steps:"
    assert three.cut(prose + "\n1") is None and three.holdback(prose + "\n1") == 0
    assert three.cut(prose + "\n``") is None
    unclosed = "Run:\n```bash\n" + "\n".join(f"step {i} done" for i in range(30))
    assert three.cut(unclosed).splitlines()[-1] == f"step {MAX_CODE_LINES - 2} done", \
        "an unclosed block has a limit too (its fence is one of its lines)"


def test_an_echo_after_a_code_block_keeps_the_closing_fence():
    reply = "To install it, run:\n```bash\npip install docchat\n```\n"
    assert END.cut(reply + "Question: x") == reply.rstrip()


def test_what_may_become_an_echo_is_held_back():
    assert END.holdback("In the data directory [1].\n") == 0
    assert END.holdback("In the data directory [1].\nQues") == len("Ques")
    assert END.holdback("In the data directory [1].\n[2") == len("[2")
    assert END.holdback("In the data directory [1].\nIt also keeps a keyword index") == 0
    # the first line streams at once: nothing is cut at the start, only "Answer:" is dropped
    assert END.holdback("In") == 0 and END.holdback("Sources say") == 0 and END.holdback("Q") == 0
    assert END.holdback("Ans") == 3 and END.holdback("Answer: In") == len("Answer: In")
    two = AnswerEnd(max_sentences=2)
    assert two.holdback("One is here. Two is there. Thr") == len(" Thr")


def test_a_reply_that_may_say_it_found_nothing_is_held_back_until_it_is_clear():
    assert END.holdback("I don") == len("I don")
    assert END.holdback("I don't know the answer") == len("I don't know the answer")
    assert END.holdback("The documents do not say") == len("The documents do not say")
    assert END.holdback("The provided excerpts") == len("The provided excerpts")
    assert END.holdback("The provided excerpts mention two") == 0, "not a refusal: streams"
    assert END.holdback("In the data directory") == 0


def test_a_sentence_that_only_points_at_the_sources_gives_its_marker_to_the_answer():
    assert tidy("Iolo Owen was the teacher. This is mentioned in the excerpt [1].") == \
        "Iolo Owen was the teacher [1]."
    assert tidy("Louisa Mann. This information can be found in excerpt [1].") == \
        "Louisa Mann [1]."
    assert tidy("It has 384 dimensions [2]. This is stated in the provided context.") == \
        "It has 384 dimensions [2]."
    # a sentence that says more than where it is written stays
    kept = "Set k to 8. This is mentioned in the excerpt about retrieval settings [2]."
    assert tidy(kept) == kept
    assert tidy("This is found in the excerpt [1], which says seven years.") == \
        "This is found in the excerpt [1], which says seven years."


def test_an_empty_code_block_is_dropped():
    """"… adding the following line to the file:\n```\n\n```\nThis will set …"."""
    assert tidy("Add this line:\n```\n\n```\nThis sets it [1].") == \
        "Add this line:\nThis sets it [1]."
    kept = "Run:\n```bash\nmake demo\n```"
    assert tidy(kept) == kept
