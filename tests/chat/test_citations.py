from chat.citations import parse_citations


def test_valid_markers_are_kept_in_order_of_first_use():
    parsed = parse_citations("Pumps last long [2]. They are cheap [1][2].", {1, 2, 3})
    assert parsed.cited == (2, 1)
    assert parsed.invalid == ()
    assert parsed.text == "Pumps last long [2]. They are cheap [1][2]."


def test_markers_pointing_at_nothing_are_removed_and_reported():
    parsed = parse_citations("It is blue [7]. It is round [1, 9].", {1, 2})
    assert parsed.text == "It is blue. It is round [1]."
    assert parsed.cited == (1,)
    assert parsed.invalid == (7, 9)


def test_source_word_variants_are_understood():
    parsed = parse_citations("Yes [Source 2]; see also [sources 1; 3].", {1, 2, 3})
    assert parsed.cited == (2, 1, 3)
    assert parsed.text == "Yes [2]; see also [1][3]."


def test_brackets_that_are_not_citations_are_left_alone():
    parsed = parse_citations("Use list[str] and [a] here.", {1})
    assert parsed.text == "Use list[str] and [a] here."
    assert parsed.cited == () and parsed.invalid == ()


def test_a_marker_after_the_full_stop_moves_before_it():
    assert parse_citations("It is called demo. [1].", {1}).text == "It is called demo [1]."
    assert parse_citations("It is A. [1] Then B [2].", {1, 2}).text == "It is A [1]. Then B [2]."
    assert parse_citations("Seven years [1][2].", {1, 2}).text == "Seven years [1][2]."


def test_according_to_a_marker_that_points_at_nothing_leaves_no_stub():
    parsed = parse_citations("According to [5], twin daughters. According to [1], a son.", {1})
    assert parsed.text == "Twin daughters. According to [1], a son."
    assert parsed.invalid == (5,)
