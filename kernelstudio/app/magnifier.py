"""Each pixel's value printed on it when a view is zoomed in far enough (as setosa does)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

SMALLEST_PIXEL = 24.0
"""Screen pixels an image pixel must cover before its value is printed on it."""

ALL_CHANNELS_PIXEL = 48.0
"""Screen pixels an image pixel must cover before every channel's value is printed."""

LIMIT = 2500
"""Most numbers one view prints; zoomed out beyond it, a view prints none."""


def format_value(value: float | int | np.generic) -> str:
    """Write one value short enough to fit on a magnified pixel.

    Integers are written as they are, floats with up to four significant digits.

    Examples
    --------
    >>> format_value(np.uint8(255)), format_value(np.float32(-12.3456)), format_value(2.0)
    ('255', '-12.35', '2')
    >>> format_value(float("nan")), format_value(-float("inf"))
    ('NaN', '-∞')
    """
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    return f"{number:.4g}"


def pixel_text(values: np.ndarray, pixel_size: float) -> str:
    r"""Write the value(s) of one pixel for a pixel `pixel_size` screen pixels wide.

    Parameters
    ----------
    values : numpy.ndarray
        The pixel's value: a 0-d array (one channel) or a 1-d array of channels.
    pixel_size : float
        Screen pixels one image pixel covers. Below :data:`ALL_CHANNELS_PIXEL`
        only the first channel fits; from it on, one line per channel. Channels
        that are all equal (a grey image kept as RGB) are written once.

    Examples
    --------
    >>> pixel_text(np.array([1, 2, 3], np.uint8), 30), pixel_text(np.array([1, 2, 3]), 60)
    ('1', '1\n2\n3')
    >>> pixel_text(np.array([7, 7, 7], np.uint8), 60), pixel_text(np.array(0.5), 30)
    ('7', '0.5')
    """
    channels = np.atleast_1d(values)
    if channels.size == 1 or pixel_size < ALL_CHANNELS_PIXEL or (channels == channels[0]).all():
        return format_value(channels[0])
    return "\n".join(format_value(channel) for channel in channels)


@dataclass(frozen=True)
class NumberLayer:
    """Values to print over part of a view.

    Attributes
    ----------
    values : numpy.ndarray
        The true values, ``(height, width)`` or ``(height, width, channels)``.
    pixels8 : numpy.ndarray
        The 8-bit pixels shown under them (their brightness picks black or white text).
    offset : tuple of int
        Image (row, column) of ``values[0, 0]``.
    columns : tuple of float
        The image x range in which this layer is seen (a split view shows two).
    """

    values: np.ndarray
    pixels8: np.ndarray
    offset: tuple[int, int] = (0, 0)
    columns: tuple[float, float] = (-math.inf, math.inf)


_CHECKERBOARD_BRIGHTNESS = 179.0  # the mean of the light and dark squares shown under alpha


