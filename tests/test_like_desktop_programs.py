"""``--like gimp`` and ``--like imagej`` against GIMP and ImageJ themselves.

GIMP runs plug-in-convmatrix from ``gimp-console-2.10 -i -b`` (Script-Fu), ImageJ
runs ``Convolve...`` from a macro under ``xvfb-run -a``; each runs once for all
its cases (see ``benchmarks/peer_agreement.py``). Missing programs skip these
tests, except under ``CI=true``, where ``packaging/setup.sh`` installs them.
"""

import os
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.peer_agreement import (
    agreement,
    gimp_available,
    gimp_outputs,
    imagej_available,
    imagej_outputs,
    sample_images,
)
from kernelstudio.behave_like import CONVENTIONS, behave_like
from kernelstudio.pipeline import Recipe, Stage, render, to_display

pytestmark = pytest.mark.slow

ASYMMETRIC_3X3 = [[1, 2, 0], [-1, 3, 1], [0, -2, 4]]
RECTANGULAR_3X5 = [[1, 0, 2, 0, -1], [0, 3, 1, 1, 0], [2, -1, 0, 1, 1]]  # 3 rows, 5 columns
ASYMMETRIC_5X5 = [
    [0, 1, 0, -1, 2],
    [1, 0, 3, 0, 0],
    [-2, 1, 4, 1, 0],
    [0, 0, 1, 2, -1],
    [1, 0, 0, 0, 3],
]
ZERO_SUM = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
NEGATIVE_SUM = [[0, -1, 0], [-1, -2, -1], [0, 1, 0]]
WHOLE_SUM_16 = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]  # with divisor 1: far brighter, clipped


