import pytest
from langchain_core.documents import Document

from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer
from chat.pipeline import EVIDENCE_LABEL, NEAR_MISS, NO_DOCUMENTS, NO_MATCH, ChatPipeline
from chat.profiles import CAPABLE_CHECKS
from chat.types import AnswerEvent, SourcesEvent, TokenEvent, WarningEvent
from ingest.errors import DocchatError
from retriever.types import RetrievedChunk, SearchFilter
from tests.fakes import FakeEmbeddings, FakeGenerator

# These tests exercise every check and the evidence gate: the profile that has them all.
SMOL = "smollm2-135m"


class FakeRetriever:
    def __init__(self, chunks):
        self.chunks = chunks
        self.queries = []

    def retrieve(self, query, k=None, filters=None):
        self.queries.append((query, k, filters))
        return self.chunks


def chunk(i: int, text: str, page=None) -> RetrievedChunk:
    meta = {"chunk_id": f"id{i}", "source": f"/docs/f{i}.md", "file_name": f"f{i}.md",
            "section": "S"}
    if page:
        meta["page"] = page
    return RetrievedChunk(Document(page_content=text, metadata=meta), 0.9 - i / 10)


def run(pipeline, question="How long is the warranty?"):
    return list(pipeline.ask(question))


def test_events_stream_sources_then_tokens_then_the_checked_answer():
    gen = FakeGenerator("The warranty lasts seven years [1]. Ask the shop [5].")
    retriever = FakeRetriever([chunk(1, "seven years", page=4), chunk(2, "other")])
    events = run(ChatPipeline(retriever, gen, GeneratorConfig(model=SMOL)))

    assert isinstance(events[0], SourcesEvent)
    assert [s.number for s in events[0].sources] == [1, 2]
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert "".join(tokens) == "The warranty lasts seven years [1]. Ask the shop [5]."
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerEvent)
    assert answer.text == "The warranty lasts seven years [1]. Ask the shop."
    assert answer.cited == (1,)
    assert answer.citations[0].page == 4 and answer.citations[0].file_name == "f1.md"
    assert any("[5]" in w for w in answer.warnings)
    assert set(answer.timings) == {"retrieve_s", "first_token_s", "total_s"}
    assert "seven years" in gen.seen[0][-1]["content"]


def test_an_empty_question_is_a_user_error():
    with pytest.raises(DocchatError, match="empty"):
        list(ChatPipeline(FakeRetriever([]), FakeGenerator(), GeneratorConfig(model=SMOL)).ask("  "))


def test_empty_index_gives_an_honest_answer_without_calling_the_model():
    gen = FakeGenerator()
    events = run(ChatPipeline(FakeRetriever([]), gen, GeneratorConfig(model=SMOL)))
    answer = events[-1].answer
    assert answer.abstained and answer.text == NO_DOCUMENTS
    assert answer.sources == () and gen.seen == []


def test_an_answer_without_citations_is_flagged_and_keeps_all_sources():
    gen = FakeGenerator("Seven years.")
    events = run(ChatPipeline(FakeRetriever([chunk(1, "a"), chunk(2, "b")]), gen,
                              GeneratorConfig(model=SMOL)))
    answer = events[-1].answer
    assert answer.cited == () and len(answer.sources) == 2
    assert any("cites no source" in w for w in answer.warnings)


def test_a_looping_model_is_stopped_and_the_repeat_trimmed():
    loop = "It lasts seven years [1]. " * 20
    gen = FakeGenerator(loop)
    events = run(ChatPipeline(FakeRetriever([chunk(1, "seven years")]), gen, GeneratorConfig(model=SMOL)))
    assert events[-1].answer.text == "It lasts seven years [1]."
    assert gen.closed_early, "the backend's stream was closed, so generation stops"
    assert gen.pieces_sent < len(loop.split())


