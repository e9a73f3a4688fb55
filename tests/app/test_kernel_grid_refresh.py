"""The weight grid's refresh: only what changed is touched, and its look always lands.

A slider drag refreshes a 15 × 15 grid per step. The grid sets the text of
the cells whose weight changed at once; the heat tint and the font fitted to
a long number follow at once, or, paced with the results
(:meth:`~kernelstudio.app.kernel_editor.WeightGrid.pace_with`), after the
result being computed is in. The expected texts are the core's
:func:`~kernelstudio.kernels.format_weight`, the expected weights the
controller's applied recipe.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox

from kernelstudio.app.kernel_editor import (
    INVALID_COLOUR,
    REFRESH_PATIENCE_MS,
    KernelEditor,
    WeightGrid,
)
from kernelstudio.kernels import format_weight

WAIT_MS = 10_000


class _Finished(QObject):
    done = Signal(object)


def base_of(widget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.Base)


def assert_shows(grid: WeightGrid, weights: np.ndarray) -> None:
    """Every cell shows its weight, as the core writes it, and the grid holds them."""
    assert grid.shape == weights.shape
    for (row, column), weight in np.ndenumerate(weights):
        assert grid.cell(row, column).text() == format_weight(weight), (row, column)
    np.testing.assert_array_equal(grid.weights, weights)


def tint_strength(colour: QColor, base: QColor) -> int:
    return sum(abs(a - b) for a, b in zip(colour.getRgb()[:3], base.getRgb()[:3], strict=True))


def editor_shown(qtbot) -> KernelEditor:
    editor = KernelEditor()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


# In the window --------------------------------------------------------------------


def test_after_a_burst_of_slider_moves_the_grid_shows_the_applied_weights(qtbot, window):
    combo = window.findChild(QComboBox, "generatorCombo")
    combo.setCurrentIndex(combo.findData("gaussian"))
    box = window.findChild(QAbstractSpinBox, "spin_sigma")
    for step in range(12):  # faster than any result: most are superseded
        box.setValue(1.0 + 0.1 * step)
        QApplication.processEvents()
    controller, grid = window.controller, window.editor.grid
    qtbot.waitUntil(
        lambda: (
            controller.is_idle
            and not window.generator_panel.has_pending
            and controller.rendering.recipe is controller.recipe
            and not grid.look_pending
        ),
        timeout=WAIT_MS,
    )
    applied = controller.stage.weights
    assert controller.stage.generator.values["sigma"] == 2.1
    assert applied.shape == (15, 15)
    assert_shows(grid, applied)
    assert grid.updatesEnabled()
    assert all(grid.cell(*key).updatesEnabled() for key in np.ndindex(applied.shape))
    base = window.editor.palette().color(QPalette.ColorRole.Base)
    centre, corner = grid.cell(7, 7), grid.cell(0, 0)
    assert tint_strength(base_of(centre), base) > tint_strength(base_of(corner), base)
    # The corner's long number is shown whole, in a smaller type.
    assert corner.font().pointSizeF() < grid.font().pointSizeF()
    assert corner.fontMetrics().horizontalAdvance(corner.text()) <= corner.contentsRect().width()


# Only what changed ---------------------------------------------------------------


def test_cells_whose_weight_did_not_change_are_not_set_again(qtbot):
    editor = editor_shown(qtbot)
    weights = np.full((3, 3), 0.123456)  # written "0.1235": the text does not mean it exactly
    editor.set_weights(weights)
    kept = editor.grid.cell(0, 0)
    kept.setCursorPosition(2)
    kept.setSelection(1, 3)
    changed = weights.copy()
    changed[2, 2] = -0.5
    editor.set_weights(changed)
    assert (kept.selectionStart(), kept.selectedText()) == (1, ".12")  # setText clears both
    assert editor.grid.cell(2, 2).text() == "-1/2"
    assert_shows(editor.grid, changed)


def test_a_typed_text_that_still_means_the_weight_stays(qtbot):
    editor = editor_shown(qtbot)
    editor.set_weights(np.zeros((3, 3)))
    cell = editor.grid.cell(1, 1)
    cell.setFocus()
    cell.selectAll()
    qtbot.keyClicks(cell, "0.50")
    applied = editor.weights
    assert applied[1, 1] == 0.5
    applied[0, 0] = 2.0  # another cell changes, as the applied state comes back
    editor.set_weights(applied)
    assert cell.text() == "0.50"
    assert cell.isUndoAvailable()  # its typing history is intact
    assert editor.grid.cell(0, 0).text() == "2"


# The tint follows the weight -------------------------------------------------------


def test_the_tint_follows_the_weight(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    base = editor.palette().color(QPalette.ColorRole.Base)
    weights = np.array([[4.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -4.0]])
    editor.set_weights(weights)
    strong, weak, zero, negative = (
        base_of(grid.cell(*key)) for key in ((0, 0), (0, 1), (0, 2), (2, 2))
    )
    assert strong.red() > strong.blue()  # amber
    assert weak.red() > weak.blue()
    assert tint_strength(strong, base) > tint_strength(weak, base) > 0
    assert zero == base
    assert negative.blue() > negative.red()
    flipped = weights.copy()
    flipped[0, 0], flipped[0, 2] = -4.0, 4.0  # a sign flips, a zero turns strong
    editor.set_weights(flipped)
    assert base_of(grid.cell(0, 0)).blue() > base_of(grid.cell(0, 0)).red()
    assert base_of(grid.cell(0, 2)).red() > base_of(grid.cell(0, 2)).blue()
    # The largest weight halves: the weak cell's share of it doubles.
    halved = flipped.copy()
    halved[0, 0], halved[0, 2], halved[2, 2] = -2.0, 2.0, -2.0
    editor.set_weights(halved)
    assert tint_strength(base_of(grid.cell(0, 1)), base) > tint_strength(weak, base)


def test_a_refused_cell_is_pink_until_the_applied_weight_comes_back(qtbot):
    editor = editor_shown(qtbot)
    editor.set_weights(np.ones((3, 3)))
    cell = editor.grid.cell(1, 1)
    cell.setFocus()
    cell.selectAll()
    qtbot.keyClicks(cell, "1/")
    assert base_of(cell) == INVALID_COLOUR
    editor.set_weights(np.ones((3, 3)), keep_unfinished=True)  # still typing
    assert (cell.text(), base_of(cell)) == ("1/", INVALID_COLOUR)
    editor.set_weights(np.ones((3, 3)))  # e.g. undo: the applied weight again
    assert cell.text() == "1"
    assert base_of(cell) != INVALID_COLOUR


def test_a_long_number_shrinks_the_font_and_a_short_one_gives_it_back(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    weights = np.zeros((3, 3))
    weights[0, 0] = 1.965e-05
    editor.set_weights(weights)
    cell = grid.cell(0, 0)
    assert cell.font().pointSizeF() < grid.font().pointSizeF()
    assert cell.fontMetrics().horizontalAdvance(cell.text()) <= cell.contentsRect().width()
    hint, height = cell.sizeHint(), cell.height()
    assert hint == grid.cell(1, 1).sizeHint()  # as large as the others, in the grid's font
    weights[0, 0] = 0.5
    editor.set_weights(weights)
    QApplication.processEvents()  # the grid lays its cells out again
    assert cell.font() == grid.font()
    assert (cell.sizeHint(), cell.height()) == (hint, height)


# The deferred look lands ------------------------------------------------------------


def test_a_paced_grid_shows_the_texts_at_once_and_the_look_after_the_result(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    busy, finished = [False], _Finished()
    editor.pace_with(lambda: busy[0], finished.done)
    before = np.zeros((3, 3))
    before[0, 0] = 1.0
    editor.set_weights(before)
    qtbot.waitUntil(lambda: not grid.look_pending)
    old_tint = base_of(grid.cell(2, 2))
    busy[0] = True  # the result of the new weights is being computed
    after = before.copy()
    after[2, 2] = -1.0
    editor.set_weights(after)
    assert grid.cell(2, 2).text() == "-1"  # read by tests and assistive tools at once
    assert editor.sum_label.text() == "Sum: 0"
    for _turn in range(5):
        QApplication.processEvents()
    assert grid.look_pending
    assert base_of(grid.cell(2, 2)) == old_tint
    assert not grid.updatesEnabled()  # nothing half-refreshed is painted meanwhile
    busy[0] = False
    finished.done.emit(None)
    qtbot.waitUntil(lambda: not grid.look_pending, timeout=WAIT_MS)
    tint = base_of(grid.cell(2, 2))
    assert tint.blue() > tint.red()
    assert grid.updatesEnabled()
    assert_shows(grid, after)


def test_a_burst_of_paced_changes_ends_with_the_last_ones_look(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    finished = _Finished()
    editor.pace_with(lambda: True, finished.done)
    rng = np.random.default_rng(3)
    for _step in range(6):
        latest = rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0], size=(5, 5))
        editor.set_weights(latest)
        QApplication.processEvents()
    finished.done.emit(None)
    qtbot.waitUntil(lambda: not grid.look_pending, timeout=WAIT_MS)
    assert_shows(grid, latest)
    base = editor.palette().color(QPalette.ColorRole.Base)
    for (row, column), weight in np.ndenumerate(latest):
        tint = base_of(grid.cell(row, column))
        if weight == 0:
            assert tint == base
        else:
            assert (tint.red() > tint.blue()) == (weight > 0), (row, column)


def test_a_deferred_look_lands_even_when_no_result_comes(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    never = _Finished()  # busy for good, never reports
    editor.pace_with(lambda: True, never.done)
    weights = np.zeros((3, 3))
    weights[1, 1] = -3.0
    editor.set_weights(weights)
    assert grid.look_pending
    qtbot.waitUntil(lambda: not grid.look_pending, timeout=2_000)
    assert base_of(grid.cell(1, 1)).blue() > base_of(grid.cell(1, 1)).red()
    assert grid.updatesEnabled()


def test_when_nothing_is_computed_the_look_lands_at_the_next_turn(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    finished = _Finished()
    editor.pace_with(lambda: False, finished.done)
    weights = np.zeros((3, 3))
    weights[0, 2] = 5.0
    editor.set_weights(weights)
    assert grid.look_pending
    # At the next turn of the event loop, well before the patience for a result runs out.
    qtbot.waitUntil(lambda: not grid.look_pending, timeout=REFRESH_PATIENCE_MS // 2)
    assert base_of(grid.cell(0, 2)).red() > base_of(grid.cell(0, 2)).blue()


def test_typing_into_a_paced_grid_shows_the_look_at_once(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    finished = _Finished()
    editor.pace_with(lambda: True, finished.done)
    editor.set_weights(np.ones((3, 3)))
    assert grid.look_pending
    cell = grid.cell(1, 1)
    cell.setFocus()
    cell.selectAll()
    qtbot.keyClicks(cell, "-7")
    assert not grid.look_pending
    assert base_of(cell).blue() > base_of(cell).red()


def test_a_state_that_leaves_the_weights_as_they_are_repaints_nothing(qtbot):
    editor = editor_shown(qtbot)
    grid = editor.grid
    finished = _Finished()
    editor.pace_with(lambda: True, finished.done)
    weights = np.eye(3)
    editor.set_weights(weights)
    finished.done.emit(None)
    qtbot.waitUntil(lambda: not grid.look_pending, timeout=WAIT_MS)
    editor.set_weights(weights.copy())  # e.g. the divisor changed
    assert not grid.look_pending
    assert grid.updatesEnabled()
