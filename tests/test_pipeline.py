"""The recipe pipeline against independent oracles: scipy.ndimage per stage, slow loops."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from kernelstudio.convolution import BORDERS, convolve
from kernelstudio.display import to_uint8
from kernelstudio.pipeline import (
    ALPHA_MODES,
    MAX_STAGES,
    Recipe,
    Stage,
    equivalent_kernel,
    render,
    to_display,
)

RNG = np.random.default_rng(2026)


def oracle_plane(plane, weights, border, flip):
    """One stage on one plane, in float64, by scipy.ndimage (and a crop for 'valid')."""
    operation = ndimage.convolve if flip else ndimage.correlate
    values = np.asarray(plane, dtype=np.float64)
    if border == "valid":
        full = operation(values, weights, mode="constant")
        top, left = weights.shape[0] // 2, weights.shape[1] // 2
        return full[top : values.shape[0] - top, left : values.shape[1] - left]
    return operation(values, weights, mode=border)


def oracle_stack(plane, stages, border, flip):
    values = np.asarray(plane, dtype=np.float64)
    for weights, divisor, offset in stages:
        values = oracle_plane(values, np.asarray(weights, float), border, flip) / divisor + offset
    return values


def crop(plane, stages, border):
    if border != "valid":
        return np.asarray(plane, dtype=np.float64)
    top = sum(np.shape(w)[0] // 2 for w, _, _ in stages)
    left = sum(np.shape(w)[1] // 2 for w, _, _ in stages)
    height = plane.shape[0] - 2 * top
    width = plane.shape[1] - 2 * left
    return np.asarray(plane[top : top + height, left : left + width], dtype=np.float64)


def recipe_of(stages, **options):
    return Recipe(tuple(Stage(np.asarray(w, float), d, o) for w, d, o in stages), **options)


def assert_close(actual, expected, scale=1.0):
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-4 * scale)


# One stage ------------------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("flip", [False, True])
def test_a_one_stage_recipe_is_the_engine_with_divisor_and_offset(border, flip):
    image = RNG.integers(0, 256, (19, 23, 3), dtype=np.uint8)
    weights = RNG.normal(size=(3, 5))
    recipe = recipe_of([(weights, 2.5, 128.0)], border=border, flip=flip)
    expected = np.stack(
        [oracle_plane(image[..., c], weights, border, flip) / 2.5 + 128 for c in range(3)], -1
    )
    assert_close(render(image, recipe), expected, scale=255)


def test_without_divisor_and_offset_a_recipe_equals_convolve():
    image = RNG.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    weights = RNG.normal(size=(5, 5))
    np.testing.assert_array_equal(
        render(image, Recipe.single(weights)), convolve(image, weights, border="mirror")
    )


@pytest.mark.parametrize("shape", [(1, 31), (31, 1), (31, 31), (1, 1)])
def test_long_and_large_kernels(shape):
    image = RNG.random((40, 45)).astype(np.float32)
    weights = RNG.normal(size=shape)
    recipe = recipe_of([(weights, 1.0, 0.0)], border="reflect")
    assert_close(render(image, recipe), oracle_plane(image, weights, "reflect", False), 30)


# Channels ---------------------------------------------------------------------------------


CHANNEL_SUBSETS = ["".join(c) for n in (1, 2, 3, 4) for c in itertools.combinations("rgba", n)]


@pytest.mark.parametrize("channels", CHANNEL_SUBSETS)
@pytest.mark.parametrize("border", ["mirror", "valid"])
def test_every_channel_subset_filters_those_and_passes_the_rest(channels, border):
    image = RNG.integers(0, 256, (15, 17, 4), dtype=np.uint8)
    stages = [(RNG.normal(size=(3, 3)), 1.5, 10.0)]
    recipe = recipe_of(stages, border=border, channels=channels, alpha="process")
    result = render(image, recipe)
    for index, letter in enumerate("rgba"):
        if letter in channels:
            expected = oracle_stack(image[..., index], stages, border, False)
        else:
            expected = crop(image[..., index], stages, border)
        assert_close(result[..., index], expected, scale=255)


def test_in_a_grey_image_any_colour_letter_names_the_grey_channel():
    image = RNG.integers(0, 256, (9, 8), dtype=np.uint8)
    weights = RNG.normal(size=(3, 3))
    for channels in ("r", "gb", "rgb"):
        result = render(image, recipe_of([(weights, 1, 0)], channels=channels))
        assert_close(result, oracle_plane(image, weights, "mirror", False), 255)
    untouched = render(image, recipe_of([(weights, 1, 0)], channels="a"))
    np.testing.assert_array_equal(untouched, image.astype(np.float32))


def test_grey_turns_colour_into_luma_and_keeps_alpha():
    image = RNG.integers(0, 256, (6, 7, 4), dtype=np.uint8)
    result = render(image, Recipe.single([[1]], grey=True))
    assert result.shape == (6, 7, 2)
    luma = image[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114]
    assert np.abs(result[..., 0] - luma).max() <= 0.5
    np.testing.assert_array_equal(result[..., 1], image[..., 3])


# Alpha ------------------------------------------------------------------------------------


def transparent_image(grey=False):
    """Colour with a fully transparent region whose hidden colour is loud."""
    height, width = 16, 18
    colour = RNG.integers(0, 256, (height, width) if grey else (height, width, 3))
    alpha = np.full((height, width), 255)
    alpha[4:10, 5:12] = 0
    alpha[12:, :3] = RNG.integers(0, 256, (4, 3))
    hidden = colour[4:10, 5:12]
    hidden[...] = 255  # what must never bleed into its neighbours
    planes = [colour] if grey else [colour[..., c] for c in range(3)]
    return np.stack([*planes, alpha], -1).astype(np.uint8)


def weighted_loop(colour, alpha, weights, border, divisor, offset, flip):
    """A slow double loop of the alpha-weighted formula in pipeline.Recipe's Notes."""
    weights = np.asarray(weights, float)[::-1, ::-1] if flip else np.asarray(weights, float)
    coverage_weights = np.abs(weights)
    a = alpha.astype(np.float64) / 255
    premultiplied = colour.astype(np.float64) * a
    mode = "constant" if border == "valid" else border
    top, left = weights.shape[0] // 2, weights.shape[1] // 2
    pad = {"mirror": "reflect", "reflect": "symmetric", "nearest": "edge"}.get(mode, mode)
    padded_c = np.pad(premultiplied, ((top, top), (left, left)), mode=pad)
    padded_a = np.pad(a, ((top, top), (left, left)), mode=pad)
    out = np.empty(colour.shape)
    for y in range(colour.shape[0]):
        for x in range(colour.shape[1]):
            window_c = padded_c[y : y + weights.shape[0], x : x + weights.shape[1]]
            window_a = padded_a[y : y + weights.shape[0], x : x + weights.shape[1]]
            total = (window_c * weights).sum()
            coverage = (window_a * coverage_weights).sum()
            averaged = total / coverage * coverage_weights.sum() if coverage > 0 else 0.0
            out[y, x] = averaged / divisor + offset
    if border == "valid":
        out = out[top : out.shape[0] - top, left : out.shape[1] - left]
    return out