def test_generation_settings_and_retrieval_options_are_passed_through():
    gen = FakeGenerator("one two three four five six")
    retriever = FakeRetriever([chunk(1, "x")])
    pipeline = ChatPipeline(retriever, gen, GeneratorConfig(model=SMOL, max_new_tokens=3))
    pdf_only = SearchFilter(file_types=("pdf",))
    events = list(pipeline.ask("  q  ", k=7, filters=pdf_only))
    assert retriever.queries == [("q", 7, pdf_only)]
    assert events[-1].answer.text == "one two three"


# ---- evidence, grounding, fallbacks, follow-ups (a scorer over fake embeddings) ----------

WARRANTY = chunk(1, "The Zephyr pump warranty lasts seven years from the date of purchase.")
ORCHIDS = chunk(2, "Water orchids once a week with rainwater.")


def checked_pipeline(gen, chunks=(WARRANTY, ORCHIDS), **answer):
    answer.setdefault("quote_evidence", False)
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    return ChatPipeline(FakeRetriever(list(chunks)), gen, GeneratorConfig(model=SMOL),
                        AnswerConfig(**answer), scorer=scorer)


def final(pipeline, question="How long does the Zephyr pump warranty last?"):
    return list(pipeline.ask(question))[-1].answer


def checked(generated, passage, question):
    """The reply when the model writes `generated` from one passage, gates open: only the
    grounding checks decide."""
    return final(checked_pipeline(FakeGenerator(generated), chunks=(passage,), answer_above=0.0,
                                  nothing_below=0.0), question)


def test_no_matching_evidence_says_so_without_generating():
    gen = FakeGenerator("should not be asked")
    pipeline = checked_pipeline(gen)
    answer = final(pipeline, "What is the boiling point of mercury?")
    assert answer.outcome == "no_match" and answer.abstained and answer.text == NO_MATCH
    assert [s.number for s in answer.sources] == [1, 2]
    assert answer.evidence is not None and answer.evidence < pipeline.profile.nothing_below
    assert gen.seen == []


def test_middling_evidence_quotes_the_closest_passage_as_a_near_miss_without_generating():
    gen = FakeGenerator("should not be asked")
    answer = final(checked_pipeline(gen, answer_above=0.99))
    assert answer.outcome == "near_miss" and answer.abstained
    assert answer.text.startswith(NEAR_MISS)
    assert "“The Zephyr pump warranty lasts seven years" in answer.text and answer.cited == (1,)
    assert gen.seen == []


def test_the_model_reads_the_best_excerpts_not_whole_chunks():
    long_chunk = chunk(1, "Intro sentence one. Intro sentence two. Intro sentence three. "
                          "The Zephyr pump warranty lasts seven years. Keep the receipt. "
                          "Unrelated tail one. Unrelated tail two.")
    gen = FakeGenerator("Seven years [1].")
    final(checked_pipeline(gen, chunks=(long_chunk, ORCHIDS), evidence_sentences=1,
                         evidence_neighbours=1))
    prompt = gen.seen[0][-1]["content"]
    assert "The Zephyr pump warranty lasts seven years." in prompt
    assert "Intro sentence three. The Zephyr" in prompt and "Keep the receipt." in prompt
    assert "Intro sentence one" not in prompt and "Unrelated tail two" not in prompt
    assert "[1] f1.md — S" in prompt


def test_a_supported_answer_is_kept_and_an_uncited_sentence_gets_its_source():
    gen = FakeGenerator("The Zephyr pump warranty lasts seven years.")
    events = list(checked_pipeline(gen).ask("How long does the Zephyr pump warranty last?"))
    answer = events[-1].answer
    assert answer.outcome == "answer" and not answer.extractive
    assert answer.text == "The Zephyr pump warranty lasts seven years [1]."
    assert answer.cited == (1,)
    assert [s.supported for s in answer.sentences] == [True]
    assert not [e for e in events if isinstance(e, WarningEvent)], \
        "the marker docchat placed says it; no warning on a sound answer"
    assert EVIDENCE_LABEL not in answer.text, "its citation holds: no passage appended"


