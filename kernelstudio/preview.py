"""The result at the pixels the screen shows, without computing the rest.

A window showing a 200-megapixel image shows well under a megapixel of it.
:func:`render_samples` computes a recipe's result at a grid of result pixels
only (every pixel of a zoomed-in region, or every ``step``-th pixel of a
zoomed-out one), each exactly as :func:`kernelstudio.pipeline.render` computes
it from the full-resolution image: it gathers, stage by stage from the last,
just the neighbourhoods those pixels read, with the border applied at the
image's edges as each stage applies it. Nothing is shrunk first, which would
change what the kernel does. :func:`sample_grid` says which pixels a view
samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike

from kernelstudio.bands import row_bands
from kernelstudio.convolution import convolve
from kernelstudio.display import white_level
from kernelstudio.pipeline import (
    Recipe,
    Stage,
    next_stage_input,
    stage_input,
    to_display,
)
from kernelstudio.streaming import filtered_channels, padded_sources

GATHER_FLOATS = 1 << 21
"""Float32 samples gathered at once (8 MiB) when the sampled pixels are far apart:
each reads its own neighbourhood, so output rows are made a few at a time."""

SAMPLE_ROWS_AT_ONCE = 32
"""Rows of evenly spaced samples summed together: the weights of one kernel row
read the same cache lines of the image, which stay in cache for that many."""

_FLOAT32_LIMIT = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class SampleGrid:
    """Result pixels to compute: every `step`-th row and column of a region.

    Attributes
    ----------
    rows, columns : numpy.ndarray
        Sorted result rows and columns (int64); sample ``(a, b)`` stands for
        the ``step × step`` block of result pixels from ``(top + a·step,
        left + b·step)``.
    step : int
        Result pixels per sample in each direction: 1 when zoomed in.
    top, left : int
        The result pixel where the first block starts.
    """

    rows: np.ndarray
    columns: np.ndarray
    step: int
    top: int
    left: int

    @property
    def shape(self) -> tuple[int, int]:
        """Samples down and across."""
        return self.rows.size, self.columns.size


def sample_grid(
    size: tuple[int, int],
    region: tuple[float, float, float, float],
    screen: tuple[int, int],
) -> SampleGrid | None:
    """Return the result pixels a view samples: its visible region, about one per screen pixel.

    Parameters
    ----------
    size : tuple of int
        The result's height and width.
    region : tuple of float
        The visible part as ``(top, left, bottom, right)`` in result pixels (it
        may reach past the result's edges).
    screen : tuple of int
        The view's height and width in screen pixels.

    Returns
    -------
    SampleGrid or None
        Every pixel of the region when a result pixel covers a screen pixel or
        more; else every ``step``-th, ``step`` the whole result pixels per
        screen pixel (rounded down, so at least one sample per screen pixel).
        Blocks start at multiples of ``step``: panning does not move which
        pixels are sampled. ``None`` when no part of the result is visible.

    Examples
    --------
    >>> grid = sample_grid((1000, 2000), (0, 0, 1000, 2000), (250, 500))
    >>> grid.step, grid.shape, grid.rows[:3].tolist()
    (4, (250, 500), [2, 6, 10])
    >>> sample_grid((100, 100), (10.5, 20.2, 30, 40), (400, 400)).shape
    (20, 20)
    """
    height, width = size
    top, left, bottom, right = region
    if not all(math.isfinite(value) for value in region) or min(screen) < 1:
        return None
    scale = max((bottom - top) / screen[0], (right - left) / screen[1])
    step = max(1, math.floor(scale))
    first_row, last_row = _blocks(top, bottom, height, step)
    first_column, last_column = _blocks(left, right, width, step)
    if first_row >= last_row or first_column >= last_column:
        return None
    middle = step // 2
    rows = np.minimum(np.arange(first_row, last_row) * step + middle, height - 1)
    columns = np.minimum(np.arange(first_column, last_column) * step + middle, width - 1)
    return SampleGrid(rows, columns, step, first_row * step, first_column * step)


def _blocks(start: float, stop: float, length: int, step: int) -> tuple[int, int]:
    # The blocks of `step` pixels that meet [start, stop), within the result.
    first = max(0, math.floor(start / step))
    last = min(-(-length // step), math.ceil(stop / step))
    return first, last


def previewable(image: ArrayLike, recipe: Recipe) -> bool:
    """Say whether :func:`render_samples` can compute `recipe` on `image`.

    It can for integer images (8- and 16-bit: whatever their values, the sums
    stay finite) unless ``weighted`` alpha acts on colour, a stack's values
    could overflow float32 before its last stage, or ``valid`` leaves no result.
    Float images (which may hold NaN or infinity, spread by zero weights only as
    the engine's slower paths spread them) are computed whole.

    Examples
    --------
    >>> blur = Recipe.single([[1, 2, 1]], divisor=4)
    >>> previewable(np.zeros((4, 4), np.uint8), blur)
    True
    >>> previewable(np.zeros((4, 4), np.float32), blur)
    False
    """
    pixels = np.asarray(image)
    if pixels.dtype.kind not in "iu" or 0 in pixels.shape:
        return False
    try:
        layout = filtered_channels(pixels, recipe)
    except ValueError:
        return False
    has_alpha = pixels.ndim == 3 and pixels.shape[2] in (2, 4)
    if has_alpha and recipe.alpha == "weighted" and any(layout[:-1]):
        return False
    height, width = _output_size(pixels.shape[:2], recipe)
    if height < 1 or width < 1:
        return False
    info = np.iinfo(pixels.dtype)
    largest = float(max(abs(int(info.min)), int(info.max)))
    for stage in recipe.active_stages[:-1]:
        largest = float(np.abs(stage.scaled_weights).sum()) * largest + abs(stage.offset)
        if not largest < _FLOAT32_LIMIT:
            return False
    return True


def render_samples(
    image: ArrayLike, recipe: Recipe, rows: ArrayLike, columns: ArrayLike
) -> np.ndarray:
    """Return ``render(image, recipe)[np.ix_(rows, columns)]`` without the rest of the result.

    Parameters
    ----------
    image : array_like
        Pixels as :func:`kernelstudio.pipeline.render` takes them, for which
        :func:`previewable` holds.
    recipe : Recipe
        The stages and options.
    rows, columns : array_like of int
        Sorted, distinct result rows and columns.

    Returns
    -------
    numpy.ndarray
        float32, ``len(rows) × len(columns)`` with the result's channels.

    Raises
    ------
    ValueError
        When :func:`previewable` does not hold, or for rows or columns outside
        the result.

    Notes
    -----
    Stage ``s`` (kernel ``kh × kw``) makes output pixel ``(y, x)`` from its
    input rows ``y … y + kh − 1`` of the padded input (columns likewise), the
    padding read from the edge as the border says. Working back from the last
    stage, each stage's wanted rows give the rows its input must have; the
    first stage's are gathered from the image. A contiguous block of wanted
    pixels is convolved with ``valid`` by the engine, as a band of the whole
    image is; scattered samples each sum their own gathered neighbourhood, in
    float32 as the engine does, so values agree with the whole result to
    float32 rounding.

    Examples
    --------
    >>> from kernelstudio.pipeline import render
    >>> image = (np.arange(48, dtype=np.uint8) * 5).reshape(6, 8)
    >>> edges = Recipe.single([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], border="wrap")
    >>> samples = render_samples(image, edges, [0, 3, 5], [1, 7])
    >>> bool(np.array_equal(samples, render(image, edges)[np.ix_([0, 3, 5], [1, 7])]))
    True
    """
    pixels = np.asarray(image)
    if not previewable(pixels, recipe):
        raise ValueError("this recipe and image are computed whole, not sampled")
    rows = _indices(rows, _output_size(pixels.shape[:2], recipe)[0], "row")
    columns = _indices(columns, _output_size(pixels.shape[:2], recipe)[1], "column")
    return _render_samples(pixels, recipe, rows, columns, strided=True)


def _render_samples(
    pixels: np.ndarray, recipe: Recipe, rows: np.ndarray, columns: np.ndarray, *, strided: bool
) -> np.ndarray:
    # render_samples() on checked indices; `strided`: evenly spaced samples of
    # one stage may be summed from strided views of the image.
    layout = filtered_channels(pixels, recipe)
    chosen = [index for index, wanted in enumerate(layout) if wanted]
    top, left = recipe.shrink
    stages = recipe.active_stages

    def untouched() -> np.ndarray:
        picked = _gather(pixels, rows + top, columns + left)
        return stage_input(picked, recipe).astype(np.float32)

    if not chosen:
        return untouched()
    if strided and len(stages) == 1:
        inner = _regular_part(pixels.shape[:2], stages[0], recipe.border, rows, columns)
        if inner is not None:
            return _one_stage_sampled(pixels, recipe, rows, columns, chosen, layout, inner)
    plans = _plans(pixels.shape[:2], recipe, rows, columns)
    values = stage_input(_gather(pixels, plans[0][0].needed, plans[0][1].needed), recipe)
    every_channel = len(chosen) == len(layout)
    if not every_channel and values.ndim == 3:
        values = values[..., chosen]
    for number, (stage, (row_axis, column_axis)) in enumerate(zip(stages, plans, strict=True)):
        values = _stage_samples(values, stage, recipe.flip, row_axis, column_axis)
        if number + 1 < len(stages):
            values = next_stage_input(values, recipe, pixels.dtype)
    if every_channel:
        return values
    result = untouched()
    result[..., chosen] = values
    return result


def sampling_share(
    size: tuple[int, int], recipe: Recipe, rows: ArrayLike, columns: ArrayLike
) -> float:
    """Return the multiply-adds :func:`render_samples` takes, as a share of :func:`render`'s.

    Parameters
    ----------
    size : tuple of int
        The image's height and width.
    recipe : Recipe
        The stages and options.
    rows, columns : array_like of int
        Sorted, distinct result rows and columns, as :func:`render_samples` takes them.

    Notes
    -----
    Samples far apart each read their own neighbourhoods: one stage costs
    about ``samples × weights``; stacked stages need every earlier stage at
    the neighbourhoods of the next one's samples, which can cost more than the
    whole result. Per multiply-add, strided sums run a few times slower than
    the engine; callers weigh that.

    Examples
    --------
    >>> blur = Recipe.single(np.ones((3, 3)) / 9)
    >>> every_tenth = np.arange(5, 1000, 10)
    >>> sampling_share((1000, 1000), blur, every_tenth, every_tenth)
    0.01
    >>> stack = Recipe((blur.stages[0],) * 3)
    >>> sampling_share((1000, 1000), stack, every_tenth, every_tenth) > 0.1
    True
    """
    stages = recipe.active_stages
    rows = np.asarray(rows, dtype=np.int64).ravel()
    columns = np.asarray(columns, dtype=np.int64).ravel()
    whole = size[0] * size[1] * sum(stage.weights.size for stage in stages)
    if not whole or not rows.size or not columns.size:
        return 0.0
    if len(stages) == 1 and _regular_part(size, stages[0], recipe.border, rows, columns):
        return rows.size * columns.size * stages[0].weights.size / whole
    work = 0
    for stage, (row_axis, column_axis) in zip(
        stages, _plans(size, recipe, rows, columns), strict=True
    ):
        work += row_axis.count * column_axis.count * stage.weights.size
        if row_axis.step > 1 or column_axis.step > 1:  # each neighbourhood gathered
            work += row_axis.sources.size * column_axis.sources.size
    return work / whole


def _plans(
    size: tuple[int, int], recipe: Recipe, rows: np.ndarray, columns: np.ndarray
) -> list[tuple[_Axis, _Axis]]:
    # Per stage, first to last: where its wanted outputs read its input.
    # Worked out back from the last stage, whose outputs are the samples.
    stages = recipe.active_stages
    sizes = [size]
    for stage in stages:
        sizes.append(_output_size(sizes[-1], Recipe((stage,), border=recipe.border)))
    plans: list[tuple[_Axis, _Axis]] = []
    wanted_rows, wanted_columns = rows, columns
    for number in range(len(stages) - 1, -1, -1):
        kernel_height, kernel_width = stages[number].weights.shape
        row_axis = _Axis(wanted_rows, sizes[number][0], kernel_height, recipe.border)
        column_axis = _Axis(wanted_columns, sizes[number][1], kernel_width, recipe.border)
        plans.append((row_axis, column_axis))
        wanted_rows, wanted_columns = row_axis.needed, column_axis.needed
    plans.reverse()
    return plans


def preview_uint8(
    image: ArrayLike, recipe: Recipe, grid: SampleGrid, *, white: float | None = None
) -> np.ndarray:
    """Return the 8-bit picture of the result at `grid`'s samples, as :func:`to_display` maps it.

    Every display mode but ``normalize`` and ``signed`` (which stretch over the
    whole result's range) maps each pixel on its own, so these are exactly the
    whole picture's pixels at the samples.

    Raises
    ------
    ValueError
        For ``normalize`` and ``signed``, and as :func:`render_samples` raises.
    """
    if recipe.display in ("normalize", "signed"):
        raise ValueError(f"the {recipe.display!r} display needs the whole result")
    pixels = np.asarray(image)
    if white is None:
        white = white_level(pixels.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        samples = render_samples(pixels, recipe, grid.rows, grid.columns)
        return to_display(samples, recipe, white=white)


def _regular_part(
    size: tuple[int, int], stage: Stage, border: str, rows: np.ndarray, columns: np.ndarray
) -> tuple[slice, slice, int] | None:
    # The samples, one every `step` pixels in both directions, whose
    # neighbourhoods lie inside the image: a view of the image per weight
    # reads them, with no gathering. None when there are too few of them.
    spans = []
    step = None
    for indices, length, kernel_length in zip(
        (rows, columns), size, stage.weights.shape, strict=True
    ):
        if indices.size < 3:
            return None
        gaps = np.diff(indices)
        if step is None:
            step = int(gaps[0])
        if step < 2 or gaps[0] != step:
            return None
        regular = 1 + int(np.argmin(np.append(gaps, 0) == step))  # the run of equal gaps
        margin = 0 if border == "valid" else kernel_length // 2
        reach = kernel_length - 1 - margin
        first = int(np.searchsorted(indices[:regular], margin))
        last = int(np.searchsorted(indices[:regular], length - reach))
        if last - first < 2:
            return None
        spans.append(slice(first, last))
    return spans[0], spans[1], step


def _one_stage_sampled(
    pixels: np.ndarray,
    recipe: Recipe,
    rows: np.ndarray,
    columns: np.ndarray,
    chosen: list[int],
    layout: list[bool],
    regular: tuple[slice, slice, int],
) -> np.ndarray:
    # One stage at samples `step` pixels apart: the inner ones summed from one
    # strided view of the image per weight, the edge strips (whose
    # neighbourhoods cross the border) by the general path.
    inner_rows, inner_columns, step = regular
    stage = recipe.active_stages[0]
    first_channel = stage_input(pixels[:1, :1], recipe)
    result = np.empty((rows.size, columns.size, *first_channel.shape[2:]), np.float32)
    every_channel = len(chosen) == len(layout)
    if not every_channel:
        top, left = recipe.shrink
        picked = _gather(pixels, rows + top, columns + left)
        result[...] = stage_input(picked, recipe)
    weights = stage.scaled_weights[::-1, ::-1] if recipe.flip else stage.scaled_weights
    weights = weights.astype(np.float32)
    kernel_height, kernel_width = weights.shape
    margins = (0, 0) if recipe.border == "valid" else (kernel_height // 2, kernel_width // 2)
    row_start = int(rows[inner_rows.start]) - margins[0]
    column_start = int(columns[inner_columns.start]) - margins[1]
    count = inner_columns.stop - inner_columns.start
    inner = result[inner_rows, inner_columns]
    if not every_channel and inner.ndim == 3:
        inner_target = np.empty((*inner.shape[:2], len(chosen)), np.float32)
    else:
        inner_target = inner
    total = inner_rows.stop - inner_rows.start

    def band(first: int, last: int) -> None:
        _sum_neighbourhoods(
            pixels,
            recipe,
            weights,
            (row_start + first * step, column_start),
            (last - first, count),
            step,
            None if every_channel else chosen,
            inner_target[first:last],
        )

    for first, last in row_bands(total, SAMPLE_ROWS_AT_ONCE):
        band(first, last)
    if stage.offset:
        inner_target += np.float32(stage.offset)
    if inner_target is not inner:
        inner[..., chosen] = inner_target
    # The strips around the inner samples.
    strips = (
        (slice(0, inner_rows.start), slice(None)),
        (slice(inner_rows.stop, None), slice(None)),
        (inner_rows, slice(0, inner_columns.start)),
        (inner_rows, slice(inner_columns.stop, None)),
    )
    for strip_rows, strip_columns in strips:
        wanted_rows, wanted_columns = rows[strip_rows], columns[strip_columns]
        if wanted_rows.size and wanted_columns.size:
            result[strip_rows, strip_columns] = _render_samples(
                pixels, recipe, wanted_rows, wanted_columns, strided=False
            )
    return result


def _sum_neighbourhoods(
    pixels: np.ndarray,
    recipe: Recipe,
    weights: np.ndarray,
    corner: tuple[int, int],
    counts: tuple[int, int],
    step: int,
    chosen: list[int] | None,
    out: np.ndarray,
) -> None:
    # out[a, b] = Σ weights[i, j] · input[corner + (a·step + i, b·step + j)], the
    # input being the first stage's (grey, or the chosen channels): one strided
    # view of the image per weight and channel, converted as it is multiplied
    # (channel by channel: numpy's inner loop then runs along a row of samples,
    # not over the three values of one pixel).
    rows, columns = counts
    top, left = corner
    planes = out[..., None] if out.ndim == 2 else out
    sums = np.empty((planes.shape[2], rows, columns), np.float32)
    product = np.empty((rows, columns), np.float32)
    started = False
    for dy, dx in np.argwhere(weights != 0):
        view = pixels[top + dy : top + dy + (rows - 1) * step + 1 : step]
        view = view[:, left + dx : left + dx + (columns - 1) * step + 1 : step]
        view = stage_input(view, recipe)
        if view.ndim == 2:
            view = view[..., None]
        for plane, channel in enumerate(range(view.shape[2]) if chosen is None else chosen):
            if started:
                np.multiply(view[..., channel], weights[dy, dx], out=product, casting="unsafe")
                sums[plane] += product
            else:
                np.multiply(view[..., channel], weights[dy, dx], out=sums[plane], casting="unsafe")
        started = True
    if not started:
        sums[...] = 0.0
    planes[...] = sums.transpose(1, 2, 0)


class _Axis:
    """Along one axis: the input positions a stage's wanted outputs read, and where they are.

    Tap ``i`` of wanted output ``a`` reads input ``sources[a·step + i]`` (−1:
    the constant border's zero), which is ``needed[positions[a·step + i]]``.
    """

    def __init__(self, wanted: np.ndarray, length: int, kernel_length: int, border: str):
        padded = padded_sources(length, kernel_length, border)
        self.count = wanted.size
        if wanted[-1] - wanted[0] + 1 == wanted.size:  # a run: neighbourhoods overlap
            self.step = 1
            self.sources = padded[wanted[0] : wanted[-1] + kernel_length]
        else:
            self.step = kernel_length
            self.sources = padded[wanted[:, None] + np.arange(kernel_length)].ravel()
        self.needed = np.unique(self.sources[self.sources >= 0])
        self.positions = np.searchsorted(self.needed, np.maximum(self.sources, 0))
        self.outside = self.sources < 0


def _stage_samples(
    values: np.ndarray, stage: Stage, flip: bool, row_axis: _Axis, column_axis: _Axis
) -> np.ndarray:
    # The stage's output at the wanted samples, from its input at the needed ones.
    weights = stage.scaled_weights
    if row_axis.step == column_axis.step == 1:
        block = _take(values, row_axis, column_axis, slice(None))
        return convolve(block, weights, border="valid", flip=flip, offset=stage.offset)
    if flip:
        weights = weights[::-1, ::-1]
    weights = weights.astype(np.float32)
    kernel_height, kernel_width = weights.shape
    channels = values.shape[2:]
    out = np.empty((row_axis.count, column_axis.count, *channels), np.float32)
    sample_floats = kernel_height * kernel_width * column_axis.count * max(1, values[0, 0].size)
    rows_at_once = max(1, GATHER_FLOATS // sample_floats)
    for first in range(0, row_axis.count, rows_at_once):
        last = min(row_axis.count, first + rows_at_once)
        reads = slice(first * row_axis.step, (last - 1) * row_axis.step + kernel_height)
        block = _take(values, row_axis, column_axis, reads)
        row_stride, column_stride = block.strides[:2]
        views = as_strided(
            block,
            shape=(kernel_height, kernel_width, last - first, column_axis.count, *channels),
            strides=(
                row_stride,
                column_stride,
                row_axis.step * row_stride,
                column_axis.step * column_stride,
                *block.strides[2:],
            ),
            writeable=False,
        )
        np.einsum("ij,ij...->...", weights, views, out=out[first:last])
    if stage.offset:
        out += np.float32(stage.offset)
    return out


def _take(values: np.ndarray, row_axis: _Axis, column_axis: _Axis, reads: slice) -> np.ndarray:
    # The input at the positions `reads` of the row axis and every column position, as float32.
    row_positions = row_axis.positions[reads]
    block = values[row_positions[:, None], column_axis.positions].astype(np.float32, copy=False)
    outside_rows = row_axis.outside[reads]
    if outside_rows.any():
        block[outside_rows] = 0.0
    if column_axis.outside.any():
        block[:, column_axis.outside] = 0.0
    return block


def _gather(pixels: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    # pixels[np.ix_(rows, columns)], slicing where the indices are runs.
    row_run = rows.size and rows[-1] - rows[0] + 1 == rows.size
    column_run = columns.size and columns[-1] - columns[0] + 1 == columns.size
    picked = pixels[rows[0] : rows[-1] + 1] if row_run else pixels[rows]
    if column_run:
        return picked[:, columns[0] : columns[-1] + 1]
    return picked[:, columns]


def _indices(values: ArrayLike, length: int, name: str) -> np.ndarray:
    indices = np.asarray(values, dtype=np.int64).ravel()
    if not indices.size:
        raise ValueError(f"no {name}s to compute")
    if indices[0] < 0 or indices[-1] >= length or np.any(np.diff(indices) <= 0):
        raise ValueError(f"{name}s must be sorted, distinct and within 0…{length - 1}")
    return indices


def _output_size(size: tuple[int, int], recipe: Recipe) -> tuple[int, int]:
    height, width = size
    for stage in recipe.active_stages if recipe.border == "valid" else ():
        height -= stage.weights.shape[0] - 1
        width -= stage.weights.shape[1] - 1
    return height, width
