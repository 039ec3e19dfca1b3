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
