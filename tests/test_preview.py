"""render_samples computes the result at sampled pixels exactly as the whole result has them."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelstudio.convolution import BORDERS
from kernelstudio.display import ROUNDING_MODES, white_level
from kernelstudio.pipeline import BETWEEN_STAGES, Recipe, Stage, render, to_display
from kernelstudio.preview import (
    SampleGrid,
    preview_uint8,
    previewable,
    render_samples,
    sample_grid,
)

KINDS = {"grey": (), "grey+alpha": (2,), "rgb": (3,), "rgba": (4,)}
PER_PIXEL_DISPLAYS = ("clip", "abs", "wrap")


def make_image(kind, height, width, seed, dtype=np.uint8):
    generator = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    values = np.array([0, 1, 2, top // 2, top - 1, top], dtype)
    return generator.choice(values, (height, width, *KINDS[kind]))


# Whole weights and divisors that are powers of two keep every sum exact in
# float32, whatever order it is added in: the samples must then equal the
# whole result bit for bit. Kernels of rank 3 or more, at least 3×3, keep the
# engine on its exact methods (dense or sparse sums; the separable and
# low-rank ones multiply by factors such as 1/3, the FFT rounds).
sides = st.sampled_from([3, 5, 7])
exact_stages = st.builds(
    lambda rows, columns, seed, divisor, offset: Stage(
        np.random.default_rng(seed).integers(-3, 4, (rows, columns)) + np.eye(rows, columns),
        divisor=divisor,
        offset=offset,
    ),
    sides,
    sides,
    st.integers(0, 2**16),
    st.sampled_from([1.0, 2.0, 16.0, -4.0]),
    st.sampled_from([0.0, 0.5, 128.0, -3.0]),
).filter(lambda stage: np.linalg.matrix_rank(stage.weights) >= 3)


def recipes(stages):
    return st.builds(
        Recipe,
        st.lists(stages, min_size=1, max_size=3).map(tuple),
        border=st.sampled_from(BORDERS),
        flip=st.booleans(),
        grey=st.booleans(),
        channels=st.sampled_from(["rgb", "r", "gb", "rb", "rgba", "a", "ga"]),
        alpha=st.sampled_from(["keep", "process"]),
        display=st.sampled_from(PER_PIXEL_DISPLAYS),
        rounding=st.sampled_from(ROUNDING_MODES),
        between_stages=st.sampled_from(BETWEEN_STAGES),
    )


def picked(size, step, first, data):
    """Sorted distinct indices: a run, every `step`-th, or a scatter."""
    if step == 0:
        return np.array(sorted(data.draw(st.sets(st.integers(0, size - 1), min_size=1))))
    return np.arange(min(first, size - 1), size, step)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(KINDS)),
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    recipe=recipes(exact_stages),
    steps=st.tuples(st.integers(0, 6), st.integers(0, 6)),
    firsts=st.tuples(st.integers(0, 8), st.integers(0, 8)),
    data=st.data(),
)
def test_samples_are_the_whole_results_pixels_bit_for_bit(
    kind, height, width, seed, recipe, steps, firsts, data
):
    image = make_image(kind, height, width, seed)
    try:
        whole = render(image, recipe)
    except ValueError:  # 'valid' leaves nothing
        assert not previewable(image, recipe)
        return
    assert previewable(image, recipe)
    rows = picked(whole.shape[0], steps[0], firsts[0], data)
    columns = picked(whole.shape[1], steps[1], firsts[1], data)
    samples = render_samples(image, recipe, rows, columns)
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(samples, whole[np.ix_(rows, columns)])


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("kind", ["grey", "rgb"])
@pytest.mark.parametrize("step", [1, 2, 3, 9])
def test_real_weights_agree_to_float32_rounding(border, kind, step):
    # A Gaussian, an unsharp mask, a dense random kernel, a stack: the
    # samples sum in another order than the engine, so their last bits may
    # differ, never more.
    image = make_image(kind, 70, 64, seed=step)
    gaussian = np.outer(*[np.array([1.0, 4, 6, 4, 1])] * 2) / 256
    unsharp = -gaussian
    unsharp[2, 2] += 2
    dense = np.random.default_rng(step).uniform(-1, 1, (7, 7))
    for recipe in (
        Recipe.single(gaussian, border=border),
        Recipe.single(unsharp, border=border, divisor=3),
        Recipe.single(dense, border=border, offset=0.3),
        Recipe((Stage(dense), Stage(gaussian)), border=border, flip=True),
    ):
        whole = render(image, recipe)
        rows = np.arange(step // 2, whole.shape[0], step)
        columns = np.arange(0, whole.shape[1], step)
        samples = render_samples(image, recipe, rows, columns)
        expected = whole[np.ix_(rows, columns)]
        np.testing.assert_allclose(samples, expected, rtol=1e-5, atol=1e-3)


def test_the_picture_of_samples_is_the_whole_pictures_at_them():
    image = make_image("rgba", 90, 120, seed=5)
    recipe = Recipe.single([[1, 2, 1], [2, 4, 2], [1, 2, 1]], divisor=16, border="wrap")
    grid = sample_grid((90, 120), (10, 20, 80, 110), (20, 30))
    picture = preview_uint8(image, recipe, grid)
    whole = to_display(render(image, recipe), recipe, white=white_level(image.dtype))
    np.testing.assert_array_equal(picture, whole[np.ix_(grid.rows, grid.columns)])


def test_a_big_image_sampled_far_apart_reads_the_edges_with_its_border():
    # Every sample row and column next to an edge crosses it.
    image = make_image("rgb", 300, 400, seed=1)
    weights = np.random.default_rng(1).integers(-9, 10, (7, 7))
    recipe = Recipe.single(weights, border="mirror", divisor=16)
    grid = sample_grid((300, 400), (0, 0, 300, 400), (30, 40))
    assert grid.step == 10
    samples = render_samples(image, recipe, grid.rows, grid.columns)
    np.testing.assert_array_equal(samples, render(image, recipe)[np.ix_(grid.rows, grid.columns)])


@pytest.mark.parametrize(
    ("region", "screen", "step", "rows", "columns"),
    [
        ((0, 0, 100, 200), (100, 200), 1, (0, 99), (0, 199)),  # 1:1
        ((0, 0, 100, 200), (400, 800), 1, (0, 99), (0, 199)),  # zoomed in: every pixel
        ((20.5, 30.2, 40, 50), (400, 400), 1, (20, 39), (30, 49)),  # a region of it
        ((0, 0, 100, 200), (25, 50), 4, (2, 98), (2, 198)),  # zoomed out 4:1
        ((0, 0, 100, 200), (30, 60), 3, (1, 99), (1, 199)),  # 3.3:1: every 3rd, finer
        ((-50, -50, 150, 250), (100, 150), 2, (1, 99), (1, 199)),  # past the edges
    ],
)
def test_a_view_samples_about_one_pixel_per_screen_pixel(region, screen, step, rows, columns):
    grid = sample_grid((100, 200), region, screen)
    assert grid.step == step
    assert (grid.rows[0], grid.rows[-1]) == rows
    assert (grid.columns[0], grid.columns[-1]) == columns
    # Evenly spaced, but for a last block cut short by the edge.
    assert set(np.diff(grid.rows[:-1]).tolist()) <= {step}
    assert set(np.diff(grid.columns[:-1]).tolist()) <= {step}


def test_blocks_start_at_multiples_of_the_step_so_panning_keeps_the_samples():
    first = sample_grid((1000, 1000), (0, 0, 400, 400), (100, 100))
    panned = sample_grid((1000, 1000), (37, 61, 437, 461), (100, 100))
    assert first.step == panned.step == 4
    assert set(panned.rows.tolist()) & set(first.rows.tolist()) == set(range(38, 400, 4))
    assert (panned.top % 4, panned.left % 4) == (0, 0)


@pytest.mark.parametrize(
    "region", [(200, 0, 300, 100), (0, 0, float("nan"), 10), (-30, -30, -1, -1)]
)
def test_nothing_visible_gives_no_grid(region):
    assert sample_grid((100, 100), region, (50, 50)) is None


def test_what_cannot_be_sampled_is_said():
    blur = Recipe.single(np.ones((3, 3)), divisor=9)
    assert not previewable(np.zeros((8, 8), np.float32), blur)  # may hold NaN
    weighted = Recipe(blur.stages, alpha="weighted")
    assert not previewable(np.zeros((8, 8, 4), np.uint8), weighted)
    assert previewable(
        np.zeros((8, 8, 4), np.uint8), Recipe(blur.stages, alpha="weighted", channels="a")
    )
    huge = Stage(np.full((3, 3), 1e36))
    assert not previewable(np.zeros((8, 8), np.uint8), Recipe((huge, huge)))
    assert not previewable(np.zeros((2, 2), np.uint8), Recipe(blur.stages, border="valid"))
    with pytest.raises(ValueError, match="computed whole"):
        render_samples(np.zeros((8, 8), np.float32), blur, [0], [0])
    with pytest.raises(ValueError, match="sorted, distinct"):
        render_samples(np.zeros((8, 8), np.uint8), blur, [3, 1], [0])
    with pytest.raises(ValueError, match="within 0…7"):
        render_samples(np.zeros((8, 8), np.uint8), blur, [0], [8])
    grid = SampleGrid(np.arange(2), np.arange(2), 1, 0, 0)
    for display in ("normalize", "signed"):
        with pytest.raises(ValueError, match="whole result"):
            preview_uint8(np.zeros((8, 8), np.uint8), Recipe(blur.stages, display=display), grid)
