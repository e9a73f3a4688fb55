"""explain_recipe_pixel against render() on the whole image, stage by stage."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelstudio.colour import to_grey
from kernelstudio.convolution import BORDERS, explain_pixel
from kernelstudio.display import ROUNDING_MODES, white_level
from kernelstudio.explain import explain_recipe_pixel
from kernelstudio.pipeline import ALPHA_MODES, BETWEEN_STAGES, Recipe, Stage, render, to_display

DISPLAYS = ("clip", "abs", "normalize", "signed", "wrap")
CHANNEL_SUBSETS = ("rgb", "r", "gb", "a", "rgba", "ba")
IMAGE_KINDS = ("grey", "grey+alpha", "rgb", "rgba")
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def with_channels(values):
    return values if values.ndim == 3 else values[..., None]


def make_image(rng, kind, dtype, height, width):
    depth = {"grey": None, "grey+alpha": 2, "rgb": 3, "rgba": 4}[kind]
    shape = (height, width) if depth is None else (height, width, depth)
    if dtype == np.uint8:
        image = rng.integers(0, 256, size=shape).astype(np.uint8)
        transparent = 0
    else:
        # Float pixels may leave 0…1, alpha too (render clips coverage to 0…1).
        image = rng.uniform(-0.5, 1.5, size=shape).astype(np.float32)
        transparent = 0.0
    if kind.endswith("alpha") or kind == "rgba":
        alpha = image[..., -1]
        alpha[rng.random(alpha.shape) < 0.3] = transparent
        top, left = rng.integers(height), rng.integers(width)
        alpha[top : top + 3, left : left + 3] = transparent  # a fully transparent patch
    return image


def make_stage(rng, border, enabled=True):
    sides = (1, 3) if border == "valid" else (1, 3, 5, 7)
    height, width = (int(side) for side in rng.choice(sides, size=2))
    weights = rng.normal(size=(height, width)).round(2)
    kind = rng.integers(3)
    if kind == 1:
        weights = np.abs(weights)  # a blur: no negative weight
    elif kind == 2:
        weights[rng.random(weights.shape) < 0.4] = 0.0
    return Stage(
        weights,
        divisor=float(rng.choice([1.0, 2.0, 9.0, -3.0, 0.5])),
        offset=float(rng.choice([0.0, 1.5, 128.0, -0.25])),
        enabled=enabled,
        name=f"stage {height}×{width}",
    )


def probe_pixels(rng, height, width, count=4):
    corners = {(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)}
    edges = {(0, width // 2), (height // 2, 0), (height - 1, width // 2), (height // 2, width - 1)}
    randoms = {(int(rng.integers(height)), int(rng.integers(width))) for _ in range(count)}
    return sorted(corners | edges | randoms)


def as_render_sees_it(image, recipe):
    """The image after greyscale, as float32: an identity stage on every channel."""
    identity = Recipe.single([[1.0]], grey=recipe.grey, channels="rgba", alpha="process")
    return with_channels(render(image, identity))


def gathered(plane, rows, columns):
    """plane[rows × columns], zero where an index is -1 (the constant border)."""
    values = plane[np.ix_(np.maximum(rows, 0), np.maximum(columns, 0))].astype(np.float64)
    values[rows < 0] = 0.0
    values[:, columns < 0] = 0.0
    return values


def stage_scale(stage, explained):
    """The magnitudes one stage's float32 rounding is relative to."""
    if explained.coverage is None:
        spread = np.abs(explained.products).sum()
    else:
        spread = np.abs(explained.neighbourhood).max() * np.abs(explained.weights).sum()
    return spread / abs(stage.divisor) + abs(stage.offset) + 1e-30