@pytest.mark.parametrize("border", ["mirror", "nearest", "constant", "wrap", "valid"])
@pytest.mark.parametrize("grey", [False, True], ids=["rgba", "grey+alpha"])
@pytest.mark.parametrize("flip", [False, True])
def test_weighted_alpha_matches_a_slow_loop(border, grey, flip):
    image = transparent_image(grey)
    weights = RNG.normal(size=(3, 5))
    recipe = recipe_of([(weights, 2.0, 5.0)], border=border, alpha="weighted", flip=flip)
    result = render(image, recipe)
    colours = 1 if grey else 3
    for c in range(colours):
        expected = weighted_loop(image[..., c], image[..., -1], weights, border, 2.0, 5.0, flip)
        assert_close(result[..., c], expected, scale=255 * 5)
    # Alpha passes through (cropped for 'valid').
    expected_alpha = crop(image[..., -1], [(weights, 1, 0)], border)
    np.testing.assert_array_equal(result[..., -1], expected_alpha)


def test_weighted_blur_never_shows_the_hidden_colour_of_transparent_pixels():
    image = transparent_image()
    image[..., :3] = 0  # black where visible, white where hidden (alpha 0)
    image[4:10, 5:12, :3] = 255
    image[12:, :3, 3] = 255
    box = np.full((3, 3), 1 / 9)
    keep = render(image, Recipe.single(box, alpha="keep"))
    weighted = render(image, Recipe.single(box, alpha="weighted"))
    visible = image[..., 3] > 0
    assert keep[visible][:, :3].max() > 50  # the plain blur bleeds the hidden white
    assert weighted[visible][:, :3].max() < 1e-3