def _brightness(pixels8: np.ndarray) -> np.ndarray:
    if pixels8.ndim == 2:
        return pixels8.astype(np.float32)
    brightness = pixels8[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if pixels8.shape[2] == 4:
        # What is seen: the colour over the checkerboard, as much as alpha lets it.
        opacity = pixels8[..., 3].astype(np.float32) / 255
        brightness = opacity * brightness + (1 - opacity) * _CHECKERBOARD_BRIGHTNESS
    return brightness


class PixelNumbers:
    """A pool of at most :data:`LIMIT` text items printing pixel values in one view.

    The texts ignore the view's zoom (a fixed screen size), centred on their pixel.
    """

    def __init__(self, view: pg.ViewBox) -> None:
        self._view = view
        # One invisible parent: the pool is added to the view once, not item by item.
        self._parent = QGraphicsRectItem()
        self._parent.setPen(Qt.PenStyle.NoPen)
        self._parent.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self._parent.setZValue(20)
        view.addItem(self._parent, ignoreBounds=True)
        self._pool: list[QGraphicsSimpleTextItem] = []
        self._shown: dict[tuple[int, int], str] = {}
        self._font = QFont()

    def texts(self) -> dict[tuple[int, int], str]:
        """Return the printed texts keyed by image (row, column)."""
        return dict(self._shown)

    def clear(self) -> None:
        """Print nothing."""
        for item in self._pool[: len(self._shown)]:
            item.hide()
        self._shown = {}

    def update(self, layers: list[NumberLayer]) -> None:
        """Print the values of the pixels visible in the view, when they are large enough."""
        pixel_size = 1.0 / max(self._view.viewPixelSize()[0], 1e-12)
        if pixel_size < SMALLEST_PIXEL or not layers:
            self.clear()
            return
        seen = self._view.viewRect()
        windows = [(layer, _window(layer, seen)) for layer in layers]
        count = sum(rows * columns for _, (_, _, rows, columns) in windows)
        if count > LIMIT:
            self.clear()
            return
        wanted = [
            text for layer, window in windows for text in _layer_texts(layer, window, pixel_size)
        ]
        lines = max((text.count("\n") + 1 for _, _, text, _ in wanted), default=1)
        self._set_font(pixel_size, lines)
        while len(self._pool) < len(wanted):
            item = QGraphicsSimpleTextItem(self._parent)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            item.setFont(self._font)
            self._pool.append(item)
        shown: dict[tuple[int, int], str] = {}
        for item, (row, column, text, dark) in zip(self._pool, wanted, strict=False):
            if item.font() != self._font:
                item.setFont(self._font)
            item.setText(text)
            item.setBrush(QColor("white") if dark else QColor("black"))
            box = item.boundingRect()
            item.setTransform(QTransform.fromTranslate(-box.width() / 2, -box.height() / 2))
            item.setPos(column + 0.5, row + 0.5)
            item.show()
            shown[(row, column)] = text
        for item in self._pool[len(wanted) : len(self._shown)]:
            item.hide()
        self._shown = shown

    def _set_font(self, pixel_size: float, lines: int) -> None:
        # Small enough that every line fits inside its pixel, never below legible.
        size = int(min(14, pixel_size * 0.3, pixel_size / (1.3 * lines)))
        self._font = QFont(self._font)
        self._font.setPixelSize(max(7, size))


def _window(layer: NumberLayer, seen: QRectF) -> tuple[int, int, int, int]:
    """Return the first row, first column, rows and columns of `layer` inside `seen`."""
    height, width = layer.values.shape[:2]
    top, left = layer.offset
    first_column = max(math.floor(max(seen.left(), layer.columns[0])), left)
    last_column = min(math.ceil(min(seen.right(), layer.columns[1])), left + width)
    first_row = max(math.floor(seen.top()), top)
    last_row = min(math.ceil(seen.bottom()), top + height)
    rows, columns = max(last_row - first_row, 0), max(last_column - first_column, 0)
    return first_row, first_column, rows, columns


def _layer_texts(
    layer: NumberLayer, window: tuple[int, int, int, int], pixel_size: float
) -> list[tuple[int, int, str, bool]]:
    first_row, first_column, rows, columns = window
    top, left = layer.offset
    row_slice = slice(first_row - top, first_row - top + rows)
    column_slice = slice(first_column - left, first_column - left + columns)
    values = layer.values[row_slice, column_slice]
    dark = _brightness(layer.pixels8[row_slice, column_slice]) < 128
    texts = []
    for row_index in range(rows):
        for column_index in range(columns):
            # A pixel belongs to the layer whose part of the view holds its centre.
            if not layer.columns[0] <= first_column + column_index + 0.5 < layer.columns[1]:
                continue
            texts.append(
                (
                    first_row + row_index,
                    first_column + column_index,
                    pixel_text(values[row_index, column_index], pixel_size),
                    bool(dark[row_index, column_index]),
                )
            )
    return texts
