"""The main window driven as a person would: typing, presets, drops, exports."""

import json

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QLineEdit

from kernelstudio.kernels import PRESET_DISPLAY, PRESET_NAMES, PRESETS
from kernelstudio.samples import sample_image_path
from tests.app.conftest import assert_close, oracle, oracle8, state_of


def sample_rgb():
    return cv2.cvtColor(cv2.imread(str(sample_image_path())), cv2.COLOR_BGR2RGB)


def cell(window, row, column) -> QLineEdit:
    found = window.findChild(QLineEdit, f"cell_{row}_{column}")
    assert found is not None, f"no cell_{row}_{column}"
    return found


def type_into(qtbot, window, row, column, text):
    """Replace a cell's text keystroke by keystroke, as a person does."""
    target = cell(window, row, column)
    target.setFocus()
    target.selectAll()
    qtbot.keyClick(target, Qt.Key.Key_Backspace)
    qtbot.keyClicks(target, text)


def wait_for_result(qtbot, window, weights, **options):
    """Wait until the window's latest result is for `weights` and return it."""
    qtbot.waitUntil(
        lambda: (
            window.controller.is_idle
            and window.controller.rendering is not None
            and np.array_equal(window.controller.rendering.recipe.stages[0].weights, weights)
        ),
        timeout=10_000,
    )
    return window.controller.rendering


def choose_border(qtbot, window, border):
    """Pick `border` in the Border combo as a person does, and wait for its result."""
    combo = window.options.border_combo
    combo.setCurrentIndex(combo.findData(border))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(
        lambda: window.controller.is_idle and window.controller.rendering.recipe.border == border,
        timeout=10_000,
    )
    return window.controller.rendering


