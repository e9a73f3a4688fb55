"""The ImageMagick, libvips and G'MIC exports, run with the real programs.

The oracle is the real program: each exported command runs on small odd-sized
images and its 8-bit file must equal what ``kernelstudio apply`` makes (load,
:func:`render`, :func:`to_display`) within ±1 everywhere.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kernelstudio.cli import main
from kernelstudio.code_export import export_code
from kernelstudio.export_common import CodeExportError
from kernelstudio.export_shell import IMAGEMAGICK_6
from kernelstudio.imageio import load_image
from kernelstudio.pipeline import Recipe, Stage, render, to_display
from tests.peers import (
    agreement,
    read_image,
    require_program,
    run_shell,
    sample_images,
    write_image,
)

ASYMMETRIC = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 0.0], [0.0, 1.0, -2.0]])
TALL = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, 4.0, 1.0], [-1.0, 0.0, 2.0], [0, 1, 0]])
LAPLACIAN = np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])
BLUR = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])

BORDERS = ("valid", "constant", "nearest", "reflect", "mirror", "wrap")
PROGRAMS = {"imagemagick": "imagemagick", "vips": "vips", "gmic": "gmic"}


def _apply(recipe: Recipe, source: Path) -> np.ndarray:
    # What `kernelstudio apply` writes: the loaded file, rendered and mapped to 8 bits.
    image = load_image(source, alpha=True)
    return to_display(render(image, recipe), recipe)


def _for_this_machine(script: str, target: str) -> str:
    # The export starts with plain `convert`; here it must be the real ImageMagick found.
    if target != "imagemagick":
        return script
    real = shlex.quote(require_program("imagemagick"))
    return re.sub(rf"^{IMAGEMAGICK_6} ", f"{real} ", script, flags=re.MULTILINE)


def _check(target: str, recipe: Recipe, image: np.ndarray, folder: Path) -> None:
    require_program(PROGRAMS[target])
    source = write_image(folder / "in put.png", image)
    destination = folder / "out.png"
    run_shell(
        _for_this_machine(
            export_code(recipe, target, source=str(source), destination=str(destination)),
            target,
        ),
        folder,
    )
    theirs = read_image(destination, alpha=True)
    exact, _, largest = agreement(_apply(recipe, source), theirs)
    assert largest <= 1, f"{target}: largest difference {largest} ({exact:.1%} exact)"


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
@pytest.mark.parametrize("border", BORDERS)
def test_every_border_with_flip_divisor_and_offset(target: str, border: str, tmp_path: Path):
    images = sample_images()
    recipe = Recipe.single(TALL, divisor=4, offset=20, border=border, flip=True)
    _check(target, recipe, images["rgb"], tmp_path)


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
@pytest.mark.parametrize(
    "options",
    [
        {"rounding": "truncate"},
        {"display": "abs", "border": "nearest"},
        {"display": "signed", "border": "constant"},
        {"display": "normalize", "border": "wrap", "between_stages": "clip"},
        {"grey": True},
        {"between_stages": "round", "border": "reflect"},
        {"between_stages": "clip", "border": "mirror"},
    ],
    ids=lambda options: "-".join(f"{key}={value}" for key, value in options.items()),
)
def test_options_and_stacks(target: str, options: dict, tmp_path: Path):
    stages = (Stage(ASYMMETRIC, divisor=2, offset=10), Stage(BLUR, divisor=16))
    recipe = replace(Recipe(stages), **options)
    if recipe.grey:  # the grey may differ by one on luma ties; a blur keeps that within one
        recipe = replace(recipe, stages=(Stage(BLUR, divisor=16),))
    _check(target, recipe, sample_images()["rgb"], tmp_path)


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
@pytest.mark.parametrize("display", ["normalize", "signed"])
def test_stretching_displays(target: str, display: str, tmp_path: Path):
    recipe = Recipe.single(LAPLACIAN, display=display, border="nearest")
    _check(target, recipe, sample_images()["grey"], tmp_path)


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
def test_float_stack_and_alpha(target: str, tmp_path: Path):
    images = sample_images()
    float_stack = Recipe((Stage(BLUR, divisor=16), Stage(LAPLACIAN, offset=128)), border="wrap")
    _check(target, float_stack, images["grey"], tmp_path)
    # The Laplacian's result leaves 0…255 before the second stage, near a zero border.
    beyond = Recipe(
        (Stage(LAPLACIAN), Stage(ASYMMETRIC, divisor=2, offset=128)), border="constant"
    )
    _check(target, beyond, images["rgb"], tmp_path)
    _check(
        target, Recipe.single(ASYMMETRIC, divisor=3, border="reflect"), images["rgba"], tmp_path
    )
    processed = Recipe.single(BLUR, divisor=16, channels="rgba", alpha="process")
    _check(target, processed, images["rgba"], tmp_path)


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
def test_channel_subset(target: str, tmp_path: Path):
    recipe = Recipe.single(ASYMMETRIC, channels="gb", border="mirror")
    _check(target, recipe, sample_images()["rgb"], tmp_path)


@pytest.mark.parametrize("target", ["vips", "gmic"])
def test_channels_of_every_layout(target: str, tmp_path: Path):
    images = sample_images()
    recipe = Recipe.single(LAPLACIAN, channels="ra", alpha="process", display="abs", offset=-9)
    for name in ("rgb", "grey", "rgba"):
        _check(target, recipe, images[name], tmp_path)
    grey_alpha = np.stack([images["grey"], images["grey"][::-1]], axis=-1)
    _check(target, replace(recipe, border="valid"), grey_alpha, tmp_path)


@pytest.mark.parametrize(
    ("target", "recipe", "named"),
    [
        ("imagemagick", Recipe.single(LAPLACIAN, display="normalize", channels="r"), "normalize"),
        ("vips", Recipe.single(BLUR, alpha="weighted"), "weighted"),
        ("gmic", Recipe.single(BLUR, alpha="weighted"), "weighted"),
        ("imagemagick", Recipe.single(BLUR, display="wrap"), "'wrap'"),
        ("vips", Recipe((Stage(BLUR), Stage(BLUR)), between_stages="wrap"), "'wrap'"),
        ("gmic", Recipe.single(BLUR, display="wrap"), "C cast wraps around"),
        (
            "imagemagick",
            Recipe.single(LAPLACIAN, display="abs", alpha="process", channels="rgba"),
            "abs display",
        ),
    ],
)
def test_refusals_name_what_is_missing(target: str, recipe: Recipe, named: str):
    with pytest.raises(CodeExportError, match=named):
        export_code(recipe, target, source="in.png", destination="out.png")


@pytest.mark.parametrize("target", ["imagemagick", "vips", "gmic"])
def test_cli_export_code_matches_cli_apply(target: str, tmp_path: Path, capsys):
    require_program(PROGRAMS[target])
    source = write_image(tmp_path / "in.png", sample_images()["rgb"])
    options = ["-k", "1 2 0; -1 3 0; 0 1 -2", "-k", "box:rows=3,cols=5", "--divisor", "2"]
    options += ["--offset", "10", "--border", "reflect", "--flip", "--between-stages", "clip"]
    paths = ["--input", str(source), "--output", str(tmp_path / "exported.png")]
    assert main(["export-code", "--target", target, *options, *paths]) == 0
    run_shell(_for_this_machine(capsys.readouterr().out, target), tmp_path)
    assert main(["apply", *options, "-o", str(tmp_path / "applied.png"), str(source)]) == 0
    ours = read_image(tmp_path / "applied.png")
    exact, _, largest = agreement(ours, read_image(tmp_path / "exported.png"))
    assert largest <= 1, f"largest difference {largest} ({exact:.1%} exact)"
