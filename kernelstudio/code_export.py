"""Turn a recipe into a program for another tool that makes the same 8-bit result.

:func:`export_code` writes, for one :data:`TARGETS` name, a self-contained
Python script (``numpy``, ``scipy``, ``opencv``, ``dask``) or a shell command
line (``imagemagick``, ``vips``, ``gmic``) that reads an input image and writes
the 8-bit result ``kernelstudio apply`` writes for the same recipe, to within
±1 per value. Where a target cannot do what the recipe asks, it raises
:class:`CodeExportError` naming what.
"""

from __future__ import annotations

from collections.abc import Callable

from kernelstudio.export_common import CodeExportError
from kernelstudio.export_python import PYTHON_TARGETS
from kernelstudio.export_shell import SHELL_TARGETS
from kernelstudio.pipeline import Recipe

__all__ = ["PYTHON_SCRIPT_TARGETS", "TARGETS", "TARGET_NAMES", "CodeExportError", "export_code"]

Writer = Callable[[Recipe, str, str], str]
"""A target's writer: ``(recipe, input_path, output_path) -> program text``."""

_WRITERS: dict[str, Writer] = {**PYTHON_TARGETS, **SHELL_TARGETS}

TARGET_NAMES: dict[str, str] = {
    "numpy": "NumPy",
    "scipy": "SciPy",
    "opencv": "OpenCV",
    "dask": "dask-image",
    "imagemagick": "ImageMagick",
    "vips": "libvips",
    "gmic": "G'MIC",
}
"""What people call each target, by its ``--target`` name."""

TARGETS: tuple[str, ...] = tuple(TARGET_NAMES)
"""The programs :func:`export_code` writes for."""

PYTHON_SCRIPT_TARGETS: frozenset[str] = frozenset({"numpy", "scipy", "opencv", "dask"})
"""The targets whose program is a Python script; the others write a shell command."""


def export_code(recipe: Recipe, target: str, *, source: str, destination: str) -> str:
    """Return a program for `target` that applies `recipe` to `source` and writes `destination`.

    Raises
    ------
    CodeExportError
        For an unknown target, or a recipe the target cannot reproduce.
    """
    if target not in TARGETS:
        raise CodeExportError(f"target must be one of {', '.join(TARGETS)}; got {target!r}")
    writer = _WRITERS.get(target)
    if writer is None:
        raise CodeExportError(f"the {target} target is not written yet")
    return writer(recipe, source, destination)