def check_pixel(image, recipe, result, prefixes, row, column, channel):
    explained = explain_recipe_pixel(image, recipe, row, column, channel=channel, result=result)
    expected = with_channels(result)[row, column, channel]
    assert explained.value == expected
    assert np.isclose(explained.value, expected, rtol=4 * FLOAT32_EPS, atol=0.0)
    without_result = explain_recipe_pixel(image, recipe, row, column, channel=channel)
    assert without_result.value == explained.value
    assert without_result.display_value == explained.display_value

    white = white_level(image.dtype)
    pixels8 = with_channels(to_display(result, recipe, white=white))
    assert explained.display_value == pixels8[row, column, channel], explained.display_rule

    active = recipe.active_stages
    if "passes through" in explained.note:
        assert explained.stages == ()
        top, left = recipe.shrink
        source = as_render_sees_it(image, recipe)[row + top, column + left, channel]
        assert explained.value == source
        return explained
    assert len(explained.stages) == len(active)
    assert [step.index for step in explained.stages] == [
        index for index, stage in enumerate(recipe.stages) if stage.enabled
    ]
    later_rows = sum(stage.weights.shape[0] // 2 for stage in active)
    later_columns = sum(stage.weights.shape[1] // 2 for stage in active)
    # What each stage reads: the one before's result, as the next stage sees it.
    inputs = [prefixes[0]] + [
        as_next_stage_sees_it(outputs, image, recipe) for outputs in prefixes[1:-1]
    ]
    pairs = zip(inputs, prefixes[1:], strict=True)
    for stage, step, (before, after) in zip(active, explained.stages, pairs, strict=True):
        assert step.name == stage.name
        applied = stage.weights[::-1, ::-1] if recipe.flip else stage.weights
        np.testing.assert_array_equal(step.weights, applied)
        if recipe.border == "valid":
            later_rows -= stage.weights.shape[0] // 2
            later_columns -= stage.weights.shape[1] // 2
            assert (step.row, step.column) == (row + later_rows, column + later_columns)
        else:
            assert (step.row, step.column) == (row, column)
        # The neighbourhood is the previous stage's whole result under the kernel.
        previous = gathered(before[..., channel], step.source_rows, step.source_columns)
        np.testing.assert_array_equal(step.neighbourhood, previous)
        np.testing.assert_allclose(step.products, step.neighbourhood * step.weights)
        assert np.isclose(step.sum, step.products.sum())
        assert (step.divisor, step.offset) == (stage.divisor, stage.offset)
        if step.coverage is not None:
            coverage_plane = np.clip(
                before[..., -1] / np.float32(white_level(image.dtype)), 0.0, 1.0
            )
            coverage = gathered(coverage_plane, step.source_rows, step.source_columns)
            np.testing.assert_array_equal(step.coverage_neighbourhood, coverage)
            assert np.isclose(step.weighted_sum, (step.products * coverage).sum())
            assert np.isclose(step.coverage, (np.abs(step.weights) * coverage).sum())
        else:
            assert step.coverage_neighbourhood is None
            assert np.isclose(step.value, step.sum / stage.divisor + stage.offset)
        rendered = after[step.row, step.column, channel]
        tolerance = 64 * FLOAT32_EPS * stage_scale(stage, step)
        assert abs(step.value - rendered) <= tolerance, (step.formula, rendered)
    return explained


ORACLE_ROUNDING = {
    "half-up": lambda v: np.floor(v + 0.5),
    "half-even": np.rint,
    "truncate": np.trunc,
}


def as_next_stage_sees_it(values, image, recipe):
    """A stage's result between stages, in numpy: clipped, rounded or wrapped.

    In float32, as the engine's values are: x + 0.5 rounds there before the floor.
    """
    if recipe.between_stages == "float":
        return values
    treated = values.astype(np.float32)
    # Alpha beside weighted colour (some colour filtered) is filtered without this step.
    has_alpha = treated.shape[2] in (2, 4)
    colour_letters = "rgb" if treated.shape[2] == 4 else ["rgb"]
    weighted_colour = any(set(letter) & set(recipe.channels) for letter in colour_letters)
    weighted = has_alpha and recipe.alpha == "weighted" and weighted_colour
    planes = slice(0, -1) if weighted else slice(None)
    chosen = treated[..., planes]
    integer = image.dtype.kind in "ui"
    white = white_level(image.dtype)
    if recipe.between_stages == "wrap" and integer:
        chosen = np.mod(ORACLE_ROUNDING[recipe.rounding](chosen), np.float32(white + 1))
    else:
        chosen = np.clip(chosen, 0, np.float32(white))
        if recipe.between_stages == "round" and integer:
            chosen = ORACLE_ROUNDING[recipe.rounding](chosen)
    treated[..., planes] = chosen
    return treated


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    border = draw(st.sampled_from(BORDERS))
    count = draw(st.integers(1, 4))
    stages = [make_stage(rng, border) for _ in range(count)]
    if draw(st.booleans()):
        stages.insert(int(rng.integers(count + 1)), make_stage(rng, border, enabled=False))
    recipe = Recipe(
        tuple(stages),
        border=border,
        flip=draw(st.booleans()),
        grey=draw(st.booleans()),
        channels=draw(st.sampled_from(CHANNEL_SUBSETS)),
        alpha=draw(st.sampled_from(ALPHA_MODES)),
        display=draw(st.sampled_from(DISPLAYS)),
        rounding=draw(st.sampled_from(ROUNDING_MODES)),
        between_stages=draw(st.sampled_from(BETWEEN_STAGES)),
    )
    top, left = (2 * shrink for shrink in recipe.shrink)
    height = draw(st.integers(top + 1, top + 12))
    width = draw(st.integers(left + 1, left + 12))
    kind = draw(st.sampled_from(IMAGE_KINDS))
    dtype = draw(st.sampled_from([np.uint8, np.float32]))
    return make_image(rng, kind, dtype, height, width), recipe, rng


@settings(deadline=None, max_examples=150)
@given(cases())
def test_every_explained_value_is_the_rendered_one(case):
    image, recipe, rng = case
    result = render(image, recipe)
    active = recipe.active_stages
    prefixes = [as_render_sees_it(image, recipe)] + [
        with_channels(render(image, dataclasses.replace(recipe, stages=active[:count])))
        for count in range(1, len(active) + 1)
    ]
    channels = with_channels(result).shape[2]
    for row, column in probe_pixels(rng, *result.shape[:2]):
        for channel in range(channels):
            check_pixel(image, recipe, result, prefixes, row, column, channel)


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    border=st.sampled_from(BORDERS),
    flip=st.booleans(),
    kind=st.sampled_from(IMAGE_KINDS),
)
def test_one_stage_explains_as_convolution_explain_pixel_does(seed, border, flip, kind):
    rng = np.random.default_rng(seed)
    stage = make_stage(rng, border)
    recipe = Recipe((stage,), border=border, flip=flip, channels="rgba", alpha="process")
    image = make_image(rng, kind, np.uint8, 9, 8)
    result = render(image, recipe)
    for row, column in probe_pixels(rng, *result.shape[:2]):
        for channel in range(with_channels(image).shape[2]):
            explained = explain_recipe_pixel(image, recipe, row, column, channel=channel)
            (step,) = explained.stages
            single = explain_pixel(
                with_channels(image)[..., channel],
                stage.weights,
                row,
                column,
                border=border,
                flip=flip,
            )
            np.testing.assert_array_equal(step.source_rows, single.source_rows)
            np.testing.assert_array_equal(step.source_columns, single.source_columns)
            np.testing.assert_array_equal(step.neighbourhood, single.neighbourhood)
            np.testing.assert_array_equal(step.products, single.products)
            assert step.sum == single.total


def test_a_greyscale_recipe_explains_the_luma():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(6, 7, 3)).astype(np.uint8)
    recipe = Recipe.single(rng.normal(size=(3, 3)), grey=True, border="reflect")
    luma = to_grey(image)
    explained = explain_recipe_pixel(image, recipe, 5, 0, channel=0)
    single = explain_pixel(luma, recipe.stages[0].weights, 5, 0, border="reflect")
    np.testing.assert_array_equal(explained.stages[0].neighbourhood, single.neighbourhood)
    assert explained.value == render(image, recipe)[5, 0]
    with pytest.raises(ValueError, match="channel 1 does not exist in the recipe's 1-channel"):
        explain_recipe_pixel(image, recipe, 0, 0, channel=1)


