from ingest.loaders import load_file
from ui.demo import build_demo_corpus, default_docs_dir, parse_markdown


def test_markdown_subset_is_parsed_into_blocks():
    blocks = parse_markdown(
        "# Title\n\nSome **bold** text\ncontinued.\n\n- item one\n  wrapped\n- item two\n\n"
        "    code line\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    )
    kinds = [(b.kind, b.text) for b in blocks if b.kind != "table"]
    assert kinds == [
        ("heading", "Title"),
        ("paragraph", "Some bold text continued."),
        ("bullet", "item one wrapped"),
        ("bullet", "item two"),
        ("code", "code line"),
    ]
    assert blocks[-1].rows == (("a", "b"), ("1", "2"))


def test_demo_corpus_has_real_pages_in_three_formats(tmp_path):
    out = build_demo_corpus(default_docs_dir(), tmp_path / "demo")
    files = sorted(out.iterdir())
    assert {f.suffix for f in files} == {".md", ".pdf", ".docx"}
    assert len(files) >= 5
    words = 0
    for f in files:
        text = " ".join(e.text for e in load_file(f))
        assert len(text.split()) > 150, f"{f.name} has real content"
        words += len(text.split())
    assert words > 2000
