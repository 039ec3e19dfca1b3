from chat.text import content_terms, numbers, split_sentences, strip_markers


def test_sentences_keep_their_citation_markers_and_survive_abbreviations():
    text = ("Paris is the capital [1]. It has 2.1 million people, e.g. many. [2] "
            "Dr. Who lives there! Next line\n- a bullet point")
    assert split_sentences(text) == [
        "Paris is the capital [1].",
        "It has 2.1 million people, e.g. many. [2]",
        "Dr. Who lives there!",
        "Next line",
        "a bullet point",
    ]


def test_content_terms_drop_stop_words_and_markers_and_stem():
    assert content_terms("How many pumps were cleaned [3]?") == {"pump", "clean"}
    assert content_terms("What is it?") == frozenset()


def test_numbers_ignore_thousands_separators():
    assert numbers("It cost 1,000 or 3.5 euros in 2016 [2].") == {"1000", "3.5", "2016"}


def test_strip_markers():
    assert strip_markers("Seven years [1][2].") == "Seven years."