def drop(window, mime: QMimeData):
    """Send the drag-enter and drop events a file manager would send."""
    position = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(
        position.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    dropped = QDropEvent(
        position,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, dropped)


def files_mime(*paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return mime


def write_png(path, rgb):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def small_image(tmp_path):
    rgb = np.random.default_rng(11).integers(0, 256, size=(37, 53, 3)).astype(np.uint8)
    return write_png(tmp_path / "small.png", rgb), rgb


# Opening ---------------------------------------------------------------------


def test_opens_on_the_sample_with_identity_result(window):
    image = window.controller.image
    np.testing.assert_array_equal(image.pixels, sample_rgb())
    rendering = window.controller.rendering
    np.testing.assert_array_equal(rendering.recipe.stages[0].weights, PRESETS["identity"])
    assert_close(rendering.result, oracle(sample_rgb(), PRESETS["identity"]))
    assert window.preset_combo.currentData() == "identity"
    assert "coffee.png" in window.windowTitle()


def test_a_bad_path_on_the_command_line_falls_back_to_the_sample(make_window, tmp_path):
    window = make_window(tmp_path / "missing.jpg")
    np.testing.assert_array_equal(window.controller.image.pixels, sample_rgb())
    assert "missing.jpg" in window.message_bar.text


def test_opens_the_given_image(make_window, small_image):
    path, rgb = small_image
    window = make_window(path)
    np.testing.assert_array_equal(window.controller.image.pixels, rgb)


# Typing into the grid ----------------------------------------------------------


def test_typing_a_fraction_updates_the_result(qtbot, window):
    type_into(qtbot, window, 1, 1, "1/16")
    expected_weights = np.zeros((3, 3))
    expected_weights[1, 1] = 1 / 16
    rendering = wait_for_result(qtbot, window, expected_weights)
    assert_close(rendering.result, oracle(sample_rgb(), expected_weights))
    assert window.preset_combo.currentData() is None
    assert window.editor.sum_label.text() == "Sum: 1/16"


def test_every_keystroke_that_leaves_a_valid_kernel_computes(qtbot, window):
    results = []
    window.controller.resultReady.connect(results.append)
    target = cell(window, 0, 0)
    target.setFocus()
    target.selectAll()
    qtbot.keyClick(target, Qt.Key.Key_Backspace)
    for key in "25":
        qtbot.keyClick(target, key)
        qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    final = PRESETS["identity"].copy()
    final[0, 0] = 25
    wait_for_result(qtbot, window, final)
    assert len(results) >= 2


def test_invalid_cell_turns_red_and_keeps_the_last_result(qtbot, window):
    before = window.controller.rendering
    with qtbot.assertNotEmitted(window.controller.resultReady, wait=300):
        type_into(qtbot, window, 0, 1, "x*3")
    target = cell(window, 0, 1)
    assert target.property("invalid") is True
    assert "not a number" in target.toolTip()
    assert window.controller.rendering is before
    type_into(qtbot, window, 0, 1, "2")
    assert target.property("invalid") is False
    assert "not a number" not in target.toolTip()  # back to the cell's own help
    expected = PRESETS["identity"].copy()
    expected[0, 1] = 2
    wait_for_result(qtbot, window, expected)


def test_rapid_typing_ends_on_the_final_kernel(qtbot, window):
    for row in range(3):
        for column in range(3):
            type_into(qtbot, window, row, column, f"{row * 3 + column - 4}/7")
    final = (np.arange(9).reshape(3, 3) - 4) / 7
    rendering = wait_for_result(qtbot, window, final)
    assert_close(rendering.result, oracle(sample_rgb(), final), final, sample_rgb())


def test_undo_and_redo_kernel_edits(qtbot, window):
    type_into(qtbot, window, 1, 1, "3")
    edited = PRESETS["identity"] * 3
    wait_for_result(qtbot, window, edited)
    window.actions.undo.trigger()
    wait_for_result(qtbot, window, PRESETS["identity"])
    assert cell(window, 1, 1).text() == "1"
    window.actions.redo.trigger()
    wait_for_result(qtbot, window, edited)
    assert cell(window, 1, 1).text() == "3"


def test_ctrl_z_in_a_cell_undoes_the_kernel_edit(qtbot, window):
    window.choose_preset("sharpen")
    wait_for_result(qtbot, window, PRESETS["sharpen"])
    type_into(qtbot, window, 1, 1, "9")
    target = cell(window, 1, 1)
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_for_result(qtbot, window, PRESETS["sharpen"])
    assert target.text() == "5"


# Presets and options -----------------------------------------------------------


@pytest.mark.parametrize("slug", ["gaussian-blur", "outline", "unsharp-mask-5x5"])
def test_choosing_a_preset_in_the_combo_fills_the_grid(qtbot, window, slug):
    combo = window.preset_combo
    index = combo.findData(slug)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    weights = PRESETS[slug]
    rendering = wait_for_result(qtbot, window, weights)
    np.testing.assert_array_equal(window.editor.weights, weights)
    assert window.editor.grid.cell(0, 0).objectName() == "cell_0_0"
    assert rendering.recipe.display == PRESET_DISPLAY[slug]
    expected8 = oracle8(sample_rgb(), weights, PRESET_DISPLAY[slug])
    assert np.abs(rendering.result8.astype(int) - expected8).max() <= 1


def test_presets_menu_lists_every_preset(qtbot, window):
    texts = [action.text() for action in window.presets_menu.actions()]
    for name in PRESET_NAMES.values():
        assert name in texts
    outline = next(a for a in window.presets_menu.actions() if a.text() == "Outline")
    outline.trigger()
    wait_for_result(qtbot, window, PRESETS["outline"])


def set_size(window, rows, columns):
    editor = window.editor
    editor.rows_spin.setValue(rows)
    editor.columns_spin.setValue(columns)


def test_size_selector_keeps_the_centre(qtbot, window):
    window.choose_preset("sharpen")
    wait_for_result(qtbot, window, PRESETS["sharpen"])
    set_size(window, 5, 5)
    grown = np.zeros((5, 5))
    grown[1:4, 1:4] = PRESETS["sharpen"]
    rendering = wait_for_result(qtbot, window, grown)
    assert window.findChild(QLineEdit, "cell_4_4") is not None
    assert_close(rendering.result, oracle(sample_rgb(), grown), grown, sample_rgb())
    window.recipe_panel.confirm = lambda _question: True  # dropping zeros asks nothing
    set_size(window, 3, 3)
    wait_for_result(qtbot, window, PRESETS["sharpen"])


@pytest.mark.parametrize("border", ["constant", "nearest", "reflect", "wrap", "valid"])
def test_border_mode_from_the_combo(qtbot, window, border):
    window.choose_preset("emboss")
    choose_border(qtbot, window, border)
    rendering = window.controller.rendering
    expected = oracle(sample_rgb(), PRESETS["emboss"], border=border)
    assert rendering.result.shape == expected.shape
    assert_close(rendering.result, expected, PRESETS["emboss"], sample_rgb())


def test_flip_applies_the_rotated_kernel_and_shows_it(qtbot, window):
    window.choose_preset("sobel-left")
    window.options.flip_check.click()
    qtbot.waitUntil(
        lambda: window.controller.is_idle and window.controller.rendering.recipe.flip,
        timeout=10_000,
    )
    expected = oracle(sample_rgb(), PRESETS["sobel-left"], flip=True)
    assert_close(window.controller.rendering.result, expected, PRESETS["sobel-left"], sample_rgb())
    applied = window.recipe_panel.applied
    assert applied.isVisible()
    np.testing.assert_array_equal(applied.weights, PRESETS["sobel-right"])


def test_greyscale_processing(qtbot, window):
    combo = window.options.colour_combo
    combo.setCurrentIndex(combo.findData(True))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(
        lambda: window.controller.is_idle and window.controller.rendering.recipe.grey,
        timeout=10_000,
    )
    grey = cv2.cvtColor(cv2.imread(str(sample_image_path())), cv2.COLOR_BGR2GRAY)
    result = window.controller.rendering.result
    assert result.shape == grey.shape
    assert np.abs(result - grey).max() <= 1


def test_normalise_divides_by_the_sum(qtbot, window):
    for row in range(3):
        for column in range(3):
            type_into(qtbot, window, row, column, "1")
    wait_for_result(qtbot, window, np.ones((3, 3)))
    window.actions.normalise.trigger()
    wait_for_result(qtbot, window, np.ones((3, 3)) / 9)
    assert window.editor.sum_label.text() == "Sum: 1"


def test_custom_preset_survives_a_restart(qtbot, window, make_window):
    type_into(qtbot, window, 0, 0, "2")
    weights = PRESETS["identity"].copy()
    weights[0, 0] = 2
    wait_for_result(qtbot, window, weights)
    window.save_custom_preset("My kernel")
    window.close()
    reopened = make_window()
    combo = reopened.preset_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "★ My kernel" in labels
    index = labels.index("★ My kernel")
    combo.activated.emit(index)
    wait_for_result(qtbot, reopened, weights)


def test_options_and_kernel_are_restored_on_restart(qtbot, window, make_window):
    window.choose_preset("laplacian")
    combo = window.options.border_combo
    combo.setCurrentIndex(combo.findData("wrap"))
    combo.activated.emit(combo.currentIndex())
    window.options.flip_check.click()
    qtbot.waitUntil(lambda: window.controller.recipe.flip, timeout=10_000)
    window.close()
    reopened = make_window()
    settings = state_of(reopened.controller.rendering)
    np.testing.assert_array_equal(settings.weights, PRESETS["laplacian"])
    assert (settings.border, settings.flip, settings.display) == ("wrap", True, "abs")
    assert reopened.options.flip_check.isChecked()
    assert reopened.preset_combo.currentData() == "laplacian"


def test_import_and_export_kernel_files(qtbot, window, tmp_path):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps({"name": "edge", "weights": [[1, 0, -1]]}))
    window.import_kernel(path)
    wait_for_result(qtbot, window, np.array([[1.0, 0.0, -1.0]]))
    editor = window.editor
    assert (editor.rows_spin.value(), editor.columns_spin.value()) == (1, 3)
    exported = tmp_path / "out.json"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.export_kernel(exported)
    assert json.loads(exported.read_text())["weights"] == [[1, 0, -1]]
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    window.import_kernel(broken)
    assert "not valid JSON" in window.message_bar.text
    np.testing.assert_array_equal(window.controller.stage.weights, [[1, 0, -1]])


# Loading by drop and paste -----------------------------------------------------


def test_dropping_an_image_file_opens_it(qtbot, window, small_image):
    path, rgb = small_image
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        drop(window, files_mime(path))
    wait_for_result(qtbot, window, PRESETS["identity"])
    qtbot.waitUntil(lambda: window.controller.rendering.result.shape == rgb.shape)
    np.testing.assert_array_equal(window.controller.image.pixels, rgb)
    assert_close(window.controller.rendering.result, oracle(rgb, PRESETS["identity"]))


@pytest.mark.parametrize("case", ["folder", "two-files", "text-file", "missing", "remote"])
def test_bad_drops_keep_the_current_image(qtbot, window, tmp_path, small_image, case):
    path, _ = small_image
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    mime = {
        "folder": lambda: files_mime(tmp_path),
        "two-files": lambda: files_mime(path, path),
        "text-file": lambda: files_mime(text_file),
        "missing": lambda: files_mime(tmp_path / "gone.png"),
        "remote": lambda: _remote_mime(),
    }[case]()
    before = window.controller.image
    drop(window, mime)
    qtbot.waitUntil(lambda: window.message_bar.text != "", timeout=10_000)
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    assert window.controller.image is before
    assert window.message_bar.isVisible()


def _remote_mime():
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/picture.png")])
    return mime


def test_drag_without_files_or_images_is_refused(window):
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_paste_an_image_from_the_clipboard(qtbot, window):
    rgb = np.random.default_rng(2).integers(0, 256, size=(20, 30, 3)).astype(np.uint8)
    image = QImage(rgb.data, 30, 20, 90, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        window.actions.paste.trigger()
    np.testing.assert_array_equal(window.controller.image.pixels, rgb)


def test_paste_without_an_image_says_so(window):
    QGuiApplication.clipboard().setText("just text")
    window.paste_image()
    assert "no image" in window.message_bar.text


# Exporting ---------------------------------------------------------------------


def test_export_result_writes_what_is_shown(qtbot, window, tmp_path):
    window.choose_preset("outline")
    wait_for_result(qtbot, window, PRESETS["outline"])
    target = tmp_path / "outline.png"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.export_result(target)
    written = cv2.cvtColor(cv2.imread(str(target)), cv2.COLOR_BGR2RGB)
    expected = oracle8(sample_rgb(), PRESETS["outline"], "abs")
    assert np.abs(written.astype(int) - expected).max() <= 1


def test_export_float_tiff_keeps_exact_values(qtbot, window, tmp_path):
    window.choose_preset("outline")
    wait_for_result(qtbot, window, PRESETS["outline"])
    target = tmp_path / "outline.tif"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.export_result(target, exact=True)
    written = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.float32
    assert written.min() < 0
    assert_close(written[..., ::-1], oracle(sample_rgb(), PRESETS["outline"]))


def test_export_all_views_holds_every_panel(qtbot, window, tmp_path):
    target = tmp_path / "views.png"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.export_views(target)
    written = cv2.imread(str(target))
    height, width = sample_rgb().shape[:2]
    assert written.shape[0] > height
    assert written.shape[1] > 5 * width


@pytest.mark.parametrize("name", ["missing/out.png", "out.xyz"])
def test_failed_export_shows_a_message_and_leaves_nothing(qtbot, window, tmp_path, name):
    with qtbot.waitSignal(window.controller.failed, timeout=10_000):
        window.export_result(tmp_path / name)
    assert "Cannot save" in window.message_bar.text
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and "config" not in p.parts]
    assert leftovers == []


def test_copy_result_to_the_clipboard(qtbot, window):
    window.actions.copy.trigger()
    image = QGuiApplication.clipboard().image().convertToFormat(QImage.Format.Format_RGB888)
    assert (image.width(), image.height()) == (600, 400)
    pixel = image.pixelColor(10, 20)
    assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(sample_rgb()[20, 10])


# Views and status ----------------------------------------------------------------


def test_hovering_shows_the_pixel_values(qtbot, window):
    window.choose_preset("outline")
    wait_for_result(qtbot, window, PRESETS["outline"])
    window.views.hovered.emit("result", 20, 10)
    expected = oracle(sample_rgb(), PRESETS["outline"])[20, 10]
    text = window.pixel_label.text()
    assert "x 10, y 20" in text
    assert f"original ({', '.join(str(v) for v in sample_rgb()[20, 10])})" in text
    assert f"{expected[0]:.6g}" in text


def test_channel_views_show_the_original_or_the_result(qtbot, window):
    window.choose_preset("outline")
    wait_for_result(qtbot, window, PRESETS["outline"])
    window.views.set_channels_visible(True)
    red = window.views.shown("red")
    np.testing.assert_array_equal(red, sample_rgb()[..., 0])
    window.options.channels_check.click()
    qtbot.waitUntil(
        lambda: window.controller.is_idle and window.controller.rendering.view.channels_of_result,
        timeout=10_000,
    )
    expected = oracle8(sample_rgb(), PRESETS["outline"], "abs")[..., 0]
    red = window.views.shown("red")
    assert np.abs(red.astype(int) - expected).max() <= 1


def test_histogram_is_one_click_away(qtbot, window):
    window.actions.histogram.trigger()
    qtbot.waitUntil(
        lambda: (
            window.controller.rendering.histogram is not None
            and window.histogram.counts is not None
        ),
        timeout=10_000,
    )
    counts = window.histogram.counts
    expected = np.bincount(sample_rgb()[..., 1].ravel(), minlength=256)
    np.testing.assert_array_equal(counts[1], expected)


def test_status_bar_reports_the_computation_time(window):
    assert "computed in" in window.timing_label.text()
    assert "ms" in window.timing_label.text()
    assert "600 × 400 px, RGB, 8-bit" in window.image_label.text()


def test_window_is_usable_at_1024_by_700(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() <= 1100)
    assert window.views.width() > 400
    assert cell(window, 2, 2).isVisible()


def test_closing_while_a_job_runs_exits_cleanly(qtbot, make_window):
    window = make_window()
    for weight in range(1, 6):
        window.set_kernel(PRESETS["identity"] * weight)
    with qtbot.assertNotEmitted(window.controller.resultReady, wait=500):
        window.close()
    assert not window.isVisible()


def test_fit_and_actual_pixels_change_every_view_together(qtbot, window):
    window.actions.one_to_one.trigger()
    original = window.views.views["original"]
    width = original.size().width()
    assert window.views.region.width() == pytest.approx(width)
    for view in window.views.views.values():
        assert view.viewRect().center().x() == pytest.approx(300, abs=1)
    window.actions.fit.trigger()
    assert window.views.region.contains(0, 0)
    assert window.views.region.contains(599, 399)


def test_valid_result_sits_over_the_pixels_it_came_from(qtbot, window):
    window.choose_preset("box-blur")
    choose_border(qtbot, window, "valid")
    rect = window.views.items["result"].mapRectToParent(
        window.views.items["result"].boundingRect()
    )
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (1, 1, 598, 398)
    window.views.hovered.emit("result", 0, 0)
    assert "outside the 'valid' area" in window.pixel_label.text()


def test_open_recent_lists_opened_files(qtbot, window, small_image):
    path, _ = small_image
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        window.open_path(path)
    window.recent_menu.aboutToShow.emit()
    names = [action.text() for action in window.recent_menu.actions()]
    assert names[0] == str(path.resolve())
    assert str(sample_image_path().resolve()) in names


def test_export_action_asks_for_a_file_and_adds_the_extension(
    qtbot, window, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(tmp_path / "chosen"), "")
    )
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.actions.export_result.trigger()
    written = cv2.imread(str(tmp_path / "chosen.png"))
    np.testing.assert_array_equal(written[..., ::-1], sample_rgb())


