"""The answer evaluation's own parts: replayed generations, the naive anchor, rule counts."""

from __future__ import annotations

from types import SimpleNamespace

from langchain_core.documents import Document

from chat.generators.base import Piece
from evals.anchor import REFUSES, anchor_answer
from evals.generation_cache import CachingGenerator
from evals.rules import removed
from retriever.types import RetrievedChunk
from tests.fakes import FakeGenerator

MESSAGES = [{"role": "user", "content": "How long is the warranty?"}]


def read(gen, limit=None, **kwargs):
    stream = gen.stream(MESSAGES, max_new_tokens=kwargs.get("max_new_tokens", 50),
                        temperature=0.0)
    pieces = []
    for piece in stream:
        pieces.append(piece)
        if limit is not None and len(pieces) == limit:
            break
    stream.close()
    return "".join(pieces)


def test_a_generation_is_replayed_for_the_same_prompt_and_settings(tmp_path):
    model = FakeGenerator("Seven years from purchase.", "Ten years.", "Two years.")
    gen = CachingGenerator(model, tmp_path / "cache.sqlite", "fake:model")
    assert read(gen) == "Seven years from purchase."
    again = CachingGenerator(model, tmp_path / "cache.sqlite", "fake:model")  # another run
    assert read(again) == "Seven years from purchase." and again.replayed == 1
    assert len(model.seen) == 1, "the model was asked once"
    assert read(again, max_new_tokens=7) == "Ten years.", "other settings: asked again"
    other = CachingGenerator(model, tmp_path / "cache.sqlite", "fake:other-model")
    assert read(other) == "Two years.", "another model: asked again"


def test_a_stream_read_only_in_part_is_finished_by_the_model_when_more_is_wanted(tmp_path):
    model = FakeGenerator("Seven years from purchase.", "Seven years from purchase.")
    gen = CachingGenerator(model, tmp_path / "cache.sqlite", "fake:model")
    assert read(gen, limit=2) == "Seven years "
    assert read(gen) == "Seven years from purchase."
    assert len(model.seen) == 2 and gen.generated == 2
    assert read(gen) == "Seven years from purchase." and len(model.seen) == 2


def test_next_token_probabilities_are_cached_only_where_the_model_has_them(tmp_path):
    class Judging(FakeGenerator):
        calls = 0

        def next_token_probabilities(self, messages):
            Judging.calls += 1
            return {"Yes": 0.75}

    gen = CachingGenerator(Judging(), tmp_path / "c.sqlite", "fake:judge")
    assert gen.next_token_probabilities(MESSAGES) == {"Yes": 0.75}
    assert gen.next_token_probabilities(MESSAGES) == {"Yes": 0.75} and Judging.calls == 1
    assert not hasattr(CachingGenerator(FakeGenerator(), tmp_path / "d.sqlite", "fake"),
                       "next_token_probabilities")


def test_token_margins_are_stored_and_replayed_and_redone_where_a_run_weighs_them(tmp_path):
    class Sure(FakeGenerator):
        reports_margins = True

        def stream(self, messages, **settings):
            for piece in super().stream(messages, **settings):
                yield Piece(piece, [0.5, 0.25])

    plain = CachingGenerator(FakeGenerator("Seven years."), tmp_path / "c.sqlite", "fake")
    assert read(plain) == "Seven years."  # stored by a backend without margins
    model = Sure("Ten years.", "Ten years.")
    replay = CachingGenerator(model, tmp_path / "c.sqlite", "fake")
    assert read(replay) == "Seven years." and replay.replayed == 1, "margins not weighed"
    gen = CachingGenerator(model, tmp_path / "c.sqlite", "fake", margins=True)
    assert read(gen) == "Ten years." and gen.generated == 1, "no margins stored: asked again"
    again = CachingGenerator(model, tmp_path / "c.sqlite", "fake", margins=True)
    pieces = list(again.stream(MESSAGES, max_new_tokens=50, temperature=0.0))
    assert again.replayed == 1 and len(model.seen) == 1
    assert "".join(pieces) == "Ten years." and [p.margins for p in pieces] == [(0.5, 0.25)] * 2


class _Retriever:
    def __init__(self, texts):
        self.texts, self.asked = texts, []

    def retrieve(self, query, k=None, filters=None):
        self.asked.append((query, k))
        return [RetrievedChunk(Document(page_content=t, metadata={"source": "s", "chunk_id": str(i)}),
                               1.0) for i, t in enumerate(self.texts)]


