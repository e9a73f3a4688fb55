"""The image area: original and result side by side, split, or compared; channels below.

Every view uses one coordinate system (image pixels) and shows the same region,
so a 'valid' result that is smaller than the image sits exactly over the pixels
it was computed from, whatever the mode.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QResizeEvent, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.app.magnifier import NumberLayer, PixelNumbers
from kernelstudio.compare import Comparison
from kernelstudio.preview import SampleGrid, sample_grid

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

MODES: tuple[str, ...] = ("side", "split", "compare")
"""How the top of the image area is used: original | result, one split view, pinned | diff."""

PANELS: tuple[str, ...] = (
    "original",
    "result",
    "split",
    "pinned",
    "difference",
    "red",
    "green",
    "blue",
    "grey",
)
"""Names of the views."""

SOURCES: tuple[str, ...] = (
    "original",
    "result",
    "pinned",
    "difference",
    "red",
    "green",
    "blue",
    "grey",
)
"""Names :meth:`ImageViews.set_image` accepts: the images the views show."""

SAMPLED_FROM_PIXELS = 4_000_000
"""Images larger than this are shown as the pixels each view samples (about one per
screen pixel, taken again as the view moves): Qt is never handed the whole array,
whose conversion would hold the GUI thread for a tenth of a second per 30 MP."""

FIT_MARGIN = 0.01
"""Room left on each side of a fitted image, as a fraction of its size in that direction."""

INVITATION = "Pin a result (Ctrl+P), then change the kernel: the difference shows what it did."
"""What the compare mode says before anything is pinned."""

_TOP_PANELS = {
    "side": ("original", "result"),
    "split": ("split",),
    "compare": ("pinned", "difference"),
}
_TITLES = {
    "original": "Original",
    "result": "Result",
    "split": "Original | Result",
    "pinned": "Pinned",
    "difference": "Difference |current − pinned|",
    "red": "Red",
    "green": "Green",
    "blue": "Blue",
    "grey": "Grey",
}
# A layer is one image item; the split view holds two, every other view one.
# Each layer shows one source and lives in one panel.
_LAYERS = {
    "original": ("original", "original"),
    "result": ("result", "result"),
    "split_original": ("split", "original"),
    "split": ("split", "result"),
    "pinned": ("pinned", "pinned"),
    "difference": ("difference", "difference"),
    "red": ("red", "red"),
    "green": ("green", "green"),
    "blue": ("blue", "blue"),
    "grey": ("grey", "grey"),
}
_NUMBER_PANELS = ("original", "result", "split")
_ARROWS = {
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
}
_BACKGROUND = "#202124"
_CHECKER_SQUARE = 8  # screen pixels


def _checkerboard_brush() -> QBrush:
    tile = QPixmap(2 * _CHECKER_SQUARE, 2 * _CHECKER_SQUARE)
    tile.fill(QColor("#cccccc"))
    painter = QPainter(tile)
    dark = QColor("#999999")
    painter.fillRect(0, 0, _CHECKER_SQUARE, _CHECKER_SQUARE, dark)
    painter.fillRect(_CHECKER_SQUARE, _CHECKER_SQUARE, _CHECKER_SQUARE, _CHECKER_SQUARE, dark)
    painter.end()
    return QBrush(tile)


def _grid_key(grid: SampleGrid | None) -> tuple | None:
    return None if grid is None else (grid.step, grid.top, grid.left, grid.shape)


def _has_transparency(pixels8: np.ndarray) -> bool:
    return pixels8.ndim == 3 and pixels8.shape[2] == 4 and bool((pixels8[..., 3] < 255).any())


class _ElidedLabel(QLabel):
    """A one-line caption that elides to its width and tells the whole text in a tooltip."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full_text = ""
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.set_full_text(text)

    def full_text(self) -> str:
        return self._full_text

    def set_full_text(self, text: str) -> None:
        self._full_text = text
        self._elide()

    @qt_virtual()
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full_text, Qt.TextElideMode.ElideMiddle, max(self.width(), 1)
        )
        self.setText(shown)
        self.setToolTip(self._full_text if shown != self._full_text else "")


