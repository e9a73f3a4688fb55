"""The recipe's options in the window: divisor, offset, channels, transparency, alpha shown."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from kernelstudio.imageio import save_image
from kernelstudio.kernels import PRESET_GENERATORS, PRESETS
from kernelstudio.pipeline import Recipe, Stage
from tests.app.conftest import assert_close, oracle_recipe
from tests.app.test_main_window import wait_for_result

WAIT_MS = 10_000


def settle(qtbot, window):
    qtbot.waitUntil(
        lambda: (
            window.controller.is_idle
            and window.controller.rendering is not None
            and window.controller.rendering.recipe is window.controller.recipe
        ),
        timeout=WAIT_MS,
    )
    return window.controller.rendering


def type_text(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


@pytest.fixture
def rgba_path(tmp_path):
    rng = np.random.default_rng(12)
    pixels = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
    pixels[5:12, 6:14, 3] = 0
    pixels[5:12, 6:14, :3] = 255  # hidden colour
    path = tmp_path / "transparent.png"
    save_image(path, pixels)
    return path, pixels


def test_divisor_and_offset_apply_as_typed_and_undo(qtbot, window):
    window.choose_preset("emboss")
    options = window.options
    type_text(qtbot, options.divisor_edit, "1/2")
    type_text(qtbot, options.offset_edit, "128")
    stage = window.controller.stage
    assert (stage.divisor, stage.offset) == (0.5, 128.0)
    rendering = settle(qtbot, window)
    image = window.controller.image.pixels
    expected = oracle_recipe(image, rendering.recipe)
    assert_close(rendering.result, expected, PRESETS["emboss"] / 0.5, image)
    window.undo_stack.undo()  # the offset, typed as one step
    assert window.controller.stage.offset == 0
    assert options.offset_edit.text() == "0"
    window.undo_stack.undo()
    assert window.controller.stage.divisor == 1
    assert options.divisor_edit.text() == "1"


@pytest.mark.parametrize("text", ["0", "abc", "", "1/0"])
def test_a_divisor_that_cannot_be_used_is_marked_and_changes_nothing(qtbot, window, text):
    before = window.controller.recipe
    type_text(qtbot, window.options.divisor_edit, text)
    assert window.options.divisor_edit.property("invalid") is True
    assert window.options.divisor_edit.toolTip()
    assert window.controller.recipe == before
    assert window.undo_stack.count() == 0


def test_a_divisor_too_small_for_the_weights_is_refused_with_a_reason(qtbot, window):
    window.set_kernel([[0, 0, 0], [0, 3e38, 0], [0, 0, 0]])
    before = window.controller.recipe
    type_text(qtbot, window.options.divisor_edit, "0.5")
    assert window.controller.recipe.stages[0].divisor == 1  # "0" and "0." were not usable
    assert window.controller.recipe == before
    assert window.options.divisor_edit.property("invalid") is True
    assert "float32" in window.options.divisor_edit.toolTip()


def test_channel_boxes_choose_what_is_filtered_and_the_last_stays(qtbot, window):
    window.choose_preset("box-blur")
    checks = window.options.channel_checks
    checks["r"].click()
    assert window.controller.recipe.channels == "gb"
    rendering = settle(qtbot, window)
    image = window.controller.image.pixels
    np.testing.assert_array_equal(rendering.result[..., 0], image[..., 0])
    assert_close(
        rendering.result, oracle_recipe(image, rendering.recipe), PRESETS["box-blur"], image
    )
    checks["g"].click()
    checks["b"].click()  # the last one: refused
    assert window.controller.recipe.channels == "b"
    assert checks["b"].isChecked()


def test_weighted_transparency_hides_the_colour_of_transparent_pixels(qtbot, window, rgba_path):
    path, pixels = rgba_path
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=WAIT_MS):
        window.open_path(path)
    window.choose_preset("box-blur")
    combo = window.options.alpha_combo
    combo.setCurrentIndex(combo.findData("weighted"))
    combo.activated.emit(combo.currentIndex())
    rendering = settle(qtbot, window)
    assert rendering.recipe.alpha == "weighted"
    assert rendering.result.shape == (20, 24, 4)
    assert_close(
        rendering.result, oracle_recipe(pixels, rendering.recipe), PRESETS["box-blur"], pixels
    )
    np.testing.assert_array_equal(rendering.result[..., 3], pixels[..., 3])
    assert rendering.result8.shape == (20, 24, 4)  # the view shows the transparency
    assert window.views.shown("result") is rendering.result8


def test_every_new_control_has_a_name_for_assistive_tools(window):
    options = window.options
    controls = [
        options.divisor_edit,
        options.offset_edit,
        options.alpha_combo,
        *options.channel_checks.values(),
    ]
    for control in controls:
        assert control.objectName()
        assert control.accessibleName()


def test_the_whole_recipe_survives_a_restart(qtbot, make_window):
    window = make_window()
    window.choose_preset("sharpen")
    type_text(qtbot, window.options.divisor_edit, "4")
    window.options.channel_checks["b"].click()
    combo = window.options.alpha_combo
    combo.setCurrentIndex(combo.findData("process"))
    combo.activated.emit(combo.currentIndex())
    settle(qtbot, window)
    recipe = window.controller.recipe
    window.close()
    again = make_window()
    assert again.controller.recipe == recipe
    assert again.options.divisor_edit.text() == "4"
    assert not again.options.channel_checks["b"].isChecked()
    assert again.options.alpha_combo.currentData() == "process"
    sharpen = Stage.generated(PRESET_GENERATORS["sharpen"], divisor=4)
    assert recipe == Recipe((sharpen,), channels="rg", alpha="process")
    wait_for_result(qtbot, again, PRESETS["sharpen"])


def test_a_recipe_exported_and_imported_comes_back_whole(qtbot, window, tmp_path):
    window.choose_preset("emboss")
    type_text(qtbot, window.options.offset_edit, "128")
    window.options.channel_checks["g"].click()
    settle(qtbot, window)
    recipe = window.controller.recipe
    target = tmp_path / "emboss.json"
    with qtbot.waitSignal(window.controller.saved, timeout=WAIT_MS):
        window.export_recipe(target)
    window.choose_preset("identity")
    assert window.controller.recipe != recipe
    window.import_recipe(target)
    assert window.controller.recipe == recipe
    assert window.options.offset_edit.text() == "128"
    np.testing.assert_array_equal(window.editor.weights, PRESETS["emboss"])
    rendering = settle(qtbot, window)
    image = window.controller.image.pixels
    assert_close(rendering.result, oracle_recipe(image, recipe), PRESETS["emboss"], image)


def test_a_bad_recipe_file_changes_nothing(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "kernelstudio-recipe", "stages": [{"weights": [[1, 2]]}]}')
    before = window.controller.recipe
    window.import_recipe(bad)
    assert window.controller.recipe is before
    assert "Could not import the recipe" in window.message_bar.text
    assert "stages[0]" in window.message_bar.text


def test_importing_a_recipe_is_one_undoable_step(qtbot, window, tmp_path):
    target = tmp_path / "r.json"
    from kernelstudio.recipe_files import write_recipe_file

    imported = Recipe.single(PRESETS["outline"], divisor=2, border="wrap", display="abs")
    write_recipe_file(target, imported)
    window.choose_preset("sharpen")
    before = window.controller.recipe
    window.import_recipe(target)
    assert window.controller.recipe == imported
    window.undo_stack.undo()
    assert window.controller.recipe == before
    assert window.options.border_combo.currentData() == before.border
    window.undo_stack.redo()
    assert window.controller.recipe == imported
