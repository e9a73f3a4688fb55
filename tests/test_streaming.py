"""render_uint8 makes, band by band, the very bytes of to_display(render(...))."""

import re
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelstudio import streaming
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, ROUNDING_MODES, white_level
from kernelstudio.pipeline import ALPHA_MODES, BETWEEN_STAGES, Recipe, Stage, render, to_display
from kernelstudio.streaming import render_uint8, streams

KINDS = {
    "grey": ((), np.uint8),
    "grey+alpha": ((2,), np.uint8),
    "rgb": ((3,), np.uint8),
    "rgba": ((4,), np.uint8),
    "rgb16": ((3,), np.uint16),
    "rgba16": ((4,), np.uint16),
    "float rgb": ((3,), np.float32),
}


def whole_image(image, recipe):
    """The oracle: the whole-image path, itself tested against scipy."""
    return to_display(render(image, recipe), recipe, white=white_level(image.dtype))


def make_image(kind, height, width, seed):
    channels, dtype = KINDS[kind]
    generator = np.random.default_rng(seed)
    shape = (height, width, *channels)
    if np.dtype(dtype).kind == "f":
        return generator.uniform(-0.5, 1.5, shape).astype(dtype)
    # Few distinct values, so that sums land on .5 often and rounding is tested.
    top = np.iinfo(dtype).max
    return generator.choice(np.array([0, 1, 2, top // 2, top - 1, top], dtype), shape)


kernel_sides = st.sampled_from([1, 3, 5, 7])
stages = st.builds(
    lambda rows, columns, seed, divisor, offset: Stage(
        np.random.default_rng(seed).integers(-3, 4, (rows, columns)) + np.eye(rows, columns),
        divisor=divisor,
        offset=offset,
    ),
    kernel_sides,
    kernel_sides,
    st.integers(0, 2**16),
    st.sampled_from([1.0, 2.0, 3.0, 16.0, -4.0]),
    st.sampled_from([0.0, 0.5, 128.0, -3.0]),
)
recipes = st.builds(
    Recipe,
    st.lists(stages, min_size=1, max_size=3).map(tuple),
    border=st.sampled_from(BORDERS),
    flip=st.booleans(),
    grey=st.booleans(),
    channels=st.sampled_from(["rgb", "r", "gb", "rb", "rgba", "a", "ga"]),
    alpha=st.sampled_from(ALPHA_MODES),
    display=st.sampled_from(DISPLAY_MODES),
    rounding=st.sampled_from(ROUNDING_MODES),
    between_stages=st.sampled_from(BETWEEN_STAGES),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(KINDS)),
    height=st.integers(1, 30),
    width=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    recipe=recipes,
    band_rows=st.integers(1, 12),
    threads=st.sampled_from([1, 2]),
)
def test_bands_give_the_bytes_of_the_whole_image(
    kind, height, width, seed, recipe, band_rows, threads
):
    image = make_image(kind, height, width, seed)
    try:
        expected = whole_image(image, recipe)
    except ValueError as error:  # 'valid' with too small an image: the same refusal
        refusal = str(error)
    else:
        refusal = None
    if refusal is not None:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            render_uint8(image, recipe, band_rows=band_rows, threads=threads)
        return
    made = render_uint8(image, recipe, band_rows=band_rows, threads=threads)
    assert made.dtype == np.uint8
    assert made.shape == expected.shape
    np.testing.assert_array_equal(made, expected)


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("band_rows", [1, 2, 5])
def test_bands_thinner_than_the_reach_of_a_tall_stack(border, band_rows):
    # Three 7-row kernels reach 9 rows on each side: every band needs rows of
    # several others, and with wrap rows from the other edge.
    image = make_image("rgb", 23, 9, seed=3)
    tall = Stage(np.arange(1, 8, dtype=float)[:, None] * [[1, -2, 1]], divisor=7)
    recipe = Recipe((tall, tall, tall), border=border, display="abs")
    assert sorted(streaming._runs(np.array([0, 1, 2, 7, 8, 20])))[0] == (0, 2)
    made = render_uint8(image, recipe, band_rows=band_rows, threads=2)
    np.testing.assert_array_equal(made, whole_image(image, recipe))


@pytest.mark.parametrize("border", ["mirror", "wrap", "constant"])
def test_every_method_of_the_engine_agrees_in_bands(border):
    # Separable, low-rank (an unsharp mask: two terms), dense and sparse kernels.
    image = make_image("rgb16", 60, 50, seed=9)
    gaussian = np.outer(*[np.array([1, 4, 6, 4, 1, 4, 6, 4, 1], float)] * 2)
    unsharp = -gaussian / gaussian.sum()
    unsharp[4, 4] += 2
    dense = np.random.default_rng(9).uniform(-1, 1, (9, 9))
    sparse = np.eye(9) + 2 * np.fliplr(np.eye(9))
    for weights in (gaussian / gaussian.sum(), unsharp, dense, sparse):
        recipe = Recipe.single(weights, border=border)
        made = render_uint8(image, recipe, band_rows=7, threads=2)
        np.testing.assert_array_equal(made, whole_image(image, recipe))


@pytest.mark.parametrize("display", ["normalize", "signed"])
def test_the_range_of_the_whole_result_maps_every_band(display):
    # The extremes lie in one band only; the others must still map by them.
    image = np.full((40, 6), 100, np.uint8)
    image[35:, :] = 255
    image[2, 3] = 0
    recipe = Recipe.single([[1], [-2], [1]], display=display)
    made = render_uint8(image, recipe, band_rows=4, threads=2)
    np.testing.assert_array_equal(made, whole_image(image, recipe))
    assert len(np.unique(made)) > 2


def test_a_result_without_finite_values_maps_as_the_whole_one():
    image = np.full((9, 4), np.inf, np.float32)
    recipe = Recipe.single([[1]], display="normalize")
    np.testing.assert_array_equal(
        render_uint8(image, recipe, band_rows=2), whole_image(image, recipe)
    )


def random_kernel(side, seed):
    return np.random.default_rng(seed).integers(-3, 4, (side, side)).astype(float)


TALL_RGB = make_image("rgb", 700, 1600, 1)
TALL_RGBA = make_image("rgba", 700, 1600, 2)
TALL_FLOAT = make_image("float rgb", 700, 1600, 3)
TALL_NAN = np.where(TALL_FLOAT > 1.45, np.nan, TALL_FLOAT)
# Each case beside a near twin that does stream, so that the fallback is what is tested.
FALLBACKS = {
    "weighted alpha": (
        (TALL_RGBA, Recipe.single([[1, 2, 1]], alpha="weighted")),
        (TALL_RGBA, Recipe.single([[1, 2, 1]], alpha="process")),
    ),
    "kernel for the FFT": (
        (TALL_RGB, Recipe.single(random_kernel(25, 4))),
        (TALL_RGB, Recipe.single(random_kernel(21, 4))),
    ),
    "NaN pixels": (
        (TALL_NAN, Recipe.single([[1, 0, 1], [0, 1, 0], [1, 0, 1]])),
        (TALL_FLOAT, Recipe.single([[1, 0, 1], [0, 1, 0], [1, 0, 1]])),
    ),
    "overflow between stages": (
        (TALL_RGB, Recipe((Stage([[1e37]]), Stage([[1, 0, 1]])))),
        (TALL_RGB, Recipe((Stage([[1e33]]), Stage([[1, 0, 1]])))),
    ),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_what_bands_could_change_goes_the_whole_way(case):
    (image, recipe), (twin_image, twin_recipe) = FALLBACKS[case]
    assert not streams(image, recipe)
    assert streams(twin_image, twin_recipe)
    with np.errstate(over="ignore", invalid="ignore"):
        made = render_uint8(image, recipe, band_rows=50)
        np.testing.assert_array_equal(made, whole_image(image, recipe))
        twin = render_uint8(twin_image, twin_recipe, band_rows=50)
        np.testing.assert_array_equal(twin, whole_image(twin_image, twin_recipe))


def test_a_large_image_never_holds_its_float_result():
    image = make_image("rgb", 4000, 800, seed=5)
    sharpen = Stage([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    recipe = Recipe((Stage([[1, 2, 1]] * 3, divisor=12), sharpen))
    assert streams(image, recipe)
    tracemalloc.start()
    try:
        made = render_uint8(image, recipe, threads=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float_result = image.size * 4
    assert peak - made.nbytes < float_result / 2, f"peak {peak} bytes"
    np.testing.assert_array_equal(made, whole_image(image, recipe))


def test_a_failing_band_fails_the_call(monkeypatch):
    image = make_image("rgb", 50, 7, seed=6)
    recipe = Recipe.single([[1, 2, 1]])

    def failing(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(streaming, "convolve", failing)
    with pytest.raises(MemoryError):
        render_uint8(image, recipe, band_rows=5, threads=2)


def test_no_thread_to_start_makes_every_band_on_the_caller(monkeypatch):
    image = make_image("rgb", 50, 7, seed=7)
    recipe = Recipe.single([[1, 2, 1]], border="wrap")

    def no_thread(thread):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    made = render_uint8(image, recipe, band_rows=5, threads=2)
    np.testing.assert_array_equal(made, whole_image(image, recipe))


def test_errstate_of_the_caller_reaches_the_band_threads(recwarn):
    image = np.full((60, 5), 3e38, np.float32)  # × 255 in the mapping overflows float32
    recipe = Recipe.single([[1]])
    with pytest.warns(RuntimeWarning, match="overflow"):
        render_uint8(image, recipe, band_rows=4, threads=2)
    recwarn.clear()
    with np.errstate(over="ignore"):
        made = render_uint8(image, recipe, band_rows=4, threads=2)
    assert not [warning for warning in recwarn if issubclass(warning.category, RuntimeWarning)]
    assert (made == 255).all()


def test_bad_shapes_are_refused_as_render_refuses_them():
    with pytest.raises(ValueError, match="grey, grey\\+alpha, RGB or RGBA"):
        render_uint8(np.zeros((3, 3, 5), np.uint8), Recipe.single([[1]]))
