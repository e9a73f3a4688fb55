"""The "From parameters" panel: a stage made by a generator, driven by its sliders.

The expected results come from kernels built here with OpenCV's own maker
(``cv2.getGaussianKernel``), applied by ``scipy.ndimage`` with the recipe's
border (tests/app/conftest.py's oracle).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QWidget,
)

from kernelstudio.app.controller import ViewOptions
from kernelstudio.app.generator_panel import AUTO, TYPED, GeneratorPanel
from kernelstudio.generators import GENERATORS, MAX_SIDE, parse_spec
from kernelstudio.kernels import PRESET_GENERATORS, PRESETS
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.recipe_files import write_recipe_file
from tests.app.conftest import assert_close, oracle

WAIT_MS = 10_000


# Helpers ------------------------------------------------------------------------


def gaussian_oracle(sigma: float, size: int) -> np.ndarray:
    column = cv2.getGaussianKernel(size, sigma)
    return column @ column.T


def auto_side(sigma: float) -> int:
    return min(2 * math.ceil(3 * sigma) + 1, MAX_SIDE)


def settle(qtbot, window):
    """Wait until the result shown is the result of the recipe applied, and return it."""
    qtbot.waitUntil(
        lambda: (
            window.controller.is_idle
            and window.controller.rendering is not None
            and window.controller.rendering.recipe is window.controller.recipe
        ),
        timeout=WAIT_MS,
    )
    return window.controller.rendering


def control(window, kind, name):
    found = window.generator_panel.findChild(kind, name)
    assert found is not None, name
    assert found.isVisibleTo(window.generator_panel), name
    return found


def slider(window, name="sigma") -> QSlider:
    return control(window, QSlider, f"slider_{name}")


def spin(window, name="sigma") -> QAbstractSpinBox:
    return control(window, QAbstractSpinBox, f"spin_{name}")


def choose(window, slug):
    """Choose the generator `slug` (``None``: typed weights) as a person does."""
    combo = window.generator_panel.combo
    combo.setCurrentIndex(0 if slug is None else combo.findData(slug))


def sigma_position(sigma: float) -> int:
    return round((sigma - 0.1) / 0.1)


def values(window) -> dict:
    generator = window.controller.stage.generator
    return {} if generator is None else generator.values


def move_slider(qtbot, window, position, name="sigma"):
    """Move the slider as its keys do, and wait until the value is applied."""
    target = slider(window, name)
    target.setValue(position)
    wanted = window.generator_panel.form.rows[name].value_at(position)
    qtbot.waitUntil(lambda: values(window).get(name) == wanted, timeout=WAIT_MS)


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def type_number(qtbot, window, name, text):
    type_into(qtbot, spin(window, name).lineEdit(), text)
    qtbot.keyClick(spin(window, name), Qt.Key.Key_Return)


def assert_gaussian_result(qtbot, window, sigma):
    rendering = settle(qtbot, window)
    size = auto_side(sigma)
    kernel = gaussian_oracle(sigma, size)
    np.testing.assert_allclose(window.controller.stage.weights, kernel, rtol=1e-12, atol=1e-15)
    image = window.controller.image.pixels
    expected = oracle(image, kernel, border=rendering.recipe.border)
    assert_close(rendering.result, expected, kernel, image)


def fully_visible(widget) -> bool:
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


@pytest.fixture
def panel(qtbot):
    panel = GeneratorPanel()
    qtbot.addWidget(panel)
    return panel


# Choosing a generator -----------------------------------------------------------


def test_the_combo_lists_typed_weights_then_every_generator(panel):
    combo = panel.combo
    assert (combo.itemText(0), combo.itemData(0)) == (TYPED, None)
    assert [combo.itemData(i) for i in range(1, combo.count())] == list(GENERATORS)
    assert [combo.itemText(i) for i in range(1, combo.count())] == [
        entry.title for entry in GENERATORS.values()
    ]


def test_choosing_gaussian_makes_the_stage_generated_with_its_sliders(qtbot, window):
    before = window.undo_stack.count()
    choose(window, "gaussian")
    stage = window.controller.stage
    assert stage.generator == GENERATORS["gaussian"].start_settings()
    assert stage.generator.values == {"sigma": 1.0, "size": None}
    assert stage.weights.shape == (auto_side(1.0),) * 2 == (7, 7)
    assert window.editor.weights.shape == (7, 7)
    assert slider(window).value() == sigma_position(1.0)
    assert spin(window).value() == 1.0
    assert spin(window, "size").text() == AUTO
    assert window.recipe_panel.stage_list.item(0).text() == "1. Gaussian blur 7×7"
    assert window.undo_stack.count() == before + 1
    assert window.undo_stack.undoText() == "Gaussian blur"
    assert_gaussian_result(qtbot, window, 1.0)


def test_choosing_a_generator_keeps_the_stages_divisor_offset_name_and_switch(window):
    recipe = Recipe(
        (
            Stage(np.ones((3, 3)), divisor=9, offset=2, name="Mine", enabled=False),
            Stage(PRESETS["sharpen"]),
        )
    )
    window.apply_recipe(recipe, "Two stages")
    window.controller.select(0)
    choose(window, "box")
    stage = window.controller.recipe.stages[0]
    assert stage.generator.spec == "box:rows=3,cols=3"
    assert (stage.divisor, stage.offset, stage.name, stage.enabled) == (9, 2, "Mine", False)
    assert window.controller.recipe.stages[1] == recipe.stages[1]


def test_an_edge_generator_brings_the_display_that_reads_best(window):
    choose(window, "sobel")
    assert window.controller.recipe.display == "abs"
    assert control(window, QComboBox, "choice_direction").currentText() == "right"
    assert control(window, QComboBox, "choice_size").currentText() == "3"


def test_typed_weights_keeps_the_weights_and_forgets_the_generator(qtbot, window):
    choose(window, "gaussian")
    move_slider(qtbot, window, sigma_position(0.8))
    weights = window.controller.stage.weights
    choose(window, None)
    stage = window.controller.stage
    assert stage.generator is None
    np.testing.assert_array_equal(stage.weights, weights)
    assert window.generator_panel.form is None
    assert window.findChild(QSlider, "slider_sigma") is None
    window.undo_stack.undo()
    assert values(window) == {"sigma": 0.8, "size": None}
    assert slider(window).value() == sigma_position(0.8)


# Moving the parameters ----------------------------------------------------------


@pytest.mark.parametrize(("sigma", "border"), [(2.5, "mirror"), (0.6, "wrap"), (1.7, "nearest")])
def test_the_sigma_slider_regenerates_the_grid_and_the_result(qtbot, window, sigma, border):
    window.controller.update(border=border)
    choose(window, "gaussian")
    move_slider(qtbot, window, sigma_position(sigma))
    assert spin(window).value() == pytest.approx(sigma)
    assert window.editor.weights.shape == (auto_side(sigma),) * 2
    assert window.undo_stack.undoText() == f"Gaussian blur: sigma {sigma:g}"
    assert_gaussian_result(qtbot, window, sigma)


def test_typing_sigma_in_the_spin_box_regenerates_and_moves_the_slider(qtbot, window):
    choose(window, "gaussian")
    type_number(qtbot, window, "sigma", "1.35")
    qtbot.waitUntil(lambda: values(window)["sigma"] == 1.35, timeout=WAIT_MS)
    assert slider(window).value() == sigma_position(1.35)
    assert window.editor.weights.shape == (auto_side(1.35),) * 2 == (11, 11)
    assert_gaussian_result(qtbot, window, 1.35)


def test_the_grid_follows_sigma_and_a_chosen_size(qtbot, window):
    choose(window, "gaussian")
    for sigma in (0.3, 1.4, 2.0, 3.3, 0.5):
        move_slider(qtbot, window, sigma_position(sigma))
        side = auto_side(sigma)
        assert window.editor.weights.shape == (side, side), sigma
        assert (window.editor.rows_spin.value(), window.editor.columns_spin.value()) == (
            side,
            side,
        )
    size_spin = spin(window, "size")
    assert (size_spin.minimum(), size_spin.singleStep(), size_spin.specialValueText()) == (
        -1,
        2,
        AUTO,
    )
    size_spin.stepUp()  # from auto to the smallest size
    qtbot.waitUntil(lambda: values(window)["size"] == 1, timeout=WAIT_MS)
    type_number(qtbot, window, "size", "8")  # an even size is the odd one above it
    qtbot.waitUntil(lambda: values(window)["size"] == 9, timeout=WAIT_MS)
    assert slider(window, "size").value() == 1 + (9 - 1) // 2
    move_slider(qtbot, window, sigma_position(2.0))
    assert window.editor.weights.shape == (9, 9)
    np.testing.assert_allclose(window.controller.stage.weights, gaussian_oracle(2.0, 9))
    move_slider(qtbot, window, 0, name="size")
    assert values(window)["size"] is None
    assert size_spin.text() == AUTO
    assert window.editor.weights.shape == (13, 13)


def test_a_drag_is_one_undo_step_and_ctrl_z_brings_the_settings_back(qtbot, window):
    choose(window, "gaussian")
    count = window.undo_stack.count()
    target = slider(window)
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
    for step in range(1, 16):
        qtbot.keyClick(target, Qt.Key.Key_Right)
        wanted = round(1.0 + step * 0.1, 9)
        qtbot.waitUntil(lambda wanted=wanted: values(window)["sigma"] == wanted, timeout=WAIT_MS)
    assert values(window)["sigma"] == 2.5
    assert window.undo_stack.count() == count + 1
    assert window.undo_stack.undoText() == "Gaussian blur: sigma 2.5"  # the last step's
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert values(window) == {"sigma": 1.0, "size": None}
    assert target.value() == sigma_position(1.0)
    assert spin(window).value() == 1.0
    assert window.editor.weights.shape == (7, 7)
    window.undo_stack.redo()
    assert values(window)["sigma"] == 2.5
    assert spin(window).value() == 2.5


def test_ctrl_z_typed_in_a_spin_box_can_take_its_own_row_away(qtbot, window):
    choose(window, "gaussian")
    box = spin(window)
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # A new user's first stage is the identity preset, made by its generator.
    assert window.controller.stage.generator.slug == "identity"
    assert window.generator_panel.combo.currentData() == "identity"
    assert window.findChild(QAbstractSpinBox, "spin_sigma") is None
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the old row goes
    window.undo_stack.redo()
    assert values(window) == {"sigma": 1.0, "size": None}


def test_a_mouse_drag_keeps_the_slider_under_the_pointer_and_is_one_step(qtbot, window):
    choose(window, "gaussian")
    settle(qtbot, window)
    count = window.undo_stack.count()
    target = slider(window)
    window.show_side_tab("recipe")
    qtbot.waitUntil(target.isVisible)
    option = QStyleOptionSlider()
    target.initStyleOption(option)
    handle = target.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, target
    )
    start, width = handle.center(), target.width()
    qtbot.mousePress(target, Qt.MouseButton.LeftButton, pos=start)
    seen = set()
    row = window.generator_panel.form.rows["sigma"]
    for dx in range(4, 120, 4):
        qtbot.mouseMove(target, start + QPoint(dx, 0))
        wanted = row.value_at(target.value())
        qtbot.waitUntil(lambda wanted=wanted: values(window)["sigma"] == wanted, timeout=WAIT_MS)
        seen.add(wanted)
        assert target.width() == width  # the grid widens the column, not the slider
    qtbot.mouseRelease(target, Qt.MouseButton.LeftButton, pos=start + QPoint(120, 0))
    assert len(seen) > 10
    assert values(window)["sigma"] > 1.5
    assert window.undo_stack.count() == count + 1
    window.undo_stack.undo()
    assert values(window) == {"sigma": 1.0, "size": None}


def test_many_moves_in_one_turn_make_one_regeneration_with_the_last_value(qtbot, window):
    choose(window, "gaussian")
    proposed = []
    window.generator_panel.recipeEdited.connect(lambda recipe, *_: proposed.append(recipe))
    target = slider(window)
    for position in range(10, 60):  # a burst of pointer events before the loop turns
        target.setValue(position)
    assert proposed == []
    assert spin(window).value() == pytest.approx(0.1 + 59 * 0.1)
    qtbot.waitUntil(lambda: len(proposed) == 1, timeout=WAIT_MS)
    assert proposed[0].stages[0].generator.values["sigma"] == 6.0
    assert values(window)["sigma"] == 6.0
    assert_gaussian_result(qtbot, window, 6.0)
    assert len(proposed) == 1


def test_a_choice_regenerates_at_once(qtbot, window):
    choose(window, "sobel")
    box = control(window, QComboBox, "choice_direction")
    box.setCurrentIndex(box.findText("bottom"))
    qtbot.waitUntil(lambda: values(window).get("direction") == "bottom", timeout=WAIT_MS)
    kx, ky = cv2.getDerivKernels(0, 1, 3)
    np.testing.assert_array_equal(window.controller.stage.weights, ky @ kx.T)
    size = control(window, QComboBox, "choice_size")
    size.setCurrentIndex(size.findText("5"))
    qtbot.waitUntil(lambda: values(window).get("size") == 5, timeout=WAIT_MS)
    assert window.editor.weights.shape == (5, 5)
    assert window.undo_stack.undoText() == "Sobel: size 5"  # one step, named for the last
    window.undo_stack.undo()
    assert values(window) == {"direction": "right", "size": 3}


def test_a_truncated_kernel_says_so_in_the_note(qtbot, window):
    choose(window, "gaussian")
    note = window.generator_panel.note
    assert "standard deviation" in note.text()
    type_number(qtbot, window, "sigma", "8")
    qtbot.waitUntil(lambda: values(window)["sigma"] == 8.0, timeout=WAIT_MS)
    assert window.editor.weights.shape == (31, 31)
    assert "needs 49 cells across; cut to 31" in note.text()
    assert note.property("problem") is True
    type_number(qtbot, window, "sigma", "2")
    qtbot.waitUntil(lambda: values(window)["sigma"] == 2.0, timeout=WAIT_MS)
    assert "cut to" not in note.text()


def test_a_refused_change_is_told_in_the_note_and_nothing_changes(qtbot, window):
    recipe = Recipe.single([[1e-10]], divisor=1e-39)  # 1 / 1e-39 does not fit float32
    window.apply_recipe(recipe, "Tiny divisor")
    choose(window, "identity")
    assert window.controller.recipe is recipe
    note = window.generator_panel.note
    assert note.text().startswith("Identity: divided by 1e-39")
    assert note.property("problem") is True
    assert window.generator_panel.combo.currentText() == TYPED


# Detaching ----------------------------------------------------------------------


def test_typing_into_the_grid_detaches_and_undo_brings_the_generator_back(qtbot, window):
    choose(window, "gaussian")
    move_slider(qtbot, window, sigma_position(1.5))
    generated = window.controller.stage
    cell = window.findChild(QLineEdit, "cell_0_0")
    type_into(qtbot, cell, "0.5")
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    stage = window.controller.stage
    assert stage.generator is None
    assert stage.weights[0, 0] == 0.5
    assert window.generator_panel.combo.currentText() == TYPED
    assert window.generator_panel.form is None
    assert window.undo_stack.undoText() == "Edit weight"
    window.undo_stack.undo()
    assert window.controller.stage == generated
    assert window.generator_panel.combo.currentData() == "gaussian"
    assert slider(window).value() == sigma_position(1.5)
    assert spin(window).value() == 1.5
    assert_gaussian_result(qtbot, window, 1.5)


def test_resizing_the_grid_detaches_too(qtbot, window):
    choose(window, "gaussian")
    window.editor.rows_spin.setValue(9)
    assert window.controller.stage.weights.shape == (9, 7)
    assert window.generator_panel.combo.currentText() == TYPED


# Showing what is applied -------------------------------------------------------


@pytest.mark.parametrize(
    "slug", ["motion-blur-7x7", "gaussian-blur-5x5", "sobel-top", "emboss", "identity"]
)
def test_a_preset_shows_its_generator_and_values(window, slug):
    combo = window.preset_combo
    combo.setCurrentIndex(combo.findData(slug))
    combo.activated.emit(combo.currentIndex())  # as a click does, also on the preset shown
    settings = PRESET_GENERATORS[slug]
    assert window.controller.stage.generator == settings
    panel = window.generator_panel
    assert panel.combo.currentData() == settings.slug
    for name, value in settings.values.items():
        parameter = GENERATORS[settings.slug].parameter(name)
        if parameter.kind == "choice":
            assert control(window, QComboBox, f"choice_{name}").currentText() == str(value)
            continue
        row = panel.form.rows[name]
        assert row.value_at(slider(window, name).value()) == pytest.approx(
            value, abs=parameter.step
        )
        assert spin(window, name).value() == pytest.approx(value, abs=1e-3)


def test_a_recipe_set_by_the_controller_shows_each_stages_sliders(qtbot, window):
    recipe = Recipe(
        (
            Stage.generated(parse_spec("gabor:sigma=3,theta=45,wavelength=8")),
            Stage.generated(parse_spec("disk:radius=2.5")),
        ),
        display="abs",
    )
    window.controller.update(recipe=recipe)
    panel = window.generator_panel
    assert panel.combo.currentData() == "gabor"
    assert (spin(window, "sigma").value(), spin(window, "theta").value()) == (3, 45)
    assert spin(window, "wavelength").value() == 8
    assert spin(window, "size").text() == AUTO
    window.recipe_panel.stage_list.setCurrentRow(1)
    assert window.controller.selected == 1
    assert panel.combo.currentData() == "disk"
    assert spin(window, "radius").value() == 2.5
    assert window.findChild(QSlider, "slider_theta") is None
    move_slider(qtbot, window, round((3.5 - 0.5) / 0.5), name="radius")
    assert window.controller.recipe.stages[0] == recipe.stages[0]
    assert window.controller.recipe.stages[1].generator.spec == "disk:radius=3.5"


def test_a_recipe_file_brings_its_sliders(qtbot, window, tmp_path):
    path = tmp_path / "blur.json"
    write_recipe_file(
        path, Recipe((Stage.generated(parse_spec("motion-blur:length=12,angle=30")),))
    )
    window.import_recipe(path)
    assert window.generator_panel.combo.currentData() == "motion-blur"
    assert (spin(window, "length").value(), spin(window, "angle").value()) == (12, 30)
    assert slider(window, "angle").value() == 180 + 30
    move_slider(qtbot, window, slider(window, "angle").value() + 15, name="angle")
    assert window.controller.stage.generator.spec == "motion-blur:length=12,angle=45"


def test_show_state_emits_nothing(panel):
    proposed = []
    panel.recipeEdited.connect(lambda *args: proposed.append(args))
    for entry in GENERATORS.values():
        panel.show_state(Recipe((Stage.generated(entry.start_settings()),)), ViewOptions(), 0)
        assert panel.combo.currentData() == entry.slug
        panel.show_state(Recipe.single(np.ones((3, 3))), ViewOptions(), 0)
        assert panel.combo.currentText() == TYPED
    assert proposed == []


def test_every_control_has_an_accessible_name_and_a_tooltip_with_its_range(qtbot, panel):
    panel.show()
    qtbot.waitExposed(panel)
    for entry in GENERATORS.values():
        panel.show_state(Recipe((Stage.generated(entry.start_settings()),)), ViewOptions(), 0)
        controls = [
            widget
            for kind in (QAbstractSlider, QAbstractSpinBox, QComboBox)
            for widget in panel.findChildren(kind)
            if widget.isVisible()
        ]
        assert len(controls) == 1 + sum(
            1 if parameter.kind == "choice" else 2 for parameter in entry.parameters
        )
        for widget in controls:
            assert widget.accessibleName(), widget.objectName()
            assert widget.toolTip(), widget.objectName()
        for parameter in entry.parameters:
            kind = QComboBox if parameter.kind == "choice" else QAbstractSlider
            prefix = "choice" if parameter.kind == "choice" else "slider"
            widget = panel.findChild(kind, f"{prefix}_{parameter.name}")
            assert parameter.describe_range() in widget.toolTip()
            assert parameter.name in widget.accessibleName().replace(" ", "_")
            label = panel.findChild(QLabel, f"label_{parameter.name}")
            assert parameter.unit in label.text()


# Layout -------------------------------------------------------------------------


def lay_out(qtbot, window, width, height):
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height, timeout=5000)
    settle(qtbot, window)
    window.fit_side_column()
    qtbot.wait(1)  # one turn of the event loop lays the splitter out


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_panel_and_a_seven_by_seven_grid_show_whole(qtbot, window, size):
    window.show_side_tab("recipe")
    choose(window, "gaussian")  # σ 1: 7 × 7
    lay_out(qtbot, window, *size)
    panel = window.generator_panel
    widgets = [panel.combo, panel.note, *panel.form.findChildren(QWidget)]
    for widget in widgets:
        if widget.objectName() == "qt_spinbox_lineedit":
            continue
        assert fully_visible(widget), widget.objectName()
    for label in panel.form.findChildren(QLabel):
        assert label.width() >= label.sizeHint().width(), label.text()
    assert panel.note.height() >= panel.note.heightForWidth(panel.note.width())
    heights = set()
    for row in range(7):
        for column in range(7):
            cell = window.findChild(QLineEdit, f"cell_{row}_{column}")
            assert fully_visible(cell), cell.objectName()
            # 1.965e-05 in the corners shows whole, in a smaller type; 0.1592 in the grid's.
            needed = cell.fontMetrics().horizontalAdvance(cell.text())
            assert needed <= cell.contentsRect().width() - 4, (cell.objectName(), cell.text())
            heights.add(cell.height())
    assert len(heights) == 1
    centre, corner = (window.findChild(QLineEdit, f"cell_{i}_{i}") for i in (3, 0))
    assert centre.font() == window.editor.grid.font()
    assert 0.6 <= corner.font().pointSizeF() / centre.font().pointSizeF() < 1
    scroller = window.side_tabs.currentWidget()
    assert not scroller.horizontalScrollBar().isVisible()
    pictures = [window.views.views[name] for name in ("original", "result")]
    covered = sum(view.width() * view.height() for view in pictures)
    assert covered >= 0.30 * window.width() * window.height()


# Pacing a drag to the results ---------------------------------------------------


class _Finished(QObject):
    done = Signal(object)


def test_moves_while_a_result_is_computed_wait_for_it_and_the_latest_is_proposed(qtbot):
    panel = GeneratorPanel()
    qtbot.addWidget(panel)
    finished, busy, proposed = _Finished(), [False], []
    panel.pace_with(lambda: busy[0], finished.done)
    panel.recipeEdited.connect(lambda recipe, text, key: proposed.append(recipe))
    stage = Stage.generated(parse_spec("gaussian:sigma=1"))
    panel.show_state(Recipe((stage,)), ViewOptions(), 0)
    box = panel.findChild(QAbstractSpinBox, "spin_sigma")
    box.setValue(1.5)
    qtbot.waitUntil(lambda: len(proposed) == 1)  # idle: proposed at once
    panel.show_state(proposed[-1], ViewOptions(), 0)
    busy[0] = True  # its result is being computed
    for value in (1.6, 1.7, 1.8):
        box.setValue(value)
    QApplication.processEvents()
    assert len(proposed) == 1  # held, not queued behind the running job
    busy[0] = False
    finished.done.emit(None)
    qtbot.waitUntil(lambda: len(proposed) == 2)
    assert proposed[-1].stages[0].generator.values["sigma"] == pytest.approx(1.8)


def test_a_held_move_is_proposed_anyway_when_no_result_comes(qtbot):
    panel = GeneratorPanel()
    qtbot.addWidget(panel)
    proposed, finished = [], _Finished()  # never reports
    panel.pace_with(lambda: True, finished.done)
    panel.recipeEdited.connect(lambda recipe, text, key: proposed.append(recipe))
    panel.show_state(Recipe((Stage.generated(parse_spec("disk:radius=2")),)), ViewOptions(), 0)
    with qtbot.waitSignal(panel.recipeEdited, timeout=2_000):
        panel.findChild(QAbstractSpinBox, "spin_radius").setValue(3)
    assert proposed[-1].stages[0].generator.values["radius"] == 3.0


def test_a_drag_over_a_slow_image_shows_results_while_it_goes_on(qtbot, window):
    big = np.random.default_rng(5).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    window.controller.load_pixels(big, "big.png")
    qtbot.waitUntil(lambda: window.controller.image.name == "big.png", timeout=WAIT_MS)
    choose(window, "disk")
    settle(qtbot, window)
    shown = []
    window.controller.renderingReady.connect(
        lambda rendering: shown.append(rendering.recipe.stages[0].generator)
    )
    box = spin(window, "radius")
    steps = iter(range(60))

    def move() -> None:  # a 60 Hz pointer, as in benchmarks/gui_latency.py
        step = next(steps, None)
        if step is None:
            pointer.stop()
        else:
            box.setValue(2 + step * 0.1)

    pointer = QTimer(interval=16)
    pointer.timeout.connect(move)
    pointer.start()
    qtbot.waitUntil(lambda: not pointer.isActive(), timeout=WAIT_MS)
    last = settle(qtbot, window)
    assert len(shown) >= 3  # results came during the drag, not only after it
    weights = last.recipe.stages[0].weights
    assert last.recipe.stages[0].generator.values["radius"] == pytest.approx(7.9)
    assert_close(last.result, oracle(big, weights, border="mirror"), weights, big)
