import pytest
from langchain_core.documents import Document

from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer
from chat.pipeline import EVIDENCE_LABEL, NO_DOCUMENTS, NOT_ANSWERED, ChatPipeline
from chat.types import AnswerEvent, SourcesEvent, TokenEvent, WarningEvent
from ingest.errors import DocchatError
from retriever.types import RetrievedChunk, SearchFilter
from tests.fakes import FakeEmbeddings, FakeGenerator


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
    events = run(ChatPipeline(retriever, gen, GeneratorConfig()))

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
    assert "seven years" in gen.seen[0][1]["content"]


def test_an_empty_question_is_a_user_error():
    with pytest.raises(DocchatError, match="empty"):
        list(ChatPipeline(FakeRetriever([]), FakeGenerator(), GeneratorConfig()).ask("  "))


def test_empty_index_gives_an_honest_answer_without_calling_the_model():
    gen = FakeGenerator()
    events = run(ChatPipeline(FakeRetriever([]), gen, GeneratorConfig()))
    answer = events[-1].answer
    assert answer.abstained and answer.text == NO_DOCUMENTS
    assert answer.sources == () and gen.seen == []


def test_an_answer_without_citations_is_flagged_and_keeps_all_sources():
    gen = FakeGenerator("Seven years.")
    events = run(ChatPipeline(FakeRetriever([chunk(1, "a"), chunk(2, "b")]), gen,
                              GeneratorConfig()))
    answer = events[-1].answer
    assert answer.cited == () and len(answer.sources) == 2
    assert any("cites no source" in w for w in answer.warnings)


def test_a_looping_model_is_stopped_and_the_repeat_trimmed():
    loop = "It lasts seven years [1]. " * 20
    gen = FakeGenerator(loop)
    events = run(ChatPipeline(FakeRetriever([chunk(1, "seven years")]), gen, GeneratorConfig()))
    assert events[-1].answer.text == "It lasts seven years [1]."
    assert gen.closed_early, "the backend's stream was closed, so generation stops"
    assert gen.pieces_sent < len(loop.split())


def test_generation_settings_and_retrieval_options_are_passed_through():
    gen = FakeGenerator("one two three four five six")
    retriever = FakeRetriever([chunk(1, "x")])
    pipeline = ChatPipeline(retriever, gen, GeneratorConfig(max_new_tokens=3))
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
    return ChatPipeline(FakeRetriever(list(chunks)), gen, GeneratorConfig(),
                        AnswerConfig(**answer), scorer=scorer)


def final(pipeline, question="How long does the Zephyr pump warranty last?"):
    return list(pipeline.ask(question))[-1].answer


def test_weak_evidence_abstains_before_generating_and_shows_the_closest_sources():
    gen = FakeGenerator("should not be asked")
    events = list(checked_pipeline(gen).ask("What is the boiling point of mercury?"))
    answer = events[-1].answer
    assert answer.abstained and answer.text == NOT_ANSWERED
    assert [s.number for s in answer.sources] == [1, 2]
    assert answer.evidence is not None and answer.evidence < AnswerConfig().abstain_below
    assert gen.seen == []


def test_a_supported_answer_is_kept_and_an_uncited_sentence_gets_its_source():
    gen = FakeGenerator("The Zephyr pump warranty lasts seven years.")
    events = list(checked_pipeline(gen).ask("How long does the Zephyr pump warranty last?"))
    answer = events[-1].answer
    assert not answer.abstained and not answer.extractive
    assert answer.text == "The Zephyr pump warranty lasts seven years [1]."
    assert answer.cited == (1,)
    assert [s.supported for s in answer.sentences] == [True]
    assert any("added the source" in e.text for e in events if isinstance(e, WarningEvent))


def test_a_mostly_unsupported_answer_falls_back_to_quoted_sentences():
    gen = FakeGenerator("The warranty covers 10 years [1]. Orchids prefer snow [2].")
    answer = final(checked_pipeline(gen))
    assert answer.extractive
    assert answer.text.startswith("“The Zephyr pump warranty lasts seven years")
    assert answer.text.endswith("[1]") and answer.cited[0] == 1
    assert len(answer.unsupported) == 2
    assert answer.generated.startswith("The warranty covers 10 years")
    assert any("not supported" in w for w in answer.warnings)


SUPPORTED = ("The Zephyr pump warranty lasts seven years [1]. "
             "The Zephyr pump warranty lasts seven years from purchase [1]. "
             "The warranty of the Zephyr pump lasts seven years [1]. ")


def test_one_unsupported_sentence_in_four_is_flagged_not_replaced():
    answer = final(checked_pipeline(FakeGenerator(SUPPORTED + "It was made in 1987 [1].")))
    assert not answer.extractive
    assert [s.supported for s in answer.sentences] == [True, True, True, False]
    assert any("made in 1987" in w for w in answer.warnings)


def test_more_than_a_quarter_unsupported_is_replaced():
    gen = FakeGenerator(SUPPORTED.split(" [1]. ")[0] + " [1]. It was made in 1987 [1].")
    answer = final(checked_pipeline(gen))
    assert answer.extractive and [s.supported for s in answer.sentences] == [True, False]


def test_a_model_that_says_it_does_not_know_is_replaced_when_the_evidence_is_strong():
    gen = FakeGenerator("The documents do not say.")
    answer = final(checked_pipeline(gen))
    assert answer.extractive and not answer.abstained
    assert "seven years" in answer.text and answer.cited == (1,)


def test_the_best_matching_sentence_is_quoted_after_a_generated_answer():
    gen = FakeGenerator("Seven years [1].")
    pipeline = checked_pipeline(gen, quote_evidence=True)
    answer = list(pipeline.ask("How long does the Zephyr pump warranty last?"))[-1].answer
    assert answer.text.startswith("Seven years [1].")
    assert f"{EVIDENCE_LABEL} “The Zephyr pump warranty lasts seven years" in answer.text


def test_a_follow_up_is_searched_together_with_the_previous_question():
    gen = FakeGenerator("Seven years [1].")
    pipeline = checked_pipeline(gen, abstain_below=0.0)
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
        return ChatPipeline(FakeRetriever([chunk(1, "seven years")]), gen, GeneratorConfig())

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