def test_weighted_alpha_shows_the_coverage_and_its_formula():
    # A grey+alpha row: the middle pixel opaque, its neighbours transparent and bright.
    image = np.array([[[250, 0], [100, 255], [250, 0]]], np.uint8)
    recipe = Recipe.single([[1, 1, 1]], divisor=3, alpha="weighted", border="nearest")
    explained = explain_recipe_pixel(image, recipe, 0, 1, channel=0)
    (step,) = explained.stages
    np.testing.assert_array_equal(step.coverage_neighbourhood, [[0.0, 1.0, 0.0]])
    assert (step.weighted_sum, step.coverage) == (100.0, 1.0)
    # 100 ÷ 1 × 3 ÷ 3: the hidden 250s have no weight at all.
    assert step.value == pytest.approx(100.0)
    assert step.formula.startswith("100 ÷ 1 × 3 ÷ 3 + 0 = 100")
    assert explained.value == render(image, recipe)[0, 1, 0]
    alpha = explain_recipe_pixel(image, recipe, 0, 1, channel=1)
    assert alpha.stages == ()
    assert "passes through" in alpha.note
    assert alpha.value == 255.0


def test_no_coverage_gives_the_offset():
    image = np.array([[[90, 0], [80, 0], [70, 0]]], np.uint8)
    recipe = Recipe.single([[1, -2, 1]], offset=5, alpha="weighted", border="constant")
    (step,) = explain_recipe_pixel(image, recipe, 0, 0, channel=0).stages
    assert step.coverage == 0.0
    assert step.value == 5.0
    assert "offset" in step.formula
    assert render(image, recipe)[0, 0, 0] == 5.0


