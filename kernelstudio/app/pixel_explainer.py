"""The Pixel panel: how one value of the result is computed, stage by stage.

For the chosen stage it lists the neighbourhood the stage read, the weights it
applied and their products (tables whose columns fit their numbers, scrolling
sideways in a narrow panel; a heat map for kernels larger than
:data:`MAX_LISTED_SIDE`), then the sum, the divisor and the offset; below, every
stage's arithmetic and how the display mapping turned the value into the 8-bit
value shown.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.explain import RecipeExplanation, StageExplanation

MAX_LISTED_SIDE = 9
"""Kernels with a longer side are shown as a heat map instead of tables."""

CHANNEL_NAMES: dict[int, tuple[str, ...]] = {
    1: ("Grey",),
    2: ("Grey", "Alpha"),
    3: ("Red", "Green", "Blue"),
    4: ("Red", "Green", "Blue", "Alpha"),
}
"""The channels of a result, by how many it has."""

_PROMPT = "Point at a pixel of any view; click to keep it."
_HEAT_MAP = pg.colormap.get("viridis")


def _format(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e6 else f"{value:.4g}"


class _Matrix(QTableWidget):
    """A read-only table of numbers whose columns fit their text; it scrolls sideways."""

    def __init__(self, name: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(description)
        self.setToolTip(description)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        # Columns as wide as their numbers: a narrow panel scrolls instead of eliding.
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setMinimumSectionSize(12)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

    def show_values(self, values: np.ndarray) -> None:
        """Show `values` (2-D), the centre in bold."""
        self.setRowCount(values.shape[0])
        self.setColumnCount(values.shape[1])
        centre = (values.shape[0] // 2, values.shape[1] // 2)
        for (row, column), value in np.ndenumerate(values):
            item = QTableWidgetItem(_format(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if (row, column) == centre:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.setItem(row, column, item)
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        self._fit_height()

    @qt_virtual()
    def resizeEvent(self, event: QResizeEvent) -> None:
        """Make room for the sideways scroll bar exactly when the columns need it."""
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        # Every row shows, so only the sideways scroll bar is ever needed.
        frame = 2 * self.frameWidth()
        too_wide = self.horizontalHeader().length() > self.width() - frame
        bar = self.horizontalScrollBar().sizeHint().height() if too_wide else 0
        self.setFixedHeight(self.verticalHeader().length() + frame + bar)

    def values(self) -> list[list[str]]:
        """Return the texts shown, row by row (what a person reads)."""
        return [
            [self.item(row, column).text() for column in range(self.columnCount())]
            for row in range(self.rowCount())
        ]


class _HeatMap(pg.GraphicsLayoutWidget):
    """The products of a large kernel as colours; the pointer's cell is named in a label."""

    cellHovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("productsHeatMap")
        self.setAccessibleName("Products of a large kernel, as a heat map")
        self.setToolTip("Each square is one product (pixel × weight); point at it to read it.")
        self.setBackground("#202124")
        self.setFixedHeight(220)
        self.view = self.addViewBox(lockAspect=True, enableMouse=False, enableMenu=False)
        self.view.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(_HEAT_MAP)
        self.view.addItem(self.image)
        self.scene().sigMouseMoved.connect(self._on_moved)

    def show_values(self, values: np.ndarray) -> None:
        """Colour `values`; the darkest is the smallest product."""
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.image.setImage(values, autoLevels=False, levels=(low, max(high, low + 1e-12)))
        self.view.autoRange(padding=0)

    def _on_moved(self, scene_position: QPointF) -> None:
        point = self.view.mapSceneToView(scene_position)
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
        shape = self.image.image.shape if self.image.image is not None else (0, 0)
        if 0 <= row < shape[0] and 0 <= column < shape[1]:
            self.cellHovered.emit(row, column)