def test_a_sentence_citing_the_wrong_source_gets_the_right_marker():
    gen = FakeGenerator("The Zephyr pump warranty lasts seven years [2].")
    answer = final(checked_pipeline(gen))
    assert answer.outcome == "answer"
    assert answer.text == "The Zephyr pump warranty lasts seven years [1]."
    assert answer.cited == (1,)
    assert any("cited a source that does not say it" in w for w in answer.warnings)


def test_a_mostly_unsupported_answer_becomes_a_near_miss_and_says_why():
    gen = FakeGenerator("The warranty covers 10 years [1]. Orchids prefer snow [2].")
    answer = final(checked_pipeline(gen))
    assert answer.outcome == "near_miss" and answer.text.startswith(NEAR_MISS)
    assert "“The Zephyr pump warranty lasts seven years" in answer.text and answer.cited == (1,)
    assert len(answer.unsupported) == 2
    assert answer.generated.startswith("The warranty covers 10 years")
    assert any("not shown: 2 of 2 sentences" in w for w in answer.warnings)


SUPPORTED = ("The Zephyr pump warranty lasts seven years [1]. "
             "It counts from the date of purchase [1]. "
             "The pump's warranty is seven years long [1]. ")


def test_one_unsupported_sentence_in_four_is_flagged_not_replaced():
    gen = FakeGenerator(SUPPORTED + "It was made in 1987 [1].")
    answer = final(checked_pipeline(gen, max_sentences=4))
    assert answer.outcome == "answer"
    assert [s.supported for s in answer.sentences] == [True, True, True, False]
    assert any("made in 1987" in w for w in answer.warnings)


def test_a_sentence_that_fails_the_check_is_left_out_and_named():
    first = SUPPORTED.split(" [1]. ")[0] + " [1]."
    answer = final(checked_pipeline(FakeGenerator(first + " It was made in 1987 [2].")))
    assert answer.outcome == "answer" and [s.supported for s in answer.sentences] == [
        True, False]
    assert answer.text.split("\n\n")[0] == first and "1987" not in answer.text
    assert answer.cited == (1,), "the left-out sentence's citation goes with it"
    assert any(w.startswith("Left out of the answer") and "1987" in w for w in answer.warnings)
    kept = final(checked_pipeline(FakeGenerator(first + " It was made in 1987 [2]."),
                                  drop_unsupported=False))
    assert "It was made in 1987 [2]." in kept.text
    assert any(w.startswith("Not supported by the cited sources") for w in kept.warnings)


def test_more_than_half_unsupported_is_not_shown_as_an_answer():
    gen = FakeGenerator(SUPPORTED.split(" [1]. ")[0] + " [1]. It was made in 1987 [1]. "
                        "It weighs 40 kg [1].")
    answer = final(checked_pipeline(gen))
    assert answer.outcome == "near_miss" and [s.supported for s in answer.sentences] == [
        True, False, False]


def test_an_answer_whose_first_sentence_fails_is_not_shown_without_it():
    # On a documentation folder, "Yes, InvalidURL derives from HarborError. This can be seen
    # in the hierarchy …" lost its wrong first sentence and showed the rest as the answer.
    second = SUPPORTED.split(" [1]. ")[0] + " [1]."
    answer = final(checked_pipeline(FakeGenerator("It was made in 1987 [1]. " + second)))
    assert answer.outcome == "near_miss", answer.text
    assert [s.supported for s in answer.sentences] == [False, True]
    assert answer.generated.startswith("It was made in 1987")
    assert any("first sentence, the direct answer, failed" in w for w in answer.warnings)
    kept = final(checked_pipeline(FakeGenerator("It was made in 1987 [1]. " + second),
                                  drop_unsupported=False))
    assert kept.outcome == "answer", "shown with its warning, the first sentence stays"


