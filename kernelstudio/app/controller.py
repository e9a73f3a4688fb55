"""The application's state and the worker jobs that turn it into pictures.

The controller holds the image, the recipe (the kernel and the options, see
:mod:`kernelstudio.pipeline`) and what the views show, and runs every heavy step
(decoding, :func:`~kernelstudio.pipeline.render`, mapping to 8-bit, encoding) on
a thread pool.
Widgets talk to it through its methods and listen to its signals; it never
touches a widget. Latest edit wins: while one convolution runs, at most one more
waits, and every newer request replaces the waiting one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThreadPool, QTimer, Signal

from kernelstudio.app.tasks import Task
from kernelstudio.bands import CancelledError, cancellable, check_cancelled
from kernelstudio.compare import Comparison, compare_results
from kernelstudio.display import to_uint8, white_level
from kernelstudio.imageio import ImageLoadError, ImageSaveError, load_image, save_image
from kernelstudio.kernels import Kernel, KernelFileError, write_kernel_file
from kernelstudio.montage import montage
from kernelstudio.pipeline import Recipe, Stage, render, split_alpha, stage_input, to_display
from kernelstudio.preview import (
    SampleGrid,
    preview_uint8,
    previewable,
    sample_grid,
    sampling_share,
)
from kernelstudio.recipe_files import write_recipe_file

log = logging.getLogger(__name__)

BUSY_DELAY_MS = 150
"""Work shorter than this never shows the busy indicator."""

PREVIEW_MIN_PIXELS = 4_000_000
"""Results smaller than this are computed whole at once (a 2-megapixel 3×3 takes
about 10 ms): a preview first would only add its own time."""

PREVIEW_MIN_SAVING = 16
"""A preview is made first only when the whole result takes this many times its
multiply-adds (:func:`~kernelstudio.preview.sampling_share`): summed at samples
far apart, each costs about four times what it costs the engine. Zoomed out on
stacked stages, whose neighbourhoods multiply, the whole result comes first."""


RECIPE_FIELDS = ("border", "flip", "grey", "channels", "alpha", "display")
"""Options of the whole recipe, as :meth:`Controller.update` takes them."""
STAGE_FIELDS = ("weights", "divisor", "offset")
"""Fields of the selected stage, as :meth:`Controller.update` takes them."""
VIEW_FIELDS = ("channels_of_result", "histogram")
"""Fields of :class:`ViewOptions`."""


@dataclass(frozen=True)
class ViewOptions:
    """What the views show besides the result: nothing here changes a value."""

    channels_of_result: bool = False
    histogram: bool = False


@dataclass(frozen=True)
class State:
    """What the panels show: the recipe, the view options and the stage being edited."""

    recipe: Recipe
    view: ViewOptions
    selected: int

    @property
    def stage(self) -> Stage:
        """The stage being edited."""
        return self.recipe.stages[self.selected]


@dataclass(frozen=True)
class LoadedImage:
    """An image ready to show: its pixels, their 8-bit rendering and its channels.

    `pixels` keep the file's alpha (grey+alpha or RGBA), which `pixels8` shows
    as RGBA; `channels8` are the red, green and blue, or the one grey.
    """

    pixels: np.ndarray
    pixels8: np.ndarray
    channels8: tuple[np.ndarray, ...]
    name: str
    path: Path | None


@dataclass(frozen=True)
class Rendering:
    """One finished computation, with everything the views need.

    `result8` is what the result view shows (RGBA when the image has alpha);
    `offset` places it over the original (``valid`` results are smaller).
    `original8` is what the original view shows: the image, or the grey the
    stages see when the recipe turns colour grey. `channels8` are the red,
    green and blue views (of the result or of the original, as the view options
    say), or one grey, named by `channel_names`.
    """

    recipe: Recipe
    view: ViewOptions
    result: np.ndarray
    result8: np.ndarray
    original8: np.ndarray
    channels8: tuple[np.ndarray, ...]
    channel_names: tuple[str, ...]
    offset: tuple[int, int]
    seconds: float
    histogram: np.ndarray | None
    comparison: Comparison | str | None


@dataclass(frozen=True)
class Preview:
    """The pixels on screen of the latest edit's result, exact, ahead of the whole result.

    `pixels8` is the result's 8-bit picture at every `step`-th pixel of the
    part of the result the view shows (every pixel when `step` is 1); pixel
    ``(a, b)`` stands for the ``step × step`` block of image pixels from
    ``offset + (a·step, b·step)``. `whole` says `pixels8` is the whole
    result's picture (``renderingReady`` follows at once); otherwise the
    whole result is on its way. `channels8` are its red, green and blue (or
    its grey) when the channel views show the result, else ``None``.
    """

    recipe: Recipe
    pixels8: np.ndarray
    offset: tuple[int, int]
    step: int
    whole: bool
    seconds: float
    channels8: tuple[np.ndarray, ...] | None = None


def _channels(pixels8: np.ndarray) -> tuple[np.ndarray, ...]:
    colour, _alpha = split_alpha(pixels8)
    if colour.ndim == 2:
        return (np.ascontiguousarray(colour),)
    return tuple(np.ascontiguousarray(colour[..., c]) for c in range(3))


def channel_names(channels8: tuple[np.ndarray, ...]) -> tuple[str, ...]:
    """Name the channel views: red, green and blue, or one grey."""
    return ("Grey",) if len(channels8) == 1 else ("Red", "Green", "Blue")


def _viewable(pixels8: np.ndarray) -> np.ndarray:
    # The views show grey, RGB or RGBA; grey+alpha becomes RGBA.
    if pixels8.ndim == 3 and pixels8.shape[2] == 2:
        grey, alpha = pixels8[..., 0], pixels8[..., 1]
        return np.stack([grey, grey, grey, alpha], axis=-1)
    return pixels8


def _prepare(pixels: np.ndarray, name: str, path: Path | None) -> LoadedImage:
    pixels8 = _viewable(to_uint8(pixels, "clip", white=white_level(pixels.dtype)))
    channels8 = _channels(pixels8)
    for array in (pixels, pixels8, *channels8):
        array.flags.writeable = False
    return LoadedImage(pixels, pixels8, channels8, name, path)


def _load(path: Path) -> LoadedImage:
    return _prepare(load_image(path, alpha=True), path.name, path)


def _render(
    image: LoadedImage,
    recipe: Recipe,
    view: ViewOptions,
    pinned: np.ndarray | None,
    cancel: threading.Event,
) -> Rendering:
    with cancellable(cancel):
        return _render_whole(image, recipe, view, pinned)


def _render_whole(
    image: LoadedImage, recipe: Recipe, view: ViewOptions, pinned: np.ndarray | None
) -> Rendering:
    started = time.perf_counter()
    # Weights the image's values push past float32 give infinities, which the
    # picture shows as white or black: expected here, not a warning on stderr.
    with np.errstate(over="ignore", invalid="ignore"):
        result = render(image.pixels, recipe)
        check_cancelled()
        result8 = _viewable(to_display(result, recipe, white=white_level(image.pixels.dtype)))
    check_cancelled()
    # The original's channels are made once per image; the views skip them when
    # they are the very arrays already shown.
    original8 = image.pixels8
    if recipe.grey and len(image.channels8) == 3:
        original8 = _viewable(stage_input(image.pixels8, recipe))
    if view.channels_of_result:
        channels8 = _channels(result8)
    elif original8 is image.pixels8:
        channels8 = image.channels8
    else:
        channels8 = _channels(original8)
    offset = recipe.shrink
    histogram = _histogram(result8) if view.histogram else None
    comparison = None
    if pinned is not None:
        try:
            comparison = compare_results(result, pinned)
        except ValueError as mismatch:
            comparison = str(mismatch)
        else:
            # The picture of the difference shows colour; the counts include alpha.
            colour_only = np.ascontiguousarray(split_alpha(comparison.difference8)[0])
            comparison = replace(comparison, difference8=colour_only)
    arrays = [result, result8, original8, *channels8, histogram]
    if isinstance(comparison, Comparison):
        arrays.append(comparison.difference8)
    for array in arrays:
        if array is not None:
            array.flags.writeable = False
    seconds = time.perf_counter() - started
    return Rendering(
        recipe,
        view,
        result,
        result8,
        original8,
        channels8,
        channel_names(channels8),
        offset,
        seconds,
        histogram,
        comparison,
    )


def _preview(image: LoadedImage, recipe: Recipe, view: ViewOptions, grid: SampleGrid) -> Preview:
    started = time.perf_counter()
    pixels8 = _viewable(preview_uint8(image.pixels, recipe, grid))
    pixels8.flags.writeable = False
    channels8 = None
    if view.channels_of_result:
        channels8 = _channels(pixels8)
        for array in channels8:
            array.flags.writeable = False
    top, left = recipe.shrink
    offset = (grid.top + top, grid.left + left)
    seconds = time.perf_counter() - started
    return Preview(recipe, pixels8, offset, grid.step, False, seconds, channels8)


def _histogram(pixels8: np.ndarray) -> np.ndarray:
    colour, _alpha = split_alpha(pixels8)
    planes = [colour] if colour.ndim == 2 else [colour[..., c] for c in range(3)]
    return np.stack([np.bincount(plane.ravel(), minlength=256) for plane in planes])


class Controller(QObject):
    """State of one Kernel Studio window and the jobs computing its pictures.

    Signals
    -------
    imageLoaded(LoadedImage)
        A new image replaced the current one.
    stateChanged(State)
        The recipe, a view option or the selected stage changed (before the
        result is computed). Every panel updates itself from it.
    resultReady(numpy.ndarray)
        The float32 result of the latest request (emitted on the GUI thread).
    renderingReady(Rendering)
        The same result with its 8-bit views, emitted right after ``resultReady``.
    previewReady(Preview)
        The pixels the view shows (:meth:`set_viewport`) of the latest edit's
        result are exact: a :class:`Preview` of them computed first on a large
        image, or the whole result's picture, just before ``renderingReady``.
    failed(str)
        Something went wrong; the text is for the person. The state is unchanged.
    saved(str)
        An export finished; the text names the file.
    notice(str)
        Something to tell the person that is no failure (an export waiting for
        the whole result).
    busyChanged(bool)
        Work has been running for longer than :data:`BUSY_DELAY_MS`, or stopped.
    """

    imageLoaded = Signal(object)
    stateChanged = Signal(object)
    resultReady = Signal(object)
    renderingReady = Signal(object)
    previewReady = Signal(object)
    failed = Signal(str)
    saved = Signal(str)
    notice = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        # Previews run on their own thread: they never wait behind whole results.
        self._preview_pool = QThreadPool(self)
        self._preview_pool.setMaxThreadCount(1)
        self._viewport: tuple[tuple[float, float, float, float], tuple[int, int]] | None = None
        self._previewing: Task | None = None
        self._preview_waiting: tuple[int, Recipe, ViewOptions, SampleGrid] | None = None
        self._whole_wanted = False  # the latest request's whole result is still to start
        self._whole_for = 0  # the request whose whole result arrived last
        self._shown_for = 0  # the request whose on-screen pixels are exact
        self._cancel = threading.Event()
        self._after_whole: list[Callable[[], None]] = []
        self._image: LoadedImage | None = None
        self._recipe = Recipe((Stage(np.eye(1)),))
        self._view = ViewOptions()
        self._selected = 0
        self._rendering: Rendering | None = None
        self._pinned: Rendering | None = None
        self._requests = 0
        self._running: Task | None = None
        self._waiting: tuple[Recipe, ViewOptions] | None = None
        self._loads = 0
        self._serial = 0
        self._background: dict[int, Task] = {}
        self._closing = False
        self._busy = False
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._set_busy)

    # State ---------------------------------------------------------------

    @property
    def image(self) -> LoadedImage | None:
        """The current image, or ``None`` before the first load."""
        return self._image

    @property
    def recipe(self) -> Recipe:
        """The kernel and options of the latest request."""
        return self._recipe

    @property
    def selected(self) -> int:
        """The index of the stage being edited."""
        return self._selected

    @property
    def stage(self) -> Stage:
        """The stage being edited (see :meth:`select`)."""
        return self._recipe.stages[self._selected]

    @property
    def view(self) -> ViewOptions:
        """What the views show besides the result."""
        return self._view

    @property
    def state(self) -> State:
        """The recipe, view options and selected stage, as ``stateChanged`` carries them."""
        return State(self._recipe, self._view, self._selected)

    def select(self, index: int) -> None:
        """Edit stage `index` from now on (the result does not change).

        Raises
        ------
        ValueError
            When the recipe has no stage `index`.
        """
        if type(index) is not int or not 0 <= index < len(self._recipe.stages):
            raise ValueError(f"there is no stage {index!r}")
        if index != self._selected:
            self._selected = index
            self.stateChanged.emit(self.state)

    @property
    def rendering(self) -> Rendering | None:
        """The latest finished computation, or ``None``."""
        return self._rendering

    @property
    def is_idle(self) -> bool:
        """Whether no convolution (whole result or preview) is running or waiting."""
        return (
            self._running is None
            and self._waiting is None
            and self._previewing is None
            and self._preview_waiting is None
            and not self._whole_wanted
        )

    @property
    def whole_pending(self) -> bool:
        """Whether the latest edit's whole result is still on its way."""
        return self._image is not None and self._whole_for != self._requests

    @property
    def preview_pending(self) -> bool:
        """Whether the pixels on screen are not yet those of the latest edit."""
        return self._image is not None and self._shown_for != self._requests

    def set_viewport(
        self, region: tuple[float, float, float, float], screen: tuple[int, int]
    ) -> None:
        """Say which part of the image the result view shows, and on how many screen pixels.

        Parameters
        ----------
        region : tuple of float
            ``(top, left, bottom, right)`` in image pixels.
        screen : tuple of int
            The view's height and width in screen pixels.

        On a large image, each edit computes these pixels first
        (``previewReady``), then the whole result. Moving the view while the
        whole result is on its way computes the newly shown pixels the same way.
        """
        viewport = (tuple(float(value) for value in region), (int(screen[0]), int(screen[1])))
        if viewport == self._viewport:
            return
        self._viewport = viewport
        if self._image is None or self._closing or not self.whole_pending:
            return
        grid = self._preview_grid(self._recipe)
        if grid is not None:
            self._queue_preview(self._requests, self._recipe, self._view, grid)

    def update(self, **changes: object) -> None:
        """Change the kernel, an option or a view option, and recompute what changed.

        Parameters
        ----------
        **changes
            ``recipe`` (a whole :class:`~kernelstudio.pipeline.Recipe`), fields of
            the selected stage (:data:`STAGE_FIELDS`), options of the recipe
            (:data:`RECIPE_FIELDS`), or of :class:`ViewOptions`. A new recipe
            with fewer stages moves the selection to its last stage.

        Raises
        ------
        ValueError
            For unusable weights, divisor or offset, an unknown option value or
            field; the state is then unchanged.
        """
        unknown = set(changes) - {"recipe", *STAGE_FIELDS, *RECIPE_FIELDS, *VIEW_FIELDS}
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        recipe = changes.get("recipe", self._recipe)
        if not isinstance(recipe, Recipe):
            raise ValueError(f"{type(recipe).__name__} is not a recipe")
        selected = min(self._selected, len(recipe.stages) - 1)
        stage_changes = {key: changes[key] for key in STAGE_FIELDS if key in changes}
        if stage_changes:
            recipe = recipe.with_stage(selected, replace(recipe.stages[selected], **stage_changes))
        recipe_changes = {key: changes[key] for key in RECIPE_FIELDS if key in changes}
        if recipe_changes:
            recipe = replace(recipe, **recipe_changes)
        view_changes = {key: bool(changes[key]) for key in VIEW_FIELDS if key in changes}
        view = replace(self._view, **view_changes)
        changed = (recipe, view, selected) != (self._recipe, self._view, self._selected)
        self._recipe, self._view, self._selected = recipe, view, selected
        # The panels show the new state before the job starts: starting it first
        # was measured slower (the panels' Python work and the job share the GIL).
        if changed:
            self.stateChanged.emit(self.state)
        if set(changes) == {"histogram"}:
            self._update_histogram()  # the result itself does not change
        else:
            self._request()

    # Loading ---------------------------------------------------------------

    def load_path(self, path: str | Path) -> None:
        """Decode `path` on a worker; on success it becomes the current image."""
        path = Path(path)
        self._loads += 1
        self._start("load", lambda: _load(path), self._loaded(self._loads))

    def load_pixels(self, pixels: np.ndarray, name: str) -> None:
        """Use `pixels` (grey, RGB, or either with alpha, e.g. from the clipboard) as the image."""
        pixels = np.array(pixels)
        self.load_from(lambda: pixels, name)

    def load_from(self, produce: Callable[[], np.ndarray], name: str) -> None:
        """Call `produce` on a worker and use the pixels it returns as the image.

        `produce` must build new arrays and touch no widget (for instance: read
        a file, then resize it).
        """
        self._loads += 1
        self._start("load", lambda: _prepare(produce(), name, None), self._loaded(self._loads))

    def use_image(self, image: LoadedImage) -> None:
        """Make `image`, loaded before, the current image at once (no decoding).

        A load still running is dropped: this is the newer request.
        """
        self._loads += 1
        self._loaded(self._loads)(image, None)

    # Comparing -------------------------------------------------------------

    @property
    def pinned(self) -> Rendering | None:
        """The result pinned for comparison, or ``None``."""
        return self._pinned

    def pin_result(self) -> None:
        """Keep the current result; later results come with their difference to it.

        Loading another image ends the comparison.
        """
        if self._require_rendering("pin") is None:
            return
        self._pinned = self._rendering
        self._request()

    def unpin_result(self) -> None:
        """Stop comparing."""
        self._pinned = None
        self._request()

    # Exporting -------------------------------------------------------------

    def export_result(self, path: str | Path, *, exact: bool = False) -> None:
        """Save the latest result: 8-bit as shown, or float32 TIFF when `exact`.

        While the whole result is on its way (a preview is shown), the export
        waits for it.
        """
        if self._wait_for_whole(lambda: self.export_result(path, exact=exact)):
            return
        rendering = self._require_rendering()
        if rendering is None:
            return
        pixels = rendering.result if exact else rendering.result8
        self._export(Path(path), lambda target: save_image(target, pixels))

    def export_views(self, path: str | Path) -> None:
        """Save the original, the result and the channels as one captioned picture.

        A panel beside them lists the recipe's kernels, divisors and offsets.
        It waits for the whole result as :meth:`export_result` does.
        """
        if self._wait_for_whole(lambda: self.export_views(path)):
            return
        rendering = self._require_rendering()
        if rendering is None or self._image is None:
            return
        panels = (rendering.original8, rendering.result8, *rendering.channels8)
        of = "result" if rendering.view.channels_of_result else "original"
        captions = (
            f"Original — {self._image.name}",
            "Result",
            *(f"{name} ({of})" for name in rendering.channel_names),
        )
        stages = list(rendering.recipe.stages)
        kernel = stages[0] if len(stages) == 1 else stages

        def write(target: Path) -> None:
            save_image(target, montage(panels, captions=captions, kernel=kernel))

        self._export(Path(path), write)

    def export_kernel(self, path: str | Path, name: str) -> None:
        """Save the kernel of the edited stage as a kernel JSON file."""
        stage = self.stage
        kernel = Kernel(name, np.array(stage.weights), stage.divisor, stage.offset)
        self._export(Path(path), lambda target: write_kernel_file(target, kernel))

    def export_recipe(self, path: str | Path) -> None:
        """Save the whole recipe (every stage and option) as a recipe file."""
        recipe = self._recipe
        self._export(Path(path), lambda target: write_recipe_file(target, recipe))

    def shutdown(self) -> None:
        """Drop the waiting render and wait for started work, exports included.

        Queued exports and loads still run, so nothing a person asked to save
        is lost; only their messages are dropped. Exports waiting for the whole
        result of the latest edit wait for it here.
        """
        # Exports waiting for the latest edit's whole result still get it.
        for _round in range(8):
            if not self._after_whole or self.is_idle:
                break
            if self._whole_wanted and self._previewing is None:
                self._whole_wanted = False
                self._queue_whole()
            self._preview_pool.waitForDone()
            self._pool.waitForDone()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall)
        self._closing = True
        self._waiting = None
        self._preview_waiting = None
        self._whole_wanted = False
        self._cancel.set()
        self._busy_timer.stop()
        self._preview_pool.waitForDone()
        self._pool.waitForDone()
        self._busy = False

    # Internals -------------------------------------------------------------

    def _wait_for_whole(self, then: Callable[[], None]) -> bool:
        # Whether `then` was put off until the latest edit's whole result is here.
        if self._closing or not self.whole_pending or self._rendering is None:
            return False
        self._after_whole.append(then)
        self.notice.emit("Saving once the whole result is computed…")
        return True

    def _require_rendering(self, purpose: str = "export") -> Rendering | None:
        if self._rendering is None:
            self.failed.emit(f"There is no result to {purpose} yet.")
        return self._rendering

    def _update_histogram(self) -> None:
        rendering = self._rendering
        if rendering is None or self._closing:
            return
        if not self._view.histogram:
            if rendering.histogram is not None:
                self._rendering = replace(
                    rendering, histogram=None, view=replace(rendering.view, histogram=False)
                )
                self.renderingReady.emit(self._rendering)
            return
        if rendering.histogram is None:
            pixels8 = rendering.result8
            self._start(
                "histogram",
                lambda: _histogram(pixels8),
                lambda counts, _error: self._on_histogram(rendering, counts),
            )

    def _on_histogram(self, rendering: Rendering, counts: np.ndarray | None) -> None:
        if counts is None or rendering is not self._rendering or not self._view.histogram:
            return
        counts.flags.writeable = False
        self._rendering = replace(
            rendering, histogram=counts, view=replace(rendering.view, histogram=True)
        )
        self.renderingReady.emit(self._rendering)

    def _export(self, path: Path, write: Callable[[Path], None]) -> None:
        self._start(
            "export", lambda: write(path), lambda _value, error: self._on_exported(path, error)
        )

    def _request(self) -> None:
        if self._image is None or self._closing:
            return
        self._requests += 1
        grid = self._preview_grid(self._recipe)
        if grid is None:
            self._whole_wanted = False
            self._queue_whole()
            return
        # The running whole result is of an older edit: it stops between bands,
        # and the new one starts once the preview is shown.
        self._cancel.set()
        self._waiting = None
        self._whole_wanted = True
        self._queue_preview(self._requests, self._recipe, self._view, grid)

    def _preview_grid(self, recipe: Recipe) -> SampleGrid | None:
        # The pixels to compute first, or None when the whole result comes first.
        image, viewport = self._image, self._viewport
        if image is None or viewport is None or recipe.display in ("normalize", "signed"):
            return None
        if not previewable(image.pixels, recipe):  # reads the shape and dtype only
            return None
        height, width = image.pixels.shape[:2]
        top, left = recipe.shrink
        size = (height - 2 * top, width - 2 * left)
        if size[0] * size[1] < PREVIEW_MIN_PIXELS:
            return None
        (region_top, region_left, bottom, right), screen = viewport
        region = (region_top - top, region_left - left, bottom - top, right - left)
        grid = sample_grid(size, region, screen)
        if grid is None:
            return None
        share = sampling_share(image.pixels.shape[:2], recipe, grid.rows, grid.columns)
        return grid if share * PREVIEW_MIN_SAVING <= 1 else None

    def _queue_preview(
        self, ident: int, recipe: Recipe, view: ViewOptions, grid: SampleGrid
    ) -> None:
        if self._previewing is not None:
            self._preview_waiting = (ident, recipe, view, grid)
            return
        image = self._image
        self._previewing = self._start(
            "preview",
            lambda: _preview(image, recipe, view, grid),
            lambda preview, error: self._on_preview(ident, preview, error),
            pool=self._preview_pool,
        )

    def _on_preview(self, ident: int, preview: Preview | None, error: Exception | None) -> None:
        if self._preview_waiting is not None:
            waiting, self._preview_waiting = self._preview_waiting, None
            self._queue_preview(*waiting)
        if ident == self._requests and self._whole_for != ident and error is None:
            self._shown_for = ident
            log.info(
                "previewed %s samples, one per %d pixels, in %.1f ms",
                "×".join(map(str, preview.pixels8.shape[:2])),
                preview.step,
                preview.seconds * 1000,
            )
            self.previewReady.emit(preview)
        if self._whole_wanted and self._preview_waiting is None:
            self._whole_wanted = False
            self._queue_whole()

    def _queue_whole(self) -> None:
        if self._running is None:
            self._run((self._recipe, self._view))
        else:
            self._waiting = (self._recipe, self._view)

    def _run(self, request: tuple[Recipe, ViewOptions]) -> None:
        image = self._image
        recipe, view = request
        pinned = self._pinned.result if self._pinned is not None else None
        request = self._requests
        self._cancel = cancel = threading.Event()
        self._running = self._start(
            "render",
            lambda: _render(image, recipe, view, pinned, cancel),
            lambda rendering, error: self._on_rendered(request, rendering, error),
        )

    def _start(
        self,
        job: str,
        function: Callable[[], object],
        on_done: Callable[[object, Exception | None], None],
        pool: QThreadPool | None = None,
    ) -> Task:
        """Run `function` on a pool; `on_done(value, error)` hears of it on the GUI thread.

        `pool` is the controller's own unless given.

        `job` names the work in the log. Once the controller is closing,
        `on_done` is no longer called.
        """
        self._serial += 1
        task = Task(function, tag=(self._serial, job, on_done))
        task.signals.done.connect(self._on_done)
        self._background[self._serial] = task
        task.start_on(self._pool if pool is None else pool)
        if not self._busy_timer.isActive() and not self._busy:
            self._busy_timer.start()
        return task

    def _on_done(self, tag: tuple, value: object, error: Exception | None) -> None:
        serial, job, on_done = tag
        task = self._background.pop(serial, None)
        if task is self._running:
            self._running = None
        if task is self._previewing:
            self._previewing = None
        if isinstance(error, CancelledError):
            log.debug("%s cancelled: a newer edit replaced it", job)
        elif error is not None:
            _log_failure(job, error)
        if self._closing:
            return
        on_done(value, error)
        if not self._background:
            self._busy_timer.stop()
            if self._busy:
                self._busy = False
                self.busyChanged.emit(False)

    def _on_rendered(self, ident: int, rendering: Rendering | None, error: Exception | None):
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._run(waiting)
        if ident != self._requests or isinstance(error, CancelledError):
            return
        if error is not None:
            # The state stays what it was: nothing waits for this result any more.
            self._whole_for = self._shown_for = ident
            self._after_whole.clear()
            self.failed.emit(_describe(error, "Could not compute the result"))
            return
        self._rendering = rendering
        recipe = rendering.recipe
        shapes = ["×".join(map(str, stage.weights.shape)) for stage in recipe.active_stages]
        log.info(
            "computed %s with %s, border %s%s%s, in %.1f ms",
            "×".join(map(str, rendering.result.shape)),
            f"a {shapes[0]} kernel" if len(shapes) == 1 else f"{' then '.join(shapes)} kernels",
            recipe.border,
            ", flipped" if recipe.flip else "",
            ", grey" if recipe.grey else "",
            rendering.seconds * 1000,
        )
        self._whole_for = self._shown_for = ident
        self.resultReady.emit(rendering.result)
        whole = Preview(recipe, rendering.result8, rendering.offset, 1, True, rendering.seconds)
        self.previewReady.emit(whole)
        self.renderingReady.emit(rendering)
        waiting, self._after_whole = self._after_whole, []
        for then in waiting:
            then()

    def _loaded(self, ident: int) -> Callable[[LoadedImage | None, Exception | None], None]:
        return lambda image, error: self._on_loaded(ident, image, error)

    def _on_loaded(self, ident: int, image: LoadedImage | None, error: Exception | None):
        if ident != self._loads:
            return
        if error is not None:
            self.failed.emit(_describe(error, "Could not open the image"))
            return
        log.info("loaded %s (%s, %s)", image.name, image.pixels.shape, image.pixels.dtype)
        self._image = image
        self._rendering = None
        self._pinned = None  # a result of another image says nothing about this one
        self.imageLoaded.emit(image)
        self._request()

    def _on_exported(self, path: Path, error: Exception | None) -> None:
        if error is not None:
            self.failed.emit(_describe(error, f"Could not save '{path.name}'"))
            return
        log.info("saved %s", path)
        self.saved.emit(f"Saved {path.name}")

    def _set_busy(self) -> None:
        if self._background and not self._busy:
            self._busy = True
            self.busyChanged.emit(True)


_EXPECTED_FAILURES = (ImageLoadError, ImageSaveError, KernelFileError, ValueError, MemoryError)


def _log_failure(kind: str, error: Exception) -> None:
    # Bad files and impossible settings are part of normal use: one line. Anything
    # else is a bug, logged with its traceback for the report.
    if isinstance(error, _EXPECTED_FAILURES):
        log.warning("%s failed: %s", kind, str(error))  # text: a record keeps no exception
    else:
        log.error("%s failed unexpectedly", kind, exc_info=error)


def _describe(error: Exception, context: str) -> str:
    if isinstance(error, ImageLoadError | ImageSaveError | KernelFileError):
        return str(error)
    if isinstance(error, MemoryError):
        return f"{context}: not enough memory."
    if isinstance(error, ValueError):
        return f"{context}: {error}."
    return f"{context}: {type(error).__name__}: {error}"
