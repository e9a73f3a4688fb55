"""The Recipe panel on its own, driven as a person would and fed state as the window does."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QMainWindow,
    QSpinBox,
    QWidget,
)

from kernelstudio.app.controller import ViewOptions
from kernelstudio.app.kernel_editor import INVALID_COLOUR
from kernelstudio.app.recipe_panel import RecipePanel
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.kernels import PRESET_DISPLAY, PRESET_NAMES, PRESETS, Kernel
from kernelstudio.pipeline import MAX_STAGES, Recipe, Stage

SIGNALS = ("recipeEdited", "stageSelected", "viewEdited", "problem")


class FakeWindow:
    """What the window does: apply every edit at once and show the new state."""

    def __init__(self, panel, recipe):
        self.panel = panel
        self.recipe = recipe
        self.view = ViewOptions()
        self.selected = 0
        self.edits = []
        self.problems = []
        self.views = []
        panel.recipeEdited.connect(self.apply)
        panel.stageSelected.connect(self.select)
        panel.viewEdited.connect(self.edit_view)
        panel.problem.connect(self.problems.append)
        self.show()

    def apply(self, recipe, text, key):
        assert isinstance(recipe, Recipe)
        self.edits.append((recipe, text, key))
        self.recipe = recipe
        self.selected = min(self.selected, len(recipe.stages) - 1)
        self.show()

    def select(self, index):
        self.selected = index
        self.show()

    def edit_view(self, field, value):
        self.views.append((field, value))
        self.view = replace(self.view, **{field: value})
        self.show()

    def show(self):
        self.panel.show_state(self.recipe, self.view, self.selected)

    @property
    def stage(self):
        return self.recipe.stages[self.selected]


@pytest.fixture
def panel(qtbot):
    panel = RecipePanel()
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def window(panel):
    return FakeWindow(panel, Recipe.single(np.zeros((3, 3))))


def record_signals(panel):
    seen = []
    for name in SIGNALS:
        getattr(panel, name).connect(lambda *args, name=name: seen.append((name, args)))
    return seen


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def shown(qtbot, widget):
    widget.show()
    qtbot.waitExposed(widget)


def fully_visible(widget):
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


# Showing state ------------------------------------------------------------------


def test_show_state_emits_nothing_and_shows_everything(panel):
    seen = record_signals(panel)
    recipe = Recipe(
        (Stage(PRESETS["outline"]), Stage(np.ones((5, 3)), divisor=15, offset=2, name="Soft")),
        border="wrap",
        flip=True,
        grey=True,
        channels="gb",
        alpha="weighted",
        display="signed",
    )
    panel.show_state(recipe, ViewOptions(channels_of_result=True), 1)
    assert seen == []
    np.testing.assert_array_equal(panel.editor.weights, np.ones((5, 3)))
    options = panel.options
    assert (options.divisor_edit.text(), options.offset_edit.text()) == ("15", "2")
    assert options.border_combo.currentData() == "wrap"
    assert options.display_combo.currentData() == "signed"
    assert options.alpha_combo.currentData() == "weighted"
    assert options.colour_combo.currentData() is True
    assert options.flip_check.isChecked()
    assert options.channels_check.isChecked()
    checked = [letter for letter, box in options.channel_checks.items() if box.isChecked()]
    assert checked == ["g", "b"]
    assert [panel.stage_list.item(i).text() for i in range(2)] == [
        "1. Outline 3×3",
        "2. Soft 5×3",
    ]
    assert panel.stage_list.currentRow() == 1
    assert (panel.editor.rows_spin.value(), panel.editor.columns_spin.value()) == (5, 3)
    assert panel.editor.sum_label.text() == "Sum: 15"
    panel.show_state(recipe, ViewOptions(), 0)
    assert panel.preset_combo.currentData() == "outline"
    assert seen == []


# Typing weights -----------------------------------------------------------------


def test_typing_a_fraction_key_by_key_tells_no_problem_and_keeps_the_text(qtbot, window):
    panel = window.panel
    cell = panel.editor.grid.cell(0, 2)
    type_into(qtbot, cell, "1/16")
    assert all(problem == "" for problem in window.problems)
    assert window.stage.weights[0, 2] == 1 / 16
    assert cell.text() == "1/16"
    assert cell.property("invalid") is not True
    recipe, text, key = window.edits[-1]
    expected = np.zeros((3, 3))
    expected[0, 2] = 1 / 16
    np.testing.assert_array_equal(recipe.stages[0].weights, expected)
    assert (text, key) == ("Edit weight", ("cell", 0, 0, 2))
    assert {key for _, _, key in window.edits} == {("cell", 0, 0, 2)}


def test_unfinished_text_is_told_when_the_cell_is_left_and_cleared_when_valid(qtbot, window):
    panel = window.panel
    shown(qtbot, panel)
    cell = panel.editor.grid.cell(1, 1)
    type_into(qtbot, cell, "1/")
    assert cell.property("invalid") is True
    assert cell.palette().base().color() == INVALID_COLOUR
    assert [p for p in window.problems if p] == []
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    assert window.problems[-1].startswith("Row 2, column 2:")
    assert window.stage.weights[1, 1] == 1  # the "1" on the way was applied, "1/" not
    type_into(qtbot, cell, "3")
    assert window.problems[-1] == ""
    assert cell.property("invalid") is False
    assert window.stage.weights[1, 1] == 3


@pytest.mark.parametrize("text", ["-0.5", "2e-3", "1/16", ".5"])
def test_typed_text_survives_the_state_and_resizes(qtbot, window, text):
    panel = window.panel
    type_into(qtbot, panel.editor.grid.cell(1, 1), text)
    window.show()
    assert panel.editor.grid.cell(1, 1).text() == text
    panel.editor.rows_spin.setValue(5)
    assert window.stage.weights.shape == (5, 3)
    assert panel.editor.grid.cell(2, 1).text() == text
    panel.editor.columns_spin.setValue(7)
    panel.editor.rows_spin.setValue(3)  # only zeros dropped: no question
    assert window.stage.weights.shape == (3, 7)
    assert panel.editor.grid.cell(1, 3).text() == text


def test_a_weight_the_divisor_cannot_take_is_refused(qtbot, panel):
    window = FakeWindow(panel, Recipe.single(np.ones((3, 3)), divisor=1e-30))
    cell = panel.editor.grid.cell(0, 0)
    type_into(qtbot, cell, "1e10")
    assert cell.property("invalid") is True
    assert "float32" in cell.toolTip()
    assert window.stage.weights[0, 0] == 10  # "1e1" on the way was usable, "1e10" not
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    assert "float32" in window.problems[-1]


def test_return_and_tab_move_through_the_cells(qtbot, panel):
    shown(qtbot, panel)
    grid = panel.editor.grid
    grid.cell(0, 0).setFocus()
    qtbot.waitUntil(grid.cell(0, 0).hasFocus)
    qtbot.keyClick(grid.cell(0, 0), Qt.Key.Key_Return)
    qtbot.waitUntil(grid.cell(0, 1).hasFocus)
    qtbot.keyClick(grid.cell(0, 1), Qt.Key.Key_Tab)
    qtbot.waitUntil(grid.cell(0, 2).hasFocus)
    qtbot.keyClick(grid.cell(0, 2), Qt.Key.Key_Tab)
    qtbot.waitUntil(grid.cell(1, 0).hasFocus)


# Nudging ------------------------------------------------------------------------


def wheel(cell, notches, modifiers=Qt.KeyboardModifier.NoModifier):
    centre = QPointF(cell.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(cell.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(cell, event)


def test_the_wheel_nudges_a_weight(qtbot, window):
    cell = window.panel.editor.grid.cell(2, 0)
    wheel(cell, 2)
    assert window.stage.weights[2, 0] == 2
    wheel(cell, -3)
    assert window.stage.weights[2, 0] == -1
    for _ in range(3):
        wheel(cell, 1, Qt.KeyboardModifier.ShiftModifier)
    assert window.stage.weights[2, 0] == pytest.approx(-0.7, abs=0)  # decimal, not 0.1 sums
    assert cell.text() == "-0.7"
    assert {key for _, _, key in window.edits} == {("cell", 0, 2, 0)}


def test_a_middle_button_or_alt_drag_nudges_a_weight(qtbot, window):
    cell = window.panel.editor.grid.cell(0, 1)
    shown(qtbot, window.panel)
    start = QPoint(10, 15)
    qtbot.mousePress(cell, Qt.MouseButton.MiddleButton, pos=start)
    qtbot.mouseMove(cell, start - QPoint(0, 25))
    assert window.stage.weights[0, 1] == 2
    qtbot.mouseMove(cell, start + QPoint(0, 10))
    assert window.stage.weights[0, 1] == -1
    qtbot.mouseRelease(cell, Qt.MouseButton.MiddleButton, pos=start)
    alt = Qt.KeyboardModifier.AltModifier
    qtbot.mousePress(cell, Qt.MouseButton.LeftButton, alt, pos=start)
    qtbot.mouseMove(cell, start - QPoint(0, 12))
    qtbot.mouseRelease(cell, Qt.MouseButton.LeftButton, alt, pos=start)
    assert window.stage.weights[0, 1] == 0


# Stages -------------------------------------------------------------------------


def test_stages_are_added_duplicated_moved_and_removed(qtbot, window):
    panel = window.panel
    assert not panel.remove_button.isEnabled()
    panel.add_button.click()
    assert len(window.recipe.stages) == 2
    assert window.selected == 1
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    np.testing.assert_array_equal(window.stage.weights, identity)
    assert window.edits[-1][1:] == ("Add stage", None)
    panel.editor.rows_spin.setValue(5)
    panel.duplicate_button.click()
    assert [s.weights.shape for s in window.recipe.stages] == [(3, 3), (5, 3), (5, 3)]
    assert window.selected == 2
    panel.up_button.click()
    panel.up_button.click()
    assert window.selected == 0
    assert [s.weights.shape for s in window.recipe.stages] == [(5, 3), (3, 3), (5, 3)]
    assert not panel.up_button.isEnabled()
    panel.down_button.click()
    assert window.selected == 1
    assert [s.weights.shape for s in window.recipe.stages] == [(3, 3), (5, 3), (5, 3)]
    panel.remove_button.click()
    assert [s.weights.shape for s in window.recipe.stages] == [(3, 3), (5, 3)]
    assert window.edits[-1][1] == "Remove stage"


def test_no_more_than_sixteen_stages(qtbot, window):
    panel = window.panel
    for _ in range(MAX_STAGES - 1):
        panel.add_button.click()
    assert len(window.recipe.stages) == MAX_STAGES
    assert not panel.add_button.isEnabled()
    assert not panel.duplicate_button.isEnabled()
    assert panel.stage_list.count() == MAX_STAGES


def test_a_stage_is_selected_from_the_list(qtbot, panel):
    window = FakeWindow(panel, Recipe((Stage([[1]]), Stage(np.ones((3, 5))))))
    panel.stage_list.setCurrentRow(1)
    assert window.selected == 1
    assert panel.editor.weights.shape == (3, 5)


def test_the_last_enabled_stage_cannot_be_disabled(qtbot, panel):
    window = FakeWindow(panel, Recipe((Stage([[1]]), Stage([[2]], enabled=False))))
    item = panel.stage_list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert "at least one stage must be enabled" in window.problems[-1]
    assert window.edits == []
    assert item.checkState() == Qt.CheckState.Checked
    panel.stage_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert window.recipe.stages[1].enabled
    assert window.edits[-1][1] == "Enable stage 2"


def test_f2_renames_a_stage(qtbot, window):
    panel = window.panel
    shown(qtbot, panel)
    panel.stage_list.setFocus()
    qtbot.keyClick(panel.stage_list, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: panel.stage_list.findChild(QLineEdit, "stageNameEdit") is not None)
    editor = panel.stage_list.findChild(QLineEdit, "stageNameEdit")
    assert editor.maxLength() == 60
    qtbot.keyClicks(editor, "Blur")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stage.name == "Blur")  # the delegate commits queued
    assert panel.stage_list.item(0).text() == "1. Blur 3×3"


# Presets ------------------------------------------------------------------------


def test_the_preset_chooser_lists_custom_built_ins_then_saved(panel):
    saved = Kernel("Soft", np.ones((3, 3)), divisor=9, offset=1)
    panel.set_presets([saved])
    combo = panel.preset_combo
    assert (combo.itemText(0), combo.itemData(0)) == ("Custom kernel", None)
    built_in = [combo.itemData(i) for i in range(1, 1 + len(PRESET_NAMES))]
    assert built_in == list(PRESET_NAMES)
    assert combo.itemText(len(PRESET_NAMES) + 2) == "★ Soft"
    assert combo.itemData(len(PRESET_NAMES) + 2) is saved


@pytest.mark.parametrize("slug", ["outline", "gaussian-blur-5x5", "sharpen"])
def test_a_programmatic_preset_choice_applies_it(window, slug):
    combo = window.panel.preset_combo
    combo.setCurrentIndex(combo.findData(slug))
    np.testing.assert_array_equal(window.stage.weights, PRESETS[slug])
    assert window.recipe.display == PRESET_DISPLAY[slug]
    assert window.edits[-1][1] == f"Preset {PRESET_NAMES[slug]}"
    assert combo.currentData() == slug


def test_a_saved_preset_brings_its_divisor_and_offset(window):
    saved = Kernel("Soft", np.ones((3, 3)), divisor=9, offset=1)
    panel = window.panel
    panel.set_presets([saved])
    panel.preset_combo.setCurrentIndex(panel.preset_combo.count() - 1)
    assert (window.stage.divisor, window.stage.offset) == (9, 1)
    assert panel.preset_combo.currentText() == "★ Soft"
    assert panel.options.divisor_edit.text() == "9"


def test_custom_kernel_and_edits_show_what_is_applied(qtbot, window):
    panel = window.panel
    combo = panel.preset_combo
    combo.setCurrentIndex(combo.findData("sharpen"))
    count = len(window.edits)
    combo.setCurrentIndex(0)
    assert len(window.edits) == count
    assert combo.currentData() == "sharpen"
    type_into(qtbot, panel.editor.grid.cell(0, 0), "2")
    assert combo.currentIndex() == 0


# Size ---------------------------------------------------------------------------


def test_growing_keeps_the_centre(window):
    weights = np.arange(9.0).reshape(3, 3)
    window.recipe = Recipe.single(weights)
    window.show()
    window.panel.editor.columns_spin.setValue(7)
    expected = np.zeros((3, 7))
    expected[:, 2:5] = weights
    np.testing.assert_array_equal(window.stage.weights, expected)
    assert window.edits[-1][1:] == ("Resize to 3×7", None)


@pytest.mark.parametrize("answer", [False, True])
def test_shrinking_asks_before_dropping_weights(window, answer):
    panel = window.panel
    window.recipe = Recipe.single(np.ones((5, 5)))
    window.show()
    questions = []
    panel.confirm = lambda question: questions.append(question) or answer
    panel.editor.rows_spin.setValue(3)
    panel.editor.columns_spin.setValue(3)
    assert questions[0] == "Shrinking to 3×5 drops 10 non-zero weights. Drop them?"
    if answer:
        assert window.stage.weights.shape == (3, 3)
    else:
        assert window.stage.weights.shape == (5, 5)
        assert window.edits == []
        assert panel.editor.rows_spin.value() == 5
        assert panel.editor.columns_spin.value() == 5


def test_the_size_boxes_take_odd_numbers_only(qtbot, window):
    spin = window.panel.editor.rows_spin
    assert (spin.minimum(), spin.maximum(), spin.singleStep()) == (1, 31, 2)
    shown(qtbot, window.panel)
    type_into(qtbot, spin.lineEdit(), "4")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.stage.weights.shape == (5, 3)
    spin.stepUp()
    assert window.stage.weights.shape == (7, 3)


# Layout -------------------------------------------------------------------------


@pytest.mark.parametrize("side", [7, 9])
def test_cells_show_typical_values_unclipped(qtbot, panel, side):
    weights = np.full((side, side), 1 / 16)
    weights[0, 0] = -0.0625
    weights[-1, -1] = 0.1111
    panel.show_state(Recipe.single(weights), ViewOptions(), 0)
    panel.resize(panel.sizeHint())
    shown(qtbot, panel)
    assert panel.sizeHint().width() <= 600
    grid = panel.editor.grid
    for row in range(side):
        for column in range(side):
            cell = grid.cell(row, column)
            assert fully_visible(cell), cell.objectName()
            for text in ("-0.0625", "1/16", "0.1111", cell.text()):
                needed = cell.fontMetrics().horizontalAdvance(text)
                assert needed <= cell.contentsRect().width() - 4, (cell.objectName(), text)
    assert fully_visible(panel.editor.sum_label)


def test_the_panel_asks_for_more_width_with_more_columns(panel):
    widths = []
    for side in (3, 5, 7, 9):
        panel.show_state(Recipe.single(np.ones((3, side))), ViewOptions(), 0)
        widths.append(panel.sizeHint().width())
    assert widths[1] < widths[2] < widths[3]
    assert widths[0] <= widths[1]


def test_large_grids_scroll_and_are_heat_coloured(qtbot, panel):
    weights = np.zeros((15, 13))
    weights[0, 0] = -4
    weights[7, 6] = 4
    panel.show_state(Recipe.single(weights), ViewOptions(), 0)
    panel.resize(panel.sizeHint())
    shown(qtbot, panel)
    scroll = panel.editor.scroll
    qtbot.waitUntil(scroll.verticalScrollBar().isVisible)
    assert scroll.horizontalScrollBar().isVisible()
    grid = panel.editor.grid
    assert fully_visible(grid.cell(0, 0))
    assert not fully_visible(grid.cell(14, 12))
    negative = grid.cell(0, 0).palette().base().color()
    positive = grid.cell(7, 6).palette().base().color()
    zero = grid.cell(3, 3).palette().base().color()
    assert negative.blue() > negative.red()
    assert positive.red() > positive.blue()
    assert zero == panel.palette().base().color()


# Divisor, offset and the sum --------------------------------------------------------


def test_divisor_and_offset_are_typed_as_fractions(qtbot, window):
    options = window.panel.options
    type_into(qtbot, options.divisor_edit, "1/16")
    type_into(qtbot, options.offset_edit, "-0.5")
    assert (window.stage.divisor, window.stage.offset) == (1 / 16, -0.5)
    assert (options.divisor_edit.text(), options.offset_edit.text()) == ("1/16", "-0.5")
    texts_and_keys = {(text, key) for _, text, key in window.edits}
    assert ("Divisor 1/16", ("divisor", 0)) in texts_and_keys
    assert ("Offset -1/2", ("offset", 0)) in texts_and_keys
    assert all(problem == "" for problem in window.problems)


def test_a_zero_divisor_is_marked_and_told_when_left(qtbot, window):
    options = window.panel.options
    shown(qtbot, window.panel)
    type_into(qtbot, options.divisor_edit, "0")
    assert options.divisor_edit.property("invalid") is True
    assert [p for p in window.problems if p] == []
    qtbot.keyClick(options.divisor_edit, Qt.Key.Key_Return)
    assert window.problems[-1].startswith("Divisor:")
    assert window.stage.divisor == 1
    type_into(qtbot, options.divisor_edit, "2")
    assert window.problems[-1] == ""
    assert window.stage.divisor == 2


def test_use_the_sum(window):
    panel = window.panel
    window.recipe = Recipe.single(np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]))
    window.show()
    assert panel.editor.sum_label.text() == "Sum: 16"
    panel.options.use_sum_button.click()
    assert window.stage.divisor == 16
    assert window.edits[-1][1] == "Divisor 16"
    window.recipe = Recipe.single(PRESETS["outline"])
    window.show()
    count = len(window.edits)
    panel.options.use_sum_button.click()
    assert len(window.edits) == count
    assert "sum to 0" in window.problems[-1]


# Options ------------------------------------------------------------------------


def test_options_use_the_command_lines_words(panel):
    options = panel.options
    for combo, words in ((options.border_combo, BORDERS), (options.display_combo, DISPLAY_MODES)):
        for index in range(combo.count()):
            word = combo.itemData(index)
            assert combo.itemText(index).startswith(f"{word} (")
        assert {combo.itemData(i) for i in range(combo.count())} == set(words)
    texts = [options.border_combo.itemText(i) for i in range(options.border_combo.count())]
    assert "constant (0 0 | a b c)" in texts
    constant = options.border_combo.findData("constant")
    assert options.border_combo.itemData(constant, Qt.ItemDataRole.ToolTipRole) == (
        "Zeros beyond the edge"
    )
    assert not any(text.lower().startswith(("zeros", "stretch")) for text in texts)


@pytest.mark.parametrize(
    ("combo_name", "value", "field", "text"),
    [
        ("borderCombo", "constant", "border", "Border constant"),
        ("displayCombo", "signed", "display", "Display signed"),
        ("alphaCombo", "process", "alpha", "Transparency process"),
        ("colourCombo", True, "grey", "Greyscale"),
    ],
)
def test_choosing_an_option_edits_the_recipe(window, combo_name, value, field, text):
    combo = window.panel.findChild(QComboBox, combo_name)
    combo.setCurrentIndex(combo.findData(value))
    assert getattr(window.recipe, field) == value
    assert window.edits[-1][1:] == (text, None)
    combo.activated.emit(combo.findData(value))
    assert len(window.edits) == 1


def test_channels_and_the_view(qtbot, window):
    options = window.panel.options
    options.channel_checks["r"].click()
    assert window.recipe.channels == "gb"
    options.channel_checks["g"].click()
    options.channel_checks["b"].click()
    assert window.recipe.channels == "b"
    assert options.channel_checks["b"].isChecked()
    assert "channel" in window.problems[-1]
    options.channels_check.click()
    assert window.views == [("channels_of_result", True)]
    assert window.view.channels_of_result


def test_flip_moves_nothing_and_shows_the_applied_kernel_as_a_picture(qtbot, window):
    panel = window.panel
    window.recipe = Recipe.single(PRESETS["sobel-right"] * np.array([[1], [1], [2]]))
    window.show()
    panel.resize(panel.sizeHint())
    shown(qtbot, panel)
    flip = panel.options.flip_check
    before = flip.mapTo(panel, QPoint())
    list_before = panel.stage_list.mapTo(panel, QPoint())
    assert not panel.applied.isVisible()
    flip.click()
    assert window.recipe.flip
    assert panel.applied.isVisible()
    assert flip.mapTo(panel, QPoint()) == before
    assert panel.stage_list.mapTo(panel, QPoint()) == list_before
    applied = panel.findChild(type(panel.applied), "appliedKernel")
    assert applied.findChildren(QLineEdit) == []
    assert applied.caption.text() == "Applied kernel (rotated 180°)"
    np.testing.assert_array_equal(applied.weights, window.stage.weights[::-1, ::-1])
    assert (applied.label(0, 0).text(), applied.label(2, 2).text()) == ("2", "-1")
    flip.click()
    assert flip.mapTo(panel, QPoint()) == before


# Keyboard and names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "sequence"),
    [
        ("cell_1_1", "Ctrl+E"),
        ("cell_1_1", "Ctrl+Z"),
        ("cell_0_2", "Ctrl+Shift+E"),
        ("cell_1_1", "Ctrl+H"),
        ("divisorEdit", "Ctrl+E"),
        ("offsetEdit", "Ctrl+Y"),
        ("rowsSpin", "Ctrl+E"),
    ],
)
def test_window_shortcuts_work_while_typing(qtbot, target, sequence):
    main = QMainWindow()
    qtbot.addWidget(main)
    panel = RecipePanel()
    main.setCentralWidget(panel)
    action = QAction("Act", main)
    action.setShortcut(QKeySequence(sequence))
    main.addAction(action)
    shown(qtbot, main)
    widget = panel.findChild(QWidget, target)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    combination = QKeySequence(sequence)[0]
    with qtbot.waitSignal(action.triggered, timeout=1000):
        qtbot.keyClick(widget, combination.key(), combination.keyboardModifiers())


def test_text_editing_keys_stay_with_the_cell(qtbot):
    main = QMainWindow()
    qtbot.addWidget(main)
    panel = RecipePanel()
    main.setCentralWidget(panel)
    action = QAction("Select all pictures", main)
    action.setShortcut(QKeySequence.StandardKey.SelectAll)
    main.addAction(action)
    shown(qtbot, main)
    triggered = []
    action.triggered.connect(lambda: triggered.append(True))
    cell = panel.editor.grid.cell(1, 1)
    cell.setFocus()
    qtbot.waitUntil(cell.hasFocus)
    cell.setText("1/16")
    qtbot.keyClick(cell, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert triggered == []
    assert cell.selectedText() == "1/16"


def test_every_control_has_a_name_an_accessible_name_and_a_tooltip(panel):
    panel.show_state(Recipe.single(np.ones((3, 3)), flip=True), ViewOptions(), 0)
    bare = [
        widget.objectName() or type(widget).__name__
        for kind in (QAbstractButton, QComboBox, QLineEdit, QSpinBox)
        for widget in panel.findChildren(kind)
        if widget.parent() is not None
        and not isinstance(widget.parent(), QSpinBox)  # a spin box's own line edit
        and not (widget.objectName() and widget.accessibleName() and widget.toolTip())
    ]
    assert bare == []
    cell = panel.editor.grid.cell(1, 2)
    assert cell.accessibleName() == "Weight row 2, column 3"
    for name in (
        "addStageButton",
        "duplicateStageButton",
        "removeStageButton",
        "moveStageUpButton",
        "moveStageDownButton",
        "useSumButton",
    ):
        assert panel.findChild(QAbstractButton, name) is not None, name