def test_weighted_equals_keep_where_everything_is_opaque():
    image = RNG.integers(0, 256, (12, 13, 4), dtype=np.uint8)
    image[..., 3] = 255
    for weights in (np.full((3, 3), 1 / 9), np.array([[1, 0, -1]] * 3, float)):
        keep = render(image, Recipe.single(weights, alpha="keep"))
        weighted = render(image, Recipe.single(weights, alpha="weighted"))
        assert_close(weighted, keep.astype(np.float64), scale=255 * 6)


def test_process_filters_alpha_only_when_named():
    image = transparent_image()
    weights = np.full((3, 3), 1 / 9)
    named = render(image, Recipe.single(weights, alpha="process", channels="rgba"))
    unnamed = render(image, Recipe.single(weights, alpha="process", channels="rgb"))
    assert_close(named[..., 3], oracle_plane(image[..., 3], weights, "mirror", False), 255)
    np.testing.assert_array_equal(unnamed[..., 3], image[..., 3])
    kept = render(image, Recipe.single(weights, alpha="keep", channels="rgba"))
    np.testing.assert_array_equal(kept[..., 3], image[..., 3])


@pytest.mark.parametrize("alpha", ALPHA_MODES)
def test_images_without_alpha_ignore_the_alpha_mode(alpha):
    image = RNG.integers(0, 256, (10, 11, 3), dtype=np.uint8)
    weights = RNG.normal(size=(3, 3))
    plain = render(image, Recipe.single(weights))
    np.testing.assert_array_equal(render(image, Recipe.single(weights, alpha=alpha)), plain)


# Stacks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("count", [2, 3, 4])
def test_stacks_apply_each_stage_to_the_unclipped_result_before(border, count):
    image = RNG.integers(0, 256, (30, 28, 3), dtype=np.uint8)
    shapes = [(3, 3), (1, 5), (5, 3), (3, 1)]
    stages = [
        (RNG.normal(size=shapes[n]), float(RNG.choice([1, 2, -4])), float(RNG.normal() * 50))
        for n in range(count)
    ]
    recipe = recipe_of(stages, border=border)
    result = render(image, recipe)
    for c in range(3):
        assert_close(result[..., c], oracle_stack(image[..., c], stages, border, False), 2e3)


