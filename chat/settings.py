"""docchat's one configuration: defaults < TOML file < DOCCHAT_* environment < CLI flags.

Read once at the edge (CLI, web app, evals) and passed down as typed, frozen objects.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator,
                      model_validator)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from chat.config import AnswerConfig, GeneratorConfig
from ingest.config import IndexConfig, IngestConfig
from ingest.errors import ConfigError
from retriever.config import RetrieverConfig

CONFIG_ENV = "DOCCHAT_CONFIG"
DEFAULT_CONFIG_FILE = Path("docchat.toml")
_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
_GENERATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
DEFAULT_GENERATOR = "default"


def valid_collection_name(name: str) -> bool:
    return bool(_COLLECTION.match(name))


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback) / "docchat"


MIN_KEY_CHARS = 12


class ServerConfig(BaseModel):
    """`docchat serve`. Every limit here is applied by ui.security, the one place that decides
    what the server accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address the web chat and API listen on.")
    port: int = Field(7860, ge=1, le=65535)
    max_upload_mb: int = Field(100, ge=1, le=10_000,
                               description="Largest uploaded file, in MB (10^6 bytes).")
    api_key: SecretStr | None = Field(
        None,
        description="Required as `Authorization: Bearer <key>` by the API, and as the password "
        "of the web chat. Needed to listen on any address but loopback.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names (as in the browser's address bar) the server answers to when "
        "api_key is set, besides loopback and `host`; \"*\" = any, \"*.example.org\" = its "
        "subdomains. Without a key only 127.0.0.1, localhost and [::1] are answered (this "
        "stops DNS rebinding).",
    )
    sync_roots: list[Path] = Field(
        default_factory=list,
        description="Folders the web chat may re-sync (they and their subfolders). Empty = the "
        "web chat cannot read folders on the server.",
    )
    watch: list[Path] = Field(
        default_factory=list,
        description="Folders `docchat serve` keeps the collection in step with while it runs "
        "(as `docchat watch` does): saved, replaced, moved and deleted files follow within "
        "seconds.",
    )
    max_request_kb: int = Field(
        1024, ge=16, le=1_048_576,
        description="Largest request body in KiB, uploads excepted (those: max_upload_mb).",
    )
    max_question_chars: int = Field(
        4000, ge=100, le=1_000_000, description="Longest question, in characters."
    )
    max_history_chars: int = Field(
        20_000, ge=0, le=10_000_000,
        description="Earlier messages of a conversation kept for a follow-up, in characters; "
        "older ones are left out (with a warning).",
    )
    show_paths: Literal["relative", "absolute"] = Field(
        "relative",
        description='How the API and web chat show where a document is: "relative" to the '
        'folder its collection was ingested from, or "absolute" server paths.',
    )

    @field_validator("api_key")
    @classmethod
    def _real_key(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty key must never mean "no authentication": it is a mistake, said at start.
        if value is None:
            return None
        key = value.get_secret_value()
        if not key.strip():
            raise ValueError(
                "is empty; remove the setting to serve on loopback only without a key, or set "
                "a real key, e.g. the output of `python -c \"import secrets; "
                "print(secrets.token_urlsafe(24))\"`"
            )
        if key != key.strip():
            raise ValueError("starts or ends with white space; remove it")
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"is too short ({len(key)} characters); use at least "
                             f"{MIN_KEY_CHARS}, e.g. `python -c \"import secrets; "
                             "print(secrets.token_urlsafe(24))\"`")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern or "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*"
                                                     and not pattern.startswith("*.")):
                raise ValueError(f"{pattern!r} is not a host name, \"*\" or \"*.domain\"")
        return [p.lower() for p in value]

    @field_validator("sync_roots", "watch")
    @classmethod
    def _absolute_roots(cls, value: list[Path]) -> list[Path]:
        roots = [p.expanduser() for p in value]
        for root in roots:
            if not root.is_absolute():
                raise ValueError(f"{str(root)!r} is not an absolute path")
        return roots


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCCHAT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share"),
        description="Where the index lives (Chroma database and ingest state).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache"),
        description="Where converted models are cached.",
    )
    collection: str = Field("default", description="Name of the document collection.")
    ingest: IngestConfig = IngestConfig()
    index: IndexConfig = IndexConfig()
    retrieval: RetrieverConfig = RetrieverConfig()
    generator: GeneratorConfig = GeneratorConfig()
    answer: AnswerConfig = AnswerConfig()
    server: ServerConfig = ServerConfig()
    generators: dict[str, GeneratorConfig] = Field(
        default_factory=dict,
        description="More generators a web chat session may choose (by name) besides "
        "`generator`, e.g. [generators.qwen] with backend/model/base_url. Sessions choose "
        "among these; they never type a model path or server URL.",
    )

    @field_validator("generators")
    @classmethod
    def _generator_names(cls, value: dict[str, GeneratorConfig]) -> dict[str, GeneratorConfig]:
        for name in value:
            if not _GENERATOR_NAME.match(name) or name == DEFAULT_GENERATOR:
                raise ValueError(f"{name!r}: use 1-40 letters, digits, '.', '_' or '-' "
                                 f"(and not {DEFAULT_GENERATOR!r}, the [generator] section)")
        return value

    @model_validator(mode="after")
    def _answer_profiles(self) -> "Settings":
        # An answer.* value that contradicts a generator's profile (nothing_below above its
        # answer_above) is a mistake said at start, not at the first question.
        for generator in (self.generator, *self.generators.values()):
            self.answer.profile(generator)
        return self

    def generator_named(self, name: str) -> GeneratorConfig:
        """`generator` for "default", else the entry of `generators`; ConfigError if none."""
        if name == DEFAULT_GENERATOR:
            return self.generator
        if name not in self.generators:
            raise ConfigError(f"There is no generator named {name!r}; configured: "
                              + ", ".join([DEFAULT_GENERATOR, *self.generators]))
        return self.generators[name]

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not valid_collection_name(value):
            raise ValueError(
                "use 3-63 characters: letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        return value

    @field_validator("data_dir", "cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "bm25" / self.collection

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.sqlite"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def config_file_path(explicit: Path | None = None) -> Path | None:
    """The TOML file to read: --config, else $DOCCHAT_CONFIG, else ./docchat.toml if present."""
    if explicit is None and os.environ.get(CONFIG_ENV):
        explicit = Path(os.environ[CONFIG_ENV])
    if explicit is not None:
        explicit = Path(explicit).expanduser()
        if not explicit.is_file():
            raise ConfigError(f"Config file not found: {explicit}")
        return explicit
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; `overrides` (CLI flags) win. None values mean "not given"."""
    path = config_file_path(config_file)
    cls = Settings
    if path is not None:
        _check_toml(path)

        class _FromFile(Settings):
            model_config = SettingsConfigDict(toml_file=path)

        cls = _FromFile
    try:
        return cls(**_drop_none(overrides))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from None


def _check_toml(path: Path) -> None:
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


# Settings whose values are secrets: keys, tokens, passwords, headers that carry them.
_SECRET = re.compile(r"key|token|secret|password|headers", re.I)


def _explain(exc: ValidationError, path: Path | None) -> str:
    lines = ["Invalid configuration:"]
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        if not loc:  # a rule across settings: its message names them
            lines.append("  " + err["msg"].removeprefix("Value error, "))
            continue
        dotted = ".".join(loc)
        env = "DOCCHAT_" + "__".join(p.upper() for p in loc)
        # A secret's value is never echoed (a start-up log is no place for a key).
        secret = any(_SECRET.search(part) for part in loc)
        given = f" (got {err['input']!r})" if err["type"] != "missing" and not secret else ""
        if err["type"] == "extra_forbidden":
            lines.append(f"  {dotted}: unknown setting{given}; check the spelling or remove it")
            continue
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {dotted}: {message}{given}")
        lines.append(f"    set it in {path or 'docchat.toml'} or with {env}")
    return "\n".join(lines)
