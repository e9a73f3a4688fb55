"""The panel that shows how one output pixel is computed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.explain import RecipeExplanation

MAX_LISTED_SIDE = 9
"""Kernels with a longer side are summarised instead of listed cell by cell."""

_CHANNEL_NAMES = {1: ("Grey",), 2: ("Grey", "Alpha"), 3: ("Red", "Green", "Blue")}
_CHANNEL_NAMES[4] = (*_CHANNEL_NAMES[3], "Alpha")


def _format(value: float) -> str:
    return f"{value:.4g}" if not float(value).is_integer() else str(int(value))


class _Matrix(QTableWidget):
    """A small read-only table of numbers with a caption."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(20)
        self.setMinimumHeight(60)

    def show_values(self, values: np.ndarray, highlight_centre: bool = False) -> None:
        self.setRowCount(values.shape[0])
        self.setColumnCount(values.shape[1])
        for (row, column), value in np.ndenumerate(values):
            item = QTableWidgetItem(_format(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            centre = (row, column) == (values.shape[0] // 2, values.shape[1] // 2)
            if highlight_centre and centre:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.setItem(row, column, item)

    def values(self) -> list[list[str]]:
        """Return the texts shown, row by row (what a person reads)."""
        return [
            [self.item(row, column).text() for column in range(self.columnCount())]
            for row in range(self.rowCount())
        ]


class PixelExplainer(QWidget):
    """Neighbourhood × kernel → products → sum, for the pixel under the pointer.

    Signals
    -------
    channelChanged(int)
        The person picked another colour channel to explain.
    """

    channelChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("Point at a pixel of any view; click to keep it.", self)
        self.header.setObjectName("explainerHeader")
        self.header.setWordWrap(True)
        self.channel_combo = QComboBox(self)
        self.channel_combo.setObjectName("explainerChannel")
        self.channel_combo.addItems(_CHANNEL_NAMES[3])
        self.channel_combo.activated.connect(self.channelChanged)
        self.neighbourhood = _Matrix("neighbourhoodTable", self)
        self.weights = _Matrix("weightsTable", self)
        self.products = _Matrix("productsTable", self)
        self.sum_label = QLabel(self)
        self.sum_label.setObjectName("explainerSum")
        self.sum_label.setWordWrap(True)  # the 8-bit rule is a sentence: it must not widen it
        self.sum_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        channel_row = QHBoxLayout()
        channel_row.addWidget(QLabel("Channel:", self))
        channel_row.addWidget(self.channel_combo, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(channel_row)
        self._captions = []
        for caption, table in (
            ("Neighbourhood (the pixels under the kernel)", self.neighbourhood),
            ("× kernel (as applied)", self.weights),
            ("= products", self.products),
        ):
            label = QLabel(caption, self)
            self._captions.append(label)
            layout.addWidget(label)
            layout.addWidget(table, 1)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.note)
        layout.addStretch(0)
        self._set_tables_visible(False)

    @property
    def channel(self) -> int:
        """The channel explained: an index into the result's channels."""
        return max(self.channel_combo.currentIndex(), 0)

    @property
    def channel_name(self) -> str:
        """What the channel explained is called ("Red", "Grey", "Alpha" …)."""
        return self.channel_combo.currentText()

    def set_channel_count(self, channels: int) -> None:
        """Offer the channels of a result with `channels` channels (1 to 4)."""
        names = _CHANNEL_NAMES[channels]
        if tuple(map(self.channel_combo.itemText, range(self.channel_combo.count()))) != names:
            current = self.channel_combo.currentIndex()
            self.channel_combo.clear()
            self.channel_combo.addItems(names)
            self.channel_combo.setCurrentIndex(min(max(current, 0), len(names) - 1))
        self.channel_combo.setEnabled(channels > 1)

    def show_explanation(self, explanation: RecipeExplanation, label: str) -> None:
        """Fill the tables for the first stage of `explanation`; `label` names the pixel.

        Below them, every stage's arithmetic and the 8-bit value shown.
        """
        self.header.setText(label)
        lines = [
            f"stage {stage.index + 1}: {stage.formula}"
            if len(explanation.stages) > 1
            else stage.formula
            for stage in explanation.stages
        ]
        lines.append(f"shown as {explanation.display_value} ({explanation.display_rule})")
        self.sum_label.setText("\n".join(lines))
        if not explanation.stages:
            self._set_tables_visible(False)
            self.note.setText(explanation.note)
            return
        first = explanation.stages[0]
        height, width = first.weights.shape
        if max(height, width) > MAX_LISTED_SIDE:
            self._set_tables_visible(False)
            self.note.setText(f"The {height}×{width} kernel is too large to list here.")
            return
        self._set_tables_visible(True)
        self.neighbourhood.show_values(first.neighbourhood, highlight_centre=True)
        self.weights.show_values(first.weights, highlight_centre=True)
        self.products.show_values(first.products, highlight_centre=True)
        padded = (first.source_rows < 0).any() or (first.source_columns < 0).any()
        self.note.setText("Zeros past the edge come from the 'constant' border." if padded else "")

    def show_note(self, text: str) -> None:
        """Show `text` instead of an explanation (no pixel, or outside the result)."""
        self.header.setText("")
        self._set_tables_visible(False)
        self.sum_label.setText("")
        self.note.setText(text)

    def _set_tables_visible(self, visible: bool) -> None:
        for widget in (self.neighbourhood, self.weights, self.products, *self._captions):
            widget.setVisible(visible)
