"""The window's Rounding, Between stages and Behave like choices, and Edit ▸ Copy as Code.

The code the dialog shows is run here in a subprocess and its output compared
with the window's own result; scipy is the oracle for what the options do.
"""

import subprocess
import sys

import cv2
import numpy as np
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPlainTextEdit, QPushButton
from scipy import ndimage

from kernelstudio.behave_like import CONVENTIONS
from kernelstudio.code_export import TARGET_NAMES
from kernelstudio.kernels import parse_weight
from kernelstudio.pipeline import Recipe, Stage

GIMP_LIKE = CONVENTIONS["gimp"]


def idle(qtbot, window):
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)


def choose(combo, value):
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_every_new_option_is_named_for_scripts_and_assistive_tools(window):
    for name in ("roundingCombo", "betweenStagesCombo", "likeCombo"):
        combo = window.findChild(QComboBox, name)
        assert combo is not None, name
        assert combo.accessibleName()
        assert combo.toolTip()
    like = window.findChild(QComboBox, "likeCombo")
    offered = {like.itemData(index) for index in range(like.count())}
    assert offered == {"", *CONVENTIONS}


def test_rounding_and_between_stages_apply_and_undo(qtbot, window):
    options = window.options
    choose(options.rounding_combo, "half-even")
    choose(options.between_combo, "round")
    recipe = window.controller.recipe
    assert (recipe.rounding, recipe.between_stages) == ("half-even", "round")
    window.actions.undo.trigger()
    assert window.controller.recipe.between_stages == "float"
    assert options.between_combo.currentData() == "float"
    assert options.rounding_combo.currentData() == "half-even"


def test_behave_like_gimp_normalises_and_the_result_follows(qtbot, window):
    # A zero-sum edge kernel: GIMP's dialog divides by 1 and adds half of white.
    window.apply_recipe(Recipe((Stage([[-1, 0, 1]]),)), "Edge")
    idle(qtbot, window)
    choose(window.options.like_combo, "gimp")
    idle(qtbot, window)
    recipe = window.controller.recipe
    assert (recipe.border, recipe.flip, recipe.rounding) == (
        GIMP_LIKE.border,
        GIMP_LIKE.flip,
        GIMP_LIKE.rounding,
    )
    assert (recipe.stages[0].divisor, recipe.stages[0].offset) == (1.0, 127.5)
    assert window.options.like_combo.currentData() == "gimp"
    assert parse_weight(window.options.offset_edit.text()) == 127.5
    image = window.controller.image.pixels.astype(float)
    exact = np.dstack(
        [
            ndimage.correlate(image[..., c], np.array([[-1.0, 0, 1]]), mode=GIMP_LIKE.border)
            for c in range(3)
        ]
    )
    expected = np.clip(np.floor(exact + 127.5 + 0.5), 0, 255)
    shown = window.controller.rendering.result8.astype(int)
    assert np.abs(shown - expected).max() <= 1
    # Another border is not GIMP's default any more: the choice says so.
    choose(window.options.border_combo, "mirror")
    assert window.options.like_combo.currentData() == ""


def test_a_convention_that_refuses_the_kernel_keeps_the_recipe(qtbot, window):
    big = Recipe((Stage(np.ones((7, 7))),))
    window.apply_recipe(big, "7×7")
    idle(qtbot, window)
    choose(window.options.like_combo, "gimp")  # GIMP's matrix is at most 5×5
    assert window.controller.recipe == big
    assert "up to 5×5" in window.statusBar().currentMessage()
    assert window.options.like_combo.currentData() == ""


def test_copy_as_code_is_in_the_edit_menu_for_every_target(window):
    menu = window.findChild(type(window.menuBar().actions()[0].menu()), "copyAsCodeMenu")
    assert menu is not None
    names = [action.text().replace("&", "").rstrip("…") for action in menu.actions()]
    assert names == list(TARGET_NAMES.values())
    for action in menu.actions():
        assert action.objectName().startswith("copyAsCode")
        assert action.statusTip()