def test_the_anchor_stuffs_the_retrieved_chunks_into_langchains_rag_prompt():
    gen = FakeGenerator("The warranty lasts seven years.", "I don't know.")
    app = SimpleNamespace(retriever=_Retriever(["Warranty: seven years.", "Reset: red button."]),
                          generator=gen, settings=SimpleNamespace(
                              generator=SimpleNamespace(max_new_tokens=64, temperature=0.0)))
    answer = anchor_answer(app, "How long is the warranty?", k=4)
    assert answer.text == "The warranty lasts seven years." and not answer.refused
    (prompt,) = gen.seen[0]
    assert prompt["role"] == "user" and prompt["content"].startswith(
        "You are an assistant for question-answering tasks.")
    assert "Question: How long is the warranty? \nContext: Warranty: seven years.\n\n" \
           "Reset: red button. \nAnswer:" in prompt["content"]
    assert app.retriever.asked == [("How long is the warranty?", 4)]
    assert anchor_answer(app, "What colour is it?", k=4).refused


def test_refusals_are_recognised_in_the_usual_wordings():
    for text in ("I don't know.", "The context does not mention the colour.",
                 "This is not mentioned in the provided context.", "I cannot answer that."):
        assert REFUSES.search(text), text
    assert not REFUSES.search("The warranty lasts seven years.")


def test_a_check_is_charged_with_what_it_took_away():
    right = {"outcome": "answer", "right": True}
    wrong = {"outcome": "answer", "right": False}
    near = {"outcome": "near_miss", "right": False}
    assert removed(right, near, answerable=True) == "right removed"
    assert removed(right, wrong, answerable=True) == "right removed", "the gold sentence dropped"
    assert removed(wrong, near, answerable=True) == "wrong removed"
    assert removed(wrong, near, answerable=False) == "unanswerable removed"
    assert removed(near, near, answerable=True) is None
    assert removed(wrong, wrong, answerable=True) is None


def test_answerability_counts_what_each_floor_judge_and_check_threshold_removes(tmp_path,
                                                                               capsys):
    import json

    from evals.answerability import main as answerability_main, table

    def row(evidence, judged, generated, contains=None, verified=0.9):
        return {"evidence": evidence, "judged": judged, "generated": generated,
                "contains_own": contains, "verified": verified}

    rows = {
        "answerable": [row(0.9, 0.9, "Seven years [1].", True, verified=0.45),
                       row(0.5, 0.55, "Ten days [2].", True),
                       row(0.8, 0.8, "Blue [1].", False, verified=0.1),
                       row(0.7, 0.9, "I don't know.", True)],  # abstained: never shown
        "withheld": [row(0.3, 0.9, "Paris [1]."), row(0.6, 0.4, "Rome [2].", verified=None)],
    }
    open_run, strict = table(rows, [0.0, 0.4], [0.0, 0.6])[0], table(rows, [0.4], [0.6])[0]
    assert (open_run["right"], open_run["wrong"], open_run["withheld"]) == (2, 1, 0.0)
    # the floor removes Paris (evidence 0.3), the judge removes Rome and the right "Ten days"
    assert (strict["right"], strict["wrong"], strict["withheld"]) == (1, 1, 1.0)
    assert (strict["right_removed"], strict["wrong_removed"]) == (1, 2)
    # the mean of judge and check removes the wrong "Blue" (0.45) and keeps "Seven years"
    # (0.675, though its check alone is 0.45); an answer never checked is not removed by it
    checked = table(rows, [0.0], [0.0], [0.5])[0]
    assert (checked["right"], checked["wrong"], checked["withheld"]) == (2, 0, 0.0)
    assert (checked["right_removed"], checked["wrong_removed"]) == (0, 1)
    report = tmp_path / "run.json"
    report.write_text(json.dumps({"rows": rows}))
    answerability_main([str(report), "--floors", "0.4", "--judge", "0.6", "--verify", "0.5"])
    assert "| 0.4 | 0.6 | 0.5 | 0.0 | 0.25 | 1 | 0 |" in capsys.readouterr().out
    # the mean of judge and certainty: "Ten days" (0.55, sure 0.95: 0.75) stays, "Blue" (0.8,
    # sure 0.3: 0.55) goes; a row without a certainty is weighed by its judge alone (Rome)
    for r, sure in zip(rows["answerable"], (0.9, 0.95, 0.3, 0.9)):
        r["certainty"] = sure
    sure = table(rows, [0.0], [0.0], [0.0], [0.7])[0]
    assert (sure["right"], sure["wrong"], sure["withheld"]) == (2, 0, 0.5)


def test_own_shown_counts_the_models_right_text_only_where_it_was_the_answer():
    from evals.answers import summarise_answerable

    def row(outcome, contains_own):
        return {"outcome": outcome, "contains": contains_own, "f1": 0.5,
                "contains_own": contains_own, "f1_own": 0.5, "words": 5,
                "checked_sentences": 1, "unsupported_sentences": 0, "first_token_s": 1.0,
                "total_s": 2.0, "tokens_per_s": 10.0}

    rows = [row("answer", True), row("near_miss", True),  # right, but withheld
            row("answer", False), row("no_match", False)]
    summary = summarise_answerable(rows)
    assert summary["containment_own"] == 0.5, "the model's text, shown or not"
    assert summary["containment_own_shown"] == 0.25, "what the user read in its words"
    assert summary["containment_own_when_answered"] == 0.5
