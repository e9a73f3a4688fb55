"""House rules that keep the code base in shape: layering and a clean lint."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kernelstudio

PACKAGE = Path(kernelstudio.__file__).parent
ROOT = PACKAGE.parent
CORE_MODULES = [
    "analysis",
    "atomic",
    "bands",
    "colour",
    "compare",
    "convolution",
    "display",
    "imageio",
    "kernels",
    "montage",
    "samples",
    "walkthrough",
]


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_imports_neither_qt_nor_the_faces(module):
    forbidden = ("PySide6", "PyQt", "pyqtgraph", "kernelstudio.app", "kernelstudio.cli")
    imports = list(imported_modules(PACKAGE / f"{module}.py"))
    assert not [name for name in imports if name.startswith(forbidden)]


@pytest.mark.parametrize("module", ["convolution", "bands"])
def test_convolution_is_pure_numpy(module):
    imports = set(imported_modules(PACKAGE / f"{module}.py"))
    allowed_packages = ("numpy", "kernelstudio.bands")
    third_party = {name for name in imports if name.split(".")[0] not in sys.stdlib_module_names}
    assert {name for name in third_party if not name.startswith(allowed_packages)} == set()


def test_importing_the_core_loads_no_qt():
    code = (
        "import sys, kernelstudio.cli, "
        + ", ".join(f"kernelstudio.{module}" for module in CORE_MODULES)
        + "; "
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    completed = subprocess.run(
        [ruff, *command, str(ROOT)], capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