def test_a_restatement_of_the_question_is_not_an_answer():
    """The demo's "How do I remove a file from the index?" got "The document you are
    referring to is a document that is not found in the index", marked supported."""
    index = chunk(1, "The index lives in the data directory. The remove command deletes "
                     "indexed files from the index.")
    answer = checked("The file you want to remove from the index is a file in the index [1].",
                     index, "How do I remove a file from the index?")
    assert answer.outcome == "near_miss"
    assert answer.sentences[0].problem == "it only restates the question"
    bulleted = checked("- The file you want to remove from the index is a file in the index "
                       "[1].", index, "How do I remove a file from the index?")
    assert bulleted.outcome == "near_miss", "one bulleted line is no list of steps"


def test_a_step_that_names_what_was_asked_is_still_a_step():
    """"How do I install docchat …?" got eight steps; "3. Install docchat itself." was left
    out as a restatement of the question, leaving a gap in the list."""
    setup = chunk(1, "Create a virtual environment. Install the locked requirements. Install "
                     "docchat itself. Ingest the sample documents.")
    steps = ("1. Install the locked requirements [1].\n2. Install docchat itself [1].\n"
             "3. Ingest the sample documents [1].")
    answer = checked(steps, setup, "How do I install docchat?")
    assert answer.outcome == "answer" and not answer.warnings, answer.warnings
    assert [s.supported for s in answer.sentences] == [True, True, True]
    assert answer.text == steps


def test_what_an_answer_adds_counts_where_any_source_says_it():
    # On the transfer set "Galaxy Gaming's ticker symbol is GLXZ." was withheld as a
    # restatement: its best-matching window was the sentence naming the ticker symbol, and
    # "GLXZ" stood in a sentence further on.
    profile = chunk(1, "Galaxy Gaming has a ticker symbol on the Nasdaq market. The company "
                       "designs casino table games. It licenses them to casinos. Its shares "
                       "trade as GLXZ.")
    question = "What is Galaxy Gaming's ticker symbol?"

    def capable(text):  # the default model's checks
        return final(checked_pipeline(FakeGenerator(text), chunks=(profile,), answer_above=0.0,
                                      nothing_below=0.0, checks=sorted(CAPABLE_CHECKS)),
                     question)

    answer = capable("Galaxy Gaming's ticker symbol is GLXZ [1].")
    assert answer.outcome == "answer", answer.sentences
    echo = capable("Galaxy Gaming's ticker symbol is its ticker symbol [1].")
    assert echo.sentences[0].problem == "it only restates the question"


def test_a_number_for_a_wildcard_class_of_values_is_news():
    # On a documentation folder the right "… an exit status of 5 for a 5xx response" was
    # withheld as a restatement: "5xx" read as the number 5 plus "xx".
    usage = chunk(1, "The command exits with status 4 for a 4xx response and 5 for a 5xx "
                     "response.")
    question = "What exit status does the command use for a 5xx response?"
    answer = checked("The command uses an exit status of 5 for a 5xx response [1].", usage,
                     question)
    assert answer.outcome == "answer", answer.sentences
    echo = checked("The command uses an exit status for a 5xx response [1].", usage, question)
    assert echo.sentences[0].problem == "it only restates the question"


def test_a_sentence_that_ends_where_it_began_is_not_an_answer():
    """On the guide, "Which setting chooses the configuration file?" got "The generator is
    the one chosen by the generator", marked supported: its passage has every word of it."""
    settings = chunk(1, "The settings tab chooses the generator and the reranker. "
                        "DOCCHAT_CONFIG names the configuration file.")
    answer = checked("The generator is the one chosen by the generator [1].", settings,
                     "Which setting chooses the configuration file?")
    assert answer.outcome == "near_miss"
    assert answer.sentences[0].problem == "it ends with what it began with and says nothing between"


