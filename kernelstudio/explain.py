"""The arithmetic behind one pixel of a whole recipe, stage by stage.

:func:`explain_recipe_pixel` says how :func:`kernelstudio.pipeline.render`
made one value of its result: for every enabled stage the neighbourhood it
read from the stage before (border values included), the weights as applied,
their products and sum, the divisor and the offset (and, for ``weighted``
alpha, the alpha-weighted sums), then how :func:`kernelstudio.pipeline.to_display`
turned the value into 8 bits.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from kernelstudio.colour import to_grey
from kernelstudio.convolution import explain_pixel
from kernelstudio.display import round_values, to_uint8, white_level
from kernelstudio.pipeline import (
    COVERAGE_FLOOR,
    Recipe,
    Stage,
    next_stage_input,
    render,
    split_alpha,
)


@dataclass(frozen=True)
class StageExplanation:
    """How one enabled stage computed its value at the explained pixel.

    Attributes
    ----------
    index : int
        The stage's position in ``recipe.stages`` (disabled stages count).
    name : str
        The stage's name.
    row, column : int
        The pixel of this stage's output. They are the explained pixel itself,
        except with the ``valid`` border, where every stage's output has its
        own size: then they index this stage's output at the same place.
    source_rows, source_columns : numpy.ndarray
        For each kernel row and column, the row and column of the previous
        stage's output (the image for the first stage) read, or -1 where the
        ``constant`` border supplies a zero; as in
        :class:`kernelstudio.convolution.PixelExplanation`.
    neighbourhood : numpy.ndarray
        The previous stage's float values under the kernel, border values
        included (``h×w``).
    weights : numpy.ndarray
        The weights applied, rotated 180° when the recipe flips (``h×w``).
    products : numpy.ndarray
        ``neighbourhood × weights``, element by element.
    sum : float
        The sum of the products.
    divisor, offset : float
        The stage's divisor and offset.
    value : float
        This stage's output: ``sum / divisor + offset``, or for a colour with
        ``weighted`` alpha the formula under `formula`.
    coverage_neighbourhood : numpy.ndarray or None
        ``weighted`` alpha only: the coverage ``A`` (the previous stage's alpha
        as 0…1) under the kernel; ``None`` otherwise.
    weighted_sum : float or None
        ``weighted`` alpha only: ``Σ w·C·A`` with ``C`` the neighbourhood.
    coverage : float or None
        ``weighted`` alpha only: ``Σ |w|·A``.
    formula : str
        The arithmetic of `value` with its numbers.
    """

    index: int
    name: str
    row: int
    column: int
    source_rows: np.ndarray
    source_columns: np.ndarray
    neighbourhood: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    sum: float
    divisor: float
    offset: float
    value: float
    coverage_neighbourhood: np.ndarray | None
    weighted_sum: float | None
    coverage: float | None
    formula: str


@dataclass(frozen=True)
class RecipeExplanation:
    """How one value of a recipe's result, and its 8-bit picture, came about.

    Attributes
    ----------
    row, column, channel : int
        The explained value: ``render(image, recipe)[row, column, channel]``.
    note : str
        What the recipe does to this channel, in a sentence: how many stages
        filter it and how, or that it passes through.
    stages : tuple of StageExplanation
        One per enabled stage, in order; empty for a channel that passes
        through.
    value : float
        The result's float32 value (read from `result` when given).
    display_value : int
        The 8-bit value :func:`kernelstudio.pipeline.to_display` gives it.
    display_rule : str
        How `value` became `display_value`, with the numbers.
    """

    row: int
    column: int
    channel: int
    note: str
    stages: tuple[StageExplanation, ...]
    value: float
    display_value: int
    display_rule: str


def explain_recipe_pixel(
    image: ArrayLike,
    recipe: Recipe,
    row: int,
    column: int,
    *,
    channel: int,
    result: np.ndarray | None = None,
    white: float | None = None,
) -> RecipeExplanation:
    """Show the arithmetic behind ``render(image, recipe)[row, column, channel]``.

    Parameters
    ----------
    image : array_like
        The pixels given to :func:`kernelstudio.pipeline.render`.
    recipe : Recipe
        The recipe.
    row, column : int
        The pixel of the result; with the ``valid`` border, of the smaller
        result.
    channel : int
        An index into the result's channels: 0…3 for RGBA, 0 for grey, 0…1
        for grey+alpha (alpha last). Greyscale recipes have grey channels.
    result : numpy.ndarray, optional
        ``render(image, recipe)``, when the caller has it. Only the
        ``normalize`` and ``signed`` displays need it (for its smallest and
        largest values); they render it when it is not given.
    white : float, optional
        As for :func:`kernelstudio.pipeline.to_display`; by default the
        :func:`kernelstudio.display.white_level` of the image's dtype.

    Returns
    -------
    RecipeExplanation
        Per stage the neighbourhood, weights, products, sum, divisor, offset
        and value, then the result's value and its 8-bit value. Stage values
        are summed in float64, so they equal the rendered ones up to float32
        rounding.

    Raises
    ------
    ValueError
        For an image :func:`~kernelstudio.pipeline.render` refuses, a pixel
        outside the result, a channel it does not have, or a `result` of
        another shape.

    Notes
    -----
    A stage reads the whole result of the stage before, padded by the border
    anew, so stage ``k`` needs the results of stages ``1…k−1`` around the
    pixel. They depend only on the image rows within the stages' combined
    reach ``R`` (half the kernels' heights, summed), so the recipe's prefixes
    are rendered on a strip of ``2R+1`` full-width rows around the pixel's
    row: cut at the image's top and bottom (where the border then acts as on
    the whole image), taken across the edge for ``wrap``, and the whole image
    when it is not taller. Full rows keep the engine's sums in the order it
    uses on the whole image, so the values are those of ``render`` itself,
    except for kernels large enough for the engine's FFT (see
    :data:`kernelstudio.convolution.FFT_COST`), whose tiles follow the
    strip's height: there they agree within the FFT's rounding. The result's
    `value` is read from `result` when it is given.

    Examples
    --------
    >>> image = np.array([[0, 10, 20, 30]], np.uint8)
    >>> recipe = Recipe((Stage([[1, 1, 1]], divisor=3), Stage([[-1, 0, 1]], offset=128)),
    ...                 border="nearest")
    >>> explained = explain_recipe_pixel(image, recipe, 0, 0, channel=0)
    >>> [float(value) for value in explained.stages[0].neighbourhood[0]]
    [0.0, 0.0, 10.0]
    >>> explained.stages[0].formula
    'sum 10 ÷ 3 + 0 = 3.33333'
    >>> explained.stages[1].source_columns
    array([0, 0, 1])
    >>> explained.stages[1].formula
    'sum 6.66667 ÷ 1 + 128 = 134.667'
    >>> explained.display_value, explained.display_rule
    (135, 'clip: 134.667 × 255 / 255 = 134.667, clamped to 0…255 and rounded half up: 135')
    """
    pixels = np.asarray(image)
    if pixels.dtype.kind not in "biuf":
        raise ValueError(f"image must hold real numbers; got dtype {pixels.dtype}")
    colour, alpha = split_alpha(pixels)
    stages = recipe.active_stages
    height, width = pixels.shape[:2]
    if recipe.border == "valid":
        out_height = height - sum(stage.weights.shape[0] - 1 for stage in stages)
        out_width = width - sum(stage.weights.shape[1] - 1 for stage in stages)
    else:
        out_height, out_width = height, width
    if out_height <= 0 or out_width <= 0:
        raise ValueError(
            f"image of {height}×{width} pixels is smaller than the recipe's kernels, "
            "so 'valid' leaves no output"
        )
    row, column = _integer(row, "row"), _integer(column, "column")
    if not (0 <= row < out_height and 0 <= column < out_width):
        raise ValueError(f"pixel ({row}, {column}) is outside the {out_height}×{out_width} result")
    names = _channel_names(colour.ndim == 3 and not recipe.grey, alpha is not None)
    channel = _integer(channel, "channel")
    if not 0 <= channel < len(names):
        raise ValueError(
            f"channel {channel} does not exist in the recipe's {len(names)}-channel result"
        )
    if result is not None:
        result_channels = result.shape[2] if result.ndim == 3 else 1
        if result.shape[:2] != (out_height, out_width) or result_channels != len(names):
            raise ValueError(
                f"result of shape {result.shape} is not this recipe's "
                f"{out_height}×{out_width}×{len(names)} result"
            )
    white = white_level(pixels.dtype) if white is None else white
    role = _roles(names, alpha is not None, recipe)[channel]

    # Every column, so that the engine sums each row as it does on the whole image.
    rows, local_row = _window(height, row, stages, recipe.border)
    columns, local_column = np.arange(width), column
    window = pixels[rows]
    prefixes = [_planes(_converted(window, recipe))]
    if role != "passes through":
        prefixes += [
            _planes(render(window, dataclasses.replace(recipe, stages=stages[:count])))
            for count in range(1, len(stages))
        ]
    roles = _roles(names, alpha is not None, recipe)
    for planes in prefixes[1:]:  # what the stages after the first see
        for index, plane_role in enumerate(roles):
            if _between_stages_reach(index, plane_role, roles):
                planes[index] = next_stage_input(
                    planes[index].astype(np.float32), recipe, pixels.dtype
                )
    prefixes.append(_planes(render(window, recipe)))

    explained_stages = []
    if role != "passes through":
        # With 'valid', stage k's output pixel lies as far from the result's
        # pixel as the later stages' kernels reach.
        later_rows = sum(stage.weights.shape[0] // 2 for stage in stages)
        later_columns = sum(stage.weights.shape[1] // 2 for stage in stages)
        indices = [index for index, stage in enumerate(recipe.stages) if stage.enabled]
        for number, (index, stage) in enumerate(zip(indices, stages, strict=True)):
            local = (local_row, local_column)
            if recipe.border == "valid":
                later_rows -= stage.weights.shape[0] // 2
                later_columns -= stage.weights.shape[1] // 2
                local = (local_row + later_rows, local_column + later_columns)
            explained_stages.append(
                _explain_stage(
                    stage,
                    index,
                    prefixes[number],
                    local,
                    (rows, columns),
                    channel,
                    role,
                    recipe,
                    pixels.dtype,
                    _next_stage_rule(number < len(stages) - 1, role, recipe, pixels.dtype),
                )
            )
    if result is None and recipe.display in ("normalize", "signed"):
        result = render(pixels, recipe)
    if result is None:
        value = prefixes[-1][channel][local_row, local_column]
    else:
        value = (result if result.ndim == 3 else result[..., None])[row, column, channel]
    is_alpha = names[channel] == "alpha"
    display_value, display_rule = _display(np.float32(value), is_alpha, recipe, result, white)
    return RecipeExplanation(
        row,
        column,
        channel,
        _note(channel, names[channel], role, len(stages)),
        tuple(explained_stages),
        float(value),
        display_value,
        display_rule,
    )


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number; got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number; got {value!r}") from None


def _channel_names(colour: bool, has_alpha: bool) -> list[str]:
    return (["red", "green", "blue"] if colour else ["grey"]) + (["alpha"] if has_alpha else [])


def _roles(names: list[str], has_alpha: bool, recipe: Recipe) -> list[str]:
    # The same choice as pipeline.render: which channels the stages act on, and how.
    wanted = set(recipe.channels)
    if names[0] == "grey":
        filtered = [bool(wanted & set("rgb"))]
    else:
        filtered = [letter in wanted for letter in "rgb"]
    roles = ["filtered" if chosen else "passes through" for chosen in filtered]
    if has_alpha:
        if recipe.alpha == "weighted":
            roles = ["weighted" if role == "filtered" else role for role in roles]
        alpha_filtered = "a" in wanted and recipe.alpha != "keep"
        roles.append("filtered" if alpha_filtered else "passes through")
    return roles


def _window(
    height: int, row: int, stages: tuple[Stage, ...], border: str
) -> tuple[np.ndarray, int]:
    # The image rows a result row depends on, and the row's place among them
    # (see Notes of explain_recipe_pixel).
    reach = sum(stage.weights.shape[0] // 2 for stage in stages)
    if border == "valid":
        return row + np.arange(2 * reach + 1), 0
    if border == "wrap":
        if 2 * reach + 1 >= height:
            return np.arange(height), row
        return (row + np.arange(-reach, reach + 1)) % height, reach
    start = max(row - reach, 0)
    return np.arange(start, min(row + reach + 1, height)), row - start


def _converted(window: np.ndarray, recipe: Recipe) -> np.ndarray:
    # What the first stage reads: the image, in grey when the recipe asks.
    colour, alpha = split_alpha(window)
    if recipe.grey and colour.ndim == 3:
        colour = to_grey(colour)
    if alpha is None:
        return colour
    return np.concatenate([colour.reshape(*colour.shape[:2], -1), alpha[..., None]], axis=-1)


def _planes(values: np.ndarray) -> list[np.ndarray]:
    if values.ndim == 2:
        return [values]
    return [values[..., index] for index in range(values.shape[2])]


def _between_stages_reach(index: int, role: str, roles: list[str]) -> bool:
    # As pipeline.render: every filtered channel, but not alpha beside weighted colour.
    if role == "passes through":
        return False
    return not (index == len(roles) - 1 and "weighted" in roles[:-1])


def _next_stage_rule(before_another: bool, role: str, recipe: Recipe, dtype: np.dtype) -> str:
    # What the formula adds when the value is clipped or rounded for the next stage.
    if not before_another or recipe.between_stages == "float" or role == "passes through":
        return ""
    white = white_level(dtype)
    integer = np.dtype(dtype).kind in "biu"
    if recipe.between_stages == "wrap" and integer:
        return f"{_ROUNDING_WORDS[recipe.rounding]} and wrapped modulo {white + 1:g}"
    if recipe.between_stages == "round" and integer:
        return f"clamped to 0…{white:g} and {_ROUNDING_WORDS[recipe.rounding]}"
    return f"clamped to 0…{white:g}"


_ROUNDING_WORDS = {
    "half-up": "rounded half up",
    "half-even": "rounded half to even",
    "truncate": "truncated",
}


def _explain_stage(
    stage: Stage,
    index: int,
    previous: list[np.ndarray],
    local: tuple[int, int],
    window: tuple[np.ndarray, np.ndarray],
    channel: int,
    role: str,
    recipe: Recipe,
    dtype: np.dtype,
    next_stage_rule: str,
) -> StageExplanation:
    white = np.float32(white_level(dtype))
    options = {"border": recipe.border, "flip": recipe.flip}
    step = explain_pixel(previous[channel], stage.weights, *local, **options)
    if recipe.border == "valid":
        rows, columns = window[0][0] + step.source_rows, window[1][0] + step.source_columns
        row, column = window[0][0] + local[0], window[1][0] + local[1]
    else:
        rows = np.where(step.source_rows >= 0, window[0][step.source_rows], -1)
        columns = np.where(step.source_columns >= 0, window[1][step.source_columns], -1)
        row, column = int(window[0][local[0]]), int(window[1][local[1]])
    total = float(step.total)
    divisor, offset = stage.divisor, stage.offset
    coverage_neighbourhood = weighted_sum = coverage = None
    if role == "weighted":
        # As pipeline.render: coverage 0…1 in float32, from the previous alpha.
        coverage_plane = np.clip(previous[-1].astype(np.float32) / white, 0.0, 1.0)
        coverage_neighbourhood = explain_pixel(
            coverage_plane, stage.weights, *local, **options
        ).neighbourhood
        covered = coverage_neighbourhood > 0  # a hidden colour weighs nothing, inf included
        with np.errstate(invalid="ignore"):
            weighted = np.where(covered, step.products * coverage_neighbourhood, 0.0)
        weighted_sum = float(weighted.sum())
        coverage = float((np.abs(step.weights) * coverage_neighbourhood).sum())
        magnitude = float(np.abs(step.weights).sum())
        if coverage > COVERAGE_FLOOR * magnitude:
            value = weighted_sum / coverage * magnitude / divisor + offset
            formula = (
                f"{weighted_sum:g} ÷ {coverage:g} × {magnitude:g} ÷ {divisor:g} + {offset:g}"
                f" = {value:g}  (Σ w·C·A ÷ Σ |w|·A × Σ |w| ÷ divisor + offset)"
            )
        else:
            value = offset
            formula = f"no coverage under the kernel (Σ |w|·A ≈ 0), so the offset: {offset:g}"
    else:
        value = total / divisor + offset
        if divisor == 1 and offset == 0:
            formula = f"sum = {value:g}"
        else:
            formula = f"sum {total:g} ÷ {divisor:g} + {offset:g} = {value:g}"
    if next_stage_rule:
        passed_on = next_stage_input(np.array([value], np.float32), recipe, dtype)
        formula += f"; {next_stage_rule} for the next stage: {float(passed_on[0]):g}"
    return StageExplanation(
        index,
        stage.name,
        int(row),
        int(column),
        rows,
        columns,
        step.neighbourhood,
        step.weights,
        step.products,
        total,
        divisor,
        offset,
        value,
        coverage_neighbourhood,
        weighted_sum,
        coverage,
        formula,
    )


def _note(channel: int, name: str, role: str, stage_count: int) -> str:
    stages = f"{stage_count} stage{'s' if stage_count != 1 else ''}"
    if role == "passes through":
        return (
            f"the recipe does not act on channel {channel} ({name}): it passes through, "
            "so its value is the image's"
        )
    if role == "weighted":
        return f"channel {channel} ({name}) is filtered by {stages}, each weighted by alpha"
    return f"channel {channel} ({name}) is filtered by {stages}"


def _display(
    value: np.float32, is_alpha: bool, recipe: Recipe, result: np.ndarray | None, white: float
) -> tuple[int, str]:
    mode = "clip" if is_alpha else recipe.display
    kind = "alpha (always clipped)" if is_alpha else mode
    rounding = recipe.rounding
    rounded = _ROUNDING_WORDS[rounding]
    if mode == "wrap":
        shown = int(to_uint8(np.array([value]), mode, white=white, rounding=rounding)[0])
        if not np.isfinite(value):
            return shown, f"wrap: {float(value):g} shows as 0"
        whole = float(round_values(np.array([value], np.float64), rounding)[0])
        wrapped = whole % (white + 1.0)
        return shown, (
            f"wrap: {float(value):g} {rounded} is {whole:g}, modulo {white + 1:g} is "
            f"{wrapped:g}, × 255 / {white:g}: {shown} (as a C cast to the image's type)"
        )
    if mode in ("clip", "abs"):
        shown = int(to_uint8(np.array([value]), mode, white=white, rounding=rounding)[0])
        if np.isnan(value):
            return shown, f"{kind}: NaN shows as 0"
        magnitude = abs(float(value)) if mode == "abs" else float(value)
        written = f"|{float(value):g}|" if mode == "abs" else f"{float(value):g}"
        return shown, (
            f"{kind}: {written} × 255 / {white:g} = {magnitude * 255.0 / white:g}, "
            f"clamped to 0…255 and {rounded}: {shown}"
        )
    assert result is not None
    low, high = _finite_range(split_alpha(result)[0])
    # The same mapping as to_display: the result's range goes in with the value.
    shown = int(
        to_uint8(np.array([value, low, high], np.float32), mode, white=white, rounding=rounding)[0]
    )
    if np.isnan(value):
        return shown, f"{kind}: NaN shows as 0"
    if mode == "normalize":
        if not high > low:
            return shown, f"normalize: the result is flat (every finite value {low:g}): {shown}"
        scaled = (float(value) - low) * 255.0 / (high - low)
        return shown, (
            f"normalize: ({float(value):g} − {low:g}) × 255 / ({high:g} − {low:g}) = "
            f"{scaled:g}, clamped to 0…255 and {rounded}: {shown} "
            f"(the result's smallest value {low:g} shows as 0, its largest {high:g} as 255)"
        )
    magnitude = max(abs(low), abs(high))
    if not magnitude > 0:
        return shown, f"signed: the result is all zero, so it shows as mid-grey: {shown}"
    scaled = 127.5 + float(value) * 127.5 / magnitude
    return shown, (
        f"signed: 127.5 + {float(value):g} × 127.5 / {magnitude:g} = {scaled:g}, "
        f"clamped to 0…255 and {rounded}: {shown} "
        f"(±{magnitude:g}, the result's largest magnitude, shows as 255 and 0)"
    )


def _finite_range(colour: np.ndarray) -> tuple[float, float]:
    # The smallest and largest finite values, as to_display's mapping takes them.
    low, high = float(colour.min()), float(colour.max())
    if np.isfinite(low) and np.isfinite(high):
        return low, high
    finite = np.isfinite(colour)
    if not finite.any():
        return 0.0, 0.0
    return float(colour.min(where=finite, initial=np.inf)), float(
        colour.max(where=finite, initial=-np.inf)
    )
