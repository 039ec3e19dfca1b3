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


def test_rebuilding_the_demo_corpus_leaves_unchanged_pages_alone(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.md", "b.md", "c.md"):
        (src / name).write_text(f"# {name}\n\nSome text about {name}.\n")
    out = build_demo_corpus(src, tmp_path / "demo")
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    assert set(before) == {"a.md", "b.pdf", "c.docx"}
    build_demo_corpus(src, out)
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    (src / "c.md").unlink()
    build_demo_corpus(src, out)
    assert {f.name for f in out.iterdir()} == {"a.md", "b.pdf"}, "removed pages go away"
