"""The judge: the model's own P(yes) that its excerpts answer, read before it answers."""

from __future__ import annotations

from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer
from chat.judge import JUDGE_QUESTION, judge_messages, yes_share
from chat.pipeline import JUDGED_NO, NEAR_MISS, ChatPipeline
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
