from chat.evidence import EvidenceScorer, coverage
from chat.grounding import EvidenceGroundingChecker, circular, claims
from chat.profiles import ALL_CHECKS
from chat.text import content_words
from chat.types import Source
from tests.fakes import FakeEmbeddings


def source(number: int, text: str, section: str = "") -> Source:
    return Source(number, f"c{number}", f"/d/{number}.md", f"{number}.md", None, section, text,
                  0.5)


PUMP = source(1, "The Zephyr pump warranty lasts seven years. Keep the receipt.", "Warranty")
ORCHID = source(2, "Water orchids once a week with rainwater.", "Orchids")


def test_claims_carry_the_sources_each_sentence_cites():
    parsed = claims("The warranty lasts seven years [1]. Orchids need rain [2][1]. Yes.")
    assert [(c.text, c.cited) for c in parsed] == [
        ("The warranty lasts seven years [1].", (1,)),
        ("Orchids need rain [2][1].", (2, 1)),
        ("Yes.", ()),
    ]


def test_support_is_high_for_a_restatement_and_low_for_another_topic():
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    assert scorer.support("The pump warranty lasts seven years [1].", PUMP) > 0.8
    assert scorer.support("The pump warranty lasts seven years.", ORCHID) < 0.3


def test_a_number_the_passage_lacks_means_no_support():
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    assert scorer.support("The Zephyr pump warranty lasts 10 years.", PUMP) == 0.0


def test_a_number_from_the_file_name_or_page_is_no_invention():
    # "See the 04-asking.md file": the model names the file it read, not a number it made up.
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    guide = Source(1, "c1", "/d/04-asking.md", "04-asking.md", 12, "Filters",
                   "Pass the type option to search only PDF files.", 0.5)
    # 0.0 is the number rule's verdict; anything above it means the rule let the claim through
    assert scorer.support("Pass the type option, as the 04-asking.md file says on page 12.",
                          guide) > 0.0
    assert scorer.support("Pass the type option to search only 5 PDF files.", guide) == 0.0
    # The page's number is no licence for the same number elsewhere in the claim.
    assert scorer.support("Pass the type option to search only 12 PDF files.", guide) == 0.0


def test_a_number_in_words_counts_as_the_number():
    """"Two households" is as much a number the passage may lack as "2 households"."""
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    assert scorer.support("The Zephyr pump warranty lasts 7 years.", PUMP) > 0.5
    assert scorer.support("The Zephyr pump warranty lasts two years.", PUMP) == 0.0


def test_checker_uses_the_cited_source_and_falls_back_to_all_for_uncited_sentences():
    checker = EvidenceGroundingChecker(EvidenceScorer(FakeEmbeddings().embed_documents), 0.5)
    verdicts = checker.check(
        claims("The pump warranty lasts seven years [1]. Water orchids once a week. Yes. "
               "Orchids bloom in March [1]."),
        [PUMP, ORCHID],
    )
    cited, uncited, nothing, unsupported = verdicts
    assert cited.supported is True and cited.supported_by == 1
    assert uncited.supported is True and uncited.supported_by == 2
    assert nothing.supported is None
    assert unsupported.supported is False and unsupported.supported_by is None


def test_a_sentence_citing_the_wrong_source_is_supported_by_the_one_that_says_it():
    """Small models often cite the wrong excerpt ("1943 [1]." when [2] says 1943)."""
    checker = EvidenceGroundingChecker(EvidenceScorer(FakeEmbeddings().embed_documents), 0.5)
    (verdict,) = checker.check(claims("The pump warranty lasts seven years [2]."),
                               [PUMP, ORCHID])
    assert verdict.supported is True and verdict.cited == (2,) and verdict.supported_by == 1


