"""The editable grid of kernel weights, its size and sum, and the applied kernel."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QKeySequence,
    QMouseEvent,
    QPalette,
    QValidator,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.kernels import format_weight, format_weights, kernel_sum, parse_weight
from kernelstudio.pipeline import MAX_STAGE_SIDE

VISIBLE_SIDE = 9
"""Rows and columns a grid shows without scrolling; larger kernels scroll."""

CELL_SAMPLE_TEXT = "-0.0625"
"""The widest weight text a cell must show unclipped (seven characters)."""

NUDGE_PIXELS = 10
"""Vertical drag distance, in pixels, of one nudge."""

REFRESH_PATIENCE_MS = 250
"""How long a paced grid's look waits for the result being computed (see ``pace_with``)."""

_SPACING = 3
_SMALLEST_TEXT = 0.6  # of the grid's font: a longer text is cut off rather than unreadable
INVALID_COLOUR = QColor("#ffd6d6")
"""The background of a line edit whose ``invalid`` property is true."""
_NEGATIVE_RGB = np.array([70.0, 120.0, 230.0])  # blue
_POSITIVE_RGB = np.array([235.0, 150.0, 20.0])  # amber: apart from the pink of a refused cell
_HEAT_STRENGTH = 0.45  # at the largest |weight|: the text stays readable
_FITS_KEPT = 4096  # texts whose fitting_scale is remembered, far more than a grid shows
_WORD_EDITING_KEYS = (
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.MoveToNextWord,
    QKeySequence.StandardKey.MoveToPreviousWord,
    QKeySequence.StandardKey.SelectNextWord,
    QKeySequence.StandardKey.SelectPreviousWord,
    QKeySequence.StandardKey.DeleteStartOfWord,
    QKeySequence.StandardKey.DeleteEndOfWord,
)


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


def heat_rgb(weights: np.ndarray, largest: float, base: QColor) -> np.ndarray:
    """Blend `base` towards blue (negative) or amber (positive) by ``|weight| / largest``.

    Every weight of `weights` gets its colour at once, as a ``0xRRGGBB``
    integer (int64, the shape of `weights`); zero, and every weight when
    `largest` is not positive, keep `base`.

    Examples
    --------
    >>> [hex(rgb) for rgb in heat_rgb(np.array([0.0, 4.0, -2.0]), 4.0, QColor("white"))]
    ['0xffffff', '0xf6d095', '0xd5e1f9']
    """
    weights = np.asarray(weights, dtype=np.float64)
    base_rgb = np.array([base.red(), base.green(), base.blue()], dtype=np.float64)
    rgb = np.broadcast_to(base_rgb, (*weights.shape, 3)).copy()
    tinted = np.isfinite(weights) & (weights != 0)
    if largest > 0 and tinted.any():
        chosen = weights[tinted]
        share = np.minimum(np.abs(chosen) / largest, 1.0)[:, np.newaxis] * _HEAT_STRENGTH
        tint = np.where(chosen[:, np.newaxis] > 0, _POSITIVE_RGB, _NEGATIVE_RGB)
        rgb[tinted] = np.rint(base_rgb + (tint - base_rgb) * share)
    channels = rgb.astype(np.int64)
    return (channels[..., 0] << 16) | (channels[..., 1] << 8) | channels[..., 2]