@pytest.mark.parametrize(
    ("display", "rule"),
    [
        ("clip", "clip: 300 × 255 / 255 = 300, clamped to 0…255 and rounded half up: 255"),
        ("abs", "abs: |300| × 255 / 255 = 300, clamped to 0…255 and rounded half up: 255"),
        ("normalize", "normalize: (300 − -300) × 255 / (300 − -300) = 255"),
        ("signed", "signed: 127.5 + 300 × 127.5 / 300 = 255"),
    ],
)
def test_display_rule_names_the_mapping_and_its_numbers(display, rule):
    image = np.array([[0, 0, 100, 100, 0]], np.uint8)
    recipe = Recipe.single([[-3, 0, 3]], border="nearest", display=display)
    explained = explain_recipe_pixel(image, recipe, 0, 1, channel=0)
    assert explained.value == 300.0
    assert explained.display_rule.startswith(rule)
    assert explained.display_value == to_display(render(image, recipe), recipe)[0, 1]


def test_alpha_is_always_clipped_for_display():
    image = np.full((3, 3, 4), 200, np.uint8)
    recipe = Recipe.single([[2.0]], channels="rgba", alpha="process", display="normalize")
    explained = explain_recipe_pixel(image, recipe, 1, 1, channel=3)
    assert explained.value == 400.0
    assert explained.display_value == 255
    assert explained.display_rule.startswith("alpha (always clipped)")


def test_wrap_reaches_across_the_image_in_every_stage():
    # Stage 2 at row 0 reads the rows of stage 1 across the top edge, from the bottom.
    rng = np.random.default_rng(8)
    image = rng.normal(size=(20, 4)).astype(np.float32)
    stages = (Stage(rng.normal(size=(7, 1))), Stage(rng.normal(size=(5, 3)), offset=0.5))
    recipe = Recipe(stages, border="wrap")
    first = render(image, dataclasses.replace(recipe, stages=stages[:1]))
    explained = explain_recipe_pixel(image, recipe, 0, 0, channel=0)
    np.testing.assert_array_equal(explained.stages[1].source_rows, [18, 19, 0, 1, 2])
    np.testing.assert_array_equal(explained.stages[1].source_columns, [3, 0, 1])
    np.testing.assert_array_equal(
        explained.stages[1].neighbourhood, first[[18, 19, 0, 1, 2]][:, [3, 0, 1]]
    )
    assert explained.value == render(image, recipe)[0, 0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"row": 6, "column": 0, "channel": 0}, r"pixel \(6, 0\) is outside the 6×7 result"),
        ({"row": 0, "column": -1, "channel": 0}, r"pixel \(0, -1\) is outside the 6×7 result"),
        ({"row": 0, "column": 0, "channel": 4}, "channel 4 does not exist in the recipe's 4-"),
        ({"row": 0, "column": 0, "channel": -1}, "channel -1 does not exist"),
        ({"row": 0, "column": 0, "channel": True}, "channel must be a whole number; got True"),
        ({"row": 1.5, "column": 0, "channel": 0}, "row must be a whole number; got 1.5"),
        (
            {"row": 0, "column": 0, "channel": 0, "result": np.zeros((6, 7, 3), np.float32)},
            r"result of shape \(6, 7, 3\) is not this recipe's 6×7×4 result",
        ),
    ],
)
def test_bad_arguments_name_the_bad_value(arguments, message):
    image = np.zeros((6, 7, 4), np.uint8)
    recipe = Recipe.single(np.ones((3, 3)))
    with pytest.raises(ValueError, match=message):
        explain_recipe_pixel(image, recipe, **arguments)


def test_valid_pixels_index_the_smaller_result():
    image = np.zeros((6, 7), np.uint8)
    recipe = Recipe((Stage(np.ones((3, 3))), Stage(np.ones((1, 3)))), border="valid")
    assert render(image, recipe).shape == (4, 3)
    explain_recipe_pixel(image, recipe, 3, 2, channel=0)
    with pytest.raises(ValueError, match=r"pixel \(3, 3\) is outside the 4×3 result"):
        explain_recipe_pixel(image, recipe, 3, 3, channel=0)
    with pytest.raises(ValueError, match="image of 2×7 pixels is smaller than the recipe's"):
        explain_recipe_pixel(image[:2], recipe, 0, 0, channel=0)


def test_fft_sized_kernels_agree_within_the_ffts_rounding():
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, size=(70, 60, 3)).astype(np.uint8)
    stages = (Stage(rng.normal(size=(25, 25))), Stage(rng.normal(size=(3, 3))))
    recipe = Recipe(stages, border="wrap")
    result = render(image, recipe)
    scale = float(np.abs(result).max())
    for row, column in probe_pixels(rng, *result.shape[:2]):
        explained = explain_recipe_pixel(image, recipe, row, column, channel=2)
        assert abs(explained.value - result[row, column, 2]) <= 1e-6 * scale
        assert abs(explained.stages[-1].value - result[row, column, 2]) <= 1e-6 * scale
