"""The teaching features: pixel explainer, kernel analysis, walkthrough, compare."""

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from scipy import ndimage

from kernelstudio.kernels import PRESETS
from kernelstudio.samples import sample_image_path
from kernelstudio.walkthrough import STEPS
from tests.app.conftest import oracle
from tests.app.test_main_window import choose_border, sample_rgb, type_into, wait_for_result


def table_numbers(table):
    return np.array([[float(text) for text in row] for row in table.values()])


def expected_neighbourhood(channel_pixels, row, column, size, border):
    """The neighbourhood scipy reads: one response per single-weight kernel."""
    values = np.zeros((size, size))
    for dy in range(size):
        for dx in range(size):
            delta = np.zeros((size, size))
            delta[dy, dx] = 1.0
            values[dy, dx] = ndimage.correlate(channel_pixels.astype(float), delta, mode=border)[
                row, column
            ]
    return values


@pytest.mark.parametrize("border", ["mirror", "constant", "wrap"])
def test_hovering_a_pixel_explains_it(qtbot, window, border):
    window.choose_preset("sharpen")
    choose_border(qtbot, window, border)
    window.views.hovered.emit("result", 0, 5)  # on the top edge: the border shows
    explainer = window.explainer
    green = sample_rgb()[..., 1]
    explainer.channel_combo.setCurrentIndex(1)
    explainer.channel_combo.activated.emit(1)
    neighbourhood = table_numbers(explainer.neighbourhood)
    np.testing.assert_array_equal(neighbourhood, expected_neighbourhood(green, 0, 5, 3, border))
    np.testing.assert_array_equal(table_numbers(explainer.weights), PRESETS["sharpen"])
    np.testing.assert_allclose(
        table_numbers(explainer.products), neighbourhood * PRESETS["sharpen"]
    )
    expected_sum = oracle(sample_rgb(), PRESETS["sharpen"], border=border)[0, 5, 1]
    first_line, shown = explainer.sum_label.text().splitlines()
    assert first_line == f"sum = {expected_sum:.6g}"
    assert shown.startswith(f"shown as {np.clip(round(expected_sum), 0, 255)} (clip")
    assert "x 5, y 0, green" in explainer.header.text()


def test_flip_explains_the_rotated_kernel(qtbot, window):
    window.choose_preset("sobel-left")
    window.options.flip_check.click()
    qtbot.waitUntil(lambda: window.controller.rendering.recipe.flip, timeout=10_000)
    window.choose_pixel(10, 10)
    np.testing.assert_array_equal(table_numbers(window.explainer.weights), PRESETS["sobel-right"])


def test_clicking_keeps_a_pixel_and_arrows_move_it(qtbot, window):
    window.choose_preset("box-blur")
    wait_for_result(qtbot, window, PRESETS["box-blur"])
    window.views.clicked.emit("original", 50, 60)
    window.views.hovered.emit("original", 5, 5)
    assert "x 60, y 50" in window.explainer.header.text()
    canvas = window.views.views["original"].getViewWidget()
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Left):
        QApplication.sendEvent(
            canvas, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)
        )
    assert "x 59, y 52" in window.explainer.header.text()
    red = sample_rgb()[52 - 1 : 52 + 2, 59 - 1 : 59 + 2, 0]
    np.testing.assert_array_equal(table_numbers(window.explainer.neighbourhood), red)
    outline = window.views.patch_outline.rect()
    assert (outline.x(), outline.y(), outline.width(), outline.height()) == (58, 51, 3, 3)
    pixel = window.views.pixel_outline.rect()
    assert (pixel.x(), pixel.y()) == (59, 52)


def test_valid_border_explains_only_pixels_with_a_result(qtbot, window):
    choose_border(qtbot, window, "valid")
    window.choose_pixel(0, 0)
    assert "has no result" in window.explainer.note.text()
    window.choose_pixel(1, 1)
    np.testing.assert_array_equal(
        table_numbers(window.explainer.neighbourhood), sample_rgb()[0:3, 0:3, 0]
    )


@pytest.mark.parametrize(
    ("slug", "separable", "behaviour"),
    [
        ("gaussian-blur", "Separable: column [1/2 1 1/2] × row [1/8 1/4 1/8]", "blurs"),
        ("sharpen", "Not separable (rank 2)", "sharpens"),
        ("sobel-top", "Separable", "finds edges"),
        ("identity", "Separable", "keeps its detail"),
    ],
)
def test_kernel_analysis_beside_the_grid(qtbot, window, slug, separable, behaviour):
    window.choose_preset(slug)
    assert window.analysis.separability.text().startswith(separable)
    assert behaviour in window.analysis.behaviour.text()
    response = window.analysis.response.image
    expected = np.abs(np.fft.fftshift(np.fft.fft2(PRESETS[slug], s=(64, 64))))
    np.testing.assert_allclose(response, expected, atol=1e-12)


def test_analysis_follows_typing(qtbot, window):
    type_into(qtbot, window, 1, 1, "0")
    assert "All weights are zero" in window.analysis.behaviour.text()
    assert window.analysis.brightness.text().startswith("Sum 0")


