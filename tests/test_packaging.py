"""`pip install .` gives a whole docchat: the wheel declares every distribution the code
imports, and carries the guide the demo is built from."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "retriever", "chat", "ui", "evals")


def _imports() -> dict[str, set[str]]:
    """Top-level modules the packaged code imports (absolute imports) -> files that do."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(file.relative_to(ROOT)))
    return found


def test_the_wheel_declares_what_the_code_imports_and_ships_the_guide(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("docchat-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        members = zf.namelist()
        metadata = zf.read(next(n for n in members if n.endswith(".dist-info/METADATA"))).decode()
    requirements = [Requirement(line.split(":", 1)[1].strip())
                    for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    required = {canonicalize_name(r.name) for r in requirements if r.marker is None}

    distributions = packages_distributions()
    missing = {}
    for module, files in _imports().items():
        if module in sys.stdlib_module_names or module in PACKAGES or module == "__future__":
            continue
        assert module in distributions, f"{module} (imported by {sorted(files)}) is not installed"
        names = {canonicalize_name(d) for d in distributions[module]}
        if not names & required:
            missing[module] = sorted(files)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"

    assert {f"ui/guide/{p.name}" for p in (ROOT / "docs" / "guide").glob("*.md")} <= set(members)
    for package in PACKAGES:
        assert f"{package}/__init__.py" in members