def test_an_answer_without_a_number_to_a_how_many_question_is_not_an_answer():
    """SQuAD: "How many stations did Boston have in 1952?" got a sentence about Hearst
    Television's affiliates, every word of it in the passage."""
    stations = chunk(1, "Boston had two stations in 1952. Hearst Television owns stations "
                        "affiliated with ABC in Boston.")
    question = "How many stations did Boston have in 1952?"
    vague = checked("Hearst Television owns stations affiliated with ABC in Boston [1].",
                    stations, question)
    assert vague.outcome == "near_miss"
    assert any("asks for a number" in w for w in vague.warnings)
    counted = checked("Boston had two stations in 1952 [1].", stations, question)
    assert counted.outcome == "answer"


def test_an_answer_about_something_the_question_did_not_ask_is_flagged():
    """The demo's "Which file formats can docchat read?" got a sentence about the models,
    stitched from a passage the question did not match."""
    formats = chunk(1, "docchat reads PDF, Word and HTML files. It reads Markdown too.")
    models = chunk(2, "The embedder is MiniLM. It reads at most 256 tokens at a time. "
                      "The language model is SmolLM2.")
    gen = FakeGenerator("The language model is SmolLM2, which reads at most 256 tokens [2].")
    answer = final(checked_pipeline(gen, chunks=(formats, models), answer_above=0.0,
                                    nothing_below=0.0),
                   "Which file formats can docchat read?")
    flagged = answer.sentences[0]
    assert flagged.supported is False
    assert flagged.problem == "it is about something the question did not ask"


def test_an_answer_a_matching_passage_also_supports_is_on_the_question():
    # On the transfer set "… were painted by C. F. Fleming Williams." was withheld as off
    # the question: its best-supporting window was a publisher's note the question does not
    # match, while the title page that answers names the painter too.
    note = chunk(1, "Original illustrations painted by C. Fleming Williams are for sale. "
                    "Apply to the publishers.")
    title = chunk(2, "Winter sports, a book by E. F. Benson with colour illustrations by "
                     "C. Fleming Williams. It tells of skating and ski-running.")
    question = "Who painted the colour illustrations in Benson's winter sports book?"

    def reply(text):
        return final(checked_pipeline(FakeGenerator(text), chunks=(note, title),
                                      answer_above=0.0, nothing_below=0.0), question)

    answer = reply("The illustrations were painted by C. Fleming Williams.")
    assert answer.outcome == "answer", answer.sentences
    assert answer.sentences[0].supported_by == 2, "it rests on the title page"
    # The title page supports this one too, but not what it adds: "for sale".
    for_sale = reply("The illustrations painted by C. Fleming Williams are for sale.")
    assert for_sale.sentences[0].problem == "it is about something the question did not ask"
    off = reply("Original illustrations are for sale from the publishers [1].")
    assert off.sentences[0].problem == "it is about something the question did not ask"


def test_a_sentence_that_negates_its_passage_is_not_supported():
    """The demo's "How do I use an Ollama server for the answers?" got "The server is not a
    server that speaks the OpenAI chat API [1]", marked supported: it shares every word."""
    server = chunk(1, "The openai backend sends the question to any server that speaks the "
                      "OpenAI chat API, such as Ollama.")
    question = "How do I use an Ollama server for the answers?"
    negated = checked("The server is not a server that speaks the OpenAI chat API [1].",
                      server, question)
    assert negated.outcome == "near_miss"
    assert negated.sentences[0].problem == "it negates what the source says"
    affirmed = checked("The openai backend sends the question to an Ollama server [1].",
                       server, question)
    assert affirmed.outcome == "answer" and affirmed.sentences[0].supported is True


def test_a_negation_the_passage_shares_is_supported():
    offline = chunk(1, "docchat never sends your documents anywhere. It runs offline.")
    answer = checked("docchat does not send your documents anywhere [1].", offline,
                     "Does docchat send my documents anywhere?")
    assert answer.outcome == "answer" and answer.sentences[0].supported is True