class _Panel(QWidget):
    """A caption above one pyqtgraph view with a locked aspect ratio."""

    def __init__(self, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"panel_{name}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.title = _ElidedLabel(_TITLES[name], self)
        self.title.setObjectName(f"title_{name}")
        self.canvas = pg.GraphicsView(self, background=_BACKGROUND)
        self.canvas.setObjectName(f"view_{name}")
        self.canvas.setAccessibleName(f"{_TITLES[name]} image")
        self.canvas.setAcceptDrops(False)
        self.canvas.viewport().setAcceptDrops(False)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.canvas.setCentralItem(self.view)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas, 1)


class _Layer:
    """One image item, the checkerboard behind it and the clip that holds both."""

    def __init__(self, view: pg.ViewBox, brush: QBrush, clipped: bool) -> None:
        # Children of a rectangle that clips them in the split view, so that it
        # can show part of each of its two layers.
        self.clip = QGraphicsRectItem()
        self.clip.setPen(Qt.PenStyle.NoPen)
        self.clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, clipped)
        view.addItem(self.clip, ignoreBounds=True)
        self.checkerboard = QGraphicsRectItem(self.clip)
        self.checkerboard.setPen(Qt.PenStyle.NoPen)
        self.checkerboard.setBrush(brush)
        self.checkerboard.hide()
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setParentItem(self.clip)
        self.shows: tuple[np.ndarray, tuple[int, int]] | None = None