def test_disabled_stages_are_skipped():
    image = RNG.integers(0, 256, (10, 10), dtype=np.uint8)
    blur = Stage(np.full((3, 3), 1 / 9))
    double = Stage(np.array([[2.0]]), enabled=False)
    np.testing.assert_array_equal(
        render(image, Recipe((blur, double))), render(image, Recipe((blur,)))
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 4),
    border=st.sampled_from(BORDERS),
    flip=st.booleans(),
)
def test_the_equivalent_kernel_equals_the_stack_away_from_the_borders(seed, count, border, flip):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (40, 42)).astype(np.float32)
    stages = [
        (
            rng.normal(size=(int(rng.choice([1, 3, 5])), int(rng.choice([1, 3, 5])))),
            float(rng.choice([1.0, 3.0, -0.5])),
            float(rng.normal() * 10),
        )
        for _ in range(count)
    ]
    recipe = recipe_of(stages, border=border, flip=flip)
    kernel, offset = equivalent_kernel(recipe)
    stacked = render(image, recipe)
    single = oracle_plane(image, kernel, border, flip) + offset
    reach_rows = sum(np.shape(w)[0] // 2 for w, _, _ in stages)
    reach_cols = sum(np.shape(w)[1] // 2 for w, _, _ in stages)
    if border == "valid":
        inner_stack, inner_single = stacked, single
    else:
        inner = np.s_[reach_rows : -reach_rows or None, reach_cols : -reach_cols or None]
        inner_stack, inner_single = stacked[inner], single[inner]
    scale = float(np.abs(kernel).sum()) * 255 + abs(offset)
    assert_close(inner_stack, inner_single, scale=scale)


# 8-bit pictures --------------------------------------------------------------------------


def test_to_display_maps_colour_by_mode_and_clips_alpha():
    result = np.array([[[-20.0, 100.0, 300.0, 400.0], [10.0, -5.0, 0.0, -3.0]]], np.float32)
    pixels = to_display(result, Recipe.single([[1]], display="abs"))
    np.testing.assert_array_equal(pixels[..., :3], to_uint8(result[..., :3], "abs"))
    np.testing.assert_array_equal(pixels[..., 3], [[255, 0]])


def test_to_display_of_a_sixteen_bit_image_uses_its_white():
    image = np.full((4, 4, 2), 65535, np.uint16)
    recipe = Recipe.single([[0.5]])
    pixels = to_display(render(image, recipe), recipe, white=65535.0)
    np.testing.assert_array_equal(pixels[..., 0], 128)
    np.testing.assert_array_equal(pixels[..., 1], 255)


# Bad recipes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Stage([[1]], divisor=0), "divisor"),
        (lambda: Stage([[1]], divisor=float("nan")), "divisor"),
        (lambda: Stage([[1]], offset=float("inf")), "offset"),
        (lambda: Stage(np.ones((33, 33))), "larger than the limit|at most"),
        (lambda: Stage(np.ones((2, 3))), "odd"),
        (lambda: Stage([[2e38, 0, 2e38]]), "float32"),
        (lambda: Stage([[2e38, 0, 1]], divisor=1 / 16), "divided by 0.0625, a weight"),
        (lambda: Recipe((Stage([[1]]),) * (MAX_STAGES + 1)), "1 to 16"),
        (lambda: Recipe(()), "1 to 16"),
        (lambda: Recipe((Stage([[1]], enabled=False),)), "enabled"),
        (lambda: Recipe.single([[1]], channels="x"), "channels"),
        (lambda: Recipe.single([[1]], channels=""), "channels"),
        (lambda: Recipe.single([[1]], channels="rr"), "channels"),
        (lambda: Recipe.single([[1]], alpha="foo"), "alpha"),
        (lambda: Recipe.single([[1]], border="edge"), "border"),
        (lambda: Recipe.single([[1]], display="gamma"), "display"),
    ],
)
def test_bad_stages_and_recipes_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_valid_refuses_an_image_smaller_than_the_stack():
    image = np.zeros((6, 6, 4), np.uint8)
    recipe = recipe_of([(np.ones((3, 3)), 1, 0)] * 3, border="valid", channels="r")
    with pytest.raises(ValueError, match="smaller than"):
        render(image, recipe)


def test_stage_weights_are_a_read_only_copy():
    weights = np.ones((3, 3))
    stage = Stage(weights)
    weights[0, 0] = 5
    assert stage.weights[0, 0] == 1
    with pytest.raises(ValueError, match="read-only"):
        stage.weights[0, 0] = 2


def test_stages_and_recipes_compare_by_value():
    first = Recipe((Stage(np.ones((3, 3)), divisor=9),), border="wrap")
    same = Recipe((Stage(np.ones((3, 3)), divisor=9.0),), border="wrap")
    assert first == same
    assert hash(first) == hash(same)
    assert first != Recipe((Stage(np.ones((3, 3)), divisor=8),), border="wrap")
    assert first != Recipe((Stage(np.ones((1, 9)), divisor=9),), border="wrap")
    assert first != Recipe((Stage(np.ones((3, 3)), divisor=9),), border="mirror")


def test_weighted_with_an_fft_sized_kernel_keeps_transparent_regions_at_the_offset():
    image = RNG.integers(0, 256, (200, 200, 4), dtype=np.uint8)
    image[:, :120, 3] = 0
    weights = np.random.default_rng(4).random((25, 25))
    result = render(image, Recipe.single(weights, alpha="weighted", offset=7.0))
    # No pixel within reach of anything visible: the colour is the offset alone.
    np.testing.assert_array_equal(result[:, :100, :3], 7.0)


def test_weighted_ignores_an_infinite_hidden_colour():
    image = np.full((1, 5, 4), 3.0, np.float32)
    image[0, 2, 0] = np.inf
    image[0, 3, 1] = np.nan
    image[0, 2:4, 3] = 0.0
    image[..., 3][image[..., 3] > 0] = 1.0
    with np.errstate(all="raise"):
        result = render(image, Recipe.single([[1 / 3, 1 / 3, 1 / 3]], alpha="weighted"))
    np.testing.assert_allclose(result[0, :, :3], 3.0, rtol=1e-6)


