"""The docs-folder benchmark's scoring (evals.docs_folder) and its questions file."""

import json
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document

from evals.docs_folder import RESIDUE, load_questions, passage_rank
from evals.qa_sets import (DOCS_FOLDER, DOCS_QUESTIONS, DOCS_UNANSWERABLE, docs_set,
                            folder_set)
from evals.squad import contains_answer


def doc(source: str, text: str) -> Document:
    return Document(page_content=text, metadata={"source": source})


def test_a_passage_counts_only_from_the_right_file_with_the_key_phrase():
    wanted = Path("/docs/retries.md")
    chunks = [doc("/docs/index.md", "a timeout of five seconds by default"),
              doc("/docs/retries.md", "Nothing here."),
              doc("/docs/retries.md", "Every request has a `timeout` of five\nseconds  by "
                                      "default.")]
    assert passage_rank(chunks, wanted, "five seconds by default") == 3
    assert passage_rank(chunks[:2], wanted, "five seconds by default") is None


def test_site_markup_is_recognised_and_plain_text_is_not():
    for text in ('!!! note "Title"', "::: harbor.Client", ".. note::", "Deployment¶",
                 "---", "brotli[^brotli]", "== Hooks", "import Tabs from '@theme/Tabs';"):
        assert RESIDUE.search(text), text
    assert not RESIDUE.search("Note: Environment variables win over the file.\n"
                              "HarborError › TransportError\n```python\nx = 1\n```")


def test_every_question_names_a_file_of_the_folder_that_holds_its_key_phrase():
    rows = load_questions(DOCS_QUESTIONS)
    assert len(rows) >= 30 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        raw = (DOCS_FOLDER / row["file"]).read_text()
        # The key phrase is in the file's words (markup aside: table cells, code ticks).
        words = " ".join(raw.replace("`", "").split())
        assert row["key"].split(" | ")[0] in words, row["id"]
    qa = docs_set()
    assert len(qa.answerable) == len(rows) and all(Path(i.document).is_file()
                                                   for i in qa.answerable)
    json.dumps(qa.notes)


def test_the_unanswerable_questions_are_their_own_and_name_a_file_or_none():
    answerable = {r["question"] for r in load_questions(DOCS_QUESTIONS)}
    rows = [json.loads(line) for line in DOCS_UNANSWERABLE.read_text().splitlines()
            if line.strip()]
    assert len(rows) >= 20 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["question"] not in answerable and row["why"], row["id"]
        assert row["near"] is None or (DOCS_FOLDER / row["near"]).is_file(), row["id"]
    (missing, _), = docs_set().unanswerable.values()
    assert [i.id for i in missing] == [r["id"] for r in rows]
    assert all(i.answers == () for i in missing)


def test_a_folder_laid_out_like_the_docs_set_is_a_set_named_after_it(tmp_path):
    root = tmp_path / "my-docs"
    (root / "files").mkdir(parents=True)
    (root / "files" / "a.md").write_text("The timeout is 30 seconds.")
    (root / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "How long is the timeout?", "file": "a.md",
         "key": "30 seconds", "alt": ["thirty seconds"]}) + "\n")
    qa = folder_set(root)
    assert qa.name == "my_docs" and qa.unanswerable == {}
    assert qa.answerable[0].answers == ("30 seconds", "thirty seconds")
    assert qa.answerable[0].document == str((root / "files" / "a.md").resolve())
    (root / "unanswerable.jsonl").write_text(json.dumps(
        {"id": "u1", "question": "What is the retry count?", "near": None, "why": "-"}) + "\n")
    (missing, _), = folder_set(root).unanswerable.values()
    assert [(i.id, i.answers) for i in missing] == [("u1", ())]
    (root / "more").mkdir()  # two document folders: which one is meant is not clear
    with pytest.raises(ValueError, match="exactly one folder of documents"):
        folder_set(root)


@pytest.mark.parametrize("name", ["qa", "docs", "two words"])
def test_a_folder_whose_name_cannot_name_its_collection_is_refused(tmp_path, name):
    root = tmp_path / name
    (root / "files").mkdir(parents=True)
    (root / "questions.jsonl").write_text("")
    with pytest.raises(ValueError, match="rename the folder"):
        folder_set(root)


def test_a_bad_questions_file_is_named_with_its_line(tmp_path):
    root = tmp_path / "set"
    (root / "files").mkdir(parents=True)
    (root / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "Q?", "file": "a.md", "key": "k", "alt": "kk"}) + "\n")
    with pytest.raises(ValueError, match="must be a list"):
        folder_set(root)
    (root / "questions.jsonl").write_text("\n{not json\n")
    with pytest.raises(ValueError, match=r"questions.jsonl:2: not a JSON object"):
        folder_set(root)


def parted(text):
    """Code's separators part words ("tablename='apscheduler_jobs'",
    "~apscheduler.executors.asyncio.AsyncIOExecutor"); a version's dots do not ("1.4")."""
    return re.sub(r"[`=',\"()\[\]{}:~]|\.(?=[A-Za-z_])", " ", text)


@pytest.mark.parametrize("name", ["doit", "huey", "apscheduler", "rq_docs"])
def test_each_held_out_documentation_set_holds_its_key_phrases(name):
    """evals/data/doit, huey, apscheduler and rq_docs: real projects' documentation (MIT,
    rq BSD-2-Clause; PROVENANCE.md), whose questions were written before docchat ran on
    them. Every answerable question's file has its key phrase (or an alternative) as the
    evals score it: normalised, on word boundaries. No unanswerable question repeats an
    answerable one."""
    qa = folder_set(DOCS_FOLDER.parents[1] / name)
    assert qa.name == name and len(qa.answerable) == 30
    for item in qa.answerable:
        words = parted(Path(item.document).read_text())
        assert contains_answer(words, tuple(map(parted, item.answers))), item.id
    (missing, _), = qa.unanswerable.values()
    assert len(missing) == 20
    assert not {i.question for i in missing} & {i.question for i in qa.answerable}