def test_rank_puts_the_answering_sentence_first_and_weights_rare_words():
    embeddings = FakeEmbeddings()
    scorer = EvidenceScorer(embeddings.embed_documents)
    ranked = scorer.rank("How long is the pump warranty?", [ORCHID, PUMP])
    assert ranked[0].source == 1 and ranked[0].text.startswith("The Zephyr pump warranty")
    assert ranked[0].score > ranked[-1].score
    # weighting by rarity: matching only the common word counts for less
    weights = {"pump": 1.0, "warranti": 5.0}
    assert coverage(frozenset(weights), frozenset({"pump"}), weights) == 1 / 6
    assert coverage(frozenset(weights), frozenset({"pump"})) == 0.5


def test_how_large_is_fully_matched_by_the_sentence_that_gives_the_size():
    """The evidence score decides whether the model answers at all: "large" is what the
    question measures, and the sentence that answers says "200 tokens", not "large"."""
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    question = "How large are the chunks documents are cut into?"
    chunks = source(1, "Documents are cut into chunks of at most 200 tokens.")
    (best,) = scorer.rank(question, [chunks])
    q, sentence = scorer.vectors([question, chunks.text])
    # every word the answer can share is there: only the meaning part is below 1
    assert best.score == round(0.3 * min(max(float(q @ sentence), 0.0), 1.0) + 0.7, 4)


def test_sentence_vectors_are_cached():
    embeddings = FakeEmbeddings()
    scorer = EvidenceScorer(embeddings.embed_documents)
    scorer.rank("warranty?", [PUMP])
    calls = len(embeddings.calls)
    scorer.rank("warranty?", [PUMP])
    assert len(embeddings.calls) == calls


def test_a_sentence_that_quotes_the_question_ranks_below_the_one_that_answers_it():
    """An FAQ heading or a "try asking …" line repeats the question word for word; it was
    ranked first and quoted as the best matching passage."""
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    faq = source(1, "Where does docchat store its index? It stores the index in the data "
                    "directory under the home folder.")
    ranked = scorer.rank("Where does docchat store its index?", [faq])
    assert ranked[0].text.startswith("It stores the index")
    assert ranked[1].text == "Where does docchat store its index?"


def test_a_cross_encoder_reorders_the_best_sentences_when_given_weight():
    """answer.relevance_weight: the cross-encoder's view of each best sentence's window is
    blended into its score; at weight 0 the cross-encoder is never asked."""
    text = ("The Zephyr pump warranty is printed on the box. Boxes are blue. Oil it yearly. "
            "It lasts seven years.")
    question = "How long does the Zephyr pump warranty last?"
    asked = []

    def relevance(q, windows):
        asked.append(windows)
        return [10.0 if "seven years" in w and "printed" not in w else -10.0 for w in windows]

    plain = EvidenceScorer(FakeEmbeddings().embed_documents, relevance=relevance)
    assert plain.rank(question, [source(1, text)])[0].text.startswith("The Zephyr pump")
    assert asked == []
    blended = EvidenceScorer(FakeEmbeddings().embed_documents, relevance=relevance,
                             relevance_weight=0.9)
    ranked = blended.rank(question, [source(1, text)])
    assert ranked[0].text == "It lasts seven years."
    assert asked, "the cross-encoder read the windows"


def test_a_sentence_that_ends_with_its_beginning_is_circular_unless_it_says_something_between():
    going_round = ["The University of Chicago is affiliated with the University of Chicago.",
                   "Civil disobedience sometimes called civil disobedience.",
                   "The top_p setting is set to the top_p setting."]
    assert all(circular(content_words(s)) for s in going_round)
    saying_something = [
        # a number between, or more than two words: the answer is in the middle
        "The Cretaceous extinction event occurred 65.5 million years ago, during the "
        "Cretaceous extinction event.",
        "1640 Fermat declared his little theorem in 1640.",
        "The pump warranty lasts seven years from the date of purchase of the pump.",
        "The index lives in the data directory.",
        "Seven years, seven years.",  # said twice: still says it
    ]
    assert not any(circular(content_words(s)) for s in saying_something)