def test_to_display_keeps_a_single_channel_axis():
    assert to_display(np.zeros((2, 3, 1), np.float32), Recipe.single([[1]])).shape == (2, 3, 1)


def test_weighted_with_huge_weights_and_a_divisor_overflows_only_where_the_value_does():
    image = RNG.integers(0, 256, (6, 9, 2), dtype=np.uint8)
    weights = np.array([[-1, -2, -2], [0, 0, 2e38], [2e3, 7, 1]])
    recipe = recipe_of([(weights, 128.0, 0.0625)], alpha="weighted")
    result = render(image, recipe)
    expected = weighted_loop(image[..., 0], image[..., 1], weights, "mirror", 128.0, 0.0625, False)
    representable = np.abs(expected) < 3.4e38
    np.testing.assert_allclose(result[..., 0][representable], expected[representable], rtol=1e-5)


def test_weighted_with_an_all_zero_kernel_is_the_offset():
    image = transparent_image()
    result = render(image, Recipe.single(np.zeros((3, 3)), alpha="weighted", offset=9.0))
    np.testing.assert_array_equal(result[..., :3], 9.0)


# Generated stages -----------------------------------------------------------


def test_a_stage_made_by_a_generator_remembers_it_until_its_weights_change():
    from kernelstudio.generators import parse_spec

    settings = parse_spec("box:rows=3,cols=5")
    stage = Stage.generated(settings, divisor=2, name="wide")
    np.testing.assert_array_equal(stage.weights, np.full((3, 5), 1 / 15))
    assert (stage.generator, stage.divisor, stage.name) == (settings, 2.0, "wide")
    assert replace(stage, enabled=False, offset=3).generator == settings
    assert replace(stage, weights=np.full((3, 5), 1 / 15)).generator == settings
    typed = replace(stage, weights=np.full((3, 5), 0.1))
    assert typed.generator is None
    assert typed != stage
    assert Stage(np.full((3, 5), 1 / 15)) != stage  # same weights, not made the same way


def test_a_stage_refuses_a_generator_that_is_not_settings():
    with pytest.raises(ValueError, match="generator must be GeneratorSettings; got str"):
        Stage([[1.0]], generator="gaussian:sigma=1")


# Rounding and what a stage's result becomes before the next stage.

ORACLE_ROUNDING = {
    "half-up": lambda values: np.floor(values + 0.5),
    "half-even": np.rint,
    "truncate": np.trunc,
}


@pytest.mark.parametrize("rounding", ["half-up", "half-even", "truncate"])
def test_between_stages_round_clips_and_rounds_each_stage_as_a_program_on_8_bit_pixels(rounding):
    # An edge kernel (results below 0 and above 255), then a blur, then a scale:
    # as three filters run one after the other on an 8-bit image.
    image = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    stages = [([[-2, 1, 3]], 2.0, 0.5), ([[1, 1, 0, 1, 1]], 4.0, 0.0), ([[1]], 1.0, 0.5)]
    recipe = recipe_of(stages, border="nearest", rounding=rounding, between_stages="round")
    expected = np.empty(image.shape)
    for channel in range(3):
        values = image[..., channel].astype(np.float64)
        for number, (weights, divisor, offset) in enumerate(stages):
            values = oracle_plane(values, np.asarray(weights, float), "nearest", False)
            values = values / divisor + offset
            if number < len(stages) - 1:
                values = ORACLE_ROUNDING[rounding](np.clip(values, 0, 255))
        expected[..., channel] = values
    result = render(image, recipe)
    # The last stage stays exact; the ones before are whole numbers in 0…255.
    np.testing.assert_allclose(result, expected, atol=1e-4)
    pixels = to_display(result, recipe)
    np.testing.assert_array_equal(pixels, np.clip(ORACLE_ROUNDING[rounding](expected), 0, 255))


def test_between_stages_clip_keeps_fractions_and_float_keeps_everything():
    image = RNG.integers(0, 256, (9, 11), dtype=np.uint16) * 257
    stages = [([[-1, 0, 2]], 3.0, 0.0), ([[1, 2, 1]], 4.0, 0.0)]
    for between, limit in (("clip", (0, 65535)), ("float", (-np.inf, np.inf))):
        values = image.astype(np.float64)
        values = np.clip(
            oracle_plane(values, np.array(stages[0][0], float), "wrap", True) / 3, *limit
        )
        expected = oracle_plane(values, np.array(stages[1][0], float), "wrap", True) / 4
        recipe = recipe_of(stages, border="wrap", flip=True, between_stages=between)
        np.testing.assert_allclose(render(image, recipe), expected, rtol=1e-6, atol=1e-2)


