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
FACES = ("cli", "__main__", "__init__")
CORE_MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem not in FACES)
"""Every module of the package but the command line: a new one joins by being there."""


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


FACE_FILES = [PACKAGE / "cli.py", *sorted((PACKAGE / "app").glob("*.py"))]


@pytest.mark.parametrize("path", FACE_FILES, ids=lambda path: path.name)
def test_the_faces_make_results_only_through_the_pipeline(path):
    # One pipeline: neither the window nor the command line chains colour
    # conversion and convolution by hand (the original's 8-bit copy is not a result).
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert ("kernelstudio.convolution", "convolve") not in names
    assert ("kernelstudio.colour", "to_grey") not in names
