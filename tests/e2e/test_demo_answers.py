"""The demo's questions, asked of the demo corpus (docchat's own guide as Markdown, PDF and
Word) with the default models.

The goal is an answer in a sentence or two that says the key fact in the model's own words
and cites the file that says it, for every question. The tests hold what works: each reply
shows the fact and cites its file (a near miss must quote it), a known miss would be a strict
xfail (it fails the suite once it is fixed, so the list stays true), and the count of answers
in the model's own words may not fall.
"""

from __future__ import annotations

import pytest

from chat.app import DocChat
from evals.answers import without_quote
from ui.demo import build_demo_corpus, default_docs_dir

# question -> (key phrases, any one of which the answer must contain; files it may cite)
DEMO = {
    "Where does docchat store its index?":
        (("local/share/docchat", "data directory", "data_dir"),
         ("01-introduction", "02-installing")),
    "How do I remove a file from the index?": (("docchat remove",), ("03-ingesting",)),
    "Which file formats can docchat read?": (("pdf", "word", "docx"), ("03-ingesting",)),
    "What embedding model does docchat use?": (("minilm",), ("01-introduction",)),
    "How large are the chunks docchat cuts documents into?":
        (("200", "two hundred"), ("01-introduction", "03-ingesting")),
    "How do I search only my PDF files?": (("--type pdf", "type pdf"), ("04-asking",)),
    "How many sources does an answer use by default?":
        (("four", "4"), ("04-asking", "05-configuration")),
    "How do I use an Ollama server for the answers?":
        (("openai", "base_url"), ("05-configuration",)),
}


@pytest.fixture(scope="module")
def demo(docchat, tmp_path_factory):
    settings = docchat.settings.model_copy(update={"collection": "demo"})
    app = DocChat(settings)
    app.embedder, app.generator = docchat.embedder, docchat.generator
    report = app.ingestor.ingest([build_demo_corpus(default_docs_dir(),
                                                    tmp_path_factory.mktemp("demo-docs"))])
    assert report.failed == []
    return app


# Missed today: the excerpts that match best are about the sources panel ("Sources that the
# answer cites are marked with an asterisk."), not retrieval.k, and the model answers from them.
MISSED_TODAY = {"How many sources does an answer use by default?"}
# Questions answered in the model's own words (goal: all 8): all but the number of sources
# today (the PDF filter's "--type pdf" answer is no longer withheld as a restatement).
OWN_WORDS_TODAY = 7


def ask(app, question):
    return next(e.answer for e in app.pipeline.ask(question) if hasattr(e, "answer"))


@pytest.mark.parametrize("question", [
    pytest.param(q, marks=pytest.mark.xfail(strict=True, reason="answered from passages "
                                            "without the fact")) if q in MISSED_TODAY
    else q
    for q in sorted(DEMO)])
def test_a_demo_question_shows_the_fact_and_cites_its_file(demo, question):
    keys, files = DEMO[question]
    answer = ask(demo, question)
    assert answer.outcome != "no_match", answer.text
    assert any(k in answer.text.lower() for k in keys), (answer.outcome, answer.text)
    cited = {s.file_name.rsplit(".", 1)[0] for s in answer.citations}
    assert cited & set(files), (answer.text, cited)
    if answer.outcome == "answer":
        assert len(without_quote(answer.text).split()) <= 60, answer.text


def test_the_model_answers_demo_questions_in_its_own_words(demo):
    own = []
    for question, (keys, _) in sorted(DEMO.items()):
        answer = ask(demo, question)
        if answer.outcome == "answer" and any(
                k in without_quote(answer.text).lower() for k in keys):
            own.append(question)
    assert len(own) >= OWN_WORDS_TODAY, own


@pytest.mark.parametrize("name", ["05-configuration.pdf", "03-ingesting.docx", "04-asking.md"])
def test_a_whole_document_summary_has_a_cited_line_for_every_section(demo, name):
    answer = ask(demo, f"Summarise {name}")
    assert answer.summary_of.endswith(name) and answer.outcome == "answer"
    guide = (default_docs_dir() / f"{name.rsplit('.', 1)[0]}.md").read_text(encoding="utf-8")
    title = next(line[2:].strip() for line in guide.splitlines() if line.startswith("# "))
    headings = [line[3:].strip() for line in guide.splitlines() if line.startswith("## ")]
    labels = [line[2:].split(":")[0] for line in answer.text.splitlines()[2:]]
    # every section, in order; the title's line, when the file has text before its first
    # section, comes first
    assert labels in (headings, [title, *headings]), answer.text
    assert all(s.file_name == name for s in answer.citations)
    assert answer.cited == tuple(range(1, len(labels) + 1))
    if name.endswith(".pdf"):  # two pages: each line cites its section's page
        assert {s.page for s in answer.citations} == {1, 2}
