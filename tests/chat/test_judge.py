"""The judge and the check: the model's own P(yes) that its excerpts answer, read before it
answers, and that they state the answer it wrote, read after."""

from __future__ import annotations

from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer
from chat.generators.base import Piece
from chat.judge import (CERTAIN_TOKENS, JUDGE_QUESTION, VERIFY_QUESTION, certainty,
                        judge_messages, verify_messages, yes_share)
from chat.pipeline import JUDGED_NO, NEAR_MISS, NOT_VERIFIED, UNSURE, ChatPipeline
from tests.chat.test_pipeline import WARRANTY, ORCHIDS, FakeRetriever
from tests.fakes import FakeEmbeddings, FakeGenerator

QUESTION = "How long does the Zephyr pump warranty last?"


class JudgingGenerator(FakeGenerator):
    def __init__(self, *answers: str, yes: float) -> None:
        super().__init__(*answers)
        self.yes, self.judged = yes, []

    def next_token_probabilities(self, messages):
        self.judged.append(messages)
        return {"Yes": self.yes * 0.9, " yes": self.yes * 0.1, "No": (1 - self.yes), "The": 0.01}


def pipeline(gen, model: str = "bundled", **answer) -> ChatPipeline:
    answer = {"answer_above": 0.0, "nothing_below": 0.0, "checks": [], **answer}
    return ChatPipeline(FakeRetriever([WARRANTY, ORCHIDS]), gen, GeneratorConfig(model=model),
                        AnswerConfig(**answer),
                        scorer=EvidenceScorer(FakeEmbeddings().embed_documents))


def test_yes_share_adds_the_spellings_of_yes_and_no():
    assert yes_share({"Yes": 0.6, " yes": 0.1, "No": 0.2, "no": 0.1}) == 0.7
    assert yes_share({"The": 0.97, "Yes": 0.01}) is None, "neither is a likely reply"


def test_the_judge_asks_about_the_answers_own_prompt():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Excerpts … Q"}]
    judged = judge_messages(messages)
    assert judged[0] == messages[0] and judged[1]["content"] == "Excerpts … Q" + JUDGE_QUESTION
    assert messages[1]["content"] == "Excerpts … Q", "the answer's prompt is left as it was"


def test_below_the_profiles_threshold_the_reply_is_a_near_miss_without_generating():
    gen = JudgingGenerator("Seven years [1].", yes=0.2)
    answer = list(pipeline(gen, judge_below=0.5).ask(QUESTION))[-1].answer
    assert answer.outcome == "near_miss" and answer.text.startswith(NEAR_MISS)
    assert answer.judged == 0.2 and JUDGED_NO in answer.warnings
    assert gen.seen == [], "no answer was generated"
    assert gen.judged[0][-1]["content"].endswith(JUDGE_QUESTION)
    assert "judge_s" in answer.timings