def _images() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1203)
    rgba = rng.integers(0, 256, (21, 25, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice(np.array([0, 40, 128, 255], dtype=np.uint8), size=(21, 25))
    return {
        "RGB 23×31": rng.integers(0, 256, (23, 31, 3), dtype=np.uint8),
        "grey 19×27": rng.integers(0, 256, (19, 27), dtype=np.uint8),
        "photo 64×80": sample_images()["astronaut"][100:164, 200:280],
        "RGBA 21×25": rgba,
    }


IMAGES = _images()
OPAQUE = [name for name in IMAGES if not name.startswith("RGBA")]


def _require(available: bool, program: str) -> None:
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{program} is missing under CI=true; packaging/setup.sh installs it")
    pytest.skip(f"{program} is not installed (packaging/setup.sh installs it)")


def _ours(image: np.ndarray, recipe: Recipe) -> np.ndarray:
    return to_display(render(image, recipe), recipe)


def _assert_agrees(ours: np.ndarray, theirs: np.ndarray, *, equal_at_least: float) -> None:
    equal, near = agreement(ours, theirs)
    assert near >= 0.999, f"within ±1 on {near:.4%}, equal on {equal:.4%}"
    assert equal >= equal_at_least, f"equal on {equal:.4%}"


# GIMP ---------------------------------------------------------------------------------


def _gimp_recipe(stages: list[Stage], border: str, *, normalise: bool = False) -> Recipe:
    # Through the PDB GIMP never normalises; with `normalise` the divisor and
    # offset its dialog would pick are passed to it explicitly.
    return replace(behave_like(Recipe(tuple(stages)), "gimp", normalise=normalise), border=border)


GIMP_BORDERS = [ours for _, ours in CONVENTIONS["gimp"].borders]
GIMP_KERNELS = {
    "asymmetric 3×3 ÷8": ([Stage(ASYMMETRIC_3X3, divisor=8)], False),
    "rectangular 3×5 ÷9": ([Stage(RECTANGULAR_3X5, divisor=9)], False),
    "asymmetric 5×5 ÷12, offset 40": ([Stage(ASYMMETRIC_5X5, divisor=12, offset=40)], False),
    "zero-sum, normalised": ([Stage(ZERO_SUM)], True),
    "negative sum, normalised": ([Stage(NEGATIVE_SUM)], True),
    "sum 16, clipped": ([Stage(WHOLE_SUM_16)], False),
    "stack of two": ([Stage(WHOLE_SUM_16, divisor=16), Stage(ASYMMETRIC_3X3, divisor=4)], False),
}
GIMP_CASES = {
    (kernel, border, image): _gimp_recipe(stages, border, normalise=normalise)
    for kernel, (stages, normalise) in GIMP_KERNELS.items()
    for border in GIMP_BORDERS
    for image in OPAQUE
}
# GIMP's dialog ticks the alpha channel too; with alpha weighting off that is 'process'.
GIMP_CASES.update(
    {
        (kernel, border, "RGBA 21×25"): replace(
            _gimp_recipe(GIMP_KERNELS[kernel][0], border), alpha="process", channels="rgba"
        )
        for kernel, border in (
            ("asymmetric 3×3 ÷8", "nearest"),
            ("rectangular 3×5 ÷9", "constant"),
        )
    }
)


@pytest.fixture(scope="module")
def gimp_results(tmp_path_factory):
    """GIMP's output for every case of GIMP_CASES, from one GIMP process."""
    _require(gimp_available(), "GIMP (gimp-console-2.10)")
    jobs = [(IMAGES[image], recipe) for (_, _, image), recipe in GIMP_CASES.items()]
    outputs = gimp_outputs(jobs, tmp_path_factory.mktemp("gimp"))
    return dict(zip(GIMP_CASES, outputs, strict=True))


@pytest.mark.parametrize("case", list(GIMP_CASES), ids=" / ".join)
def test_like_gimp_equals_plug_in_convmatrix(gimp_results, case):
    recipe = GIMP_CASES[case]
    # GIMP rounds float32 sums of values/255: a value that is exactly half a
    # level (every one of a zero-sum kernel with offset ½) falls either way.
    ties = case[0] in ("zero-sum, normalised", "negative sum, normalised")
    _assert_agrees(
        _ours(IMAGES[case[2]], recipe), gimp_results[case], equal_at_least=0.5 if ties else 0.98
    )


@pytest.fixture(scope="module")
def gimp_alpha_weighted(tmp_path_factory):
    """GIMP's alpha-weighted output (the dialog's default) of one kernel on the RGBA image."""
    _require(gimp_available(), "GIMP (gimp-console-2.10)")
    recipe = replace(_gimp_recipe([Stage(ASYMMETRIC_3X3, divisor=8)], "nearest"), channels="rgba")
    folder = tmp_path_factory.mktemp("gimp-alpha")
    (theirs,) = gimp_outputs([(IMAGES["RGBA 21×25"], recipe)], folder, alpha_weighting=True)
    return recipe, theirs


def test_gimp_alpha_weighting_filters_colour_times_alpha_undivided(gimp_alpha_weighted):
    # What a pipeline mode would need for GIMP's default: colour Σ K·c·a / d + o
    # (not divided by the alpha covered); no Recipe option does this yet.
    recipe, theirs = gimp_alpha_weighted
    image = IMAGES["RGBA 21×25"]
    premultiplied = np.rint(image[..., :3] * (image[..., 3:] / 255.0)).astype(np.uint8)
    colour = _ours(premultiplied, replace(recipe, channels="rgb"))
    near = agreement(colour, theirs[..., :3])[1]
    assert near >= 0.99, f"within ±1 on {near:.4%}"
    weighted = _ours(image, replace(recipe, alpha="weighted"))[..., :3]
    assert agreement(weighted, theirs[..., :3])[1] < 0.9  # our 'weighted' is another thing


# ImageJ -------------------------------------------------------------------------------


def _imagej_recipe(stages: list[Stage]) -> Recipe:
    return behave_like(Recipe(tuple(stages)), "imagej")


GAUSSIAN_9X7 = np.outer(np.exp(-(np.arange(-4, 5) ** 2) / 8), np.exp(-(np.arange(-3, 4) ** 2) / 6))
IMAGEJ_KERNELS = {
    "asymmetric 3×3, normalised": [Stage(ASYMMETRIC_3X3)],
    "rectangular 3×5, normalised": [Stage(RECTANGULAR_3X5)],
    "asymmetric 5×5, normalised": [Stage(ASYMMETRIC_5X5)],
    "zero-sum (not divided)": [Stage(ZERO_SUM)],
    "negative sum, normalised": [Stage(NEGATIVE_SUM)],
    "gaussian 9×7, normalised": [Stage(GAUSSIAN_9X7)],
    "stack of two": [Stage(WHOLE_SUM_16), Stage(RECTANGULAR_3X5)],
}
IMAGEJ_CASES = {
    (kernel, image): _imagej_recipe(stages)
    for kernel, stages in IMAGEJ_KERNELS.items()
    for image in OPAQUE
}
IMAGEJ_CASES.update(
    {
        (kernel, "RGBA 21×25"): _imagej_recipe(IMAGEJ_KERNELS[kernel])
        for kernel in ("asymmetric 3×3, normalised", "gaussian 9×7, normalised")
    }
)


@pytest.fixture(scope="module")
def imagej_results(tmp_path_factory):
    """ImageJ's output for every case of IMAGEJ_CASES, from one ImageJ."""
    _require(imagej_available(), "ImageJ (imagej, java, xvfb-run)")
    jobs = [(IMAGES[image], recipe) for (_, image), recipe in IMAGEJ_CASES.items()]
    outputs = imagej_outputs(jobs, tmp_path_factory.mktemp("imagej"))
    return dict(zip(IMAGEJ_CASES, outputs, strict=True))


def _flattened_over_white(image: np.ndarray) -> np.ndarray:
    # ImageJ's opening of an RGBA PNG: c·a + 255·(1 − a), rounded.
    alpha = image[..., 3:] / 255.0
    return np.floor(image[..., :3] * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)


@pytest.mark.parametrize(
    "case", [case for case in IMAGEJ_CASES if case[1] in OPAQUE], ids=" / ".join
)
def test_like_imagej_equals_convolve(imagej_results, case):
    # ImageJ scales the exact sum of whole weights, so halves stay halves and
    # round up; we fold 1/divisor into float32 weights, which can land a tie
    # just below the half (÷10 here), a level lower.
    _assert_agrees(
        _ours(IMAGES[case[1]], IMAGEJ_CASES[case]), imagej_results[case], equal_at_least=0.98
    )


@pytest.mark.parametrize(
    "case", [case for case in IMAGEJ_CASES if case[1] not in OPAQUE], ids=" / ".join
)
def test_imagej_flattens_rgba_over_white_before_convolving(imagej_results, case):
    # What the pipeline would need for RGBA images: flatten first; no Recipe
    # option does this yet, so here the image is flattened by hand.
    flattened = _flattened_over_white(IMAGES[case[1]])
    theirs = imagej_results[case]
    assert theirs.shape == flattened.shape  # RGB: ImageJ drops the alpha
    _assert_agrees(_ours(flattened, IMAGEJ_CASES[case]), theirs, equal_at_least=0.99)
