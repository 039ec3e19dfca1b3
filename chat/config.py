"""Settings of the answering stage (part of docchat's one configuration, see chat.settings)."""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from chat.profiles import ALL_CHECKS, AnswerProfile, profile_for, resolve

# A LoRA adapter directory as peft saves it (generator.adapter).
ADAPTER_CONFIG, ADAPTER_WEIGHTS = "adapter_config.json", "adapter_model.safetensors"
# backend llamacpp on a CPU: threads and slots (docs/answers.md has the measurements)
DEFAULT_THREADS = 2
DEFAULT_PARALLEL = 2


class GeneratorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _removed_backends(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("backend") == "onnx":
            raise ValueError('backend "onnx" was removed: the default backend, "llamacpp", runs '
                             "the same models (as GGUF files) faster; remove the setting or set "
                             'generator.backend = "llamacpp"')
        return data

    backend: Literal["llamacpp", "transformers", "openai"] = Field(
        "llamacpp",
        description='Which generator runs the model: "llamacpp" (default: GGUF models in this '
        'process with xllamacpp, a prebuilt llama.cpp), "transformers" (torch; needed for a '
        'GPU, and for model directories and hub ids) or "openai" (any OpenAI-compatible '
        "server: vLLM, Ollama, llama.cpp server, transformers serve).",
    )
    model: str = Field(
        "bundled",
        description='A model docchat knows by name ("qwen2.5-coder-1.5b", '
        '"qwen2.5-coder-0.5b", "smollm2-135m"; "bundled" = the default, see models/README.md), '
        "a path to a GGUF file, a local transformers model directory, or a hub id (needs "
        "HF_HUB_OFFLINE=0). With backend openai: the model name the server serves.",
    )
    adapter: str | None = Field(
        None,
        description="backend transformers: a LoRA adapter directory (peft format) "
        "merged into the model once, at first load, e.g. one made by `python -m evals "
        "train-answerer`. Unset = the model as it is.",
    )
    device: str = Field("cpu", description='backend transformers: torch device, e.g. "cpu" or '
                        '"cuda".')
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
        None, ge=1, le=512,
        description="backend llamacpp: CPU threads (default: DEFAULT_THREADS, measured in "
        "docs/answers.md; fewer hold their speed better when other work shares the cores).",
    )
    parallel: int = Field(
        DEFAULT_PARALLEL, ge=1, le=64,
        description="backend llamacpp: answers generated at once (llama.cpp's slots, decoded in "
        "one batch); more questions wait their turn. Each slot holds a prompt's context.",
    )

    @model_validator(mode="after")
    def _backend_needs(self) -> "GeneratorConfig":
        if self.device != "cpu" and self.backend != "transformers":
            raise ValueError(f'generator.device {self.device!r} needs backend "transformers" '
                             '(the others run on the CPU); set generator.backend = '
                             '"transformers", or unset generator.device')
        if self.adapter is not None:
            if self.backend != "transformers":
                raise ValueError('generator.adapter works with backend "transformers" only; '
                                 'set generator.backend = "transformers", or unset it')
            folder = Path(self.adapter).expanduser()
            if not all((folder / f).is_file() for f in (ADAPTER_CONFIG, ADAPTER_WEIGHTS)):
                raise ValueError(f"generator.adapter: no LoRA adapter in {self.adapter!r} (a "
                                 f"directory with {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS}, as "
                                 "peft saves them); set it to an adapter directory, or unset it")
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


def _model_probability(description: str) -> Any:
    """An answer.* threshold on a probability the model reports (chat/judge.py)."""
    return Field(None, ge=0.0, le=1.0, description=description + " Needs a backend that "
                 "reports token probabilities (llamacpp). Default: the model's profile.")


