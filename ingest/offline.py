"""Network switches, applied before any library that would phone home is imported.

docchat must make zero network calls at run time with its defaults (see README, "Offline").
`setdefault` keeps a user's explicit choice: HF_HUB_OFFLINE=0 lets them use hub model ids.
"""

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