class ImageViews(QWidget):
    """The image area: two views (or one split view) on top, the channels below.

    Modes (:meth:`set_mode`): ``"side"`` shows original | result, ``"split"``
    one view with the original left of a draggable divider and the result
    right of it, ``"compare"`` the pinned result | ``|current − pinned|``.
    Zoomed in to :data:`~kernelstudio.app.magnifier.SMALLEST_PIXEL` screen
    pixels per image pixel, the original, result and split views print each
    pixel's value on it (:meth:`set_values`).

    Signals
    -------
    hovered(str, int, int)
        The pointer is over pixel (row, column) of the named view.
    left()
        The pointer left every image.
    clicked(str, int, int)
        A pixel (row, column) of the named view was clicked.
    stepped(int, int)
        An arrow key asked to move the chosen pixel by (rows, columns).
    regionChanged()
        The part of the image shown changed (zoom, pan, fit).
    viewportChanged()
        The part shown, or the size of the view showing the result, changed
        (see :meth:`viewport`).
    modeChanged(str)
        The mode changed.
    channelsVisibleChanged(bool)
        The channel strip was shown (True) or collapsed (False).
    """

    hovered = Signal(str, int, int)
    left = Signal()
    clicked = Signal(str, int, int)
    stepped = Signal(int, int)
    regionChanged = Signal()
    viewportChanged = Signal()
    modeChanged = Signal(str)
    channelsVisibleChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(False)
        self.setObjectName("imageViews")
        self.setStyleSheet(
            f"#imageViews {{ background: {_BACKGROUND}; }} "
            "QLabel { color: #e8eaed; } "
            "QToolButton { color: #e8eaed; background: transparent; border: none; padding: 2px; }"
            "QToolButton:hover { background: #3c4043; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._mode = "side"
        self._channel_names: tuple[str, ...] = ("red", "green", "blue")
        self._shape: tuple[int, int] | None = None
        self._region: QRectF | None = None
        self._split_position = 0.0
        self._shown: dict[str, tuple[np.ndarray, tuple[int, int]]] = {}
        self._steps: dict[str, int] = {}
        self._values: dict[str, tuple[np.ndarray, tuple[int, int]]] = {}
        self._brush = _checkerboard_brush()

        self.summary = QLabel(INVITATION, self)
        self.summary.setObjectName("compareSummary")
        self.summary.setAccessibleName("Comparison summary")
        self.summary.setToolTip("What changed between the pinned result and the current one")
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self._panels = {name: _Panel(name, self) for name in PANELS}
        self.views: dict[str, pg.ViewBox] = {name: p.view for name, p in self._panels.items()}
        self._layers = {
            key: _Layer(self.views[panel], self._brush, clipped=panel == "split")
            for key, (panel, _) in _LAYERS.items()
        }
        self.items: dict[str, pg.ImageItem] = {
            key: layer.item for key, layer in self._layers.items()
        }
        # The checkerboard behind each image item, shown only under transparency.
        self.checkerboards: dict[str, QGraphicsRectItem] = {
            key: layer.checkerboard for key, layer in self._layers.items()
        }
        self._numbers = {name: PixelNumbers(self.views[name]) for name in _NUMBER_PANELS}
        self.divider = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen("#ffd54f", width=2), hoverPen="#fff59d"
        )
        self.divider.setToolTip("Drag to move the line between the original and the result")
        self.divider.setZValue(30)
        self.views["split"].addItem(self.divider, ignoreBounds=True)
        self.divider.sigPositionChanged.connect(self._on_divider_moved)

        self.channels_toggle = QToolButton(self)
        self.channels_toggle.setObjectName("channelsToggle")
        self.channels_toggle.setAccessibleName("Show channels")
        self.channels_toggle.setToolTip("Show or hide each colour channel on its own")
        self.channels_toggle.setCheckable(True)
        self.channels_toggle.setChecked(True)
        self.channels_toggle.setAutoRaise(True)
        self.channels_toggle.toggled.connect(self.set_channels_visible)

        top = QHBoxLayout()
        top.setSpacing(6)
        strip = QHBoxLayout()
        strip.setSpacing(6)
        for name, panel in self._panels.items():
            (strip if name in ("red", "green", "blue", "grey") else top).addWidget(panel, 1)
            self._connect(name, panel)
        self._strip = QWidget(self)
        self._strip.setObjectName("channelStrip")
        self._strip.setLayout(strip)
        strip.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.summary)
        layout.addLayout(top, 2)
        layout.addWidget(self.channels_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        # Top views two thirds of the height, the channels one third; collapsed,
        # the channels give the top views all of it.
        layout.addWidget(self._strip, 1)

        self._patch_outlines = [self._outline(name) for name in ("original", "split")]
        self._pixel_outlines = [
            self._outline(name) for name in ("result", "split", "pinned", "difference")
        ]
        self.patch_outline, self.pixel_outline = self._patch_outlines[0], self._pixel_outlines[0]
        self._show_mode()
        self._update_toggle()

    # --- images -------------------------------------------------------------------

    def set_image(
        self, name: str, pixels8: np.ndarray, offset: tuple[int, int] = (0, 0), step: int = 1
    ) -> None:
        """Show uint8 `pixels8` as image `name` (one of :data:`SOURCES`), top-left at `offset`.

        Each pixel covers ``step × step`` image pixels (a preview's samples;
        see :class:`~kernelstudio.app.controller.Preview`). Showing the very
        array already shown at the same place does nothing, so callers may
        re-send unchanged channels for free.

        Raises
        ------
        ValueError
            If `name` is unknown or `pixels8` is not a uint8 grey, RGB or RGBA image.
        """
        if name not in SOURCES:
            raise ValueError(f"no image is called {name!r}; the names are {', '.join(SOURCES)}")
        shown, shown_offset = self._shown.get(name, (None, None))
        offset = (int(offset[0]), int(offset[1]))
        if shown is pixels8 and shown_offset == offset:
            return
        if not (
            isinstance(pixels8, np.ndarray)
            and pixels8.dtype == np.uint8
            and (pixels8.ndim == 2 or (pixels8.ndim == 3 and pixels8.shape[2] in (3, 4)))
            and pixels8.size > 0
        ):
            raise ValueError(
                f"image {name!r} must be a non-empty uint8 array of shape (h, w), (h, w, 3) "
                f"or (h, w, 4), not {getattr(pixels8, 'dtype', type(pixels8).__name__)} "
                f"{getattr(pixels8, 'shape', '')}"
            )
        self._shown[name] = (pixels8, offset)
        self._steps[name] = max(1, int(step))
        if name == "original":
            shape = pixels8.shape[:2]
            if self._shape != shape:
                self._shape = shape
                self.divider.setBounds((0, shape[1]))
                self.set_split_position(shape[1] / 2)
                self.fit()
        self._refresh(name)

    def shown(self, name: str) -> np.ndarray | None:
        """Return the array image `name` shows, or ``None`` when it is empty."""
        if name in _LAYERS:
            name = _LAYERS[name][1]
        return self._shown.get(name, (None, None))[0]

    def clear_image(self, name: str) -> None:
        """Empty image `name`, e.g. while its content no longer matches the image."""
        self._shown.pop(name, None)
        self._steps.pop(name, None)
        self._values.pop(name, None)
        self._refresh(name)

    def set_title(self, name: str, text: str) -> None:
        """Change the caption above view `name`."""
        self._panels[name].title.set_full_text(text)

    def title(self, name: str) -> str:
        """Return the whole caption above view `name` (shown elided when it does not fit)."""
        return self._panels[name].title.full_text()

    def set_values(self, name: str, values: np.ndarray, offset: tuple[int, int] = (0, 0)) -> None:
        """Give the true values ("original" or "result") printed on magnified pixels.

        Parameters
        ----------
        name : str
            ``"original"`` or ``"result"``; the split view prints both.
        values : numpy.ndarray
            ``(h, w)`` or ``(h, w, channels)``, any real dtype (e.g. the float
            result); until given, a view prints the 8-bit pixels it shows.
        offset : tuple of int
            Image (row, column) of ``values[0, 0]``.
        """
        if name not in ("original", "result"):
            raise ValueError(f"values are printed for 'original' or 'result', not {name!r}")
        values = np.asarray(values)
        if values.ndim not in (2, 3) or not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"values must be a 2-d or 3-d numeric array, not {values.shape}")
        self._values[name] = (values, (int(offset[0]), int(offset[1])))
        self._update_numbers()

    # --- channels -----------------------------------------------------------------

    def set_channels(
        self,
        images: tuple[np.ndarray, ...],
        titles: tuple[str, ...],
        offset: tuple[int, int] = (0, 0),
        step: int = 1,
    ) -> None:
        """Show three channel images (red, green, blue) or one (grey) below the main views.

        Re-sending the arrays already shown does nothing.

        Raises
        ------
        ValueError
            If there are neither one nor three images, or not one title per image.
        """
        if len(images) not in (1, 3) or len(titles) != len(images):
            raise ValueError(
                f"the channel strip shows 1 or 3 images with one title each, "
                f"not {len(images)} images and {len(titles)} titles"
            )
        names = ("grey",) if len(images) == 1 else ("red", "green", "blue")
        for name in set(("red", "green", "blue", "grey")) - set(names):
            self.clear_image(name)
        self._channel_names = names
        for name, image, title in zip(names, images, titles, strict=True):
            self.set_image(name, image, offset, step)
            self.set_title(name, title)
        self._show_mode()

    @property
    def channels_visible(self) -> bool:
        """Whether the channel strip is shown (not collapsed)."""
        return self.channels_toggle.isChecked()

    def set_channels_visible(self, visible: bool) -> None:
        """Show or collapse the channel strip; collapsed, the main views get its height."""
        changed = self._strip.isHidden() == visible
        self.channels_toggle.setChecked(visible)
        self._update_toggle()
        if changed:
            self._show_mode()
            self.channelsVisibleChanged.emit(visible)

    def _update_toggle(self) -> None:
        visible = self.channels_toggle.isChecked()
        self.channels_toggle.setText("▾ Channels" if visible else "▸ Channels")
        self.channels_toggle.setAccessibleName("Hide channels" if visible else "Show channels")

    # --- modes --------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"side"``, ``"split"`` or ``"compare"``."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Use the top of the image area as `mode` (one of :data:`MODES`)."""
        if mode not in MODES:
            raise ValueError(f"no mode is called {mode!r}; the modes are {', '.join(MODES)}")
        if mode == self._mode:
            return
        self._mode = mode
        self._show_mode()
        self.viewportChanged.emit()
        self.modeChanged.emit(mode)

    @property
    def split_position(self) -> float:
        """The image x of the split view's divider: original left of it, result right."""
        return self._split_position

    def set_split_position(self, x: float) -> None:
        """Move the split view's divider to image x `x` (kept within the image)."""
        width = self._shape[1] if self._shape else 0
        x = min(max(float(x), 0.0), float(width)) if math.isfinite(x) else width / 2
        if x != self.divider.value():
            self.divider.setValue(x)  # calls _on_divider_moved
        else:
            self._on_divider_moved()

    def show_comparison(
        self,
        pinned8: np.ndarray,
        comparison: Comparison | str,
        offset: tuple[int, int] = (0, 0),
    ) -> None:
        """Show the pinned result and its comparison with the current one (or why there is none).

        Parameters
        ----------
        pinned8 : numpy.ndarray
            The pinned result as shown (uint8).
        comparison : Comparison or str
            The comparison, or the reason there is none (shown as the summary).
        offset : tuple of int
            Image (row, column) of the pinned result's top-left (a 'valid' border).
        """
        self.set_image("pinned", pinned8, offset)
        if isinstance(comparison, str):
            self.clear_image("difference")
            self.summary.setText(comparison[:1].upper() + comparison[1:].rstrip(".") + ".")
            return
        self.set_image("difference", comparison.difference8, offset)
        if comparison.changed == 0:
            self.summary.setText("No value changed.")
        else:
            self.summary.setText(
                f"{comparison.changed:,} values changed ({comparison.fraction:.1%}); "
                f"the largest change is {comparison.largest:.4g}."
            )

    def clear_comparison(self) -> None:
        """Forget the pinned result; the compare mode invites to pin one."""
        self.clear_image("pinned")
        self.clear_image("difference")
        self.summary.setText(INVITATION)

    def _active_panels(self) -> tuple[str, ...]:
        return _TOP_PANELS[self._mode] + (self._channel_names if self.channels_visible else ())

    def _show_mode(self) -> None:
        active = self._active_panels()
        self.summary.setVisible(self._mode == "compare")
        self._strip.setVisible(self.channels_visible)
        for name, panel in self._panels.items():
            panel.setVisible(name in active)
        for key, (panel, _) in _LAYERS.items():
            if panel in active:
                self._refresh_layer(key)
        self._update_numbers()

    def _refresh(self, source: str) -> None:
        active = self._active_panels()
        for key, (panel, layer_source) in _LAYERS.items():
            if layer_source == source and panel in active:
                self._refresh_layer(key)
        if source in ("original", "result"):
            self._update_numbers()

    def _refresh_layer(self, key: str) -> None:
        # Hidden layers are brought up to date only when shown: each setImage
        # costs a pass over what it is given.
        layer = self._layers[key]
        panel, source = _LAYERS[key]
        wanted = self._shown.get(source)
        if wanted is None:
            if layer.shows is not None:
                layer.item.clear()
                layer.checkerboard.hide()
                layer.shows = None
            return
        pixels8, (top, left) = wanted
        step = self._steps.get(source, 1)
        grid = self._screen_samples(panel, pixels8, (top, left), step)
        shows = (pixels8, (top, left), _grid_key(grid))
        if layer.shows is not None and layer.shows[0] is pixels8 and layer.shows[1:] == shows[1:]:
            return
        if grid is None:
            given, rect_top, rect_left, scale = pixels8, top, left, step
        else:
            given = pixels8[grid.rows[:, None], grid.columns]
            rect_top, rect_left, scale = top + grid.top, left + grid.left, grid.step
        # No levels: uint8 pixels go to a QImage as they are, without rescaling.
        layer.item.setImage(given, autoLevels=False)
        height, width = given.shape[:2]
        rect = QRectF(rect_left, rect_top, width * scale, height * scale)
        layer.item.setRect(rect)
        layer.checkerboard.setRect(rect)
        layer.checkerboard.setVisible(_has_transparency(given))
        layer.shows = shows

    def _screen_samples(
        self, panel: str, pixels8: np.ndarray, offset: tuple[int, int], step: int
    ) -> SampleGrid | None:
        # For a large image, the pixels the panel samples (Qt would sample them
        # from the whole array on every paint, after converting all of it on
        # the GUI thread); None: hand Qt the array itself.
        height, width = pixels8.shape[:2]
        if step != 1 or height * width <= SAMPLED_FROM_PIXELS:
            return None
        view = self.views[panel]
        size = view.size()
        screen = (round(size.height()), round(size.width()))
        visible = view.viewRect()
        top, left = offset
        # A tenth of the view more on each side: small pans need no new samples.
        across, down = visible.width() / 10, visible.height() / 10
        region = (
            visible.top() - down - top,
            visible.left() - across - left,
            visible.bottom() + down - top,
            visible.right() + across - left,
        )
        # The screen widened alike keeps the step the view itself samples with.
        screen = (round(screen[0] * 1.2), round(screen[1] * 1.2))
        grid = sample_grid((height, width), region, screen)
        if grid is None:  # nothing of it in view: the corner pixel, out of sight
            return SampleGrid(np.zeros(1, np.int64), np.zeros(1, np.int64), 1, 0, 0)
        return grid

    def _on_divider_moved(self) -> None:
        self._split_position = float(self.divider.value())
        height, width = self._shape if self._shape else (0, 0)
        # Far enough past the image that nothing of it is ever cut off but at the line.
        reach = 2.0 * max(height, width, 1)
        x = self._split_position
        self._layers["split_original"].clip.setRect(
            QRectF(x - reach, -reach, reach, 2 * reach + height)
        )
        self._layers["split"].clip.setRect(QRectF(x, -reach, reach + width, 2 * reach + height))
        self._update_numbers("split")

    # --- region -------------------------------------------------------------------

    @property
    def region(self) -> QRectF | None:
        """The part of the image, in pixels, that every view shows."""
        return self._region

    def viewport(self) -> tuple[tuple[float, float, float, float], tuple[int, int]] | None:
        """Return what the view showing the result shows, and its size on screen.

        ``((top, left, bottom, right), (height, width))``: the visible part in
        image pixels, and the view's size in screen pixels; ``None`` before an
        image or while the view has no size.
        """
        name = "split" if self._mode == "split" else "result"
        if self._mode == "compare":
            name = "difference"
        view = self.views[name]
        size = view.size()
        height, width = round(size.height()), round(size.width())
        if self._shape is None or height < 1 or width < 1 or not view.isVisible():
            return None
        rect = view.viewRect()
        return (rect.top(), rect.left(), rect.bottom(), rect.right()), (height, width)

    def fit(self) -> None:
        """Zoom every view so the whole image fits, filling its view in one direction."""
        if self._shape is not None:
            height, width = self._shape
            across, down = FIT_MARGIN * width, FIT_MARGIN * height
            self._set_region(QRectF(-across, -down, width + 2 * across, height + 2 * down))

    def one_to_one(self) -> None:
        """Zoom so one image pixel covers one screen pixel in the first view shown."""
        view = self.views[_TOP_PANELS[self._mode][0]]
        centre = view.viewRect().center()
        width, height = view.size().width(), view.size().height()
        self._set_region(QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height))

    def show_region(self, region: QRectF) -> None:
        """Show the part `region` (x, y, width, height in image pixels) in every view."""
        if region.isValid() and all(
            math.isfinite(v) for v in (region.x(), region.y(), region.width(), region.height())
        ):
            self._set_region(region)

    def _set_region(self, region: QRectF) -> None:
        self._region = QRectF(region)
        for view in self.views.values():
            self._show_region(view)
        self.regionChanged.emit()

    def _show_region(self, view: pg.ViewBox) -> None:
        if self._region is not None:
            view.setRange(self._region, padding=0)

    def _follow(self, source: pg.ViewBox) -> None:
        # pyqtgraph's X/Y links fight the locked aspect ratio of views of other
        # sizes, so every view is shown the region the person moved to instead.
        self._region = source.viewRect()
        for view in self.views.values():
            if view is not source:
                self._show_region(view)
        self.regionChanged.emit()

    def _on_range_changed(self, name: str) -> None:
        view = self.views[name]
        # Checker squares of a fixed screen size, whatever the zoom.
        size_x, size_y = view.viewPixelSize()
        self._brush.setTransform(QTransform.fromScale(size_x, size_y))
        for key, (panel, _) in _LAYERS.items():
            if panel == name:
                self._layers[key].checkerboard.setBrush(self._brush)
        for key, (panel, _source) in _LAYERS.items():
            if panel == name and self._panels[name].isVisible():
                self._refresh_layer(key)  # a large image's samples follow the view
        if name in _NUMBER_PANELS:
            self._update_numbers(name)
        if name in ("result", "split", "difference"):
            self.viewportChanged.emit()

    # --- magnified numbers --------------------------------------------------------

    def numbers(self, name: str) -> dict[tuple[int, int], str]:
        """Return the values printed on view `name`, keyed by image (row, column)."""
        return self._numbers[name].texts() if name in self._numbers else {}

    def _number_layer(self, source: str, columns: tuple[float, float]) -> NumberLayer | None:
        shown = self._shown.get(source)
        if shown is None:
            return None
        if self._steps.get(source, 1) != 1:
            return None  # samples far apart: nothing to print on them
        pixels8, offset = shown
        values, values_offset = self._values.get(source, shown)
        if values.shape[:2] != pixels8.shape[:2] or values_offset != offset:
            values = pixels8  # values of another result: print what is shown
        return NumberLayer(values, pixels8, offset, columns)

    def _update_numbers(self, only: str | None = None) -> None:
        active = self._active_panels()
        everywhere = (-math.inf, math.inf)
        sources = {
            "original": [("original", everywhere)],
            "result": [("result", everywhere)],
            "split": [
                ("original", (-math.inf, self._split_position)),
                ("result", (self._split_position, math.inf)),
            ],
        }
        for name, numbers in self._numbers.items():
            if only is not None and name != only:
                continue
            if name not in active:
                numbers.clear()
                continue
            layers = [self._number_layer(source, columns) for source, columns in sources[name]]
            numbers.update([layer for layer in layers if layer is not None])

    # --- outlines -----------------------------------------------------------------

    def outline(self, row: int, column: int, height: int, width: int) -> None:
        """Outline the source patch on the original and pixel (row, column) on the result."""
        for patch in self._patch_outlines:
            patch.setRect(QRectF(column - width // 2, row - height // 2, width, height))
            patch.show()
        for pixel in self._pixel_outlines:
            pixel.setRect(QRectF(column, row, 1, 1))
            pixel.show()

    def hide_outline(self) -> None:
        """Remove the outlines."""
        for outline in self._patch_outlines + self._pixel_outlines:
            outline.hide()

    def _outline(self, name: str) -> QGraphicsRectItem:
        outline = QGraphicsRectItem()
        pen = QPen(QColor("#ffd54f"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        outline.setPen(pen)
        outline.setZValue(25)
        outline.hide()
        self.views[name].addItem(outline, ignoreBounds=True)
        return outline

    # --- pointer and keys ---------------------------------------------------------

    def _connect(self, name: str, panel: _Panel) -> None:
        view = panel.view
        view.sigRangeChangedManually.connect(lambda _axes, v=view: self._follow(v))
        view.sigResized.connect(self._show_region)
        view.sigRangeChanged.connect(lambda *_args, n=name: self._on_range_changed(n))
        scene = panel.canvas.scene()
        scene.sigMouseMoved.connect(lambda position, n=name: self._on_mouse_moved(n, position))
        scene.sigMouseClicked.connect(lambda event, n=name: self._on_mouse_clicked(n, event))
        panel.canvas.installEventFilter(self)

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Turn arrow keys pressed over a view into ``stepped``."""
        if event.type() == QEvent.Type.KeyPress and event.key() in _ARROWS:
            self.stepped.emit(*_ARROWS[event.key()])
            return True
        return super().eventFilter(watched, event)

    def _pixel_at(self, name: str, scene_position: QPointF) -> tuple[int, int] | None:
        point = self.views[name].mapSceneToView(scene_position)
        if not (math.isfinite(point.x()) and math.isfinite(point.y())):
            return None
        row, column = math.floor(point.y()), math.floor(point.x())
        if self._shape and 0 <= row < self._shape[0] and 0 <= column < self._shape[1]:
            return row, column
        return None

    def _on_mouse_moved(self, name: str, scene_position: QPointF) -> None:
        pixel = self._pixel_at(name, scene_position)
        if pixel is None:
            self.left.emit()
        else:
            self.hovered.emit(name, *pixel)

    def _on_mouse_clicked(self, name: str, event) -> None:
        pixel = self._pixel_at(name, event.scenePos())
        if pixel is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(name, *pixel)
