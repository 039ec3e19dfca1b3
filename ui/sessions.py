"""What each web chat session has chosen (collection, retrieval and generator settings), and
the DocChat that serves that choice.

DocChats are cached per choice and share the loaded models: the embedder always, and a
generator per generator setting, so switching back and forth loads nothing twice.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from ingest.errors import ConfigError

if TYPE_CHECKING:
    from chat.app import DocChat


@dataclass(frozen=True)
class Choice:
    collection: str
    k: int
    dense_weight: float
    bm25_weight: float
    rerank: bool
    backend: str
    model: str
    base_url: str = ""

    def with_(self, **changes) -> "Choice":
        return replace(self, **changes)


class Sessions:
    def __init__(self, base: "DocChat") -> None:
        self.base = base
        self._apps: dict[Choice, DocChat] = {}
        self._generators: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def default(self) -> Choice:
        s = self.base.settings
        return Choice(s.collection, s.retrieval.k, s.retrieval.dense_weight,
                      s.retrieval.bm25_weight, s.retrieval.reranker is not None,
                      s.generator.backend, s.generator.model or "bundled",
                      s.generator.base_url or "")

    @property
    def reranker_available(self) -> bool:
        return self.base.settings.retrieval.reranker is not None

    def app(self, choice: Choice | None) -> "DocChat":
        """The DocChat for `choice`; raises ConfigError for settings that do not validate."""
        from chat.app import DocChat
        from chat.settings import Settings

        choice = choice or self.default()
        with self._lock:
            if choice in self._apps:
                return self._apps[choice]
            if choice == self.default():
                self._apps[choice] = self.base
                return self.base
            base = self.base.settings
            data = json.loads(base.model_dump_json())
            data.update(collection=choice.collection)
            data["retrieval"].update(k=choice.k, dense_weight=choice.dense_weight,
                                     bm25_weight=choice.bm25_weight,
                                     reranker=base.retrieval.reranker if choice.rerank else None)
            data["generator"].update(backend=choice.backend, model=choice.model,
                                     base_url=choice.base_url or None)
            for secret in ("api_key",):  # dumped masked: take the real values back
                data["generator"][secret] = base.generator.api_key
                data["server"][secret] = base.server.api_key
            data["index"]["token"] = base.index.token
            data["ingest"]["pdf_passwords"] = base.ingest.pdf_passwords
            try:
                settings = Settings.model_validate(data)
            except Exception as exc:  # pydantic's ValidationError: say which value is wrong
                raise ConfigError(f"Those settings are not valid: {exc}") from None
            app = DocChat(settings)
            app.embedder = self.base.embedder
            key = (choice.backend, choice.model, choice.base_url)
            if key == (self.default().backend, self.default().model, self.default().base_url):
                app.generator = self.base.generator
            elif key in self._generators:
                app.generator = self._generators[key]
            else:
                self._generators[key] = app.generator
            self._apps[choice] = app
            return app

    def forget_collection(self, name: str) -> None:
        with self._lock:
            for choice in [c for c in self._apps if c.collection == name]:
                if self._apps[choice] is not self.base:
                    del self._apps[choice]


def describe(choice: Choice) -> str:
    return ", ".join(f"{k}={v}" for k, v in asdict(choice).items() if v != "")
