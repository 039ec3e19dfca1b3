from chat.repetition import trim_repetition


def test_a_repeated_sentence_is_cut_off():
    text = "The index is in the data folder.\n\nThe index is in the data folder.\n"
    assert trim_repetition(text) == "The index is in the data folder."


def test_repetition_is_found_case_and_space_insensitively():
    text = "It lasts seven years. Keep the receipt.  it lasts   SEVEN years. "
    assert trim_repetition(text) == "It lasts seven years. Keep the receipt."


def test_no_cut_without_a_completed_repeat():
    assert trim_repetition("It lasts seven years. It lasts seven") is None
    assert trim_repetition("One sentence only.") is None


def test_short_fragments_may_recur():
    assert trim_repetition("Yes. No. Yes. ") is None


def test_a_phrase_looping_inside_a_sentence_is_cut_before_its_second_round():
    text = ("Docchat can read PDF, Word (DOCX, and old DOC), Word (DOCX, and old DOC), "
            "Word (DOCX, and old")
    assert trim_repetition(text) == "Docchat can read PDF, Word (DOCX, and old DOC)"


def test_a_clause_said_twice_is_cut_with_the_semicolon_before_it():
    text = ("Converted models are kept in the cache directory; converted models are kept in "
            "the cache")
    assert trim_repetition(text) == "Converted models are kept in the cache directory"


def test_shorter_shared_runs_are_not_a_loop():
    # Five words in common ("between neighbouring chunks of the") is how answers copy sources.
    text = ("The overlap between neighbouring chunks of the guide is 32 tokens, and the gap "
            "between neighbouring chunks of the index is none.")
    assert trim_repetition(text) is None


def test_a_loop_that_begins_in_a_later_sentence_drops_that_sentence():
    text = ("The first answer takes about half a minute. The first start also converts the "
            "model, which takes about half a minute. The first")
    assert trim_repetition(text) == "The first answer takes about half a minute."
