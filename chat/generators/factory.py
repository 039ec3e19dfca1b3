"""Build the configured generator backend. Backends import their heavy libraries lazily."""

from __future__ import annotations

from pathlib import Path

from chat.config import GeneratorConfig
from chat.generators.base import Generator


def make_generator(cfg: GeneratorConfig, cache_dir: Path) -> Generator:
    if cfg.backend == "openai":
        from chat.generators.openai_compat import OpenAICompatibleGenerator

        assert cfg.base_url is not None  # GeneratorConfig checks it
        return OpenAICompatibleGenerator(
            cfg.base_url, cfg.model,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            timeout_s=cfg.timeout_s, tokenizer=cfg.tokenizer,
        )
    if cfg.backend == "llamacpp":
        from chat.generators.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(
            cfg.model, cache_dir=cache_dir, context_tokens=cfg.context_tokens,
            max_new_tokens=cfg.max_new_tokens, threads=cfg.threads, parallel=cfg.parallel,
        )
    adapter = Path(cfg.adapter).expanduser() if cfg.adapter else None
    from chat.generators.hf import TransformersGenerator

    return TransformersGenerator(cfg.model, cache_dir=cache_dir, device=cfg.device,
                                 adapter=adapter)