def test_between_stages_round_leaves_float_images_unrounded():
    image = RNG.random((7, 9)).astype(np.float32)
    stages = [([[1, 1, 1]], 3.0, 0.25), ([[1]], 1.0, 0.0)]
    expected = np.clip(oracle_plane(image, np.ones((1, 3)), "mirror", False) / 3 + 0.25, 0, 1)
    recipe = recipe_of(stages, between_stages="round")
    np.testing.assert_allclose(render(image, recipe), expected, atol=1e-6)


def test_between_stages_round_also_rounds_the_weighted_alpha_path():
    rgba = RNG.integers(0, 256, (8, 10, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # opaque: weighted equals the plain formula
    stages = [([[-1, 3, -1]], 1.0, 0.0), ([[1, 1, 1]], 3.0, 0.0)]
    recipe = recipe_of(stages, alpha="weighted", border="nearest", between_stages="round")
    first = oracle_plane(
        rgba[..., 0].astype(float), np.array([[-1, 3, -1]], float), "nearest", False
    )
    expected = oracle_plane(
        np.floor(np.clip(first, 0, 255) + 0.5), np.ones((1, 3)), "nearest", False
    )
    np.testing.assert_allclose(render(rgba, recipe)[..., 0], expected / 3, atol=1e-3)


@pytest.mark.parametrize("rounding", ["half-up", "half-even", "truncate"])
def test_to_display_rounds_as_the_recipe_says(rounding):
    values = np.array([[0.5, 1.5, 2.5, 3.49, 3.5, 254.5, 255.5, -0.5, -3.0]], np.float32)
    recipe = Recipe.single([[1]], rounding=rounding)
    expected = np.clip(ORACLE_ROUNDING[rounding](values.astype(np.float64)), 0, 255)
    np.testing.assert_array_equal(to_display(values, recipe), expected)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rounding", "up", "rounding must be one of half-up, half-even, truncate; got 'up'"),
        ("between_stages", "clamp", "between_stages must be one of float, clip, round"),
    ],
)
def test_a_recipe_refuses_an_unknown_rounding_or_between_stages(field, value, message):
    with pytest.raises(ValueError, match=message):
        Recipe.single([[1]], **{field: value})


@pytest.mark.parametrize("rounding", ["half-up", "truncate"])
def test_wrap_wraps_between_stages_and_on_display_as_a_c_cast(rounding):
    image = RNG.integers(0, 256, (9, 14), dtype=np.uint8)
    stages = [([[2, 1, 0]], 1.0, 0.5), ([[-1, 0, 2]], 1.0, 0.0)]
    recipe = recipe_of(
        stages, border="nearest", rounding=rounding, between_stages="wrap", display="wrap"
    )
    first = oracle_plane(image, np.array([[2.0, 1, 0]]), "nearest", False) + 0.5
    assert (first > 255).mean() > 0.2  # the wrap is really exercised
    wrapped = np.mod(ORACLE_ROUNDING[rounding](first), 256)
    second = oracle_plane(wrapped, np.array([[-1.0, 0, 2]]), "nearest", False)
    result = render(image, recipe)
    np.testing.assert_allclose(result, second, atol=1e-4)
    # numpy's cast of whole values out of range is the C cast the mode is named after
    expected8 = ORACLE_ROUNDING[rounding](second).astype(np.int64).astype(np.uint8)
    np.testing.assert_array_equal(to_display(result, recipe), expected8)


def test_wrap_on_a_16_bit_image_wraps_at_65536_then_maps_to_8_bits():
    values = np.array([[-1.0, 65535.0, 65536.0 + 257, 70000.4]], np.float32)
    recipe = Recipe.single([[1]], display="wrap")
    wrapped = np.mod(np.floor(values.astype(np.float64) + 0.5), 65536)
    np.testing.assert_array_equal(
        to_display(values, recipe, white=65535.0), np.floor(wrapped * 255 / 65535 + 0.5)
    )