class AnswerConfig(BaseModel):
    """How answers are decided and checked: the three outcomes, the context the model reads,
    grounding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Unset (None) = the model's answer profile (chat/profiles.py): thresholds and checks are
    # chosen per model on SQuAD tune articles (docs/answers.md). A value given here wins.
    answer_above: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Evidence score from which docchat generates an answer. Below it the "
        "documents may not answer: the closest passage is quoted, marked, and no claim is made. "
        "Default: the model's profile.",
    )
    nothing_below: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Evidence score under which nothing in the documents matches the question. "
        "Default: the model's profile.",
    )
    relevance_weight: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Weight of the cross-encoder (retrieval.reranker) in the evidence score; "
        "0 = the lexical and embedding score alone.",
    )
    support_threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Support score an answer sentence needs from the passages it cites. "
        "Default: the model's profile.",
    )
    max_unsupported: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Share of a generated answer's sentences that may fail the grounding check; "
        "above it the answer is not shown and the closest passage is quoted as a near miss. "
        "1 shows every answer. Default: the model's profile.",
    )
    drop_unsupported: bool = Field(
        True,
        description="Leave the sentences that fail the check out of the shown answer (they are "
        "listed in a warning) instead of showing them with the warning.",
    )
    context: Literal["evidence", "chunks"] | None = Field(
        None,
        description='What the model reads: "evidence" = the sentences that match the question '
        'best, with their neighbours (fewer tokens: the answer starts sooner); "chunks" = the '
        "retrieved chunks whole. Default: the model's profile.",
    )
    evidence_sentences: int | None = Field(
        None, ge=1, le=50, description='answer.context "evidence": how many best sentences.'
    )
    evidence_neighbours: int | None = Field(
        None, ge=0, le=5,
        description='answer.context "evidence": sentences shown on each side of each one.',
    )
    max_sentences: int | None = Field(
        None, ge=1, le=50,
        description="Longest answer, in sentences; generation stops there, and at any echo of "
        "the prompt. Default: the model's profile.",
    )
    prompt: Literal["worked-example", "plain"] | None = Field(
        None,
        description='"worked-example": instructions and one worked question before the '
        'excerpts (small models copy its shape); "plain": instructions only. Default: the '
        "model's profile.",
    )
    checks: list[str] | None = Field(
        None,
        description="Grounding checks applied to each answer sentence (chat.profiles.ALL_CHECKS"
        "; [] = none). Default: the model's profile.",
    )
    judge_below: float | None = _model_probability(
        "Ask the model, before it answers, whether its excerpts answer the question "
        "(chat/judge.py); below this probability of yes the reply is a near miss.")
    verify_below: float | None = _model_probability(
        "Ask the model, after it answers, whether its excerpts state the answer it wrote "
        "(chat/judge.py); below this mean of its probability of yes and the judge's the reply "
        "is a near miss.")
    sure_below: float | None = _model_probability(
        "Weigh the judge's probability of yes with how sure the model was of the first tokens "
        "of its answer (chat/judge.py); below their mean the reply is a near miss.")
    quote_evidence: bool | None = Field(
        None,
        description="End a generated answer with the source sentence that matches the question "
        "best, quoted and cited, so the claim can be checked at a glance (shown only when the "
        "answer's own citations did not hold). Default: the model's profile.",
    )
    summary: Literal["extractive", "generated"] = Field(
        "extractive",
        description='Whole-document questions ("summarise FILE", "what is this file about?"): '
        "one line per section of the file, in order, each citing its section. "
        '"extractive" = the section\'s opening sentence; "generated" = a sentence the model '
        "writes, shown only when it passes the grounding check against its section (else the "
        "opening sentence). Generated takes seconds per section with the bundled model.",
    )
    condense: Literal["auto", "off", "llm"] = Field(
        "auto",
        description='Follow-up questions: "auto" adds the previous question to the search when '
        'the new one refers back to it; "llm" asks the generator to rewrite it; "off".',
    )

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - ALL_CHECKS)
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; known: {sorted(ALL_CHECKS)}")
        return value

    def profile(self, generator: GeneratorConfig) -> AnswerProfile:
        """The answer settings in effect with `generator`: its model's profile, with the
        settings given here instead where they are given."""
        return resolve(profile_for(generator.model), self.model_dump())