class PixelExplainer(QWidget):
    """Neighbourhood × kernel → products → sum → ÷ divisor → + offset, for every stage.

    Signals
    -------
    channelChanged(int)
        The person picked another channel to explain.
    """

    channelChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pixelExplainer")
        self._explanation: RecipeExplanation | None = None
        self.header = QLabel(_PROMPT, self)
        self.header.setObjectName("explainerHeader")
        self.header.setWordWrap(True)
        self.channel_combo = QComboBox(self)
        self.channel_combo.setObjectName("explainerChannel")
        self.channel_combo.setAccessibleName("Channel explained")
        self.channel_combo.setToolTip("Which channel of the result to explain")
        self.channel_combo.setEnabled(False)  # no result yet, so no channel to offer
        self.channel_combo.activated.connect(self.channelChanged)
        self.stage_combo = QComboBox(self)
        self.stage_combo.setObjectName("explainerStage")
        self.stage_combo.setAccessibleName("Stage explained")
        self.stage_combo.setToolTip("Which stage of the recipe the tables show")
        self.stage_combo.activated.connect(lambda _index: self._show_stage())
        self.stage_note = QLabel(self)
        self.stage_note.setObjectName("explainerStageNote")
        self.stage_note.setWordWrap(True)
        self.neighbourhood = _Matrix(
            "neighbourhoodTable", "The values under the kernel (what the stage reads)", self
        )
        self.weights = _Matrix("weightsTable", "The kernel's weights, as applied", self)
        self.products = _Matrix("productsTable", "Each value times its weight", self)
        self.heat_map = _HeatMap(self)
        self.heat_map.cellHovered.connect(self.show_cell)
        self.cell_label = QLabel(self)
        self.cell_label.setObjectName("explainerCell")
        self.cell_label.setWordWrap(True)
        self.stage_sum = QLabel(self)
        self.stage_sum.setObjectName("explainerStageSum")
        self.stage_sum.setWordWrap(True)
        self.stage_sum.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sum_label = QLabel(self)
        self.sum_label.setObjectName("explainerSum")
        self.sum_label.setWordWrap(True)  # the 8-bit rule is a sentence: it must not widen it
        self.sum_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(self)
        self.note.setObjectName("explainerNote")
        self.note.setWordWrap(True)

        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.header)
        combo_labels = []
        for caption, combo in (("Channel:", self.channel_combo), ("Stage:", self.stage_combo)):
            row = QHBoxLayout()
            label = QLabel(caption, content)
            label.setBuddy(combo)
            combo_labels.append(label)
            row.addWidget(label)
            row.addWidget(combo, 1)
            column.addLayout(row)
        self._stage_row = (combo_labels[1], self.stage_combo)
        column.addWidget(self.stage_note)
        self._captions: dict[QWidget, QLabel] = {}
        for caption, widget in (
            ("Neighbourhood (the values under the kernel)", self.neighbourhood),
            ("× kernel (as applied)", self.weights),
            ("= products", self.products),
            ("= products (pixel × weight)", self.heat_map),
        ):
            label = QLabel(caption, content)
            self._captions[widget] = label
            column.addWidget(label)
            column.addWidget(widget)
        column.addWidget(self.cell_label)
        column.addWidget(self.stage_sum)
        column.addWidget(self.sum_label)
        column.addWidget(self.note)
        column.addStretch(1)
        # Tables scroll sideways on their own; the panel scrolls only up and down.
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("explainerScroll")
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)
        self._show_parts(tables=False, heat_map=False, stages=False)

    @property
    def channel(self) -> int:
        """The channel explained: an index into the result's channels."""
        return max(self.channel_combo.currentIndex(), 0)

    @property
    def channel_name(self) -> str:
        """What the channel explained is called ("Red", "Grey", "Alpha" …; "" before any)."""
        return self.channel_combo.currentText()

    @property
    def stage_shown(self) -> int:
        """The position, among the explanation's stages, of the stage the tables show."""
        return max(self.stage_combo.currentIndex(), 0)

    def set_channel_count(self, channels: int) -> None:
        """Offer the channels of a result with `channels` channels (1 to 4).

        A grey result offers "Grey" alone, grey with alpha "Grey" and "Alpha".
        Any other count shows a note and keeps the channels offered.
        """
        names = CHANNEL_NAMES.get(channels) if isinstance(channels, int) else None
        if names is None:
            self.show_note(f"A result with {channels!r} channels cannot be explained.")
            return
        if tuple(map(self.channel_combo.itemText, range(self.channel_combo.count()))) != names:
            current = self.channel_combo.currentIndex()
            self.channel_combo.clear()
            self.channel_combo.addItems(names)
            self.channel_combo.setCurrentIndex(min(max(current, 0), len(names) - 1))
        self.channel_combo.setEnabled(channels > 1)

    def show_explanation(self, explanation: RecipeExplanation, label: str) -> None:
        """Explain `explanation`; `label` names the pixel.

        The tables show the stage chosen in the stage chooser (kept from one
        explanation to the next while it exists); below them that stage's sum,
        divisor and offset, every stage's arithmetic, and the 8-bit value shown.
        """
        self._explanation = explanation
        self.header.setText(label)
        lines = [
            f"stage {stage.index + 1}: {stage.formula}"
            if len(explanation.stages) > 1
            else stage.formula
            for stage in explanation.stages
        ]
        lines.append(f"shown as {explanation.display_value} ({explanation.display_rule})")
        self.sum_label.setText("\n".join(lines))
        self.note.setText(explanation.note)
        names = [_stage_title(stage) for stage in explanation.stages]
        if names != list(map(self.stage_combo.itemText, range(self.stage_combo.count()))):
            shown = self.stage_combo.currentIndex()
            self.stage_combo.clear()
            self.stage_combo.addItems(names)
            if names:
                self.stage_combo.setCurrentIndex(min(max(shown, 0), len(names) - 1))
        self._show_stage()

    def show_note(self, text: str) -> None:
        """Show `text` instead of an explanation (no pixel, or outside the result)."""
        self._explanation = None
        self.header.setText("")
        self._show_parts(tables=False, heat_map=False, stages=False)
        self.stage_note.setText("")
        self.stage_sum.setText("")
        self.cell_label.setText("")
        self.sum_label.setText("")
        self.note.setText(text)

    def show_cell(self, row: int, column: int) -> None:
        """Name the product at kernel cell (row, column) of the stage shown, under the heat map."""
        stage = self._current_stage()
        if stage is None or not (
            0 <= row < stage.products.shape[0] and 0 <= column < stage.products.shape[1]
        ):
            self.cell_label.setText("")
            return
        self.cell_label.setText(
            f"Row {row + 1}, column {column + 1}: {_format(stage.neighbourhood[row, column])}"
            f" × {_format(stage.weights[row, column])}"
            f" = {_format(stage.products[row, column])}"
        )

    def _current_stage(self) -> StageExplanation | None:
        if self._explanation is None or not self._explanation.stages:
            return None
        stages = self._explanation.stages
        return stages[min(self.stage_shown, len(stages) - 1)]

    def _show_stage(self) -> None:
        explanation = self._explanation
        stage = self._current_stage()
        if explanation is None or stage is None:
            self._show_parts(tables=False, heat_map=False, stages=False)
            self.stage_note.setText("")
            self.stage_sum.setText("")
            self.cell_label.setText("")
            return
        number = min(self.stage_shown, len(explanation.stages) - 1)
        count = len(explanation.stages)
        if number == 0:
            source = "the image"
        else:
            source = f"the result of stage {explanation.stages[number - 1].index + 1}"
        padded = (stage.source_rows < 0).any() or (stage.source_columns < 0).any()
        edge = " Zeros past the edge come from the 'constant' border." if padded else ""
        self.stage_note.setText(
            f"Stage {stage.index + 1} reads {source} around x {stage.column}, y {stage.row}.{edge}"
        )
        large = max(stage.weights.shape) > MAX_LISTED_SIDE
        self._show_parts(tables=not large, heat_map=large, stages=count > 1)
        self.cell_label.setText("")
        if large:
            self.heat_map.show_values(stage.products)
            height, width = stage.weights.shape
            self.cell_label.setText(
                f"The {height}×{width} kernel's products; point at a square to read it."
            )
        else:
            self.neighbourhood.show_values(stage.neighbourhood)
            self.weights.show_values(stage.weights)
            self.products.show_values(stage.products)
        self.stage_sum.setText(_stage_arithmetic(stage))

    def _show_parts(self, *, tables: bool, heat_map: bool, stages: bool) -> None:
        for widget in (self.neighbourhood, self.weights, self.products):
            widget.setVisible(tables)
            self._captions[widget].setVisible(tables)
        for widget in (self.heat_map, self._captions[self.heat_map], self.cell_label):
            widget.setVisible(heat_map)
        for widget in self._stage_row:
            widget.setVisible(stages)


def _stage_title(stage: StageExplanation) -> str:
    height, width = stage.weights.shape
    name = f" {stage.name}" if stage.name else ""
    return f"Stage {stage.index + 1}{name} ({height}×{width})"


def _stage_arithmetic(stage: StageExplanation) -> str:
    # Sum, ÷ divisor, + offset → value, one step a line, as a person checks it by hand.
    if stage.coverage is not None:
        return f"weighted by alpha: {stage.formula}"
    divided = stage.sum / stage.divisor
    return "\n".join(
        (
            f"sum of the products = {stage.sum:.6g}",
            f"÷ divisor {stage.divisor:g} = {divided:.6g}",
            f"+ offset {stage.offset:g} → {stage.value:.6g}",
        )
    )