def test_a_negation_the_question_asks_for_is_not_held_against_the_answer():
    lack = chunk(1, "Coastal beroids lack the tentacles that other comb jellies have.")
    answer = checked("Coastal beroids do not have the tentacles of comb jellies [1].", lack,
                     "What do coastal beroids not have that other comb jellies have?")
    assert answer.outcome == "answer" and answer.sentences[0].supported is True


def test_a_sentence_borrowed_from_the_prompt_example_is_not_supported():
    """The worked example in the prompt is about a Zephyr pump; the 135M model sometimes
    answers about it with words of the real excerpts ("The Zephyr pump comes with a search
    engine that allows you to search for documents")."""
    search = chunk(1, "A search engine finds documents in your folder by their words.")
    answer = checked("The Zephyr pump comes with a search engine that finds documents [1].",
                     search, "How do I search for documents in my folder?")
    assert answer.outcome == "near_miss"
    assert answer.sentences[0].problem == "it repeats the prompt's example, not the sources"


def test_a_model_that_finds_no_answer_gives_a_near_miss():
    gen = FakeGenerator("The documents do not say.")
    answer = final(checked_pipeline(gen))
    assert answer.outcome == "near_miss" and answer.abstained
    assert "seven years" in answer.text and answer.cited == (1,)
    assert answer.generated == "The documents do not say."


def test_generation_stops_at_an_echo_of_the_prompt_which_is_never_streamed():
    gen = FakeGenerator("It lasts seven years [1].\n\n[2] f2.md — S\nWater orchids once a "
                        "week.\nQuestion: How long does the Zephyr pump warranty last?")
    events = list(checked_pipeline(gen).ask("How long does the Zephyr pump warranty last?"))
    streamed = "".join(e.text for e in events if isinstance(e, TokenEvent))
    answer = events[-1].answer
    assert answer.generated == "It lasts seven years [1]."
    assert "f2.md" not in streamed and "Question" not in streamed
    assert gen.closed_early


def test_answers_stop_after_the_sentence_limit():
    gen = FakeGenerator("The warranty lasts seven years [1]. Keep the receipt [1]. "
                        "It covers the motor [1]. And the seals [1].")
    answer = final(checked_pipeline(gen, max_sentences=2, max_unsupported=1.0))
    assert answer.generated == "The warranty lasts seven years [1]. Keep the receipt [1]."


def test_the_best_matching_sentence_is_quoted_when_the_answers_citation_did_not_hold():
    gen = FakeGenerator("Seven years [2].")  # source 2 is about the router
    pipeline = checked_pipeline(gen, quote_evidence=True)
    answer = list(pipeline.ask("How long does the Zephyr pump warranty last?"))[-1].answer
    assert answer.text.startswith("Seven years [1].")
    assert f"{EVIDENCE_LABEL} “The Zephyr pump warranty lasts seven years" in answer.text
    sound = checked_pipeline(FakeGenerator("Seven years [1]."), quote_evidence=True)
    answer = list(sound.ask("How long does the Zephyr pump warranty last?"))[-1].answer
    assert answer.text == "Seven years [1].", "a citation that holds needs no quote"


def test_an_answer_that_copies_the_best_sentence_does_not_quote_it_again():
    gen = FakeGenerator("The Zephyr pump warranty lasts seven years from the date of "
                        "purchase [1].")
    pipeline = checked_pipeline(gen, quote_evidence=True)
    answer = list(pipeline.ask("How long does the Zephyr pump warranty last?"))[-1].answer
    assert answer.outcome == "answer" and EVIDENCE_LABEL not in answer.text


