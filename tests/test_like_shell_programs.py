"""``--like imagemagick|vips|gmic`` against what the real programs write.

Each case runs the program's own idiom for a kernel (its default way of
applying one, with each border it offers) and compares its 8-bit file with
``to_display(render(image, behave_like(recipe, program)))``: at least 99.9 %
of the values must agree within ±1; the exact share is recorded as the
``exact_share`` property (``pytest --junitxml`` shows it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kernelstudio.behave_like import CONVENTIONS, behave_like
from kernelstudio.pipeline import Recipe, Stage, render, to_display
from tests.peers import (
    agreement,
    read_image,
    require_program,
    run_program,
    sample_images,
    write_image,
)

KERNELS = {
    "asymmetric": np.array([[0.25, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -0.25]]),
    "tall 3x5": np.array(
        [[0.1, 0.0, -0.2], [0.3, 0.5, 0.0], [0.0, 0.4, 0.1], [-0.1, 0.0, 0.2], [0.0, 0.1, 0.0]]
    ),
    "zero-sum": np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]),
    "sum 3": np.array([[0.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 0.0]]),
}
STACK = (KERNELS["asymmetric"], np.full((3, 3), 1.0 / 9))
IMAGES = ("rgb", "grey")


def _cases(program: str) -> list[tuple[str, str, str]]:
    return [
        (image, kernel, border)
        for image in IMAGES
        for kernel in (*KERNELS, "2-stage stack")
        for _, border in CONVENTIONS[program].borders
    ]


def _stages(kernel: str) -> list[np.ndarray]:
    return list(STACK) if kernel == "2-stage stack" else [KERNELS[kernel]]


def _ours(program: str, image: np.ndarray, weights: list[np.ndarray], border: str) -> np.ndarray:
    recipe = Recipe(tuple(Stage(stage_weights) for stage_weights in weights))
    like = replace(behave_like(recipe, program), border=border)
    return to_display(render(image, like), like)


def _check(program: str, image_name: str, kernel: str, border: str, theirs_of, tmp_path, record):
    require_program(program)
    image = sample_images()[image_name]
    source = write_image(tmp_path / "in.png", image)
    weights = _stages(kernel)
    theirs = read_image(theirs_of(source, weights, border, tmp_path))
    exact, within_one, largest = agreement(_ours(program, image, weights, border), theirs)
    record("exact_share", exact)
    record("within_one_share", within_one)
    assert within_one >= 0.999, f"{within_one:.4%} within ±1, {exact:.2%} exact, largest {largest}"


def _numbers(values: np.ndarray) -> list[str]:
    return [repr(float(value)) for value in values.ravel()]


def _imagemagick(source: Path, weights: list[np.ndarray], border: str, folder: Path) -> Path:
    virtual = {ours: theirs.split()[-1] for theirs, ours in CONVENTIONS["imagemagick"].borders}
    arguments = [require_program("imagemagick"), str(source), "-virtual-pixel", virtual[border]]
    for stage_weights in weights:
        height, width = stage_weights.shape
        kernel = f"{width}x{height}: " + ",".join(_numbers(stage_weights))
        arguments += ["-morphology", "Convolve", kernel]
    run_program([*arguments, str(folder / "out.png")], folder)
    return folder / "out.png"


def _vips_matrix(path: Path, weights: np.ndarray) -> Path:
    height, width = weights.shape
    rows = "\n".join(" ".join(_numbers(row)) for row in weights)
    path.write_text(f"{width} {height} 1 0\n{rows}\n")
    return path


def _vips(source: Path, weights: list[np.ndarray], border: str, folder: Path) -> Path:
    vips = require_program("vips")
    current = source
    for number, stage_weights in enumerate(weights, 1):
        last = number == len(weights)
        target = folder / ("out.png" if last else f"stage{number}.v")
        matrix = _vips_matrix(folder / f"stage{number}.mat", stage_weights)
        run_program([vips, "conv", str(current), str(target), str(matrix)], folder)
        current = target
    return current


def _gmic(source: Path, weights: list[np.ndarray], border: str, folder: Path) -> Path:
    boundary = {ours: theirs.split()[0] for theirs, ours in CONVENTIONS["gmic"].borders}[border]
    arguments = [require_program("gmic"), "-v", "-1", str(source)]
    for stage_weights in weights:
        kernel = ";".join(",".join(_numbers(row)) for row in stage_weights)
        arguments += [f"({kernel})", "-convolve[0]", f"[-1],{boundary}", "-remove[-1]"]
    run_program([*arguments, "-cut", "0,255", "-output", str(folder / "out.png")], folder)
    return folder / "out.png"


@pytest.mark.parametrize(("image", "kernel", "border"), _cases("imagemagick"))
def test_like_imagemagick(image, kernel, border, tmp_path, record_property):
    _check("imagemagick", image, kernel, border, _imagemagick, tmp_path, record_property)


@pytest.mark.parametrize(("image", "kernel", "border"), _cases("vips"))
def test_like_vips(image, kernel, border, tmp_path, record_property):
    _check("vips", image, kernel, border, _vips, tmp_path, record_property)


@pytest.mark.parametrize(("image", "kernel", "border"), _cases("gmic"))
def test_like_gmic(image, kernel, border, tmp_path, record_property):
    _check("gmic", image, kernel, border, _gmic, tmp_path, record_property)


# Transparency: libvips and G'MIC filter alpha like a colour, which their conventions
# say (alpha process, channels rgba). ImageMagick's -morphology weights colour by alpha
# (Σ A·k·C / Σ A·k), which is alpha='weighted' only for kernels without negative
# weights that sum to 1, so its convention leaves alpha alone and this case adds it.
ALPHA_OPTIONS = {
    "vips": {},
    "gmic": {},
    "imagemagick": {"alpha": "weighted", "channels": "rgba"},
}
THEIRS = {"imagemagick": _imagemagick, "vips": _vips, "gmic": _gmic}


@pytest.mark.parametrize("program", sorted(ALPHA_OPTIONS))
def test_transparent_images_agree_with_the_conventions_alpha(program, tmp_path, record_property):
    require_program(program)
    image = sample_images()["rgba"]
    image[::3, ::4, 3] = 0  # fully transparent pixels, whose colour must not bleed (weighted)
    source = write_image(tmp_path / "in.png", image)
    blur = np.full((3, 3), 1.0 / 9)
    theirs = read_image(THEIRS[program](source, [blur], "nearest", tmp_path), alpha=True)
    like = replace(behave_like(Recipe((Stage(blur),)), program), **ALPHA_OPTIONS[program])
    exact, within_one, largest = agreement(to_display(render(image, like), like), theirs)
    record_property("exact_share", exact)
    assert within_one >= 0.999, f"{within_one:.4%} within ±1, {exact:.2%} exact, largest {largest}"
