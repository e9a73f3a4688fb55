"""The pixel inspector: the pixel under the pointer or the one chosen, explained.

It listens to the views (hover, leave, click, arrow keys) and to the controller
(a new rendering, a new image), keeps the hovered and the chosen pixel, fills
the :class:`~kernelstudio.app.pixel_explainer.PixelExplainer`, outlines the
recipe's footprint on the views and says what is under the pointer in one line
for the status bar.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from kernelstudio.app.controller import Controller, LoadedImage, Rendering
from kernelstudio.app.image_views import ImageViews
from kernelstudio.app.pixel_explainer import PixelExplainer
from kernelstudio.explain import explain_recipe_pixel
from kernelstudio.pipeline import Recipe

PROMPT = "Point at a pixel of any view; click to keep it."
"""What the Pixel panel says while no pixel is explained."""


def footprint(recipe: Recipe) -> tuple[int, int]:
    """Return the height and width of the image patch one result pixel depends on.

    It is the size of the enabled stages' equivalent kernel: each stage widens
    the patch by its kernel's size less one.

    Examples
    --------
    >>> from kernelstudio.pipeline import Stage
    >>> footprint(Recipe((Stage(np.ones((3, 3))), Stage(np.ones((5, 1))))))
    (7, 3)
    """
    stages = recipe.active_stages
    return (
        sum(stage.weights.shape[0] - 1 for stage in stages) + 1,
        sum(stage.weights.shape[1] - 1 for stage in stages) + 1,
    )


def format_pixel(value: np.ndarray | np.generic) -> str:
    """Write one pixel's values as the status bar shows them.

    Examples
    --------
    >>> format_pixel(np.array([131, 90, 20], np.uint8))
    '(131, 90, 20)'
    >>> format_pixel(np.float32(87.53125))
    '87.5312'
    """
    values = np.atleast_1d(value)
    if values.dtype.kind == "f":
        text = ", ".join(f"{v:.6g}" for v in values)
    else:
        text = ", ".join(str(v) for v in values)
    return f"({text})" if values.size > 1 else text


class PixelInspector(QObject):
    """Explain the hovered or chosen pixel, and keep the explanation current.

    Parameters
    ----------
    controller : Controller
        Where the image and the latest rendering come from.
    views : ImageViews
        Where the pointer is, and where the footprint is outlined.
    explainer : PixelExplainer
        The panel that shows the explanation.

    Signals
    -------
    readoutChanged(str)
        The status-bar line for the pixel under the pointer, such as
        ``x 12, y 40 · original (131, 90, 20) → result (87.5, …) → shown (88, …)``;
        empty when the pointer left the images.
    wantsPanel()
        A click chose a pixel: the Pixel panel should come forward.
    """

    readoutChanged = Signal(str)
    wantsPanel = Signal()

    def __init__(
        self,
        controller: Controller,
        views: ImageViews,
        explainer: PixelExplainer,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._views = views
        self._explainer = explainer
        self._hovered: tuple[int, int] | None = None
        self._chosen: tuple[int, int] | None = None
        views.hovered.connect(self._on_hovered)
        views.left.connect(self._on_left)
        views.clicked.connect(self._on_clicked)
        views.stepped.connect(self._on_stepped)
        explainer.channelChanged.connect(lambda _channel: self._explain_current())
        controller.renderingReady.connect(self._on_rendering)
        controller.imageLoaded.connect(self._on_image_loaded)

    @property
    def chosen(self) -> tuple[int, int] | None:
        """The (row, column) kept by a click or :meth:`choose_pixel`, or ``None``."""
        return self._chosen

    @property
    def hovered(self) -> tuple[int, int] | None:
        """The (row, column) under the pointer, or ``None``."""
        return self._hovered

    def choose_pixel(self, row: int, column: int) -> None:
        """Explain the pixel at image position (row, column) until another is chosen.

        A position outside the image shows a note and keeps the previous choice.
        """
        if not self._inside(row, column):
            self._explainer.show_note(f"There is no pixel at x {column!r}, y {row!r}.")
            return
        self._chosen = (int(row), int(column))
        self._explain(*self._chosen)

    # Views ----------------------------------------------------------------

    def _on_hovered(self, _view: str, row: int, column: int) -> None:
        if not self._inside(row, column):
            return
        self._hovered = (row, column)
        if self._chosen is None:
            self._explain(row, column)
        self.readoutChanged.emit(self._readout(row, column))

    def _on_left(self) -> None:
        self._hovered = None
        self.readoutChanged.emit("")
        if self._chosen is None:
            self._views.hide_outline()

    def _on_clicked(self, _view: str, row: int, column: int) -> None:
        if not self._inside(row, column):
            return
        self._chosen = None if self._chosen == (row, column) else (row, column)
        if self._chosen is not None:
            self.wantsPanel.emit()
        self._explain(row, column)

    def _on_stepped(self, rows: int, columns: int) -> None:
        image = self._controller.image
        start = self._chosen or self._hovered
        if image is None or start is None:
            return
        height, width = image.pixels.shape[:2]
        row = min(max(start[0] + rows, 0), height - 1)
        column = min(max(start[1] + columns, 0), width - 1)
        self._chosen = (row, column)
        self._explain(row, column)

    # Controller -------------------------------------------------------------

    def _on_rendering(self, rendering: Rendering) -> None:
        # The channels on offer are the result's, whether or not a pixel is explained.
        self._explainer.set_channel_count(_channel_count(rendering.result))
        self._explain_current()
        if self._hovered is not None:
            self.readoutChanged.emit(self._readout(*self._hovered))

    def _on_image_loaded(self, _image: LoadedImage) -> None:
        # Pixels of the previous image mean nothing on this one.
        self._chosen = self._hovered = None
        self._views.hide_outline()
        self._explainer.show_note(PROMPT)
        self.readoutChanged.emit("")

    # Explaining ---------------------------------------------------------------

    def _inside(self, row: object, column: object) -> bool:
        image = self._controller.image
        whole = (int, np.integer)
        if image is None or not all(
            isinstance(n, whole) and not isinstance(n, bool) for n in (row, column)
        ):
            return False
        height, width = image.pixels.shape[:2]
        return 0 <= row < height and 0 <= column < width

    def _explain_current(self) -> None:
        pixel = self._chosen or self._hovered
        if pixel is not None:
            self._explain(*pixel)

    def _explain(self, row: int, column: int) -> None:
        rendering = self._controller.rendering
        image = self._controller.image
        if rendering is None or image is None:
            return
        self._views.outline(row, column, *footprint(rendering.recipe))
        result = rendering.result
        self._explainer.set_channel_count(_channel_count(result))
        out_row, out_column = row - rendering.offset[0], column - rendering.offset[1]
        height, width = result.shape[:2]
        if not (0 <= out_row < height and 0 <= out_column < width):
            self._explainer.show_note(
                f"Pixel x {column}, y {row} has no result: the 'valid' border leaves out "
                "the pixels the kernel cannot cover."
            )
            return
        multichannel = result.ndim == 3
        try:
            explanation = explain_recipe_pixel(
                image.pixels,
                rendering.recipe,
                out_row,
                out_column,
                channel=self._explainer.channel if multichannel else 0,
                result=result,
            )
        except ValueError as error:  # e.g. an image and rendering from different loads
            self._explainer.show_note(f"Pixel x {column}, y {row} cannot be explained: {error}.")
            return
        channel = f", {self._explainer.channel_name.lower()}" if multichannel else ""
        kept = " (kept; click it again to follow the pointer)" if self._chosen else ""
        self._explainer.show_explanation(explanation, f"Pixel x {column}, y {row}{channel}{kept}")

    def _readout(self, row: int, column: int) -> str:
        image = self._controller.image
        parts = [f"x {column}, y {row}", f"original {format_pixel(image.pixels[row, column])}"]
        rendering = self._controller.rendering
        if rendering is None:
            return " · ".join(parts)
        result_row, result_column = row - rendering.offset[0], column - rendering.offset[1]
        height, width = rendering.result.shape[:2]
        if not (0 <= result_row < height and 0 <= result_column < width):
            parts.append("result — (outside the 'valid' area)")
            return " · ".join(parts)
        value = rendering.result[result_row, result_column]
        shown = rendering.result8[result_row, result_column]
        if _channel_count(rendering.result) == 2 and np.ndim(shown) == 1 and shown.size == 4:
            shown = shown[[0, 3]]  # grey+alpha is shown as RGBA: the grey and the alpha
        parts[-1] += f" → result {format_pixel(value)} → shown {format_pixel(shown)}"
        return " · ".join(parts)


def _channel_count(result: np.ndarray) -> int:
    return 1 if result.ndim == 2 else result.shape[2]