def test_walkthrough_runs_start_to_end(qtbot, window):
    window.actions.walkthrough.trigger()
    panel = window.walkthrough
    assert window.walkthrough_dock.isVisible()
    grey = cv2.cvtColor(cv2.imread(str(sample_image_path())), cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    side = min(height, width)  # the centre square: the photograph is not squashed
    top, left = (height - side) // 2, (width - side) // 2
    square = grey[top : top + side, left : left + side]
    tutorial = cv2.resize(square, (100, 100), interpolation=cv2.INTER_AREA)
    seen = []
    for index, step in enumerate(STEPS):
        if index:
            panel.next_button.click()
        weights = PRESETS[step.preset]
        rendering = wait_for_result(qtbot, window, weights)
        qtbot.waitUntil(
            lambda step=step: (
                window.controller.rendering is not None  # None while a new image loads
                and window.controller.rendering.recipe.border == step.border
                and (window.controller.image.pixels.ndim == 3) == (step.image == "colour")
            ),
            timeout=10_000,
        )
        rendering = window.controller.rendering
        image = window.controller.image.pixels
        assert panel.title.text() == step.title
        assert panel.sentence.text() == step.sentence
        if step.image == "tutorial":
            assert np.abs(image.astype(int) - tutorial).max() <= 1
            expected = oracle(image, weights, border=step.border)
            assert rendering.result.shape == expected.shape
            np.testing.assert_allclose(rendering.result, expected, atol=1e-3)
        else:
            np.testing.assert_array_equal(image, sample_rgb())
            np.testing.assert_array_equal(window.views.shown("blue"), sample_rgb()[..., 2])
        seen.append(rendering.result.shape)
    assert seen[0] == (100, 100)
    assert seen[1] == (98, 98)
    assert not panel.next_button.isEnabled()
    panel.back_button.click()
    assert panel.title.text() == STEPS[-2].title


def test_pin_and_compare_shows_what_one_weight_changed(qtbot, window):
    window.choose_preset("box-blur")
    wait_for_result(qtbot, window, PRESETS["box-blur"])
    window.actions.pin.trigger()
    type_into(qtbot, window, 0, 0, "1/3")
    changed = PRESETS["box-blur"].copy()
    changed[0, 0] = 1 / 3
    rendering = wait_for_result(qtbot, window, changed)
    difference = np.abs(oracle(sample_rgb(), changed) - oracle(sample_rgb(), PRESETS["box-blur"]))
    comparison = rendering.comparison
    assert comparison.largest == pytest.approx(difference.max(), rel=1e-4)
    scale = max(np.abs(oracle(sample_rgb(), changed)).max(), 255.0)
    assert comparison.changed == np.count_nonzero(difference > 1e-5 * scale)
    assert window.views.mode == "compare"
    assert f"{comparison.changed:,} values changed" in window.views.summary.text()
    np.testing.assert_array_equal(window.views.shown("difference"), comparison.difference8)
    window.actions.unpin.trigger()
    rendering = wait_for_result(qtbot, window, changed)
    qtbot.waitUntil(lambda: window.controller.rendering.comparison is None, timeout=10_000)
    assert "Pin a result" in window.views.summary.text()


def test_comparing_with_another_size_says_why(qtbot, window):
    window.pin_result()
    combo = window.options.border_combo
    combo.setCurrentIndex(combo.findData("valid"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(
        lambda: isinstance(window.controller.rendering.comparison, str), timeout=10_000
    )
    assert "pin again" in window.views.summary.text()


def test_loading_another_image_forgets_the_chosen_pixel_and_the_pin(qtbot, window):
    window.choose_pixel(300, 400)
    window.pin_result()
    assert window.controller.pinned is not None
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        window.controller.load_pixels(np.zeros((10, 10, 3), np.uint8), "tiny")
    qtbot.waitUntil(lambda: window.controller.rendering is not None, timeout=10_000)
    assert window.controller.pinned is None
    assert window.controller.rendering.comparison is None
    assert not window.views.patch_outline.isVisible()
    assert "x 400" not in window.explainer.header.text()
    assert "valid" not in window.explainer.note.text()


def test_the_walkthrough_reloads_its_image_after_another_was_opened(qtbot, window):
    window.show_walkthrough_step(0)
    qtbot.waitUntil(lambda: window.controller.image.pixels.shape == (100, 100), timeout=10_000)
    astronaut = sample_image_path("astronaut")
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        window.open_path(astronaut)
    window.show_walkthrough_step(1)
    qtbot.waitUntil(
        lambda: (
            window.controller.image.pixels.shape == (100, 100)
            and window.controller.is_idle
            and window.controller.rendering.result.shape == (98, 98)
        ),
        timeout=10_000,
    )


def test_switching_to_the_histogram_tab_does_not_convolve_again(qtbot, window, monkeypatch):
    from kernelstudio.app import controller as controller_module

    renders = []
    real_render = controller_module._render
    monkeypatch.setattr(
        controller_module, "_render", lambda *a: renders.append(a) or real_render(*a)
    )
    window.actions.histogram.trigger()
    qtbot.waitUntil(lambda: window.histogram.counts is not None, timeout=10_000)
    window.actions.explainer.trigger()
    window.actions.histogram.trigger()
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    assert renders == []
    expected = np.bincount(sample_rgb()[..., 0].ravel(), minlength=256)
    np.testing.assert_array_equal(window.histogram.counts[0], expected)


def test_pinning_before_any_result_says_so(qtbot, controller):
    with qtbot.waitSignal(controller.failed, timeout=5_000) as failure:
        controller.pin_result()
    assert failure.args == ["There is no result to pin yet."]
