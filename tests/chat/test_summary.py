"""Whole-document questions: which file, its sections, one cited line per section."""

from langchain_core.documents import Document

from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer
from chat.pipeline import ChatPipeline
from chat.summary import MAX_SECTIONS, Section, opening_sentence, sections, summary_target
from chat.types import AnswerEvent, SourcesEvent, TokenEvent
from retriever.types import RetrievedChunk, SearchFilter
from tests.fakes import FakeEmbeddings, FakeGenerator

FILES = ["/docs/pump-manual.pdf", "/docs/router.md", "/other/notes.txt"]

# These tests exercise every check and the evidence gate: the profile that has them all.
SMOL = "smollm2-135m"


def piece(i, text, section="", page=None, source="/docs/pump-manual.pdf", **extra):
    meta = {"chunk_id": f"c{i}", "chunk_index": i, "source": source,
            "file_name": source.rsplit("/", 1)[-1], "section": section, **extra}
    if page is not None:
        meta["page"] = page
    return RetrievedChunk(Document(page_content=text, metadata=meta), 0.0)


def test_a_summary_question_names_its_file_by_name_or_stem():
    assert summary_target("Summarise pump-manual.pdf", FILES) == FILES[0]
    assert summary_target("give me an overview of the pump manual", FILES) == FILES[0]
    assert summary_target("What is router.md about?", FILES) == FILES[1]
    assert summary_target("tl;dr notes", FILES) == FILES[2]


def test_questions_about_one_fact_are_not_summaries():
    assert summary_target("How long is the warranty in pump-manual.pdf?", FILES) is None
    assert summary_target("What does router.md say about resetting?", FILES) is None
    assert summary_target("Summarise the warranty terms", FILES) is None  # no file named


def test_this_file_means_the_only_file_in_scope():
    assert summary_target("What is this document about?", FILES[:1]) == FILES[0]
    assert summary_target("What is this document about?", FILES) is None  # which one?


def test_two_files_with_the_same_name_are_not_guessed_between():
    assert summary_target("summarise notes.txt", ["/a/notes.txt", "/b/notes.txt"]) is None


def test_sections_follow_headings_and_split_packed_chunks_by_their_outline():
    text = "Warranty\n\nThe pump has a warranty of seven years.\n\nCleaning\n\nRinse the filter."
    cleaning = text.index("Cleaning")
    chunks = [piece(0, "Pump manual\n\nThis manual covers the Zephyr pump in full.",
                    "Pump manual"),
              piece(1, text, "Pump manual",
                    outline=f"0\tPump manual > Warranty\n{cleaning}\tPump manual > Cleaning")]
    got = sections(chunks)
    assert [s.heading for s in got] == ["Pump manual", "Warranty", "Cleaning"]
    assert got[2].text == "Cleaning\n\nRinse the filter."
    assert got[1].chunks[0].document.metadata["chunk_id"] == "c1"  # cites the real chunk