def test_the_numpy_code_shown_reproduces_the_window(qtbot, window, tmp_path):
    window.apply_recipe(
        Recipe((Stage([[1, 2, 1]], divisor=4), Stage([[-1, 0, 1]], offset=128)), border="wrap"),
        "Blur then edge",
    )
    idle(qtbot, window)
    window.actions.copy_as_code["numpy"].trigger()
    dialog = window.code_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.findChild(QComboBox, "codeTargetCombo").currentData() == "numpy"
    view = dialog.findChild(QPlainTextEdit, "codeView")
    assert view.isReadOnly()
    assert view.toPlainText() == dialog.program != ""
    output = tmp_path / "out.png"
    dialog.destination_edit.setText(str(output))
    assert str(output) in view.toPlainText()
    script = tmp_path / "recipe.py"
    dialog._ask_save = lambda kind: script if kind == "script" else None
    with qtbot.waitSignal(dialog.told):
        dialog.findChild(QPushButton, "saveCodeButton").click()
    assert script.read_text(encoding="utf-8") == view.toPlainText()
    subprocess.run([sys.executable, str(script)], check=True, timeout=120)
    written = cv2.cvtColor(cv2.imread(str(output)), cv2.COLOR_BGR2RGB).astype(int)
    assert np.abs(written - window.controller.rendering.result8.astype(int)).max() <= 1
    with qtbot.waitSignal(dialog.told):
        dialog.findChild(QPushButton, "copyCodeButton").click()
    assert QGuiApplication.clipboard().text() == view.toPlainText()


def test_switching_targets_rewrites_the_code(qtbot, window):
    dialog = window.show_code("numpy")
    numpy_code = dialog.program
    dialog.target_combo.setCurrentIndex(dialog.target_combo.findData("opencv"))
    assert dialog.program != numpy_code
    assert "cv2" in dialog.program
    assert dialog.findChild(QPlainTextEdit, "codeView").toPlainText() == dialog.program


def test_a_target_that_cannot_do_the_recipe_says_why_and_offers_nothing(qtbot, window):
    window.apply_recipe(Recipe((Stage([[1, 2, 1]], divisor=4),), alpha="weighted"), "Weighted")
    dialog = window.show_code("vips")
    problem = dialog.findChild(QLabel, "codeProblem")
    assert not dialog.isHidden()
    assert not problem.isHidden()
    assert problem.text().startswith("libvips cannot do this:")
    assert "weighted" in problem.text()
    assert dialog.program == ""
    assert dialog.code_view.toPlainText() == ""
    assert not dialog.findChild(QPushButton, "copyCodeButton").isEnabled()
    assert not dialog.findChild(QPushButton, "saveCodeButton").isEnabled()
    # The NumPy script can: choosing it shows code again.
    dialog.target_combo.setCurrentIndex(dialog.target_combo.findData("numpy"))
    assert problem.isHidden()
    assert dialog.program
    assert dialog.findChild(QPushButton, "copyCodeButton").isEnabled()


def test_saving_code_to_an_unwritable_place_says_so_and_writes_nothing(qtbot, window, tmp_path):
    dialog = window.show_code("scipy")
    target = tmp_path / "missing-folder" / "recipe.py"
    with qtbot.waitSignal(dialog.told) as told:
        assert not dialog.save(target)
    assert "Could not save 'recipe.py'" in told.args[0]
    assert not target.parent.exists()


def test_behave_like_gimp_on_a_16_bit_image_adds_half_of_its_white(qtbot, window, tmp_path):
    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), np.random.default_rng(3).integers(0, 65536, (20, 30), np.uint16))
    window.open_path(deep)
    qtbot.waitUntil(lambda: window.controller.image.pixels.dtype == np.uint16, timeout=10_000)
    idle(qtbot, window)
    window.apply_recipe(Recipe((Stage([[-1, 0, 1]]),)), "Edge")
    choose(window.options.like_combo, "gimp")
    assert window.controller.recipe.stages[0].offset == 32767.5


def test_closing_the_dialog_gives_the_keyboard_back_to_the_window(qtbot, window):
    dialog = window.show_code("scipy")
    qtbot.waitUntil(dialog.isVisible)
    dialog.target_combo.setFocus()
    dialog.close()
    assert window.code_dialog is None
    focused = QApplication.focusWidget()
    assert focused is None or focused.window() is window