def _colour(rgb: int) -> QColor:
    return QColor((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF)


def means(text: str, value: float) -> bool:
    """Whether `text` is a weight a person may type for exactly `value`.

    Examples
    --------
    >>> means("1/16", 0.0625), means("2e-3", 0.002), means("1/", 1.0)
    (True, True, False)
    """
    try:
        return parse_weight(text) == value
    except ValueError:
        return False


def fitting_scale(text: str, metrics: QFontMetricsF, room: float) -> float:
    """Return the share of a font's size at which `text` is at most `room` pixels wide.

    `metrics` are the font's. The share is 1 when the text fits as it is, and
    otherwise in twentieths (a weight that changes a little keeps its size),
    never below 0.6: a longer text is cut off rather than unreadable.
    """
    if len(text) < len(CELL_SAMPLE_TEXT) - 1:
        return 1.0  # five characters are narrower than the sample's seven in any font
    needed = metrics.horizontalAdvance(text)
    if needed <= room:
        return 1.0
    return max(math.floor(room / needed * 20) / 20, _SMALLEST_TEXT)


def cell_width(widget: QWidget) -> int:
    """Return the width a cell needs to show :data:`CELL_SAMPLE_TEXT` in `widget`'s font."""
    text = widget.fontMetrics().horizontalAdvance(CELL_SAMPLE_TEXT)
    frame = widget.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
    # QLineEdit's own 2 px side margins, its frame, and room for the cursor.
    return text + 2 * 2 + 2 * frame + 4


class LeaveShortcutsToWindow(QObject):
    """An event filter that lets the window's Ctrl shortcuts win over a line edit.

    A focused QLineEdit claims Ctrl+Z, Ctrl+Y and, with X11 key bindings, Ctrl+E,
    Ctrl+K … for itself. Installed on a line edit (or a spin box, which
    answers for its own line edit), this leaves every Ctrl combination to the
    window except those that edit text: copy, cut, paste, select all, and the
    word moves and deletions.
    """

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ignore ShortcutOverride for Ctrl combinations that are not text editing."""
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return False
        if any(event.matches(key) for key in _WORD_EDITING_KEYS):
            return False
        event.ignore()
        return True


class OddSpinBox(QSpinBox):
    """A spin box of odd numbers from 1 to :data:`~kernelstudio.pipeline.MAX_STAGE_SIDE`.

    It steps by 2, and an even number typed is taken as the odd number above it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(1, MAX_STAGE_SIDE)
        self.setSingleStep(2)
        self.setKeyboardTracking(False)  # "15" must not apply "1" on the way

    @qt_virtual(default=(QValidator.State.Invalid, "", 0))
    def validate(self, text: str, position: int) -> object:
        """Accept odd numbers; an even one is intermediate, for :meth:`fixup`."""
        state, text, position = super().validate(text, position)
        if state == QValidator.State.Acceptable and int(text) % 2 == 0:
            state = QValidator.State.Intermediate
        return state, text, position

    @qt_virtual(default="")
    def fixup(self, text: str) -> str:
        """Make an even number the odd one above it (30 becomes 31)."""
        try:
            number = int(text)
        except ValueError:
            return super().fixup(text)
        if number % 2 == 0:
            number = min(max(number + 1, self.minimum()), self.maximum())
        return str(number)


class WeightCell(QLineEdit):
    """One weight's line edit; the wheel and a vertical drag nudge it.

    Signals
    -------
    nudged(float)
        By how much the person asked to change the weight: ±1 per wheel notch
        (±0.1 with Shift), or ±1 per :data:`NUDGE_PIXELS` of a vertical drag with
        the middle button or Alt and the left button (up is more).
    """

    nudged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wheel_rest = 0
        self._drag_start: float | None = None
        self._drag_steps = 0
        self._hint: QSize | None = None  # in the grid's font, kept while a smaller one is set
        self._scale = 1.0  # of the grid's font, see set_text_scale
        self._shortcuts: QObject | None = None

    def leave_shortcuts_to_window(self, shortcuts: LeaveShortcutsToWindow) -> None:
        """Have `shortcuts` filter this cell's events while it has the focus.

        Only the focused widget is asked about shortcuts; a filter installed for
        good would be called from C++ for each of the hundreds of events a grid
        refresh sends its cells.
        """
        self._shortcuts = shortcuts
        if self.hasFocus():
            self.installEventFilter(shortcuts)

    @qt_virtual()
    def focusInEvent(self, event: QFocusEvent) -> None:
        """Let the window's Ctrl shortcuts win while the cell has the focus."""
        if self._shortcuts is not None:
            self.installEventFilter(self._shortcuts)
        super().focusInEvent(event)

    @qt_virtual()
    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Stop filtering the cell's events."""
        if self._shortcuts is not None:
            self.removeEventFilter(self._shortcuts)
        super().focusOutEvent(event)

    @qt_virtual(default=QSize())
    def sizeHint(self) -> QSize:
        """As wide as seven characters, not QLineEdit's seventeen, in the grid's font."""
        # Asked for each cell at every layout of the grid: worked out once.
        if self._hint is None:
            width = cell_width(self.parentWidget() or self)
            self._hint = QSize(width, super().sizeHint().height())
        return QSize(self._hint)

    @qt_virtual(default=QSize())
    def minimumSizeHint(self) -> QSize:
        """Never narrower than seven characters."""
        return self.sizeHint()

    def forget_size_hint(self) -> None:
        """Work the size hint out again: the grid's font or style changed (call at scale 1)."""
        self._hint = None
        self.updateGeometry()

    def set_text_scale(self, scale: float) -> None:
        """Show the text at `scale` times the grid's font size (1: the grid's font itself).

        A cell is as wide as :data:`CELL_SAMPLE_TEXT`; a generated kernel's small
        weights (``0.0002394``, ``1.965e-05``) are wider, and are shown smaller
        (see :func:`fitting_scale`). The cell stays as large as the others.
        """
        if scale == self._scale:
            return  # a font set is a relayout of the grid: only when it changes
        if self._scale == 1.0:
            self.sizeHint()  # remembered in the grid's font, before it shrinks
        self._scale = scale
        if scale == 1.0:
            self.setFont(QFont())  # nothing set: the grid's font again
            return
        base = (self.parentWidget() or self).font()
        font = QFont(base)
        if base.pointSizeF() > 0:
            font.setPointSizeF(base.pointSizeF() * scale)
        else:
            font.setPixelSize(max(1, int(base.pixelSize() * scale)))
        self.setFont(font)

    @qt_virtual()
    def wheelEvent(self, event: QWheelEvent) -> None:
        """Nudge by one per notch (a tenth with Shift)."""
        delta = event.angleDelta()
        # Some systems turn Shift+wheel into a horizontal wheel.
        self._wheel_rest += delta.y() or delta.x()
        notches = int(self._wheel_rest / 120)
        self._wheel_rest -= notches * 120
        event.accept()
        if notches:
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            self.nudged.emit(notches * (0.1 if shift else 1.0))

    @qt_virtual()
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a nudging drag with the middle button, or Alt and the left button."""
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and alt
        ):
            self._drag_start = event.position().y()
            self._drag_steps = 0
            event.accept()
            return
        super().mousePressEvent(event)

    @qt_virtual()
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Nudge by one per :data:`NUDGE_PIXELS` dragged up (down: minus one)."""
        if self._drag_start is None:
            super().mouseMoveEvent(event)
            return
        steps = int((self._drag_start - event.position().y()) / NUDGE_PIXELS)
        if steps != self._drag_steps:
            self.nudged.emit(float(steps - self._drag_steps))
            self._drag_steps = steps
        event.accept()

    @qt_virtual()
    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End a nudging drag."""
        if self._drag_start is None:
            super().mouseReleaseEvent(event)
            return
        self._drag_start = None
        event.accept()


def _nudged_text(value: float, step: float) -> str:
    # Added in decimal, so 0.2 + 0.1 is 0.3 and reads as typed ("0.3", not "3/10").
    total = float(Decimal(repr(value)) + Decimal(repr(step)))
    return str(int(total)) if total.is_integer() and abs(total) < 1e15 else repr(total)


class WeightGrid(QWidget):
    """A grid of editable cells named ``cell_<row>_<col>``, coloured by weight.

    A cell keeps the text a person typed ("-0.5", "2e-3") while it means the
    weight shown, also across resizes (the text is remembered by the cell's
    place relative to the centre). Unfinished text ("1/", "-") marks the cell
    at once but is reported only when the person leaves the cell or presses
    Return.

    A new kernel sets the text of the cells whose weight changed at once; their
    look (heat tint, font fitted to a long number) and the repaint follow at
    once too, or, once :meth:`pace_with` was called, after the result being
    computed is in.

    Signals
    -------
    cellEdited(int, int, object)
        A person changed a cell to a number; carries the row, the column and the
        float64 weights with the new value (other cells keep their last number).
    cellInvalid(int, int, str)
        A person left a cell holding something that is not a usable weight (or
        nudged it to one); carries why.
    """

    cellEdited = Signal(int, int, object)
    cellInvalid = Signal(int, int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setSpacing(_SPACING)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._cells: list[list[WeightCell]] = []
        self._pool: dict[tuple[int, int], WeightCell] = {}
        self._weights = np.zeros((0, 0))
        self._problems: dict[tuple[int, int], str] = {}
        self._reported: dict[tuple[int, int], str] = {}
        self._typed: dict[tuple[int, int], str] = {}
        self._shortcuts = LeaveShortcutsToWindow(self)
        # What the look of the cells is, so that a refresh touches only what changed.
        self._tints = np.zeros((0, 0), dtype=np.int64)  # 0xRRGGBB of each cell's Base
        self._unfitted: set[tuple[int, int]] = set()  # cells whose text changed since
        self._scales: dict[str, float] = {}  # fitting_scale of each text, in the grid's font
        # Pacing: the look of a change waits for the result being computed.
        self._busy: Callable[[], bool] | None = None
        self._look_held = False
        self._result_in = False
        self._look_timer = QTimer(self, singleShot=True, interval=0)
        self._look_timer.timeout.connect(self._on_look_turn)
        self._patience_timer = QTimer(self, singleShot=True, interval=REFRESH_PATIENCE_MS)
        self._patience_timer.timeout.connect(self.show_look)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights the cells show (the last number of each)."""
        return self._weights.copy()

    @property
    def is_valid(self) -> bool:
        """Whether every cell holds a usable weight."""
        return not self._problems

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of cells."""
        return self._weights.shape

    @property
    def look_pending(self) -> bool:
        """Whether the tints and font fits of the latest weights wait for a result."""
        return self._look_held

    def cell(self, row: int, column: int) -> QLineEdit:
        """Return the line edit at `row`, `column`."""
        return self._cells[row][column]

    def is_invalid(self, row: int, column: int) -> bool:
        """Whether the cell at `row`, `column` holds something unusable."""
        return (row, column) in self._problems

    def cells_size(self, rows: int, columns: int) -> QSize:
        """Return the size `rows` × `columns` cells take, with their spacing."""
        if not self._cells:
            return QSize(0, 0)
        hint = self._cells[0][0].sizeHint()
        return QSize(
            columns * hint.width() + (columns - 1) * _SPACING,
            rows * hint.height() + (rows - 1) * _SPACING,
        )

    def pace_with(self, busy: Callable[[], bool], *finished: SignalInstance) -> None:
        """Show the look of new weights after the result being computed is in.

        From now on :meth:`set_weights` still sets the cells' text at once, but
        the grid is repainted, with each cell's heat tint and fitted font, only
        at the next turn of the event loop, and then, when `busy()` says a
        result is being computed, after one of the `finished` signals said it
        is in (or failed), or after :data:`REFRESH_PATIENCE_MS` at the latest:
        the grid's work then no longer delays the result a slider asked for.
        """
        self._busy = busy
        for signal in finished:
            signal.connect(self._on_result_in)

    def set_weights(self, weights: np.ndarray, *, keep_unfinished: bool = False) -> None:
        """Show `weights` without emitting a signal, rebuilding the cells for a new shape.

        With `keep_unfinished`, a cell whose text is unusable keeps it (still
        marked) when its weight is the one it had: the person is still typing.
        Cells whose weight did not change are not touched.
        """
        weights = np.array(weights, dtype=np.float64)
        same_shape = weights.shape == self._weights.shape
        previous = self._weights
        if same_shape:
            # A usable cell's text shows its weight: only changed and marked cells need work.
            changed = weights != previous
            for row, column in self._problems:
                changed[row, column] = True
        else:
            changed = np.ones(weights.shape, dtype=bool)
        if self._busy is not None and changed.any():
            self._hold_look()
        if not same_shape:
            updates = self.updatesEnabled()
            self.setUpdatesEnabled(False)  # one repaint for the new shape, not one per cell
            try:
                self._rebuild(*weights.shape)
            finally:
                self.setUpdatesEnabled(updates)
            self._tints = np.full(weights.shape, -1, dtype=np.int64)
        self._weights = weights
        rows, columns = np.nonzero(changed)
        values = weights[rows, columns]
        marked = self._problems.keys() | self._reported.keys()
        middle_row, middle_column = weights.shape[0] // 2, weights.shape[1] // 2
        for row, column, value, text in zip(
            rows.tolist(), columns.tolist(), values.tolist(), format_weights(values), strict=True
        ):
            if (row, column) in marked:
                if (
                    keep_unfinished
                    and same_shape
                    and (row, column) in self._problems
                    and previous[row, column] == value
                ):
                    continue
                self._mark_valid(row, column)
            typed = self._typed.get((row - middle_row, column - middle_column))
            if typed is not None and means(typed, value):
                text = typed
            cell = self._cells[row][column]
            if cell.text() != text:
                cell.setText(text)
                self._unfitted.add((row, column))
        if self._busy is None:
            self.show_look()

    def show_look(self) -> None:
        """Give the cells whose text or weight changed their font fit and heat tint now."""
        self._look_timer.stop()
        self._patience_timer.stop()
        self._result_in = False
        self._fit_texts()
        self._paint_heat()
        if self._look_held:
            self._look_held = False
            self.setUpdatesEnabled(True)

    def refuse(self, row: int, column: int, reason: str, previous: float) -> None:
        """Mark the cell at `row`, `column` unusable for `reason`; its weight stays `previous`."""
        self._weights[row, column] = previous
        self._mark_invalid(row, column, reason)
        self.show_look()

    def nudge(self, row: int, column: int, step: float) -> None:
        """Change the cell's weight by `step`, as if the person had typed the result."""
        text = _nudged_text(float(self._weights[row, column]), step)
        cell = self._cells[row][column]
        cell.setText(text)
        self._on_text_edited(row, column, text)
        if (row, column) in self._problems:  # nobody leaves a cell after a nudge: say it now
            self._reported[(row, column)] = text
            self.cellInvalid.emit(row, column, self._problems[(row, column)])

    @qt_virtual()
    def changeEvent(self, event: QEvent) -> None:
        """Fit and size the cells anew for another font or style."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._scales.clear()
            for cell in self._pool.values():
                cell.set_text_scale(1.0)
                cell.forget_size_hint()
            self._unfitted.update(np.ndindex(self.shape))
            self._fit_texts()

    def _hold_look(self) -> None:
        if not self._look_held:
            self._look_held = True
            self.setUpdatesEnabled(False)  # the texts set meanwhile are painted with their look
        if not self._look_timer.isActive():
            self._look_timer.start()

    def _on_look_turn(self) -> None:
        # The first turn of the event loop after new weights, or after a result came in.
        if self._result_in or not self._busy():
            self.show_look()
        elif not self._patience_timer.isActive():
            self._patience_timer.start()  # a job that never reports must not hold the look

    def _on_result_in(self, *_arguments: object) -> None:
        if self._look_held:
            # After this turn of the event loop, which paints the result first.
            self._result_in = True
            self._look_timer.start()

    def _centred(self, row: int, column: int) -> tuple[int, int]:
        height, width = self._weights.shape
        return row - height // 2, column - width // 2

    def _rebuild(self, height: int, width: int) -> None:
        # Each grid position keeps its cell for good: a new shape shows and hides
        # cells instead of making and deleting hundreds of widgets (a 31×31 grid
        # took two seconds to rebuild), and a hidden cell takes no room.
        self._problems.clear()
        self._reported.clear()
        for (row, column), cell in self._pool.items():
            if row >= height or column >= width:
                cell.hide()
        self._cells = []
        for row in range(height):
            cells = []
            for column in range(width):
                cell = self._pool.get((row, column))
                if cell is None:
                    cell = self._pool[(row, column)] = self._new_cell(row, column)
                cell.show()
                cells.append(cell)
            self._cells.append(cells)
        self._unfitted = set(np.ndindex(height, width))  # a shown cell may keep its old text

    def _new_cell(self, row: int, column: int) -> WeightCell:
        cell = WeightCell(self)
        cell.setObjectName(f"cell_{row}_{column}")
        cell.setAccessibleName(f"Weight row {row + 1}, column {column + 1}")
        cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cell.setMaxLength(32)
        cell.setAcceptDrops(False)
        cell.setAutoFillBackground(True)
        cell.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        cell.setToolTip(self._hint(row, column))
        cell.leave_shortcuts_to_window(self._shortcuts)
        cell.textEdited.connect(lambda text, r=row, c=column: self._on_text_edited(r, c, text))
        cell.editingFinished.connect(lambda r=row, c=column: self._on_left(r, c))
        cell.returnPressed.connect(cell.focusNextChild)
        cell.nudged.connect(lambda step, r=row, c=column: self.nudge(r, c, step))
        self._layout.addWidget(cell, row, column)
        return cell

    @staticmethod
    def _hint(row: int, column: int) -> str:
        return (
            f"Row {row + 1}, column {column + 1}: a number or a fraction such as 1/16.\n"
            "The wheel nudges it by 1 (with Shift by 0.1); so does dragging up or down\n"
            "with the middle button or Alt and the left button."
        )

    def _on_text_edited(self, row: int, column: int, text: str) -> None:
        self._unfitted.add((row, column))
        try:
            value = parse_weight(text)
        except ValueError as error:
            self._mark_invalid(row, column, str(error))
            self.show_look()
            return
        self._typed[self._centred(row, column)] = text
        self._mark_valid(row, column)
        self._weights = self._weights.copy()
        self._weights[row, column] = value
        self.show_look()
        self.cellEdited.emit(row, column, self._weights.copy())

    def _on_left(self, row: int, column: int) -> None:
        if not (0 <= row < len(self._cells) and 0 <= column < len(self._cells[row])):
            return  # a cell of a previous shape, finishing as it goes
        problem = self._problems.get((row, column))
        text = self._cells[row][column].text()
        if problem is not None and self._reported.get((row, column)) != text:
            self._reported[(row, column)] = text
            self.cellInvalid.emit(row, column, problem)

    def _mark_invalid(self, row: int, column: int, reason: str) -> None:
        self._problems[(row, column)] = reason
        cell = self._cells[row][column]
        cell.setProperty("invalid", True)
        cell.setToolTip(reason)

    def _mark_valid(self, row: int, column: int) -> None:
        self._reported.pop((row, column), None)
        if self._problems.pop((row, column), None) is not None:
            cell = self._cells[row][column]
            cell.setProperty("invalid", False)
            cell.setToolTip(self._hint(row, column))

    def _fit_texts(self) -> None:
        if not self._unfitted:
            return
        metrics = QFontMetricsF(self.font())
        room = metrics.horizontalAdvance(CELL_SAMPLE_TEXT)
        if len(self._scales) > _FITS_KEPT:
            self._scales.clear()
        for row, column in self._unfitted:
            cell = self._cells[row][column]
            text = cell.text()
            scale = self._scales.get(text)
            if scale is None:
                scale = self._scales[text] = fitting_scale(text, metrics, room)
            cell.set_text_scale(scale)
        self._unfitted.clear()

    def _paint_heat(self) -> None:
        # Palettes, not style sheets: a style sheet on 961 cells takes seconds. Only
        # the cells whose tint changed get a new palette (each is an event and a repaint).
        if self._weights.size == 0:
            return
        base = self.palette().color(QPalette.ColorRole.Base)
        largest = float(np.max(np.abs(self._weights)))
        tints = heat_rgb(self._weights, largest, base)
        for row, column in self._problems:
            tints[row, column] = INVALID_COLOUR.rgb() & 0xFFFFFF
        for row, column in np.argwhere(tints != self._tints).tolist():
            cell = self._cells[row][column]
            palette = cell.palette()
            palette.setColor(QPalette.ColorRole.Base, _colour(int(tints[row, column])))
            cell.setPalette(palette)
        self._tints = tints


def _paint(widget: QWidget, role: QPalette.ColorRole, colour: QColor) -> None:
    palette = widget.palette()
    if palette.color(role) != colour:
        palette.setColor(role, colour)
        widget.setPalette(palette)


def set_invalid_look(edit: QLineEdit, invalid: bool) -> None:
    """Mark `edit` unusable (its ``invalid`` property, :data:`INVALID_COLOUR`), or not."""
    edit.setProperty("invalid", invalid)
    parent = edit.parentWidget() or edit
    normal = parent.palette().color(QPalette.ColorRole.Base)
    _paint(edit, QPalette.ColorRole.Base, INVALID_COLOUR if invalid else normal)


class _GridScroll(QScrollArea):
    # Shows up to VISIBLE_SIDE × VISIBLE_SIDE cells whole and scrolls the rest, and
    # asks for exactly that room, so the panel's size hint grows with the columns.

    def __init__(
        self,
        content: QWidget,
        shape: Callable[[], tuple[int, int]],
        content_size: Callable[[int, int], QSize],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._shape = shape
        self._content_size = content_size
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    @qt_virtual(default=QSize())
    def sizeHint(self) -> QSize:
        rows, columns = self._shape()
        size = self._content_size(min(rows, VISIBLE_SIDE), min(columns, VISIBLE_SIDE))
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return QSize(
            size.width() + (bar if rows > VISIBLE_SIDE else 0),
            size.height() + (bar if columns > VISIBLE_SIDE else 0),
        )

    @qt_virtual(default=QSize())
    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


class KernelEditor(QWidget):
    """The weight grid with its size boxes and its sum.

    Signals
    -------
    cellEdited(int, int, object)
        See :class:`WeightGrid`.
    cellInvalid(int, int, str)
        See :class:`WeightGrid`.
    sizeRequested(int, int)
        The person asked for another number of rows and columns.
    """

    cellEdited = Signal(int, int, object)
    cellInvalid = Signal(int, int, str)
    sizeRequested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = WeightGrid(self)
        self.grid.cellEdited.connect(self._on_cell_edited)
        self.grid.cellEdited.connect(self.cellEdited)
        self.grid.cellInvalid.connect(self.cellInvalid)
        self.scroll = _GridScroll(self.grid, lambda: self.grid.shape, self.grid.cells_size, self)
        self.scroll.setObjectName("gridScroll")

        shortcuts = LeaveShortcutsToWindow(self)
        self.rows_spin = OddSpinBox(self)
        self.columns_spin = OddSpinBox(self)
        for spin, name, word in (
            (self.rows_spin, "rowsSpin", "rows"),
            (self.columns_spin, "columnsSpin", "columns"),
        ):
            spin.setObjectName(name)
            spin.setAccessibleName(f"Kernel {word}")
            spin.setToolTip(
                f"How many {word} the kernel has: an odd number from 1 to {MAX_STAGE_SIDE}.\n"
                "Growing or shrinking keeps the centre."
            )
            spin.installEventFilter(shortcuts)
            spin.valueChanged.connect(self._on_size_changed)

        self.sum_label = QLabel(self)
        self.sum_label.setObjectName("sumLabel")
        self.sum_label.setAccessibleName("Sum of the weights")
        self.sum_label.setToolTip(
            "The sum scales overall brightness: 1 keeps it, 0 keeps only edges."
        )
        self.sum_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        size_label = QLabel("Size:", self)
        size_label.setBuddy(self.rows_spin)
        header.addWidget(size_label)
        header.addWidget(self.rows_spin)
        header.addWidget(QLabel("×", self))
        header.addWidget(self.columns_spin)
        header.addStretch(1)
        header.addWidget(self.sum_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.scroll)
        self.set_weights(np.zeros((3, 3)))

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights shown."""
        return self.grid.weights

    def pace_with(self, busy: Callable[[], bool], *finished: SignalInstance) -> None:
        """Repaint the grid for new weights after the result being computed is in.

        See :meth:`WeightGrid.pace_with`; the size and the sum are shown at once.
        """
        self.grid.pace_with(busy, *finished)

    def set_weights(self, weights: np.ndarray, *, keep_unfinished: bool = False) -> None:
        """Show `weights`, their size and their sum (no signal is emitted).

        See :meth:`WeightGrid.set_weights` for `keep_unfinished`.
        """
        old_shape = self.grid.shape
        self.grid.set_weights(weights, keep_unfinished=keep_unfinished)
        height, width = self.grid.shape
        for spin, value in ((self.rows_spin, height), (self.columns_spin, width)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        if self.grid.shape != old_shape:  # the panel's width follows the columns
            self.scroll.updateGeometry()
            self.updateGeometry()
        self._show_sum()

    def _on_cell_edited(self, row: int, column: int, weights: np.ndarray) -> None:
        self._show_sum()

    def _on_size_changed(self) -> None:
        size = (self.rows_spin.value(), self.columns_spin.value())
        if size != self.grid.shape:
            self.sizeRequested.emit(*size)

    def _show_sum(self) -> None:
        total = round(kernel_sum(self.grid.weights), 12)
        self.sum_label.setText(f"Sum: {format_weight(total)}")


class AppliedKernel(QWidget):
    """A picture of the kernel as applied: read-only numbers on their heat colours.

    Shown when the recipe flips its kernels, under the caption "Applied kernel
    (rotated 180°)"; nothing in it looks or acts like a field to type into.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("appliedKernel")
        self.setAccessibleName("Applied kernel, rotated 180°")
        self.setToolTip(
            "With flip on, this rotated kernel is what each pixel's neighbourhood is\n"
            "multiplied by. Edit the kernel in the grid above."
        )
        self.caption = QLabel("Applied kernel (rotated 180°)", self)
        self.caption.setObjectName("appliedKernelCaption")
        self._numbers = QWidget(self)
        self._layout = QGridLayout(self._numbers)
        self._layout.setSpacing(_SPACING)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._labels: list[list[QLabel]] = []
        self._weights = np.zeros((0, 0))
        self.scroll = _GridScroll(
            self._numbers, lambda: self._weights.shape, self._content_size, self
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.scroll)

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weights shown."""
        return self._weights.copy()

    def label(self, row: int, column: int) -> QLabel:
        """Return the number at `row`, `column`."""
        return self._labels[row][column]

    def show_weights(self, weights: np.ndarray) -> None:
        """Show `weights` as they are (the caller rotates them)."""
        weights = np.array(weights, dtype=np.float64)
        if weights.shape != self._weights.shape:
            self._rebuild(*weights.shape)
        self._weights = weights
        largest = float(np.max(np.abs(weights))) if weights.size else 0.0
        base = self.palette().color(QPalette.ColorRole.Window)
        tints = heat_rgb(weights, largest, base)
        for (row, column), value in np.ndenumerate(weights):
            label = self._labels[row][column]
            label.setText(format_weight(value))
            _paint(label, QPalette.ColorRole.Window, _colour(int(tints[row, column])))
        self.scroll.updateGeometry()
        self.updateGeometry()

    def _rebuild(self, height: int, width: int) -> None:
        for row in self._labels:
            for label in row:
                self._layout.removeWidget(label)
                label.hide()
                label.deleteLater()
        width_px = cell_width(self)
        self._labels = []
        for row in range(height):
            labels = []
            for column in range(width):
                label = QLabel(self._numbers)
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setAutoFillBackground(True)
                label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # a picture, greyed
                label.setMinimumWidth(width_px)
                label.setFixedHeight(self.fontMetrics().height() + 6)
                self._layout.addWidget(label, row, column)
                labels.append(label)
            self._labels.append(labels)

    def _content_size(self, rows: int, columns: int) -> QSize:
        height = self.fontMetrics().height() + 6
        return QSize(
            columns * cell_width(self) + (columns - 1) * _SPACING,
            rows * height + (rows - 1) * _SPACING,
        )