def test_a_follow_up_is_searched_together_with_the_previous_question():
    gen = FakeGenerator("Seven years [1].")
    pipeline = checked_pipeline(gen, answer_above=0.0, nothing_below=0.0)
    history = [{"role": "user", "content": "Tell me about the Zephyr pump warranty."},
               {"role": "assistant", "content": "It lasts seven years [1]."}]
    list(pipeline.ask("And how long is it?", history=history))
    assert pipeline.retriever.queries[-1][0] == (
        "Tell me about the Zephyr pump warranty. And how long is it?"
    )


def test_a_local_model_waits_for_its_turn_and_a_model_server_does_not():
    import threading
    import time

    from chat.scheduling import GATE

    def pipeline(local: bool) -> ChatPipeline:
        gen = FakeGenerator("The warranty lasts seven years [1].")
        gen.local = local
        return ChatPipeline(FakeRetriever([chunk(1, "seven years")]), gen, GeneratorConfig(model=SMOL))

    earlier = GATE.enter()  # an earlier question, still without its first token
    try:
        started = time.perf_counter()
        assert run(pipeline(local=False))[-1].answer.cited == (1,)
        assert time.perf_counter() - started < 5, "a server's answer does not queue here"

        events = []
        worker = threading.Thread(target=lambda: events.extend(run(pipeline(local=True))))
        worker.start()
        time.sleep(0.3)
        assert events == [] and worker.is_alive(), "a local model's answer waits its turn"
    finally:
        earlier.release()
    worker.join(timeout=5)
    assert events[-1].answer.cited == (1,)


def test_warming_up_reads_the_shared_prompt_beginning_before_the_first_question():
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    gen = FakeGenerator("Yes.", "The warranty lasts seven years [1].")
    retriever = FakeRetriever([chunk(1, "The warranty lasts seven years.")])
    pipeline = ChatPipeline(retriever, gen, GeneratorConfig(model=SMOL), scorer=scorer)
    pipeline.warm_up()
    assert retriever.queries, "the indexes are opened"
    assert gen.pieces_sent == 1, "one token: the model only reads the prompt"
    run(pipeline)
    warm, asked = gen.seen
    assert len(warm) > 1 and warm[:-1] == asked[:-1], "the same shared beginning, now cached"

    server = FakeGenerator()
    server.local = False  # a model server: nothing is sent to it at start
    ChatPipeline(retriever, server, GeneratorConfig(model=SMOL), scorer=scorer).warm_up()
    assert server.seen == []


def test_a_model_that_says_it_does_not_know_streams_nothing_and_gives_a_near_miss():
    gen = FakeGenerator("I don't know the answer from these excerpts.")
    pipeline = checked_pipeline(gen, answer_above=0.0, nothing_below=0.0)
    events = list(pipeline.ask("How long does the Zephyr pump warranty last?"))
    assert not [e for e in events if isinstance(e, TokenEvent)]
    assert events[-1].answer.outcome == "near_miss"
    assert events[-1].answer.generated.startswith("I don't know")


INSTALL = chunk(1, "Install the pump. Fill the tank with rainwater. Connect the hose to the "
                   "outlet. Switch the pump on at the wall. Check the pressure gauge weekly.")


def test_a_how_to_answer_keeps_its_steps_and_loses_a_failed_one_whole():
    """A how-to answer was cut after "1." (a sentence of its own, one of three), and a left-out
    step left its number behind ("3. " on a line of its own)."""
    steps = ("To set up the pump, follow these steps:\n1. Install the pump [1].\n"
             "2. Fill the tank with rainwater [1].\n3. It was made in 1987 [1].\n"
             "4. Connect the hose to the outlet [1].\n5. Switch the pump on at the wall [1].")
    answer = final(checked_pipeline(FakeGenerator(steps), chunks=(INSTALL,), answer_above=0.0,
                                    nothing_below=0.0), "How do I set up the pump?")
    assert answer.outcome == "answer", answer.warnings
    assert answer.generated == steps, "no step was cut (the limit of 3 is for prose)"
    lines = answer.text.split("\n\n")[0].splitlines()
    assert lines[1:] == ["1. Install the pump [1].", "2. Fill the tank with rainwater [1].",
                         "4. Connect the hose to the outlet [1].",
                         "5. Switch the pump on at the wall [1]."]
    assert any("1987" in w for w in answer.warnings)
    # A line before a list that says more than "follow these steps" is checked like any.
    claimed = final(checked_pipeline(
        FakeGenerator(steps.replace("To set up the pump, follow these steps:",
                                    "The pump was made in 1987 by Acme, so set it up so:")),
        chunks=(INSTALL,), answer_above=0.0, nothing_below=0.0), "How do I set up the pump?")
    assert claimed.outcome == "near_miss" and claimed.sentences[0].supported is False


