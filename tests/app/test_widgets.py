"""Widgets on their own: the weight grid, the options form, QImage conversions."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from kernelstudio.app.kernel_editor import KernelEditor, WeightGrid, resize_centred
from kernelstudio.app.options_panel import BORDER_LABELS, DISPLAY_LABELS
from kernelstudio.app.qimages import array_to_qimage, qimage_to_array
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES


def test_every_border_and_display_mode_has_a_label():
    assert set(BORDER_LABELS) == set(BORDERS)
    assert set(DISPLAY_LABELS) == set(DISPLAY_MODES)


@pytest.mark.parametrize(("height", "width"), [(5, 5), (1, 1), (3, 7), (1, 3)])
def test_resize_centred_keeps_the_centre_weight(height, width):
    weights = np.arange(9, dtype=float).reshape(3, 3)
    resized = resize_centred(weights, height, width)
    assert resized.shape == (height, width)
    assert resized[height // 2, width // 2] == weights[1, 1]
    assert resized.sum() <= weights.sum()


def test_grid_reports_edits_and_problems(qtbot):
    grid = WeightGrid()
    qtbot.addWidget(grid)
    grid.set_weights(np.zeros((3, 3)))
    problems = []
    grid.cellInvalid.connect(lambda r, c, why: problems.append((r, c, why)))
    cell = grid.cell(2, 1)
    with qtbot.waitSignal(grid.cellEdited) as edited:
        qtbot.keyClicks(cell, "7")
    row, column, weights = edited.args
    assert (row, column, weights[2, 1]) == (2, 1, 7.0)
    qtbot.keyClicks(cell, "q")
    assert problems == []  # told only when the person leaves the cell
    assert not grid.is_valid
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    assert problems[-1][:2] == (2, 1)
    assert not grid.is_valid
    np.testing.assert_array_equal(grid.weights[2, 1], 7.0)


def test_enter_moves_to_the_next_cell(qtbot):
    grid = WeightGrid()
    qtbot.addWidget(grid)
    grid.set_weights(np.zeros((3, 3)))
    grid.show()
    grid.cell(0, 0).setFocus()
    qtbot.waitUntil(grid.cell(0, 0).hasFocus)
    qtbot.keyClick(grid.cell(0, 0), Qt.Key.Key_Return)
    qtbot.waitUntil(grid.cell(0, 1).hasFocus)


def test_editor_keeps_exact_weights_behind_rounded_text(qtbot):
    editor = KernelEditor()
    qtbot.addWidget(editor)
    weights = np.full((3, 3), 0.123456789)
    editor.set_weights(weights)
    assert editor.grid.cell(0, 0).text() == "0.1235"
    np.testing.assert_array_equal(editor.weights, weights)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3)])
def test_qimage_round_trip(qapp, shape):
    pixels = np.random.default_rng(4).integers(0, 256, size=shape).astype(np.uint8)
    back = qimage_to_array(array_to_qimage(pixels))
    expected = pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
    np.testing.assert_array_equal(back, expected)
