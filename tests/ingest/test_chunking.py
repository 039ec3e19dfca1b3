from langchain_core.documents import Document

from ingest.chunking import chunk_elements, embedding_text
from ingest.types import TextElement
from tests.fakes import FakeEmbeddings

count = FakeEmbeddings().count_tokens


def _chunk(elements, chunk_tokens=50, overlap=5, max_tokens=256):
    return chunk_elements(
        elements, count_tokens=count, chunk_tokens=chunk_tokens, chunk_overlap=overlap,
        max_tokens=max_tokens,
    )


def test_sections_keep_their_heading_path_and_page():
    elements = [
        TextElement("Manual", "Title", page=1, headings=("Manual",)),
        TextElement("Setup", "Title", page=1, headings=("Manual", "Setup")),
        TextElement("Plug it in. " * 30, "NarrativeText", page=1, headings=("Manual", "Setup")),
        TextElement("Reset", "Title", page=2, headings=("Manual", "Reset")),
        TextElement("Hold the button.", "NarrativeText", page=2, headings=("Manual", "Reset")),
    ]
    chunks = _chunk(elements)
    assert all(count(text) <= 50 for text, _ in chunks)
    last_text, last_meta = chunks[-1]
    assert last_meta["section"] == "Manual > Reset"
    assert last_meta["page"] == 2
    assert "Hold the button." in last_text
    assert last_meta["element_types"] == "Title,NarrativeText"
    setup = [m for t, m in chunks if "Plug it in" in t]
    assert len(setup) >= 2, "a long section is split"
    assert {m["page"] for m in setup} == {1}


def test_small_neighbouring_sections_are_packed_under_their_common_heading():
    elements = [
        TextElement("A", "Title", headings=("Doc", "A")),
        TextElement("alpha text", "NarrativeText", headings=("Doc", "A")),
        TextElement("B", "Title", headings=("Doc", "B")),
        TextElement("beta text", "NarrativeText", headings=("Doc", "B")),
    ]
    chunks = _chunk(elements)
    assert len(chunks) == 1
    text, meta = chunks[0]
    assert "alpha text" in text and "beta text" in text
    assert meta["section"] == "Doc"
    assert "page" not in meta  # formats without pages carry no page key
    # where each packed section starts, for whole-document summaries (chat.summary)
    (a, a_path), (b, b_path) = (line.split("\t") for line in meta["outline"].splitlines())
    assert (a_path, b_path) == ("Doc > A", "Doc > B")
    assert text[int(a):].startswith("A") and text[int(b):].startswith("B\n")


def test_a_chunk_of_one_section_has_no_outline():
    elements = [TextElement("A", "Title", headings=("Doc", "A")),
                TextElement("alpha text", "NarrativeText", headings=("Doc", "A"))]
    assert "outline" not in _chunk(elements)[0][1]


def test_pieces_on_different_pages_are_not_packed_together():
    elements = [
        TextElement("one", "NarrativeText", page=1),
        TextElement("two", "NarrativeText", page=2),
    ]
    assert [m["page"] for _, m in _chunk(elements)] == [1, 2]


def test_chunk_budget_leaves_room_for_the_heading_within_the_model_limit():
    long_heading = tuple(f"word{i}" for i in range(20))
    elements = [TextElement("x " * 200, "NarrativeText", headings=long_heading)]
    for text, meta in _chunk(elements, chunk_tokens=100, overlap=0, max_tokens=60):
        # heading (20 tokens) + text + special tokens must fit the model's 60
        assert count(meta["section"]) + count(text) + 3 <= 60


def test_overlap_repeats_text_between_neighbouring_chunks():
    words = " ".join(f"w{i}" for i in range(120))
    chunks = _chunk([TextElement(words, "NarrativeText")], chunk_tokens=50, overlap=10)
    first, second = chunks[0][0].split(), chunks[1][0].split()
    assert set(first) & set(second)


def test_embedding_text_adds_the_heading_path_once():
    doc = Document(page_content="Hold the button.", metadata={"section": "Manual > Reset"})
    assert embedding_text(doc) == "Manual > Reset\nHold the button."
    starts_with_heading = Document(
        page_content="Reset\n\nHold the button.", metadata={"section": "Manual > Reset"}
    )
    assert embedding_text(starts_with_heading) == "Manual\nReset\n\nHold the button."
    assert embedding_text(Document(page_content="plain", metadata={"section": ""})) == "plain"


def test_a_table_that_fits_stays_whole_and_a_long_one_repeats_its_header():
    from ingest.types import TextElement

    rows = "\n".join(f"Crop {i} | {i * 7} tonnes" for i in range(40))
    table = TextElement("Crop | Harvest\n" + rows, "Table", page=1, headings=("Farm",))
    intro = TextElement("The harvest figures for every crop follow below.", "NarrativeText",
                        page=1, headings=("Farm",))
    small = TextElement("Crop | Harvest\nBarley | 41 tonnes", "Table", page=1, headings=("Farm",))
    out = chunk_elements([intro, small], count_tokens=count, chunk_tokens=200, chunk_overlap=10,
                         max_tokens=256)
    assert len(out) == 1 and out[0][0].endswith("Crop | Harvest\nBarley | 41 tonnes")
    out = chunk_elements([intro, table], count_tokens=count, chunk_tokens=60, chunk_overlap=10,
                         max_tokens=256)
    tables = [text for text, meta in out if meta["element_types"] == "Table"]
    assert len(tables) > 2
    assert all(t.startswith("Crop | Harvest\n") for t in tables)
    body = [line for t in tables for line in t.split("\n")[1:]]
    assert body == rows.split("\n"), "every row once, in order, none cut"