def test_busy_indicator_shows_only_for_slow_work(qtbot, window, monkeypatch):
    import threading

    from kernelstudio.app import controller as controller_module

    release = threading.Event()
    real_render = controller_module._render

    def slow_render(*arguments):
        release.wait(10)
        return real_render(*arguments)

    monkeypatch.setattr(controller_module, "_render", slow_render)
    with qtbot.waitSignal(window.controller.busyChanged, timeout=5_000) as busy:
        window.set_kernel(PRESETS["box-blur"])
    assert busy.args == [True]
    assert window.busy_bar.isVisible()
    release.set()
    wait_for_result(qtbot, window, PRESETS["box-blur"])
    qtbot.waitUntil(lambda: not window.busy_bar.isVisible(), timeout=5_000)


def test_kernel_edits_do_not_resend_the_original_channels(qtbot, window, monkeypatch):
    image = window.controller.image
    assert window.views.shown("red") is image.channels8[0]
    sent = []
    real_set_image = window.views.items["red"].setImage
    monkeypatch.setattr(
        window.views.items["red"],
        "setImage",
        lambda *a, **k: sent.append(a) or real_set_image(*a, **k),
    )
    window.choose_preset("outline")
    wait_for_result(qtbot, window, PRESETS["outline"])
    assert sent == []
    assert window.views.shown("red") is image.channels8[0]


