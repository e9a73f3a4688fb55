"""The 8-bit picture of a recipe's result, made band by band of output rows.

``to_display(render(image, recipe))`` holds the whole float32 result (four
bytes per sample, more than the 8-bit image and its 8-bit picture together).
:func:`render_uint8` gives the same bytes while holding only a few bands of
floats at a time: for each band of output rows it renders the rows every stage
needs (the band widened by the reach of the stages after it, with the border
applied at the image's edges exactly as each stage applies it) and maps them to
8 bits at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from kernelstudio.bands import row_bands, worker_count
from kernelstudio.convolution import FFT_COST, convolve, separable_factors
from kernelstudio.display import white_level
from kernelstudio.pipeline import (
    Recipe,
    Stage,
    next_stage_input,
    render,
    split_alpha,
    stage_input,
    to_display,
)

BAND_FLOATS = 1 << 18
"""Float32 samples of output per band (1 MiB): with the copies each band takes on
its way, two threads' bands held about 17 MB here (a 4000 × 800 RGB image, two
3×3 stages), against 41 MB for bands four times larger, which were 10 % faster."""

_FLOAT32_LIMIT = float(np.finfo(np.float32).max)
_T = TypeVar("_T")

# np.pad's name for each border, as the engine pads (scipy.ndimage's meanings).
_PAD_MODES = {
    "constant": "constant",
    "nearest": "edge",
    "reflect": "symmetric",
    "mirror": "reflect",
    "wrap": "wrap",
}


def render_uint8(
    image: ArrayLike,
    recipe: Recipe,
    *,
    white: float | None = None,
    band_rows: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Return ``to_display(render(image, recipe), recipe, white=white)``, made band by band.

    Parameters
    ----------
    image : array_like
        Pixels as :func:`kernelstudio.pipeline.render` takes them.
    recipe : Recipe
        The stages and options.
    white : float, optional
        Full brightness; :func:`kernelstudio.display.white_level` of the
        image's dtype by default.
    band_rows : int, optional
        Output rows per band; by default about :data:`BAND_FLOATS` samples
        (and the whole image in one piece when it is no taller than that).
    threads : int, optional
        Bands made at once, each on its own thread; the machine's cores by
        default.

    Returns
    -------
    numpy.ndarray
        uint8 pixels, byte for byte what the whole-image path gives.

    Raises
    ------
    ValueError
        As :func:`kernelstudio.pipeline.render` raises.

    Notes
    -----
    Stage ``s`` (kernel height ``2r + 1``) makes output row ``y`` from its
    input rows ``y − r … y + r``, those beyond the edge taken as the border
    says; so a band of final rows needs every earlier stage's rows widened by
    the reach of the stages after it, and with ``wrap`` also rows from the
    other edge. Each stage's rows are gathered, padded as the border says and
    convolved with ``valid``, which computes every pixel exactly as the padded
    whole image does. ``normalize`` and ``signed`` need the whole result's
    range: a first pass makes the bands for their finite minimum and maximum
    only, and a second maps them. The whole-image path is taken where bands
    could differ in their last bit or are not worth it (see :func:`streams`).

    Examples
    --------
    >>> image = np.arange(30, dtype=np.uint8).reshape(5, 6) * 8
    >>> edges = Recipe.single([[-1, 0, 1]] * 3, border="wrap", display="signed")
    >>> whole = to_display(render(image, edges), edges)
    >>> bool(np.array_equal(render_uint8(image, edges, band_rows=1), whole))
    True
    """
    pixels = np.asarray(image)
    split_alpha(pixels)  # the shape checks, and their messages, of render()
    if white is None:
        white = white_level(pixels.dtype)
    bandable = _exact_in_bands(pixels, recipe)
    if bandable and band_rows is None:
        band_rows = _default_band_rows(pixels, recipe)
    if not bandable or band_rows >= _output_size(pixels, recipe)[0]:
        return to_display(render(pixels, recipe), recipe, white=white)
    plan = _Plan(pixels, recipe)
    height, width = plan.output_size
    bands = row_bands(height, band_rows)
    threads = worker_count() if threads is None else threads
    extremes = None
    if recipe.display in ("normalize", "signed"):
        ranges = _map_bands(
            lambda start, stop: _finite_range(plan.colour(start, stop)), bands, threads
        )
        extremes = _combined_range(ranges)
    picture = np.empty((height, width, *plan.channel_shape), dtype=np.uint8)

    def make_band(start: int, stop: int) -> None:
        picture[start:stop] = _display_band(plan.result(start, stop), recipe, white, extremes)

    _map_bands(make_band, bands, threads)
    return picture