def test_a_file_without_headings_is_summarised_page_by_page():
    chunks = [piece(i, f"Text of page {i // 2 + 1}, part {i}.", page=i // 2 + 1)
              for i in range(6)]
    assert [s.heading for s in sections(chunks)] == ["p. 1", "p. 2", "p. 3"]


def test_a_long_file_gets_at_most_max_sections_lines_covering_every_chunk():
    chunks = [piece(i, f"Paragraph number {i} of a long text.") for i in range(100)]
    got = sections(chunks)
    assert len(got) <= MAX_SECTIONS
    assert sum(len(s.chunks) for s in got) == 100


def test_the_opening_sentence_skips_headings_labels_and_tables():
    section = Section("Storage", (piece(0, "Storage\n\nWhat | Where | Setting\n\nNote:\n\n"
                                           "Everything docchat keeps lives in one folder."),))
    assert opening_sentence(section) == "Everything docchat keeps lives in one folder."
    lead_in = Section("Kinds", (piece(0, "There are three kinds of reply:\n\nAn answer."),))
    assert opening_sentence(lead_in) == "There are three kinds of reply: An answer."


class Library:
    """A fake retriever with whole files: a multi-page manual with five sections."""

    HEADINGS = ["Safety", "Installing the pump", "Daily use", "Cleaning", "Warranty"]

    def __init__(self):
        self.chunks = [piece(i, f"{h}\n\nThe {h.lower()} chapter explains step {i} in "
                                f"detail for owners.", f"Pump manual > {h}", page=i + 1)
                       for i, h in enumerate(self.HEADINGS)]
        self.asked = []

    def retrieve(self, query, k=None, filters=None):
        self.asked.append(query)
        return self.chunks[:1]

    def sources(self, filters=None):
        if filters and filters.files:
            return sorted(set(FILES) & set(filters.files))
        return FILES

    def chunks_of(self, source):
        return self.chunks if source == FILES[0] else []


def ask(pipeline, question, filters=None):
    return list(pipeline.ask(question, filters=filters))


def test_a_summary_lists_every_section_in_order_each_citing_its_page():
    library, gen = Library(), FakeGenerator("should not be called")
    pipeline = ChatPipeline(library, gen, GeneratorConfig(model=SMOL), library=library)
    events = ask(pipeline, "Please summarize pump-manual.pdf")

    assert isinstance(events[0], SourcesEvent)
    assert [s.page for s in events[0].sources] == [1, 2, 3, 4, 5]
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerEvent)
    lines = answer.text.splitlines()[2:]
    assert [line.split(":")[0] for line in lines] == [f"- {h}" for h in Library.HEADINGS]
    for n, line in enumerate(lines, start=1):
        assert line.endswith(f"[{n}]")
    assert answer.cited == (1, 2, 3, 4, 5) and answer.summary_of == FILES[0]
    assert answer.outcome == "answer" and answer.extractive
    # progress: a token event per line, streamed before the answer
    assert sum(isinstance(e, TokenEvent) for e in events) == 1 + len(Library.HEADINGS)
    assert library.asked == [] and gen.seen == []  # no search, no generation


def test_this_file_with_a_file_filter_summarises_the_selected_file():
    library = Library()
    pipeline = ChatPipeline(library, FakeGenerator(), GeneratorConfig(model=SMOL), library=library)
    answer = ask(pipeline, "What is this file about?",
                 SearchFilter(files=(FILES[0],)))[-1].answer
    assert answer.summary_of == FILES[0]


def test_without_a_library_a_summary_question_is_searched_like_any_other():
    library = Library()
    pipeline = ChatPipeline(library, FakeGenerator("Step one [1]."), GeneratorConfig(model=SMOL))
    ask(pipeline, "Summarise pump-manual.pdf")
    assert library.asked == ["Summarise pump-manual.pdf"]


def test_generated_section_lines_must_pass_the_check_or_the_opening_sentence_stands():
    library = Library()
    supported = "The safety chapter explains step 0 in detail for owners."
    gen = FakeGenerator(supported, "Pumps were invented on the moon in 1850.",
                        default="The chapter explains the step in detail for owners.")
    scorer = EvidenceScorer(FakeEmbeddings().embed_documents)
    pipeline = ChatPipeline(library, gen, GeneratorConfig(model=SMOL),
                            AnswerConfig(summary="generated"), scorer=scorer, library=library)
    answer = ask(pipeline, "summarise pump-manual.pdf")[-1].answer
    lines = answer.text.splitlines()[2:]
    assert lines[0] == f"- Safety: {supported} [1]"
    # the invented line is replaced by the section's own opening sentence
    assert lines[1] == ("- Installing the pump: The installing the pump chapter explains step 1 "
                        "in detail for owners. [2]")
    assert "Pumps were invented" in answer.generated
    assert len(gen.seen) == 5 and "Safety" in gen.seen[0][-1]["content"]
    assert not answer.extractive


def test_a_file_with_no_chunks_left_is_searched_like_any_question():
    library = Library()  # lists router.md, but holds no chunks of it (removed meanwhile)
    pipeline = ChatPipeline(library, FakeGenerator("Step one [1]."), GeneratorConfig(model=SMOL),
                            library=library)
    answer = ask(pipeline, "Summarise router.md")[-1].answer
    assert library.asked == ["Summarise router.md"] and answer.summary_of == ""
