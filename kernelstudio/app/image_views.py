"""Side-by-side image views with linked pan and zoom (pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGridLayout, QLabel, QSizePolicy, QWidget

from kernelstudio.app.diagnostics import qt_virtual

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

PANELS: tuple[str, ...] = ("original", "result", "red", "green", "blue")
"""Names of the views, left to right and top to bottom."""

_ARROWS = {
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
}

_TITLES = {
    "original": "Original",
    "result": "Result",
    "red": "Red",
    "green": "Green",
    "blue": "Blue",
}


class ImageViews(QWidget):
    """Original and result side by side, with the R, G and B channels below.

    Every view uses one coordinate system (image pixels) and panning or zooming
    one shows the same region in all, so a 'valid' result that is smaller than
    the image sits exactly over the pixels it was computed from.

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
    """

    hovered = Signal(str, int, int)
    left = Signal()
    clicked = Signal(str, int, int)
    stepped = Signal(int, int)
    regionChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(False)
        self.setObjectName("imageViews")
        self.setStyleSheet("#imageViews { background: #202124; } QLabel { color: #e8eaed; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.views: dict[str, pg.ViewBox] = {}
        self.items: dict[str, pg.ImageItem] = {}
        self._titles: dict[str, QLabel] = {}
        self._shape: tuple[int, int] | None = None
        self._region: QRectF | None = None
        self._shown: dict[str, tuple[np.ndarray, tuple[int, int]]] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setSpacing(6)
        # Six equal columns: the top views span three, the channel views two.
        placements = {
            "original": (0, 0, 3),
            "result": (0, 3, 3),
            "red": (2, 0, 2),
            "green": (2, 2, 2),
            "blue": (2, 4, 2),
        }
        for name, (row, column, span) in placements.items():
            title = QLabel(_TITLES[name], self)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            canvas = pg.GraphicsView(self, background="#202124")
            canvas.setAcceptDrops(False)
            canvas.viewport().setAcceptDrops(False)
            canvas.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
            canvas.setCentralItem(view)
            item = pg.ImageItem(axisOrder="row-major")
            view.addItem(item)
            view.sigRangeChangedManually.connect(lambda _axes, v=view: self._follow(v))
            view.sigResized.connect(self._show_region)
            canvas.scene().sigMouseMoved.connect(
                lambda position, n=name: self._on_mouse_moved(n, position)
            )
            canvas.scene().sigMouseClicked.connect(
                lambda event, n=name: self._on_mouse_clicked(n, event)
            )
            canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            canvas.installEventFilter(self)
            grid.addWidget(title, row, column, 1, span)
            grid.addWidget(canvas, row + 1, column, 1, span)
            self.views[name] = view
            self.items[name] = item
            self._titles[name] = title
        for column in range(6):
            grid.setColumnStretch(column, 1)
        self.patch_outline = self._outline("original")
        self.pixel_outline = self._outline("result")
        # Heights in the same 3:2 ratio as the widths give every view one shape.
        grid.setRowStretch(1, 3)
        grid.setRowStretch(3, 2)

    def set_image(self, name: str, pixels8: np.ndarray, offset: tuple[int, int] = (0, 0)) -> None:
        """Show uint8 `pixels8` in view `name`, its top-left at pixel `offset`.

        Showing the very array already shown at the same place does nothing, so
        callers may re-send unchanged channels for free.
        """
        shown, shown_offset = self._shown.get(name, (None, None))
        if shown is pixels8 and shown_offset == offset:
            return
        item = self.items[name]
        # No levels: uint8 pixels go to a QImage as they are, without rescaling.
        item.setImage(pixels8, autoLevels=False)
        self._shown[name] = (pixels8, offset)
        height, width = pixels8.shape[:2]
        item.setRect(QRectF(offset[1], offset[0], width, height))
        if name == "original":
            first = self._shape is None or self._shape != (height, width)
            self._shape = (height, width)
            if first:
                self.fit()

    def shown(self, name: str) -> np.ndarray | None:
        """Return the array view `name` shows, or ``None`` when it is empty."""
        return self._shown.get(name, (None, None))[0]

    def clear_image(self, name: str) -> None:
        """Empty view `name`, e.g. while its content no longer matches the image."""
        self.items[name].clear()
        self._shown.pop(name, None)

    def set_title(self, name: str, text: str) -> None:
        """Change the caption above view `name`."""
        self._titles[name].setText(text)

    @property
    def region(self) -> QRectF | None:
        """The part of the image, in pixels, that every view shows."""
        return self._region

    def fit(self) -> None:
        """Zoom every view so the whole image fits."""
        if self._shape is not None:
            height, width = self._shape
            margin = 0.02 * max(height, width)
            self._set_region(QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin))

    def one_to_one(self) -> None:
        """Zoom so one image pixel covers one screen pixel in the original's view."""
        view = self.views["original"]
        centre = view.viewRect().center()
        width, height = view.size().width(), view.size().height()
        self._set_region(QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height))

    def show_region(self, region: QRectF) -> None:
        """Show the part `region` (x, y, width, height in image pixels) in every view."""
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

    def outline(self, row: int, column: int, height: int, width: int) -> None:
        """Outline the source patch on the original and pixel (row, column) on the result."""
        self.patch_outline.setRect(QRectF(column - width // 2, row - height // 2, width, height))
        self.pixel_outline.setRect(QRectF(column, row, 1, 1))
        self.patch_outline.show()
        self.pixel_outline.show()

    def hide_outline(self) -> None:
        """Remove the outlines."""
        self.patch_outline.hide()
        self.pixel_outline.hide()

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Turn arrow keys pressed over a view into ``stepped``."""
        if event.type() == QEvent.Type.KeyPress and event.key() in _ARROWS:
            self.stepped.emit(*_ARROWS[event.key()])
            return True
        return super().eventFilter(watched, event)

    def _outline(self, name: str) -> QGraphicsRectItem:
        outline = QGraphicsRectItem()
        pen = QPen(QColor("#ffd54f"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        outline.setPen(pen)
        outline.setZValue(10)
        outline.hide()
        self.views[name].addItem(outline)
        return outline

    def _pixel_at(self, name: str, scene_position: QPointF) -> tuple[int, int] | None:
        point = self.views[name].mapSceneToView(scene_position)
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
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