def streams(image: ArrayLike, recipe: Recipe) -> bool:
    """Say whether :func:`render_uint8` makes `image`'s picture band by band by default.

    It does, except for an image no taller than one band (its float result
    then takes no more memory than a band), and for

    - ``weighted`` alpha acting on colour: its stages carry colour and
      coverage together, left to the whole-image path rather than written twice;
    - a kernel the engine may multiply by FFT (not separable, costlier than
      :data:`kernelstudio.convolution.FFT_COST`): its tiles follow the bands,
      so their rounding would differ in the last bit;
    - float images holding NaN or infinity, and stacks whose values could
      overflow float32 before the last stage: the engine then adds such bands
      weight by weight, rounding otherwise than its matrix products;
    - a ``valid`` image smaller than the kernels (render() says so).

    Examples
    --------
    >>> blur = Recipe.single([[1, 2, 1]], divisor=4)
    >>> streams(np.zeros((100, 4000), np.uint8), blur)  # bands of 65 rows
    True
    >>> streams(np.zeros((50, 4000), np.uint8), blur)
    False
    >>> weighted = Recipe(blur.stages, alpha="weighted")
    >>> streams(np.zeros((100, 4000, 4), np.uint8), weighted)
    False
    """
    pixels = np.asarray(image)
    if not _exact_in_bands(pixels, recipe):
        return False
    return _default_band_rows(pixels, recipe) < _output_size(pixels, recipe)[0]


def _output_size(pixels: np.ndarray, recipe: Recipe) -> tuple[int, int]:
    height, width = pixels.shape[:2]
    for stage in recipe.active_stages if recipe.border == "valid" else ():
        height -= stage.weights.shape[0] - 1
        width -= stage.weights.shape[1] - 1
    return height, width