def test_above_it_the_model_answers_from_the_same_prompt():
    gen = JudgingGenerator("Seven years [1].", yes=0.8)
    answer = list(pipeline(gen, judge_below=0.5).ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and answer.judged == 0.8
    assert gen.judged[0][:-1] == gen.seen[0][:-1]
    assert gen.judged[0][-1]["content"] == gen.seen[0][-1]["content"] + JUDGE_QUESTION


def test_without_a_threshold_or_a_backend_that_can_tell_nobody_is_asked():
    gen = JudgingGenerator("Seven years [1].", yes=0.1)
    answer = list(pipeline(gen, model="smollm2-135m").ask(QUESTION))[-1].answer  # no judge
    assert answer.outcome == "answer" and answer.judged is None and gen.judged == []
    plain = FakeGenerator("Seven years [1].")
    answer = list(pipeline(plain, judge_below=0.5).ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and answer.judged is None


class CheckingGenerator(JudgingGenerator):
    """P(yes) `yes` for the judge's question and `verified` for the check's."""

    def __init__(self, *answers: str, yes: float, verified: float) -> None:
        super().__init__(*answers, yes=yes)
        self.verified = verified

    def next_token_probabilities(self, messages):
        probabilities = super().next_token_probabilities(messages)
        if "Proposed answer:" in messages[-1]["content"]:
            return {"Yes": self.verified, "No": 1 - self.verified}
        return probabilities


def test_the_check_shows_the_model_its_written_answer_beside_the_same_excerpts():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Excerpts … Q"}]
    checked = verify_messages(messages, "Seven\nyears [1].")
    assert checked[0] == messages[0]
    asked = VERIFY_QUESTION.format(answer="Seven years [1].")  # one line, as the model wrote it
    assert checked[1]["content"] == "Excerpts … Q" + asked
    assert messages[1]["content"] == "Excerpts … Q", "the answer's prompt is left as it was"


def test_an_answer_the_model_doubts_before_and_after_writing_becomes_a_near_miss():
    gen = CheckingGenerator("Seven years [1].", yes=0.6, verified=0.3)  # mean 0.45
    answer = list(pipeline(gen, verify_below=0.5).ask(QUESTION))[-1].answer
    assert answer.outcome == "near_miss" and answer.text.startswith(NEAR_MISS)
    assert answer.judged == 0.6 and answer.verified == 0.3 and NOT_VERIFIED in answer.warnings
    assert answer.generated == "Seven years [1].", "what the model wrote is kept for --json"
    assert "Proposed answer: Seven years [1]." in gen.judged[-1][-1]["content"]
    assert gen.judged[-1][-1]["content"].startswith(gen.seen[0][-1]["content"])
    assert "verify_s" in answer.timings


def test_a_confident_judge_carries_a_doubtful_check_and_the_answer_stands():
    gen = CheckingGenerator("Seven years [1].", yes=0.9, verified=0.3)  # mean 0.6
    answer = list(pipeline(gen, verify_below=0.5).ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and (answer.judged, answer.verified) == (0.9, 0.3)
    assert answer.text.startswith("Seven years [1].")


def test_a_judge_no_check_could_lift_gives_a_near_miss_without_writing():
    gen = CheckingGenerator("Seven years [1].", yes=0.1, verified=1.0)  # (0.1 + 1) / 2 < 0.6
    answer = list(pipeline(gen, verify_below=0.6).ask(QUESTION))[-1].answer
    assert answer.outcome == "near_miss" and JUDGED_NO in answer.warnings
    assert gen.seen == [] and answer.verified is None


def test_without_verify_below_the_answer_is_not_checked():
    gen = CheckingGenerator("Seven years [1].", yes=0.9, verified=0.1)
    answer = list(pipeline(gen, model="smollm2-135m").ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and answer.verified is None and gen.judged == []


class SureGenerator(JudgingGenerator):
    """Each word of its answer comes with the margin `sure` (as llama.cpp reports them)."""

    def __init__(self, *answers: str, yes: float, sure: float) -> None:
        super().__init__(*answers, yes=yes)
        self.sure = sure

    def stream(self, messages, *, max_new_tokens: int, temperature: float):
        for piece in super().stream(messages, max_new_tokens=max_new_tokens,
                                    temperature=temperature):
            yield Piece(piece, [self.sure])


def test_certainty_is_the_mean_margin_of_the_answers_first_tokens():
    assert certainty([0.9, 0.5]) == 0.7
    assert certainty([1.0] * CERTAIN_TOKENS + [0.0] * 50) == 1.0, "the opening only"
    assert certainty([]) is None


def test_an_answer_the_model_was_unsure_of_and_doubted_becomes_a_near_miss():
    gen = SureGenerator("Seven years [1].", yes=0.65, sure=0.6)  # mean 0.625
    answer = list(pipeline(gen, judge_below=0.0, sure_below=0.7).ask(QUESTION))[-1].answer
    assert answer.outcome == "near_miss" and answer.text.startswith(NEAR_MISS)
    assert (answer.judged, answer.certainty) == (0.65, 0.6) and UNSURE in answer.warnings
    assert answer.generated == "Seven years [1].", "what the model wrote is kept for --json"


def test_a_sure_answer_carries_a_doubtful_judge():
    gen = SureGenerator("Seven years [1].", yes=0.55, sure=0.95)  # mean 0.75
    answer = list(pipeline(gen, judge_below=0.0, sure_below=0.7).ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and answer.certainty == 0.95
    assert answer.text.startswith("Seven years [1].")


def test_a_judge_no_certainty_could_lift_gives_a_near_miss_without_writing():
    gen = SureGenerator("Seven years [1].", yes=0.35, sure=1.0)  # (0.35 + 1) / 2 < 0.7
    answer = list(pipeline(gen, judge_below=0.0, sure_below=0.7).ask(QUESTION))[-1].answer
    assert answer.outcome == "near_miss" and JUDGED_NO in answer.warnings
    assert gen.seen == [] and answer.certainty is None


def test_without_sure_below_an_unsure_answer_stands():
    gen = SureGenerator("Seven years [1].", yes=0.65, sure=0.1)
    answer = list(pipeline(gen, judge_below=0.6).ask(QUESTION))[-1].answer
    assert answer.outcome == "answer" and answer.certainty == 0.1
