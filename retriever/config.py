"""Settings of the retrieval stage (part of docchat's one configuration, see chat.settings)."""

from pydantic import BaseModel, ConfigDict, Field


class RetrieverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(4, ge=1, le=100, description="How many chunks an answer is built from.")
