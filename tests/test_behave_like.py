"""``behave_like``: the options each program's convention sets, the divisors it picks, and
agreement with OpenCV and SciPy themselves as the oracle (the desktop programs are in
tests/test_like_desktop_programs.py)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from scipy import ndimage

from kernelstudio.behave_like import CONVENTIONS, NORMALISATIONS, behave_like
from kernelstudio.generators import parse_spec
from kernelstudio.pipeline import Recipe, Stage, render, to_display

MY_PROGRAMS = ("gimp", "imagej", "photoshop", "opencv", "scipy")

ASYMMETRIC_3X3 = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 1.0], [0.0, -2.0, 4.0]])
RECTANGULAR_3X5 = np.array(  # three rows, five columns
    [[1.0, 0.0, 2.0, 0.0, -1.0], [0.0, 3.0, 1.0, 1.0, 0.0], [2.0, -1.0, 0.0, 1.0, 1.0]]
)
ZERO_SUM = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SUM_NOT_ONE = np.array([[0.1, 0.4, 0.1], [0.2, 0.5, 0.3], [0.0, 0.3, 0.2]])  # sums to 2.1

# weights, divisor, offset: what each kernel is written with in both programs
KERNELS = {
    "asymmetric 3×3": (ASYMMETRIC_3X3, 8.0, 0.0),
    "rectangular 3×5": (RECTANGULAR_3X5, 9.0, 0.0),
    "zero-sum": (ZERO_SUM, 1.0, 128.0),
    "sum 2.1": (SUM_NOT_ONE, 1.0, 0.0),
}


def _images() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261203)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (29, 37, 3), dtype=np.uint8), (5, 5), 1.5)
    return {
        "RGB 17×23": rng.integers(0, 256, (17, 23, 3), dtype=np.uint8),
        "RGB 29×37 smooth": smooth,
        "grey 19×13": rng.integers(0, 256, (19, 13), dtype=np.uint8),
    }


IMAGES = _images()


def _ours(image: np.ndarray, recipe: Recipe) -> np.ndarray:
    return to_display(render(image, recipe), recipe).astype(np.int64)


def _agreement(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    difference = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
    return float(np.mean(difference == 0)), float(np.mean(difference <= 1))


def _assert_agrees(ours: np.ndarray, theirs: np.ndarray) -> None:
    # The promise is ±1 on 99.9 % of values. Exact equality is lower where a value
    # lies within float32 error of a rounding step: cv2 sums in float32 with the
    # weights rounded to float32, scipy in float64, we in float32 with the divisor
    # folded into the weights; scipy's truncation meets that error at every
    # whole result (blurs with an odd divisor give many).
    equal, near = _agreement(ours, theirs)
    assert near >= 0.999
    assert equal >= 0.95


def _recipe(program: str, stages: list[tuple[np.ndarray, float, float]], border: str) -> Recipe:
    recipe = Recipe(tuple(Stage(weights, divisor, offset) for weights, divisor, offset in stages))
    liked = behave_like(recipe, program, normalise=False)
    return replace(liked, border=border)


# The options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "border", "rounding"),
    [
        ("gimp", "nearest", "half-up"),
        ("imagej", "nearest", "half-up"),
        ("photoshop", "nearest", "half-up"),
        ("opencv", "mirror", "half-even"),
        ("scipy", "reflect", "truncate"),
    ],
)
def test_each_program_sets_its_border_rounding_and_8_bit_steps(program, border, rounding):
    recipe = Recipe.single(
        [[1.0, 2.0, 1.0]],
        border="wrap",
        flip=True,
        rounding="half-even" if rounding != "half-even" else "truncate",
        between_stages="float",
        display="abs",
        grey=True,
        channels="g",
    )
    liked = behave_like(recipe, program)
    assert (liked.border, liked.rounding) == (border, rounding)
    assert liked.flip is False  # every one of them correlates
    # Each filter writes whole 8-bit values: clipped, or wrapped as a C cast (SciPy).
    wraps = program == "scipy"
    assert liked.between_stages == ("wrap" if wraps else "round")
    assert liked.display == ("wrap" if wraps else "clip")
    assert liked.grey is True  # not theirs to change
    # Programs that filter alpha like a colour say so; the others keep the recipe's.
    convention = CONVENTIONS[program]
    assert liked.channels == (convention.channels or "g")
    assert liked.alpha == (convention.alpha or "keep")


def test_my_programs_come_first_and_say_how_they_were_checked():
    assert tuple(CONVENTIONS)[: len(MY_PROGRAMS)] == MY_PROGRAMS
    for program in MY_PROGRAMS:
        convention = CONVENTIONS[program]
        assert convention.normalise in NORMALISATIONS
        assert convention.name.split()[0] in convention.checked
        offered = {ours for _, ours in convention.borders}
        assert convention.border in offered or not offered
    assert "not checked" in CONVENTIONS["photoshop"].checked


def test_an_unknown_program_is_refused_with_the_names_it_knows():
    with pytest.raises(ValueError, match=r"--like must be one of gimp, imagej.*got 'krita'"):
        behave_like(Recipe.single([[1.0]]), "krita")


# The divisor and offset a program picks ----------------------------------------------


@pytest.mark.parametrize(
    ("weights", "white", "divisor", "offset"),
    [
        ([[1, 2, 1]], 255.0, 4.0, 0.0),  # sum > 0: ÷ sum
        ([[-1, -2, -1]], 255.0, 4.0, 255.0),  # sum < 0: ÷ −sum, offset 1.0 of full scale
        ([[-1, 0, 1]], 255.0, 1.0, 127.5),  # sum = 0: offset 0.5 of full scale
        ([[-1, 0, 1]], 65535.0, 1.0, 32767.5),
        ([[-1, -2, -1]], 65535.0, 4.0, 65535.0),
    ],
)
def test_gimp_normalises_as_its_dialog_does(weights, white, divisor, offset):
    recipe = Recipe.single(weights, divisor=3, offset=7)
    stage = behave_like(recipe, "gimp", white=white).stages[0]
    assert (stage.divisor, stage.offset) == (divisor, offset)


@pytest.mark.parametrize(
    ("weights", "divisor"),
    [([[1, 2, 1]], 4.0), ([[-1, -2, -1]], -4.0), ([[-1, 0, 1]], 1.0)],
)
def test_imagej_normalise_divides_by_the_sum_unless_it_is_zero(weights, divisor):
    stage = behave_like(Recipe.single(weights, divisor=3, offset=7), "imagej").stages[0]
    assert (stage.divisor, stage.offset) == (divisor, 0.0)


@pytest.mark.parametrize("program", MY_PROGRAMS)
def test_without_normalise_the_divisors_and_offsets_stay(program):
    recipe = Recipe.single([[1, 2, 1], [0, 3, 0], [1, 1, 1]], divisor=5, offset=9)
    stage = behave_like(recipe, program, normalise=False).stages[0]
    assert (stage.divisor, stage.offset) == (5.0, 9.0)


@pytest.mark.parametrize("program", ["photoshop", "opencv", "scipy"])
def test_programs_that_pick_nothing_keep_the_divisor_and_offset(program):
    stage = behave_like(Recipe.single([[1, 2, 1]], divisor=5, offset=9), program).stages[0]
    assert (stage.divisor, stage.offset) == (5.0, 9.0)


def test_every_stage_is_normalised_and_keeps_its_generator():
    blur = Stage.generated(parse_spec("box:rows=1,cols=3"))
    recipe = Recipe((blur, Stage([[1.0, -2.0, 1.0]])))
    first, second = behave_like(recipe, "gimp").stages
    assert first.generator == blur.generator
    assert first.divisor == pytest.approx(1.0)
    assert (second.divisor, second.offset) == (1.0, 127.5)


# What a program cannot take ----------------------------------------------------------


@pytest.mark.parametrize("program", ["gimp", "photoshop"])
def test_a_kernel_larger_than_the_5x5_grid_is_refused(program):
    recipe = Recipe((Stage(np.ones((3, 3))), Stage(np.ones((3, 7)))))
    with pytest.raises(ValueError, match=r"takes kernels up to 5×5; stage 2 is 3×7"):
        behave_like(recipe, program)


def test_a_disabled_large_stage_and_a_3x5_kernel_fit_gimp():
    recipe = Recipe((Stage(RECTANGULAR_3X5), Stage(np.ones((7, 7)), enabled=False)))
    assert behave_like(recipe, "gimp").stages[0].weights.shape == (3, 5)


@pytest.mark.parametrize(
    "stage",
    [
        Stage([[0.5, 1.0, 0.5]]),
        Stage([[1.0, 2.0, 1.0]], divisor=2.5),
        Stage([[1.0, 2.0, 1.0]], divisor=-4),
        Stage([[1.0, 2.0, 1.0]], offset=0.5),
    ],
)
def test_photoshop_takes_only_whole_numbers(stage):
    with pytest.raises(ValueError, match="only whole weights and offsets and a whole divisor"):
        behave_like(Recipe((stage,)), "photoshop")


def test_photoshop_takes_a_whole_kernel_with_scale_and_offset():
    recipe = Recipe.single([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], divisor=4, offset=128)
    assert behave_like(recipe, "photoshop").stages[0].divisor == 4.0


@pytest.mark.parametrize("program", ["opencv", "scipy", "imagej"])
def test_programs_without_a_grid_take_large_fractional_kernels(program):
    recipe = Recipe.single(np.full((15, 9), 1 / 135))
    assert behave_like(recipe, program).stages[0].weights.shape == (15, 9)


# OpenCV as the oracle: cv2.filter2D(image, -1, weights / divisor, delta=offset) --------


def _filter2d(image: np.ndarray, stages, border: int) -> np.ndarray:
    for weights, divisor, offset in stages:
        image = cv2.filter2D(image, -1, weights / divisor, delta=offset, borderType=border)
    return image


OPENCV_BORDERS = {
    "mirror": cv2.BORDER_REFLECT_101,
    "constant": cv2.BORDER_CONSTANT,
    "nearest": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
}


def test_the_opencv_borders_are_the_ones_cv2_offers():
    offered = dict(CONVENTIONS["opencv"].borders)
    assert {name: getattr(cv2, name) for name in offered} == {
        name: OPENCV_BORDERS[ours] for name, ours in offered.items()
    }
    with pytest.raises(cv2.error, match="BORDER_WRAP"):  # so --like opencv has no wrap
        cv2.filter2D(IMAGES["grey 19×13"], -1, ASYMMETRIC_3X3, borderType=cv2.BORDER_WRAP)


@pytest.mark.parametrize("border", list(OPENCV_BORDERS))
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("image_name", list(IMAGES))
def test_like_opencv_equals_filter2d(image_name, kernel, border):
    image = IMAGES[image_name]
    stages = [KERNELS[kernel]]
    theirs = _filter2d(image, stages, OPENCV_BORDERS[border])
    _assert_agrees(_ours(image, _recipe("opencv", stages, border)), theirs)


@pytest.mark.parametrize("border", list(OPENCV_BORDERS))
def test_like_opencv_stacks_as_successive_filter2d_calls_on_uint8(border):
    image = IMAGES["RGB 17×23"]
    stages = [KERNELS["sum 2.1"], KERNELS["zero-sum"], KERNELS["rectangular 3×5"]]
    theirs = _filter2d(image, stages, OPENCV_BORDERS[border])
    recipe = _recipe("opencv", stages, border)
    _assert_agrees(_ours(image, recipe), theirs)
    as_floats = replace(recipe, between_stages="float")  # shows the clipping matters here
    assert _agreement(_ours(image, as_floats), theirs)[1] < 0.9


def test_like_opencv_rounds_ties_to_even():
    image = np.arange(0, 256, dtype=np.uint8).reshape(16, 16)
    stages = [(np.array([[0.0, 1.0, 1.0]]), 2.0, 0.0)]  # every odd sum is a tie
    theirs = _filter2d(image, stages, cv2.BORDER_REFLECT_101)
    assert _agreement(_ours(image, _recipe("opencv", stages, "mirror")), theirs) == (1.0, 1.0)


def test_like_opencv_on_16_bits_equals_filter2d_before_the_8_bit_mapping():
    # filter2D writes uint16, saturated to 0…65535 and rounded half to even.
    image = np.random.default_rng(16).integers(0, 65536, (21, 17), dtype=np.uint16)
    weights, divisor, _ = KERNELS["asymmetric 3×3"]
    theirs = cv2.filter2D(image, -1, weights / divisor, delta=1000.0)
    recipe = _recipe("opencv", [(weights, divisor, 1000.0)], "mirror")
    ours = np.clip(np.rint(render(image, recipe).astype(np.float64)), 0, 65535)
    _assert_agrees(ours, theirs)


# SciPy as the oracle: ndimage.correlate(image, weights / divisor), uint8 in, uint8 out ---

SCIPY_BORDERS = dict(CONVENTIONS["scipy"].borders)


def _correlate(image: np.ndarray, weights: np.ndarray, border: str, output=None) -> np.ndarray:
    if image.ndim == 2:
        return ndimage.correlate(image, weights, mode=border, output=output)
    # One channel at a time: a 2-D kernel over the rows and columns, as people write it.
    planes = [_correlate(image[..., c], weights, border, output) for c in range(image.shape[2])]
    return np.stack(planes, axis=-1)


def _in_range(image: np.ndarray, weights: np.ndarray, border: str) -> np.ndarray:
    exact = _correlate(image, weights, border, output=np.float64)
    return (exact > -1) & (exact < 256)  # truncation keeps these in 0…255


@pytest.mark.parametrize("border", list(SCIPY_BORDERS))
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("image_name", list(IMAGES))
def test_like_scipy_equals_correlate_with_uint8_output(image_name, kernel, border):
    image = IMAGES[image_name]
    weights, divisor, _ = KERNELS[kernel]  # scipy has no offset: uint8 out cannot hold one
    theirs = _correlate(image, weights / divisor, border)
    assert theirs.dtype == np.uint8
    ours = _ours(image, _recipe("scipy", [(weights, divisor, 0.0)], SCIPY_BORDERS[border]))
    _assert_agrees(ours, theirs)


@pytest.mark.parametrize("image_name", list(IMAGES))
def test_like_scipy_equals_correlate_for_a_blur(image_name):
    image = IMAGES[image_name]
    weights = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 3.0], [1.0, 2.0, 1.0]])
    theirs = _correlate(image, weights / 17, "reflect")
    _assert_agrees(_ours(image, _recipe("scipy", [(weights, 17.0, 0.0)], "reflect")), theirs)


def test_scipy_wraps_what_does_not_fit_and_like_scipy_wraps_alike():
    # A C cast of the float64 sum to uint8: truncation, and modulo 256 out of range.
    image = IMAGES["RGB 17×23"]
    theirs = _correlate(image, ZERO_SUM, "reflect")
    exact = _correlate(image, ZERO_SUM, "reflect", output=np.float64)
    outside = ~_in_range(image, ZERO_SUM, "reflect")
    assert outside.mean() > 0.3
    assert np.array_equal(theirs[outside], np.trunc(exact[outside]).astype(np.int64) % 256)
    ours = _ours(image, _recipe("scipy", [(ZERO_SUM, 1.0, 0.0)], "reflect"))
    _assert_agrees(ours[outside], theirs[outside])
    assert len(set(np.unique(ours[outside]))) > 100  # wrapped, not clipped to 0 and 255


@pytest.mark.parametrize("border", list(SCIPY_BORDERS))
def test_like_scipy_with_an_offset_equals_the_float_script(border):
    # correlate(..., output=np.float64) + offset, then astype(uint8): truncated and
    # wrapped as a C cast does, as the uint8 output does.
    image = IMAGES["RGB 29×37 smooth"]
    exact = _correlate(image, ZERO_SUM, border, output=np.float64)
    theirs = (exact + 128).astype(np.uint8)
    ours = _ours(image, _recipe("scipy", [(ZERO_SUM, 1.0, 128.0)], SCIPY_BORDERS[border]))
    _assert_agrees(ours, theirs)


def test_like_scipy_stacks_as_successive_uint8_calls_when_each_fits():
    image = IMAGES["grey 19×13"]
    blur = np.array([[1.0, 2.0, 1.0]]) / 4
    darken = np.array([[0.2], [0.3], [0.4]])
    theirs = _correlate(_correlate(image, blur, "reflect"), darken, "reflect")
    recipe = _recipe("scipy", [(blur, 1.0, 0.0), (darken, 1.0, 0.0)], "reflect")
    _assert_agrees(_ours(image, recipe), theirs)


@pytest.mark.parametrize("program", ["opencv", "scipy"])
def test_an_rgba_image_is_filtered_as_the_library_filters_four_channels(program):
    rgba = np.random.default_rng(12).integers(0, 256, (17, 23, 4), dtype=np.uint8)
    weights = np.array([[1.0, 2, 0], [0, 3, 1], [1, 0, 1]]) / 9
    liked = behave_like(Recipe.single(weights), program)
    ours = to_display(render(rgba, liked), liked)
    if program == "opencv":
        theirs = cv2.filter2D(rgba, -1, weights)
    else:
        theirs = np.dstack([ndimage.correlate(rgba[..., c], weights) for c in range(4)])
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
