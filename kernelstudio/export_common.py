"""What every code-export target shares: its error and the recipe facts it writes down.

A program a target writes carries the recipe twice: as exact literals its code
runs on (:func:`float_literal`, :func:`kernel_literal`) and, in its header, as
words a reader follows (:func:`recipe_summary`) and the ``kernelstudio apply``
command line it reproduces (:func:`apply_command`).
"""

from __future__ import annotations

import shlex

import numpy as np

from kernelstudio.kernels import format_weight, parse_weight
from kernelstudio.pipeline import Recipe, Stage

_PIPELINE_DEFAULTS = Recipe.single([[1.0]])
"""A recipe with every option at its default: the options a command line may leave out."""


class CodeExportError(ValueError):
    """The target cannot reproduce this recipe; the message says what it lacks."""


def float_literal(value: float) -> str:
    """Write `value` as a Python float literal that reads back exactly.

    Examples
    --------
    >>> float_literal(1 / 16), float_literal(2), float_literal(1 / 3)
    ('0.0625', '2.0', '0.3333333333333333')
    """
    return repr(float(value))


def kernel_literal(weights: np.ndarray, indent: str = "") -> str:
    """Write `weights` as a nested Python list of exact float literals, one row a line.

    Continuation lines start with `indent` plus four spaces; a single row stays on one line.

    Examples
    --------
    >>> kernel_literal(np.array([[1, 2, 1]]) / 4)
    '[[0.25, 0.5, 0.25]]'
    >>> print(kernel_literal(np.array([[0, -1], [-1, 0]])))
    [
        [0.0, -1.0],
        [-1.0, 0.0],
    ]
    """
    rows = ["[" + ", ".join(float_literal(value) for value in row) + "]" for row in weights]
    if len(rows) == 1:
        return f"[{rows[0]}]"
    body = "".join(f"{indent}    {row},\n" for row in rows)
    return f"[\n{body}{indent}]"


def weight_text(value: float) -> str:
    """Write one weight as ``kernelstudio apply -k`` reads it: short when exact, else ``repr``.

    Examples
    --------
    >>> weight_text(0.0625), weight_text(-2.0), weight_text(0.1)
    ('1/16', '-2', '1/10')
    >>> weight_text(1 / 9), weight_text(0.011343)
    ('1/9', '0.011343')
    """
    short = format_weight(value)
    return short if parse_weight(short) == value else float_literal(value)


def kernel_rows_text(weights: np.ndarray) -> str:
    """Write `weights` as rows for ``-k``: weights spaced, rows separated by ``;``.

    Examples
    --------
    >>> kernel_rows_text(np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]) / 4)
    '1/4 1/2 1/4; 0 0 0; -1/4 -1/2 -1/4'
    """
    return "; ".join(" ".join(weight_text(value) for value in row) for row in weights)


def stage_summary(stage: Stage) -> str:
    """Say what one stage does, in a line: its size, generator, divisor and offset.

    Examples
    --------
    >>> stage_summary(Stage([[1, 2, 1]], divisor=4, offset=128))
    '1×3 kernel, ÷ 4, + 128'
    """
    height, width = stage.weights.shape
    words = [f"{height}×{width} kernel"]
    if stage.generator is not None:
        words[0] += f" ({stage.generator.spec})"
    elif stage.name:
        words[0] += f" ({stage.name})"
    if stage.divisor != 1:
        words.append(f"÷ {format_weight(stage.divisor)}")
    if stage.offset:
        words.append(f"+ {format_weight(stage.offset)}")
    return ", ".join(words)


def recipe_summary(recipe: Recipe) -> list[str]:
    """Say what `recipe` does: one line per enabled stage, then three for the options.

    Examples
    --------
    >>> for line in recipe_summary(Recipe.single([[1, 2, 1]], divisor=4, border="wrap")):
    ...     print(line)
    stage 1: 1×3 kernel, ÷ 4
    border wrap, correlation (no flip), colour as stored,
    channels rgb, alpha keep, display clip,
    rounding half-up, between stages float
    """
    lines = [
        f"stage {number}: {stage_summary(stage)}"
        for number, stage in enumerate(recipe.active_stages, start=1)
    ]
    skipped = len(recipe.stages) - len(recipe.active_stages)
    if skipped:
        lines.append(f"({skipped} disabled stage{'s' if skipped > 1 else ''} left out)")
    lines.append(
        f"border {recipe.border}, "
        + ("convolution (kernels flipped), " if recipe.flip else "correlation (no flip), ")
        + ("grey (BT.601) first," if recipe.grey else "colour as stored,")
    )
    lines.append(f"channels {recipe.channels}, alpha {recipe.alpha}, display {recipe.display},")
    lines.append(f"rounding {recipe.rounding}, between stages {recipe.between_stages}")
    return lines


def apply_command(recipe: Recipe, source: str, destination: str) -> str:
    """Return the ``kernelstudio apply`` command line that makes what `recipe` makes.

    Each enabled stage is a ``-k`` (its generator's spec, or its rows) with its
    ``--divisor`` and ``--offset`` after it; options at their defaults are left
    out, except ``--display``, whose default follows the last preset named.

    Examples
    --------
    >>> recipe = Recipe.single([[-1, 0, 1]], offset=128, border="wrap", display="signed")
    >>> apply_command(recipe, "in.png", "out file.png")
    "kernelstudio apply -k '-1 0 1' --offset 128 --border wrap --display signed -o 'out file.png' in.png"
    """  # noqa: E501 - a doctest's expected output is one line
    words = ["kernelstudio", "apply"]
    for stage in recipe.active_stages:
        spec = stage.generator.spec if stage.generator is not None else None
        words += ["-k", spec or kernel_rows_text(stage.weights)]
        if stage.divisor != 1:
            words += ["--divisor", weight_text(stage.divisor)]
        if stage.offset:
            words += ["--offset", weight_text(stage.offset)]
    defaults = _PIPELINE_DEFAULTS
    for name in ("border", "channels", "alpha", "display", "rounding", "between_stages"):
        value = getattr(recipe, name)
        if name == "display" or value != getattr(defaults, name):
            words += [f"--{name.replace('_', '-')}", value]
    if recipe.flip:
        words.append("--flip")
    if recipe.grey:
        words.append("--grey")
    words += ["-o", destination, source]
    return shlex.join(words)