def test_an_answer_made_up_around_the_question_words_is_not_supported():
    """The question's words are in every passage that matches it: they must not carry an
    invented answer past the check (SQuAD: "The Canadian Broadcasting Corporation (CBC)
    handles substitution regulations for television shows.")."""
    crtc = source(1, "In Canada, simultaneous substitution regulations for television shows "
                     "are handled by the CRTC, the broadcasting regulator.")
    checker = EvidenceGroundingChecker(EvidenceScorer(FakeEmbeddings().embed_documents), 0.42)
    question = "What entity in Canada handles substitution regulations for television shows?"
    made_up, right = checker.check(
        claims("The public broadcaster CBC handles substitution regulations for television "
               "shows in Canada [1]. The CRTC handles them, the broadcasting regulator [1]."),
        [crtc], question=question)
    assert made_up.supported is False and made_up.problem == "the sources do not say it"
    assert made_up.score >= 0.42  # the support score alone would have passed it
    assert right.supported is True


def test_a_matching_sentence_in_a_source_the_prompt_left_out_is_no_error():
    # The sentences that match the question are ranked over every retrieved source; the
    # check sees only those that fit the prompt.
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    kept = source(1, "Original illustrations painted by C. Fleming Williams are for sale.")
    left_out = source(2, "Winter sports, a book by E. F. Benson with colour illustrations by "
                         "C. Fleming Williams.")
    question = "Who painted the colour illustrations in Benson's winter sports book?"
    ranked = scorer.rank(question, [kept, left_out])
    assert ranked[0].source == 2
    checker = EvidenceGroundingChecker(scorer, threshold=0.42)
    verdict, = checker.check(claims("The illustrations were painted by C. Fleming Williams."),
                             [kept], question=question, relevant=ranked)
    assert verdict.problem == "it is about something the question did not ask"


def test_a_name_of_code_no_source_has_is_an_invention_even_when_the_words_match():
    """doit's docs name the backends and DOIT_CONFIG but no environment variable for the
    backend: "… is `DOIT_BACKEND` [1]" shares every other word with the passage."""
    backends = source(1, "doit saves the results of your tasks in a DB-file. It supports the "
                         "backends dbm, json and sqlite3; choose one with DOIT_CONFIG or the "
                         "--backend option.", "Backends")
    checks = ALL_CHECKS - {"invents_name"}
    question = "Which environment variable selects the DB backend?"
    for rules, supported in ((checks, True), (checks | {"invents_name"}, False)):
        checker = EvidenceGroundingChecker(EvidenceScorer(FakeEmbeddings().embed_documents),
                                           0.42, frozenset(rules))
        made_up, named = checker.check(
            claims("The DB backend is selected with the `DOIT_BACKEND` variable, choosing dbm, "
                   "json or sqlite3 [1]. Choose the backend with the --backend option or "
                   "DOIT_CONFIG [1]."), [backends], question=question)
        assert made_up.supported is supported
        assert named.supported is True  # names the passage has pass
    assert made_up.problem == ("it names `doit_backend`, which neither the sources nor the "
                               "question contain")


def test_a_code_blocks_lines_may_use_names_no_source_has():
    """A how-to's example names its own function ("def task_compile():"); a code line is an
    example, not a claim that the documents name it."""
    tasks = source(1, "A task is a function whose name starts with task_ and returns a dict "
                      "with its actions, e.g. def task_hello(): return {'actions': ['echo hi']}",
                   "Tasks")
    checker = EvidenceGroundingChecker(EvidenceScorer(FakeEmbeddings().embed_documents), 0.0,
                                       frozenset({"invents_name"}))
    answer = ("Define a function whose name starts with task_ [1]:\n```python\n"
              "def task_compile():\n    return {'actions': ['gcc main.c']}\n```\n"
              "Then run task_compile with doit [1].")
    verdicts = {v.text.strip(): v for v in checker.check(claims(answer), [tasks],
                                                         question="How do I define a task?")}
    assert verdicts["def task_compile():"].supported is True
    assert verdicts["Then run task_compile with doit [1]."].supported is False
