"""The import arrows of the design: ingest ← retriever ← chat ← ui; evals never imports ui."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"ingest", "retriever", "chat", "ui", "evals"}
ALLOWED = {
    "ingest": set(),
    "retriever": {"ingest"},
    "chat": {"ingest", "retriever"},
    "ui": {"ingest", "retriever", "chat"},
    "evals": {"ingest", "retriever", "chat"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & PACKAGES


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_imports_follow_the_layering(package):
    files = list((ROOT / package).rglob("*.py"))
    for path in files:
        wrong = imported_packages(path) - ALLOWED[package] - {package}
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"


def test_importing_docchat_does_not_load_torch():
    import subprocess
    import sys

    code = (
        "import sys, ui.cli, ui.web, chat.app, ingest.pipeline, retriever.search;"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'chromadb',"
        " 'unstructured', 'gradio') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