def test_a_command_in_a_code_block_is_shown_whole_and_unmarked():
    """The coder model answers how-to questions with a code block: its ``` lines are no
    sentences (they counted toward the limit of three and cut the block off), and a marker
    inside it would break the command."""
    serve = chunk(1, "Start the web chat with docchat serve. To use another port, run docchat "
                     "serve --port 8000 and open the page.")
    reply = ("To start the web chat on another port, run:\n```bash\ndocchat serve --port 8000"
             "\n```\nThen open the page.")
    answer = checked(reply, serve, "How do I start the web chat on another port?")
    assert answer.outcome == "answer", answer.warnings
    assert answer.text == reply.replace("the page.", "the page [1].")
    assert answer.cited == (1,)
    assert [(s.text, s.supported) for s in answer.sentences] == [
        ("To start the web chat on another port, run:", None), ("docchat serve --port 8000", True),
        ("Then open the page.", True)]


def test_a_code_block_whose_lines_all_fail_goes_and_a_kept_one_keeps_its_indentation():
    """"… adding the following line to the file:\n```\ntransport = requests…(max_retries=5)\n```"
    lost its unsupported line and showed an empty block; and leaving a sentence out squeezed
    every double space, a code block's indentation too."""
    serve = chunk(1, "Start the web chat with docchat serve. To use another port, run docchat "
                     "serve --port 8000 and open the page.")
    question = "How do I start the web chat on another port?"
    invented = checked("Run docchat serve with another port [1]. Add this line:\n```\n"
                       "requests.adapters.HTTPAdapter(max_retries=5)\n```\nThen open the page.",
                       serve, question)
    assert invented.outcome == "answer", invented.warnings
    assert "```" not in invented.text and "max_retries" not in invented.text
    assert any("max_retries" in w for w in invented.warnings)
    indented = ("Run docchat serve with another port [1]. It was made in 1987 [1].\n```python\n"
                "def serve():\n    docchat serve --port 8000\n```")
    kept = checked(indented, serve, question)
    assert "1987" not in kept.text and "\n    docchat serve --port 8000\n" in kept.text


def test_naming_a_setting_in_backticks_says_something():
    """"What settings control retrieval?" "This is specified in the `retrieval.k` setting."
    was left out as a restatement: its words are "retrieval" and a one-letter "k"."""
    table = chunk(1, "Each answer is built from retrieval.k chunks. The default of retrieval.k "
                     "is 4.")
    question = "What settings control retrieval?"

    def capable(text):
        return final(checked_pipeline(FakeGenerator(text), chunks=(table,), answer_above=0.0,
                                      nothing_below=0.0, checks=sorted(CAPABLE_CHECKS)),
                     question)

    named = capable("The `retrieval.k` setting controls retrieval [1].")
    assert named.outcome == "answer", named.warnings
    assert capable("The `retrieval` settings control retrieval [1].").outcome == "near_miss", \
        "code the question already names says nothing"
    assert capable("The `retrieval.depth` setting controls retrieval [1].").outcome == \
        "near_miss", "code no source has says nothing either"
    assert capable("The `is` setting controls retrieval [1].").outcome == "near_miss", \
        "a stop word in backticks is in every passage"
