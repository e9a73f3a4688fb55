"""The editable grid of kernel weights."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.kernels import format_weight, kernel_sum, parse_weight
from kernelstudio.pipeline import Stage

GRID_SIZES = (3, 5, 7)
"""Square sizes offered by the size selector."""

_REDO_ALTERNATIVE = QKeySequence("Ctrl+Shift+Z")[0].toCombined()
_INVALID_STYLE = "QLineEdit[invalid='true'] { background: #ffd6d6; border: 1px solid #d33; }"


def resize_centred(weights: np.ndarray, height: int, width: int) -> np.ndarray:
    """Grow (with zeros) or shrink `weights` to ``height×width`` around the centre."""
    resized = np.zeros((height, width))
    old_height, old_width = weights.shape
    rows = min(height, old_height)
    columns = min(width, old_width)
    top_new, left_new = (height - rows) // 2, (width - columns) // 2
    top_old, left_old = (old_height - rows) // 2, (old_width - columns) // 2
    resized[top_new : top_new + rows, left_new : left_new + columns] = weights[
        top_old : top_old + rows, left_old : left_old + columns
    ]
    return resized


class WeightGrid(QWidget):
    """A grid of cells named ``cell_<row>_<col>``, editable or read-only.

    Signals
    -------
    cellEdited(int, int, object)
        A person changed a cell and every cell now holds a number; carries the
        row, the column and the new float64 weights.
    cellInvalid(int, int, str)
        A person typed something that is not a weight; carries the reason.
    """

    cellEdited = Signal(int, int, object)
    cellInvalid = Signal(int, int, str)

    def __init__(self, *, editable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editable = editable
        self._layout = QGridLayout(self)
        self._layout.setSpacing(3)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._cells: list[list[QLineEdit]] = []
        self._weights = np.zeros((0, 0))
        self._invalid: set[tuple[int, int]] = set()
        self.divisor = 1.0
        """The stage's divisor: typed weights must still fit float32 once divided by it."""
        self.setStyleSheet(_INVALID_STYLE)

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights the cells show (the last valid value of each)."""
        return self._weights.copy()

    @property
    def is_valid(self) -> bool:
        """Whether every cell holds a weight."""
        return not self._invalid

    def cell(self, row: int, column: int) -> QLineEdit:
        """Return the line edit at `row`, `column`."""
        return self._cells[row][column]

    def set_weights(self, weights: np.ndarray) -> None:
        """Show `weights`, rebuilding the cells when the shape changes."""
        weights = np.array(weights, dtype=np.float64)
        if weights.shape != self._weights.shape:
            self._rebuild(*weights.shape)
        self._weights = weights
        self._invalid.clear()
        for (row, column), value in np.ndenumerate(weights):
            cell = self._cells[row][column]
            text = format_weight(value)
            if cell.text() != text:
                cell.setText(text)
            self._mark(cell, None)

    def _rebuild(self, height: int, width: int) -> None:
        for row in self._cells:
            for cell in row:
                self._layout.removeWidget(cell)
                cell.deleteLater()
        self._cells = []
        for row in range(height):
            cells = []
            for column in range(width):
                cell = QLineEdit(self)
                cell.setObjectName(f"cell_{row}_{column}")
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setMinimumWidth(44)
                cell.setMaxLength(32)
                cell.setAcceptDrops(False)
                cell.setReadOnly(not self._editable)
                cell.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                if self._editable:
                    cell.installEventFilter(self)
                    cell.textEdited.connect(
                        lambda text, r=row, c=column: self._on_text_edited(r, c, text)
                    )
                    cell.returnPressed.connect(cell.focusNextChild)
                else:
                    cell.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                self._layout.addWidget(cell, row, column)
                cells.append(cell)
            self._cells.append(cells)

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Leave Undo and Redo to the window, whose history covers the whole kernel."""
        if event.type() == QEvent.Type.ShortcutOverride and (
            event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo)
            or event.keyCombination().toCombined() == _REDO_ALTERNATIVE
        ):
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    def _on_text_edited(self, row: int, column: int, text: str) -> None:
        cell = self._cells[row][column]
        try:
            value = parse_weight(text)
            candidate = self._weights.copy()
            candidate[row, column] = value
            Stage(candidate, divisor=self.divisor)  # e.g. a sum float32 cannot hold
        except ValueError as error:
            self._invalid.add((row, column))
            self._mark(cell, str(error))
            self.cellInvalid.emit(row, column, str(error))
            return
        self._invalid.discard((row, column))
        self._mark(cell, None)
        self._weights = candidate
        if not self._invalid:
            self.cellEdited.emit(row, column, self._weights.copy())

    @staticmethod
    def _mark(cell: QLineEdit, problem: str | None) -> None:
        invalid = problem is not None
        if cell.property("invalid") != invalid:
            cell.setProperty("invalid", invalid)
            cell.style().unpolish(cell)
            cell.style().polish(cell)
        cell.setToolTip(problem or "")