def test_a_failed_result_leaves_no_stale_result_on_screen(qtbot, window, tmp_path):
    combo = window.options.border_combo
    combo.setCurrentIndex(combo.findData("valid"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    assert window.views.shown("result") is not None
    tiny = write_png(tmp_path / "tiny.png", np.zeros((1, 1, 3), np.uint8))
    with qtbot.waitSignal(window.controller.failed, timeout=10_000):
        window.open_path(tiny)
    assert "smaller than the 3×3 kernel" in window.message_bar.text
    assert window.views.shown("result") is None
    assert window.views.items["result"].image is None


def test_dropping_unreadable_image_data_says_so(window):
    mime = QMimeData()
    mime.setData("application/x-qt-image", b"\x00not an image")
    before = window.controller.image
    drop(window, mime)
    assert "could not be read" in window.message_bar.text
    assert window.controller.image is before


def test_a_broken_custom_preset_does_not_stop_the_window(make_window, isolated_settings):
    presets = isolated_settings / "KernelStudio" / "Kernel Studio" / "presets"
    presets.mkdir(parents=True)
    (presets / "huge.json").write_text('{"weights": [[1' + "0" * 400 + ", 0, 1]]}")
    (presets / "fine.json").write_text('{"name": "fine", "weights": [[1, 0, -1]]}')
    window = make_window()
    labels = [window.preset_combo.itemText(i) for i in range(window.preset_combo.count())]
    assert "★ fine" in labels
    assert len([label for label in labels if label.startswith("★")]) == 1


def test_opening_another_image_ends_the_comparison_on_screen(qtbot, window, tmp_path):
    window.pin_result()
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    other = write_png(tmp_path / "other.png", np.full((5, 7, 3), 40, np.uint8))
    with qtbot.waitSignal(window.controller.renderingReady, timeout=10_000):
        window.open_path(other)
    assert window.controller.pinned is None
    assert window.views.shown("pinned") is None
    assert window.views.mode == "side"


def test_choosing_custom_kernel_in_the_combo_keeps_naming_the_applied_preset(qtbot, window):
    window.choose_preset("outline")
    combo = window.preset_combo
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert combo.currentData() == "outline"
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["outline"])


def test_the_persons_history_keeps_the_last_hundred_steps(qtbot, window):
    from kernelstudio.app.undo import UNDO_LIMIT

    recipes = [window.controller.recipe]
    for step in range(UNDO_LIMIT + 20):
        window.set_kernel(np.full((1, 3), step + 2.0), f"step {step}")
        recipes.append(window.controller.recipe)
    stack = window.undo_stack
    assert (stack.undoLimit(), stack.count()) == (UNDO_LIMIT, UNDO_LIMIT)
    while stack.canUndo():
        stack.undo()
    assert window.controller.recipe == recipes[20]  # the twenty oldest steps are gone


@pytest.mark.parametrize("at", [0, 30, 140, 150])
def test_a_restored_history_longer_than_the_limit_keeps_the_steps_around_its_index(
    qtbot, window, at
):
    from kernelstudio.app.session import HistoryStep, Session
    from kernelstudio.app.undo import UNDO_LIMIT
    from kernelstudio.pipeline import Recipe

    recipes = [Recipe.single(np.full((1, 3), float(n + 1))) for n in range(151)]
    steps = tuple(
        HistoryStep(f"step {n}", recipes[n], recipes[n + 1]) for n in range(150)
    )  # saved by a version that kept every step
    session = Session(recipe=recipes[at], history=steps, history_index=at)
    window.persistence._apply(session)
    stack = window.undo_stack
    assert stack.count() == UNDO_LIMIT
    assert window.controller.recipe == recipes[at]
    first = min(150 - UNDO_LIMIT, at)
    while stack.canUndo():
        stack.undo()
    assert window.controller.recipe == recipes[first]
    while stack.canRedo():
        stack.redo()
    assert window.controller.recipe == recipes[first + UNDO_LIMIT]
