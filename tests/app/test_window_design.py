"""The window as a person sees it: each finding of the user test, as a test that can fail.

Findings (issue "The window, designed as a person sees it"), numbered as there.
The widgets' own tests cover the details (test_recipe_panel, test_image_views,
test_pixel_panel, test_tutorial, test_file_dialogs); these check the window.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLineEdit, QWidget

from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage
from tests.app.conftest import oracle


def wait_idle(qtbot, window):
    qtbot.waitUntil(
        lambda: window.controller.is_idle and window.controller.rendering is not None,
        timeout=10_000,
    )


def settle(qtbot, window, width, height):
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height, timeout=5000)
    wait_idle(qtbot, window)
    window.fit_side_column()
    qtbot.wait(1)  # one turn of the event loop lays the splitter out


def fully_visible(widget) -> bool:
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


@pytest.mark.parametrize(("side", "width", "height"), [(7, 1280, 800), (9, 1600, 1000)])
def test_finding_1_a_large_grid_fits_without_scrolling(window, qtbot, side, width, height):
    weights = np.full((side, side), 1 / 16)
    weights[0, 0] = -0.0625
    window.set_kernel(weights)
    settle(qtbot, window, width, height)
    for row in range(side):
        for column in range(side):
            cell = window.findChild(QLineEdit, f"cell_{row}_{column}")
            assert fully_visible(cell), cell.objectName()
            needed = cell.fontMetrics().horizontalAdvance(cell.text())
            assert needed <= cell.contentsRect().width() - 4, cell.objectName()
    total = window.findChild(type(window.recipe_panel.editor.sum_label), "sumLabel")
    assert fully_visible(total)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_finding_2_pinned_and_difference_show_the_whole_image(window, qtbot, size):
    settle(qtbot, window, *size)
    window.pin_result()
    window.choose_preset("sharpen")
    qtbot.waitUntil(lambda: window.controller.rendering.comparison is not None, timeout=10_000)
    wait_idle(qtbot, window)
    assert window.views.mode == "compare"
    height, width = window.controller.image.pixels.shape[:2]
    image_rect = QRectF(0, 0, width, height)
    for name in ("pinned", "difference"):
        view = window.views.views[name]
        assert view.viewRect().contains(image_rect), name
        on_screen = view.mapViewToDevice(image_rect).boundingRect()
        assert on_screen.width() >= 0.8 * view.width() or on_screen.height() >= 0.8 * view.height()
        assert on_screen.width() > 200, name  # not a thin strip


def test_finding_4_ctrl_e_from_a_focused_cell_opens_the_export_dialog(window, qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(window.file_dialogs, "ask_save", lambda kind, **_names: asked.append(kind))
    cell = window.findChild(QLineEdit, "cell_1_1")
    cell.setFocus()
    qtbot.waitUntil(cell.hasFocus, timeout=5000)
    qtbot.keyClick(cell, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["result"]


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1920, 1080)])
def test_finding_5_the_pictures_take_most_of_the_window(window, qtbot, size):
    settle(qtbot, window, *size)
    area = window.width() * window.height()
    pictures = [window.views.views[name] for name in ("original", "result")]
    covered = sum(view.width() * view.height() for view in pictures)
    assert covered >= 0.30 * area
    sizes_before = [(view.width(), view.height()) for view in pictures]
    for tab in ("pixel", "histogram", "analysis", "recipe"):
        window.show_side_tab(tab)
        qtbot.wait(1)
        assert [(view.width(), view.height()) for view in pictures] == sizes_before, tab


def test_finding_5_split_view_gives_one_picture_more_than_half_the_window(window, qtbot):
    settle(qtbot, window, 1280, 800)
    window.set_view_mode("split")
    qtbot.wait(1)
    view = window.views.views["split"]
    assert view.width() * view.height() >= 0.40 * window.width() * window.height()
    assert window.actions.mode["split"].isChecked()


@pytest.mark.parametrize("mode", ["split", "compare", "side"])
def test_the_view_mode_actions_switch_the_pictures(window, mode):
    window.actions.mode[mode].trigger()  # as a click on its tool bar button does
    assert window.views.mode == mode
    assert window.actions.mode[mode].isChecked()
    assert window.message_bar.text == ""


def test_the_side_panel_action_hides_and_shows_the_column(window, qtbot):
    pictures = window.views.views["original"]
    width = pictures.width()
    window.actions.side_panel.trigger()
    assert window.side_tabs.isHidden()
    assert not window.actions.side_panel.isChecked()
    qtbot.waitUntil(lambda: window.views.views["original"].width() > width, timeout=5000)
    window.actions.side_panel.trigger()
    assert not window.side_tabs.isHidden()


def test_finding_6_the_tutorial_gives_back_the_persons_work(window, qtbot):
    two_stages = Recipe(
        (Stage(PRESETS["sharpen"]), Stage(np.array([[-1.0, 0, 1]]), offset=128)),
        border="wrap",
        display="signed",
    )
    window.apply_recipe(two_stages, "Mine")
    window.controller.update(channels_of_result=True)
    wait_idle(qtbot, window)
    image = window.controller.image
    undo_count = window.undo_stack.count()
    window.start_tutorial()
    qtbot.waitUntil(lambda: window.controller.image is not image, timeout=10_000)
    window.walkthrough.next_button.click()
    window.choose_preset("emboss")  # an edit during the tutorial stays in the tutorial
    window.walkthrough.finish_button.click()
    wait_idle(qtbot, window)
    assert not window.tutorial.running
    assert window.controller.image is image
    assert window.controller.recipe == two_stages
    assert window.controller.view.channels_of_result
    assert window.undo_stack.count() == undo_count
    assert window.undo_group.activeStack() is window.undo_stack
    assert window.controller.rendering.result.shape[:2] == image.pixels.shape[:2]
    assert window.walkthrough_dock.isHidden()


def test_finding_8_greyscale_shows_one_grey_view_and_a_grey_original(window, qtbot):
    window.views.set_channels_visible(True)
    window.controller.update(grey=True)
    wait_idle(qtbot, window)
    views = window.views
    assert views.shown("original").ndim == 2
    assert "grey" in views.title("original")
    showing = [
        name
        for name in ("red", "green", "blue", "grey")
        if window.findChild(QWidget, f"panel_{name}").isVisible()
    ]
    assert showing == ["grey"]
    window.choose_pixel(10, 10)
    names = [
        window.explainer.channel_combo.itemText(i)
        for i in range(window.explainer.channel_combo.count())
    ]
    assert "Red" not in names


def test_finding_10_the_pointer_readout_follows_a_kernel_change(window, qtbot):
    window.views.hovered.emit("original", 20, 30)
    before = window.pixel_label.text()
    assert "x 30" in before
    assert "y 20" in before
    window.choose_preset("box-blur")
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.pixel_label.text() != before, timeout=5000)
    expected = oracle(window.controller.image.pixels, PRESETS["box-blur"])[20, 30]
    shown = window.controller.rendering.result[20, 30]
    np.testing.assert_allclose(shown, expected, rtol=1e-4, atol=1e-3)
    assert f"{float(np.atleast_1d(shown)[0]):.6g}"[:4] in window.pixel_label.text()


def test_finding_10_pinning_or_a_tab_never_reports_an_edit_that_did_not_happen(window, qtbot):
    wait_idle(qtbot, window)
    qtbot.wait(50)
    window.pin_result()
    wait_idle(qtbot, window)
    window.show_side_tab("histogram")
    wait_idle(qtbot, window)
    assert "after the change" not in window.timing_label.text()
    window.choose_preset("sharpen")
    wait_idle(qtbot, window)
    assert "after the change" in window.timing_label.text()


def test_finding_13_typing_a_fraction_leaves_no_message(window, qtbot):
    cell = window.findChild(QLineEdit, "cell_1_1")
    cell.setFocus()
    cell.selectAll()
    window.statusBar().clearMessage()
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    qtbot.keyClicks(cell, "1/16")
    qtbot.keyClick(cell, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert [message for message in messages if message] == []
    assert not cell.property("invalid")
    assert window.controller.stage.weights[1, 1] == 1 / 16


def test_finding_14_exports_are_named_for_what_they_hold(window, qtbot, monkeypatch):
    window.choose_preset("sharpen")
    wait_idle(qtbot, window)
    offered = {}

    def remember(kind, **names):
        offered[kind] = names
        return None

    monkeypatch.setattr(window.file_dialogs, "ask_save", remember)
    for kind in ("result", "views", "kernel"):
        window.choose_export(kind)
    assert offered["kernel"]["stage_label"] == "sharpen"
    assert offered["result"]["image_name"] == "coffee.png"


def test_finding_15_sizes_read_width_first_in_words(window):
    height, width = window.controller.image.pixels.shape[:2]
    assert f"{width} × {height} px, RGB, 8-bit" in window.image_label.text()


def test_finding_15_saved_presets_can_be_renamed_and_deleted(window, qtbot):
    window.save_custom_preset("Soft")
    window.rename_custom_preset("Soft", "Softer")
    texts = [window.preset_combo.itemText(i) for i in range(window.preset_combo.count())]
    assert "★ Softer" in texts
    assert "★ Soft" not in texts
    window.delete_custom_preset("Softer")
    texts = [window.preset_combo.itemText(i) for i in range(window.preset_combo.count())]
    assert not any(text.startswith("★") for text in texts)


def test_finding_15_the_window_uses_the_command_lines_words(window):
    options = window.recipe_panel.options
    borders = [options.border_combo.itemText(i) for i in range(options.border_combo.count())]
    displays = [options.display_combo.itemText(i) for i in range(options.display_combo.count())]
    for word in ("mirror", "reflect", "nearest", "constant", "wrap", "valid"):
        assert any(text.lower().startswith(word) for text in borders), word
    for word in ("clip", "abs", "normalize", "signed"):
        assert any(text.lower().startswith(word) for text in displays), word


def test_finding_16_a_programmatic_preset_choice_applies_it(window, qtbot):
    combo = window.preset_combo
    combo.setCurrentIndex(combo.findData("sharpen"))
    wait_idle(qtbot, window)
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["sharpen"])
    assert combo.currentData() == "sharpen"


def test_undo_covers_the_options_too(window, qtbot):
    window.recipe_panel.options.border_combo.setFocus()
    before = window.controller.recipe
    combo = window.recipe_panel.options.border_combo
    combo.activated.emit(combo.findData("wrap"))
    assert window.controller.recipe.border == "wrap"
    window.actions.undo.trigger()
    assert window.controller.recipe == before
    assert combo.currentData() == before.border


def test_every_control_has_an_accessible_name(window):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox

    nameless = [
        widget.objectName() or type(widget).__name__
        for kind in (QAbstractButton, QComboBox, QLineEdit, QSpinBox)
        for widget in window.findChildren(kind)
        if widget.isVisibleTo(window)
        and not widget.accessibleName()
        and widget.objectName() != "qt_spinbox_lineedit"  # inside a named spin box
    ]
    assert nameless == []


def test_every_control_has_a_tooltip(window):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox, QToolBar

    tipless = [
        widget.objectName() or type(widget).__name__
        for kind in (QAbstractButton, QComboBox, QLineEdit, QSpinBox)
        for widget in window.findChildren(kind)
        if widget.isVisibleTo(window)
        and not widget.toolTip()
        and widget.objectName() != "qt_spinbox_lineedit"
        and not isinstance(widget.parent(), QToolBar)  # their actions' tooltips show
    ]
    assert tipless == []
    bar = window.findChild(QToolBar, "mainToolBar")
    assert all(action.toolTip() for action in bar.actions() if not action.isSeparator())


def test_a_closed_window_leaves_nothing_alive(make_window, qapp):
    import gc
    import weakref

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    window = make_window()
    window.choose_preset("sharpen")
    gone = weakref.ref(window)
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    gc.collect()
    assert gone() is None  # a lambda holding the window kept 7 MB per window alive
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == []
