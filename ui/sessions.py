"""What each web chat session has chosen (collection, retrieval and generator settings), and
the DocChat that serves that choice.

DocChats are cached per choice and share the loaded models: the embedder always, and a
generator per generator setting, so switching back and forth loads nothing twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chat.settings import DEFAULT_GENERATOR
from ingest.errors import ConfigError

if TYPE_CHECKING:
    from chat.app import DocChat
    from chat.settings import Settings


@dataclass(frozen=True)
class Choice:
    collection: str
    k: int
    dense_weight: float
    bm25_weight: float
    rerank: bool
    generator: str = DEFAULT_GENERATOR  # a name from the configuration, never a URL or path

    def with_(self, **changes) -> "Choice":
        return replace(self, **changes)


class Sessions:
    def __init__(self, base: "DocChat") -> None:
        self.base = base
        self._apps: dict[Choice, DocChat] = {}
        self._generators: dict[str, object] = {}
        self._lock = threading.Lock()

    def default(self) -> Choice:
        s = self.base.settings
        return Choice(s.collection, s.retrieval.k, s.retrieval.dense_weight,
                      s.retrieval.bm25_weight, s.retrieval.reranker is not None)

    @property
    def reranker_available(self) -> bool:
        return self.base.settings.retrieval.reranker is not None

    def generator_names(self) -> list[str]:
        return [DEFAULT_GENERATOR, *self.base.settings.generators]

    def app(self, choice: Choice | None) -> "DocChat":
        """The DocChat for `choice`; raises ConfigError for settings that do not validate."""
        from chat.app import DocChat

        choice = choice or self.default()
        with self._lock:
            if choice in self._apps:
                return self._apps[choice]
            if choice == self.default():
                self._apps[choice] = self.base
                return self.base
            settings = self._settings(choice)
            app = DocChat(settings)
            app.embedder = self.base.embedder
            if settings.retrieval.reranker == self.base.settings.retrieval.reranker:
                app.reranker = self.base.reranker
            if choice.generator == DEFAULT_GENERATOR:
                app.generator = self.base.generator
            elif choice.generator in self._generators:
                app.generator = self._generators[choice.generator]
            else:
                self._generators[choice.generator] = app.generator
            self._apps[choice] = app
            return app

    def _settings(self, choice: Choice) -> "Settings":
        """The base settings with the session's choices, each validated. The generator is
        one the configuration names, so its URL and key are the configured ones."""
        from pydantic import ValidationError

        from chat.settings import valid_collection_name

        base = self.base.settings
        if not valid_collection_name(choice.collection):
            raise ConfigError("Use 3-63 letters, digits, '.', '_' or '-' for a collection name.")
        try:
            retrieval = type(base.retrieval).model_validate({
                **base.retrieval.model_dump(), "k": choice.k,
                "dense_weight": choice.dense_weight, "bm25_weight": choice.bm25_weight,
                "reranker": base.retrieval.reranker if choice.rerank else None})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"Those settings are not valid: {problems}") from None
        return base.model_copy(update={
            "collection": choice.collection, "retrieval": retrieval,
            "generator": base.generator_named(choice.generator)})

    def forget_collection(self, name: str) -> None:
        with self._lock:
            for choice in [c for c in self._apps if c.collection == name]:
                if self._apps[choice] is not self.base:
                    del self._apps[choice]