def _default_band_rows(pixels: np.ndarray, recipe: Recipe) -> int:
    # About BAND_FLOATS samples, and tall enough that the rows recomputed for
    # the stages' reach above and below stay a small share.
    width = max(1, _output_size(pixels, recipe)[1])
    channels = stage_input(pixels[:1, :1], recipe).size
    reach = sum(stage.weights.shape[0] // 2 for stage in recipe.active_stages)
    return max(1, BAND_FLOATS // (width * channels), 4 * reach)


def _exact_in_bands(pixels: np.ndarray, recipe: Recipe) -> bool:
    # The conditions listed by streams(), the size aside.
    layout = filtered_channels(pixels, recipe)
    has_alpha = pixels.ndim == 3 and pixels.shape[2] in (2, 4)
    if has_alpha and recipe.alpha == "weighted" and any(layout[:-1]):
        return False
    stages = recipe.active_stages
    if any(_may_use_fft(stage) for stage in stages):
        return False
    height, width = _output_size(pixels, recipe)
    if height < 1 or width < 1 or 0 in pixels.shape:
        return False
    largest = _largest_pixel(pixels)
    if not np.isfinite(largest):
        return False
    for stage in stages[:-1]:
        largest = float(np.abs(stage.scaled_weights).sum()) * largest + abs(stage.offset)
        if not largest < _FLOAT32_LIMIT:
            return False
    return True


def _may_use_fft(stage: Stage) -> bool:
    weights = stage.weights
    cost = min(weights.size, 3 * int(np.count_nonzero(weights)))
    return cost > FFT_COST and separable_factors(weights) is None


def _largest_pixel(pixels: np.ndarray) -> float:
    if pixels.dtype.kind in "iu":
        low, high = np.iinfo(pixels.dtype).min, np.iinfo(pixels.dtype).max
    else:  # min() and max() see NaN and infinity without a full-size temporary
        low, high = float(pixels.min()), float(pixels.max())
    return max(abs(low), abs(high))


def filtered_channels(pixels: np.ndarray, recipe: Recipe) -> list[bool]:
    """Say which channels of the first stage's input the stages act on, as render() decides.

    Examples
    --------
    >>> filtered_channels(np.zeros((1, 1, 4), np.uint8), Recipe.single([[1]], channels="rg"))
    [True, True, False, False]
    """
    colour, alpha = split_alpha(stage_input(pixels[:1, :1], recipe))
    wanted = set(recipe.channels)
    layout = [bool(wanted & set("rgb"))] if colour.ndim == 2 else [c in wanted for c in "rgb"]
    if alpha is not None:
        layout.append("a" in wanted and recipe.alpha != "keep")
    return layout


class _Plan:
    """Where each stage's rows come from, and how to make any band of the result."""

    def __init__(self, pixels: np.ndarray, recipe: Recipe):
        self.pixels = pixels
        self.recipe = recipe
        self.stages = recipe.active_stages
        layout = filtered_channels(pixels, recipe)
        self.chosen = [index for index, wanted in enumerate(layout) if wanted]
        self.channels = len(layout)
        self.channel_shape = stage_input(pixels[:1, :1], recipe).shape[2:]
        # Per stage: for each padded position, the input row (or column) it
        # reads, -1 for the constant border's zeros; its output row y reads
        # positions y … y + kernel height − 1.
        self.row_sources: list[np.ndarray] = []
        self.column_sources: list[np.ndarray] = []
        height, width = pixels.shape[:2]
        for stage in self.stages:
            kernel_height, kernel_width = stage.weights.shape
            self.row_sources.append(padded_sources(height, kernel_height, recipe.border))
            self.column_sources.append(padded_sources(width, kernel_width, recipe.border))
            if recipe.border == "valid":
                height -= kernel_height - 1
                width -= kernel_width - 1
        self.output_size = (height, width)

    def result(self, start: int, stop: int) -> np.ndarray:
        """Return rows ``start … stop`` of ``render(pixels, recipe)``."""
        top, left = self.recipe.shrink
        width = self.output_size[1]
        if not self.chosen:
            return self._input_rows(np.arange(start + top, stop + top))[
                :, left : left + width
            ].astype(np.float32)
        wanted = [np.arange(start, stop)]
        for row_source, stage in zip(self.row_sources[::-1], self.stages[::-1], strict=True):
            windows = row_source[wanted[-1][:, None] + np.arange(stage.weights.shape[0])]
            wanted.append(np.unique(windows[windows >= 0]))
        wanted.reverse()
        values = self._input_rows(wanted[0])
        every_channel = len(self.chosen) == self.channels
        if not every_channel and values.ndim == 3:
            values = values[..., self.chosen]
        for number in range(len(self.stages)):
            values = self._stage_rows(number, values, wanted[number], wanted[number + 1])
            if number + 1 < len(self.stages):
                values = next_stage_input(values, self.recipe, self.pixels.dtype)
        if every_channel:
            return values
        rows = self._input_rows(np.arange(start + top, stop + top))
        result = rows[:, left : left + width].astype(np.float32)
        result[..., self.chosen] = values
        return result

    def colour(self, start: int, stop: int) -> np.ndarray:
        """Return the colour (or grey) of rows ``start … stop``: what the display maps."""
        result = self.result(start, stop)
        if result.ndim == 3 and result.shape[2] in (2, 4):
            return split_alpha(result)[0]
        return result

    def _input_rows(self, rows: np.ndarray) -> np.ndarray:
        # The first stage's input (grey when the recipe says so) at these rows.
        if rows.size and rows[-1] - rows[0] == rows.size - 1:
            picked = self.pixels[rows[0] : rows[-1] + 1]  # a view
        else:
            picked = self.pixels[rows]
        return stage_input(picked, self.recipe)

    def _stage_rows(
        self, number: int, values: np.ndarray, have: np.ndarray, make: np.ndarray
    ) -> np.ndarray:
        # Stage `number`'s output at rows `make`, from its input at rows `have`.
        stage = self.stages[number]
        row_source = self.row_sources[number]
        column_source = self.column_sources[number]
        kernel_height = stage.weights.shape[0]
        pieces = []
        for first, last in _runs(make):
            sources = row_source[first : last + kernel_height]
            positions = np.searchsorted(have, np.maximum(sources, 0))
            block = _padded(values, positions, column_source)
            block[sources < 0] = 0  # the constant border's rows
            pieces.append(
                convolve(
                    block,
                    stage.scaled_weights,
                    border="valid",
                    flip=self.recipe.flip,
                    offset=stage.offset,
                )
            )
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def padded_sources(length: int, kernel_length: int, border: str) -> np.ndarray:
    """Return, for each position of a stage's padded input, the input index it holds.

    Output ``y`` of a stage with a kernel `kernel_length` long reads padded
    positions ``y … y + kernel_length − 1``; −1 stands for the ``constant``
    border's zeros. ``np.pad`` applied to the indices themselves says which.

    Examples
    --------
    >>> padded_sources(4, 3, "mirror").tolist()
    [1, 0, 1, 2, 3, 2]
    >>> padded_sources(4, 5, "constant").tolist()
    [-1, -1, 0, 1, 2, 3, -1, -1]
    """
    indices = np.arange(length)
    if border == "valid":
        return indices
    margin = kernel_length // 2
    if border == "constant":
        return np.pad(indices, margin, mode="constant", constant_values=-1)
    return np.pad(indices, margin, mode=_PAD_MODES[border])


def _padded(values: np.ndarray, rows: np.ndarray, column_source: np.ndarray) -> np.ndarray:
    # values[rows][:, column_source] (zeros at -1) in one copy: the core, then
    # the few padding columns from it.
    width = values.shape[1]
    margin = (column_source.size - width) // 2
    block = np.empty((rows.size, column_source.size, *values.shape[2:]), values.dtype)
    core = block[:, margin : margin + width]
    if rows[-1] - rows[0] == rows.size - 1 and np.all(np.diff(rows) == 1):
        core[...] = values[rows[0] : rows[-1] + 1]
    else:
        core[...] = values[rows]
    for position in (*range(margin), *range(margin + width, column_source.size)):
        source = column_source[position]
        block[:, position] = 0 if source < 0 else core[:, source]
    return block


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    # Sorted row numbers as (first, last) of each stretch of consecutive ones.
    breaks = np.flatnonzero(np.diff(rows) != 1)
    firsts = [int(rows[0]), *(int(rows[index + 1]) for index in breaks)]
    lasts = [*(int(rows[index]) for index in breaks), int(rows[-1])]
    return list(zip(firsts, lasts, strict=True))


def _finite_range(values: np.ndarray) -> tuple[float, float] | None:
    # The smallest and largest finite value, or None when there is none.
    low, high = float(values.min()), float(values.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        finite = values[np.isfinite(values)]
        if not finite.size:
            return None
        low, high = float(finite.min()), float(finite.max())
    return low, high


def _combined_range(ranges: list[tuple[float, float] | None]) -> tuple[float, float] | None:
    found = [extremes for extremes in ranges if extremes is not None]
    if not found:
        return None
    return min(low for low, _ in found), max(high for _, high in found)


def _display_band(
    result: np.ndarray, recipe: Recipe, white: float, extremes: tuple[float, float] | None
) -> np.ndarray:
    if extremes is None:
        return to_display(result, recipe, white=white)
    # to_display stretches what it is given from its own finite extremes: two
    # rows holding the whole result's lowest and highest value make those the
    # band's, so each band maps as the whole result does.
    low, high = (np.full((1, *result.shape[1:]), value, np.float32) for value in extremes)
    widened = np.concatenate([result, low, high])
    return to_display(widened, recipe, white=white)[:-2]


def _map_bands(
    work: Callable[[int, int], _T], bands: list[tuple[int, int]], threads: int
) -> list[_T]:
    # work(start, stop) for every band, on up to `threads` threads of its own (the
    # engine's band threads stay free for the engine), under the caller's
    # numpy.errstate; where no thread can start, the calling thread does the rest.
    if threads <= 1 or len(bands) <= 1:
        return [work(start, stop) for start, stop in bands]
    errors = np.geterr()
    results: list = [None] * len(bands)
    failures: list[Exception] = []
    taken = [threading.Lock() for _ in bands]

    def run(index: int) -> None:
        if not taken[index].acquire(blocking=False):
            return
        try:
            with np.errstate(**errors):
                results[index] = work(*bands[index])
        except Exception as error:  # raised by the caller once every band ended
            failures.append(error)

    executor = ThreadPoolExecutor(
        min(threads, len(bands)), thread_name_prefix="kernelstudio-stream"
    )
    try:
        try:
            for index in range(len(bands)):
                executor.submit(run, index)
        except RuntimeError:  # "can't start new thread"
            for index in range(len(bands)):
                run(index)
        executor.shutdown(wait=True)
    except BaseException:  # Ctrl+C, say: the bands not begun never will be
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    if failures:
        raise failures[0]
    return results
