from chat.evidence import SentenceMatch
from chat.extractive import extractive_answer


def test_quotes_a_close_second_sentence_and_cites_both_sources():
    ranked = [SentenceMatch(2, "The pump runs on 12 volts.", 0.8),
              SentenceMatch(1, "It draws 3 amps at most.", 0.6),
              SentenceMatch(1, "Third sentence.", 0.59)]
    text, cited = extractive_answer(ranked)
    assert text == "“The pump runs on 12 volts.” [2]\n“It draws 3 amps at most.” [1]"
    assert cited == (2, 1)


def test_a_distant_second_sentence_is_not_quoted():
    ranked = [SentenceMatch(1, "The pump runs on 12 volts.", 0.8),
              SentenceMatch(2, "Pumps are sold in shops.", 0.5)]
    assert extractive_answer(ranked) == ("“The pump runs on 12 volts.” [1]", (1,))


def test_a_sentence_repeated_by_overlapping_chunks_is_quoted_once():
    ranked = [SentenceMatch(1, "The pump runs on 12 volts.", 0.8),
              SentenceMatch(2, "The pump runs on 12 volts.", 0.8),
              SentenceMatch(2, "It draws 3 amps at most.", 0.7)]
    text, cited = extractive_answer(ranked)
    assert text.count("12 volts") == 1 and "3 amps" in text
    assert cited == (1, 2)


def test_nothing_ranked_quotes_nothing():
    assert extractive_answer([]) == ("", ())


def test_a_sentence_the_answer_already_copies_is_not_quoted_again():
    ranked = [SentenceMatch(1, "The pump runs on 12 volts.", 0.8),
              SentenceMatch(2, "It draws 3 amps at most.", 0.7)]
    text, cited = extractive_answer(ranked, besides="The pump runs on 12 volts [1].")
    assert text == "“It draws 3 amps at most.” [2]" and cited == (2,)
    assert extractive_answer(ranked[:1], besides="The pump runs on 12 Volts [1].") == ("", ())


def test_a_heading_is_not_quoted_as_a_passage():
    ranked = [SentenceMatch(1, "Where things are stored", 0.9),
              SentenceMatch(1, "The index lives in the data directory.", 0.8),
              SentenceMatch(2, "Short answers", 0.75)]
    assert extractive_answer(ranked) == ("“The index lives in the data directory.” [1]", (1,))
    only = [SentenceMatch(1, "Where things are stored", 0.9)]
    assert extractive_answer(only) == ("“Where things are stored” [1]", (1,))
