import pytest
from langchain_core.documents import Document

from chat.config import GeneratorConfig
from chat.pipeline import NO_DOCUMENTS, ChatPipeline
from chat.types import AnswerEvent, SourcesEvent, TokenEvent
from ingest.errors import DocchatError
from retriever.types import RetrievedChunk, SearchFilter
from tests.fakes import FakeGenerator


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