class KernelEditor(QWidget):
    """The kernel grid with its size selector, its sum and the flipped kernel.

    Signals
    -------
    cellEdited(int, int, object)
        See :class:`WeightGrid`.
    cellInvalid(int, int, str)
        See :class:`WeightGrid`.
    sizeRequested(int, int)
        The person picked another size in the selector.
    """

    cellEdited = Signal(int, int, object)
    cellInvalid = Signal(int, int, str)
    sizeRequested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = WeightGrid(parent=self)
        self.grid.cellEdited.connect(self._on_cell_edited)
        self.grid.cellEdited.connect(self.cellEdited)
        self.grid.cellInvalid.connect(self.cellInvalid)

        self.size_combo = QComboBox(self)
        self.size_combo.setObjectName("sizeCombo")
        self.size_combo.setToolTip("Kernel size; growing or shrinking keeps the centre")
        self.size_combo.activated.connect(self._on_size_activated)

        self.sum_label = QLabel(self)
        self.sum_label.setObjectName("sumLabel")
        self.flipped_title = QLabel("Applied kernel (rotated 180°):", self)
        self.flipped_grid = WeightGrid(editable=False, parent=self)

        header = QHBoxLayout()
        header.addWidget(QLabel("Size:", self))
        header.addWidget(self.size_combo)
        header.addStretch(1)
        header.addWidget(self.sum_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.grid)
        layout.addWidget(self.flipped_title)
        layout.addWidget(self.flipped_grid)
        self._flip = False
        self.set_weights(np.zeros((3, 3)))

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights shown."""
        return self.grid.weights

    def set_weights(self, weights: np.ndarray) -> None:
        """Show `weights` in the grid (no signal is emitted)."""
        self.grid.set_weights(weights)
        self._refresh()

    def set_flip(self, flip: bool) -> None:
        """Show or hide the 180°-rotated kernel that flipping applies."""
        self._flip = flip
        self._refresh()

    def _on_cell_edited(self, row: int, column: int, weights: np.ndarray) -> None:
        self._refresh()

    def _on_size_activated(self, index: int) -> None:
        height, width = self.size_combo.itemData(index)
        if (height, width) != self.grid.weights.shape:
            self.sizeRequested.emit(height, width)

    def _refresh(self) -> None:
        weights = self.grid.weights
        shape = weights.shape
        sizes = [(size, size) for size in GRID_SIZES]
        if shape not in sizes:
            sizes.append(shape)
        self.size_combo.blockSignals(True)
        self.size_combo.clear()
        for height, width in sizes:
            self.size_combo.addItem(f"{height}×{width}", (height, width))
        self.size_combo.setCurrentIndex(sizes.index(shape))
        self.size_combo.blockSignals(False)
        total = round(kernel_sum(weights), 12)
        self.sum_label.setText(f"Sum: {format_weight(total)}")
        self.sum_label.setToolTip(
            "The sum scales overall brightness: 1 keeps it, 0 keeps only edges."
        )
        self.flipped_title.setVisible(self._flip)
        self.flipped_grid.setVisible(self._flip)
        if self._flip:
            self.flipped_grid.set_weights(weights[::-1, ::-1])
