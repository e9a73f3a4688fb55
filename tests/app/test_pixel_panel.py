"""The Pixel panel and the pixel inspector room, tested without the main window."""

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from scipy import ndimage

from kernelstudio.analysis import analyse_kernel, describe_flat
from kernelstudio.app.image_views import ImageViews
from kernelstudio.app.kernel_analysis_view import KernelAnalysisView
from kernelstudio.app.pixel_explainer import PixelExplainer
from kernelstudio.app.pixel_inspector import PROMPT, PixelInspector, footprint
from kernelstudio.explain import explain_recipe_pixel
from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage, to_display

PADDING = 4
"""Pixels a cell needs beside its text for nothing to be elided."""


def table_numbers(table):
    return np.array([[float(text) for text in row] for row in table.values()])


@pytest.fixture
def explainer(qtbot):
    panel = PixelExplainer()
    qtbot.addWidget(panel)
    return panel


def seven_by_seven():
    """A 7×7 explanation whose numbers are as long as the user test's: 33.25, 0.1111 …"""
    image = np.full((15, 15), 33.25, np.float32)
    image[::2, ::3] = 133.25
    weights = np.full((7, 7), 0.1111)
    weights[::2, 1::2] = -0.1111
    return explain_recipe_pixel(image, Recipe.single(weights), 7, 7, channel=0)


# The panel ------------------------------------------------------------------


def test_a_seven_by_seven_explanation_is_readable_in_a_narrow_panel(qtbot, explainer):
    explainer.resize(300, 800)
    explainer.show()
    explainer.set_channel_count(1)
    explainer.show_explanation(seven_by_seven(), "Pixel x 7, y 7")
    qtbot.waitUntil(lambda: explainer.neighbourhood.isVisible())
    for table in (explainer.neighbourhood, explainer.weights, explainer.products):
        assert table.rowCount() == table.columnCount() == 7
        for row in range(7):
            for column in range(7):
                item = table.item(row, column)
                width = QFontMetrics(item.font()).horizontalAdvance(item.text())
                assert width <= table.columnWidth(column) - PADDING, (
                    table.objectName(),
                    item.text(),
                )
        # Too wide for the panel: the table scrolls inside it instead of squeezing.
        assert table.horizontalScrollBar().maximum() > 0
        assert table.mapTo(explainer, table.rect().topRight()).x() <= explainer.width()
    assert "133.2" in {text for row in explainer.neighbourhood.values() for text in row}
    assert explainer.weights.values()[0][1] == "-0.1111"


def test_every_row_of_a_table_is_visible(qtbot, explainer):
    explainer.show()
    explainer.show_explanation(seven_by_seven(), "Pixel")
    table = explainer.products
    assert table.viewport().height() >= table.verticalHeader().length()


def test_the_channel_chooser_offers_only_the_results_channels(explainer):
    combo = explainer.channel_combo
    items = lambda: [combo.itemText(i) for i in range(combo.count())]  # noqa: E731
    assert "Red" not in items()  # before any result there is nothing to choose
    assert not combo.isEnabled()
    explainer.set_channel_count(1)
    assert items() == ["Grey"]
    assert not combo.isEnabled()
    explainer.set_channel_count(2)
    assert items() == ["Grey", "Alpha"]
    explainer.set_channel_count(4)
    assert items() == ["Red", "Green", "Blue", "Alpha"]
    for bad in (0, 7, "3", None):
        explainer.set_channel_count(bad)
        assert items() == ["Red", "Green", "Blue", "Alpha"]
        assert "cannot be explained" in explainer.note.text()


def test_each_stage_is_shown_with_its_sum_divisor_and_offset(qtbot, explainer):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (12, 12)).astype(np.uint8)
    blur = np.ones((3, 3))
    emboss = np.array([[-1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
    recipe = Recipe((Stage(blur, divisor=9), Stage(emboss, divisor=2, offset=128, name="Emboss")))
    explanation = explain_recipe_pixel(image, recipe, 6, 5, channel=0)
    explainer.show()
    explainer.show_explanation(explanation, "Pixel x 5, y 6")
    combo = explainer.stage_combo
    assert combo.isVisible()
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Stage 1 (3×3)",
        "Stage 2 Emboss (3×3)",
    ]
    # Stage 1 reads the image.
    np.testing.assert_array_equal(table_numbers(explainer.neighbourhood), image[5:8, 4:7])
    blurred = ndimage.correlate(image.astype(float), blur, mode="mirror") / 9
    assert explainer.stage_sum.text().splitlines()[0] == (
        f"sum of the products = {image[5:8, 4:7].sum():.6g}"
    )
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    # Stage 2 reads stage 1's result (scipy is the oracle), to 4 significant digits.
    shown = table_numbers(explainer.neighbourhood)
    np.testing.assert_allclose(shown, blurred[5:8, 4:7], rtol=1e-3)
    np.testing.assert_array_equal(table_numbers(explainer.weights), emboss)
    total = float((blurred[5:8, 4:7] * emboss).sum())
    value = total / 2 + 128
    lines = explainer.stage_sum.text().splitlines()
    assert lines[0] == f"sum of the products = {total:.6g}"
    assert lines[1] == f"÷ divisor 2 = {total / 2:.6g}"
    assert lines[2] == f"+ offset 128 → {value:.6g}"
    assert "Stage 2 reads the result of stage 1" in explainer.stage_note.text()
    summary = explainer.sum_label.text().splitlines()
    assert summary[0].startswith("stage 1: sum ")
    assert summary[1].startswith("stage 2: sum ")
    result = ndimage.correlate(blurred, emboss, mode="mirror") / 2 + 128
    expected8 = int(to_display(result, recipe)[6, 5])
    assert summary[2].startswith(f"shown as {expected8} (clip:")
    assert "clamped to 0…255" in summary[2]
    # The chosen stage stays chosen for the next pixel.
    explainer.show_explanation(explain_recipe_pixel(image, recipe, 2, 2, channel=0), "Next")
    assert combo.currentIndex() == 1
    np.testing.assert_allclose(
        table_numbers(explainer.neighbourhood), blurred[1:4, 1:4], rtol=1e-3
    )


def test_a_single_stage_hides_the_stage_chooser(qtbot, explainer):
    explainer.show()
    explainer.show_explanation(seven_by_seven(), "Pixel")
    assert not explainer.stage_combo.isVisible()
    assert explainer.neighbourhood.isVisible()


def test_a_large_kernel_is_a_heat_map_with_the_pointed_value_in_a_label(qtbot, explainer):
    image = np.arange(30 * 30, dtype=np.float64).reshape(30, 30)
    weights = np.arange(121, dtype=np.float64).reshape(11, 11) / 100
    explanation = explain_recipe_pixel(image, Recipe.single(weights), 15, 15, channel=0)
    explainer.resize(300, 800)
    explainer.show()
    explainer.show_explanation(explanation, "Pixel")
    qtbot.waitUntil(lambda: explainer.heat_map.view.sceneBoundingRect().width() > 100)
    assert explainer.heat_map.isVisible()
    assert not explainer.neighbourhood.isVisible()
    np.testing.assert_array_equal(explainer.heat_map.image.image, explanation.stages[0].products)
    heat_map = explainer.heat_map
    scene_point = heat_map.view.mapViewToScene(QPointF(4.5, 2.5))  # column 4, row 2
    heat_map.scene().sigMouseMoved.emit(scene_point)
    pixel, weight = image[15 - 5 + 2, 15 - 5 + 4], weights[2, 4]
    assert explainer.cell_label.text() == (
        f"Row 3, column 5: {pixel:g} × {weight:g} = {pixel * weight:.4g}"
    )
    explainer.show_cell(99, 0)  # outside: nothing named, no crash
    assert explainer.cell_label.text() == ""


def test_show_note_hides_the_explanation(explainer):
    explainer.show_explanation(seven_by_seven(), "Pixel")
    explainer.show_note("Nothing here.")
    assert explainer.note.text() == "Nothing here."
    assert explainer.sum_label.text() == explainer.stage_sum.text() == ""
    assert explainer.neighbourhood.isHidden()


def test_controls_are_named_for_people_and_tests(explainer):
    for control in (explainer.channel_combo, explainer.stage_combo, explainer.heat_map):
        assert control.objectName()
        assert control.accessibleName()
        assert control.toolTip()


# The kernel analysis view ------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "offset", "words"),
    [
        ("clip", 0, "flat areas become black (0)"),
        ("signed", 0, "flat areas become mid-grey (0 is mid-grey)"),
        ("normalize", 0, "middle of the stretched range"),
        ("clip", 128, "flat areas become 128, mid-grey"),
    ],
)
def test_the_analysis_view_says_what_flat_areas_look_like(qtbot, display, offset, words):
    view = KernelAnalysisView()
    qtbot.addWidget(view)
    view.show_analysis(analyse_kernel(PRESETS["laplacian"], offset=offset, display=display))
    assert words in view.brightness.text()
    assert view.brightness.text() == describe_flat(0, offset=offset, display=display)


# The room ----------------------------------------------------------------------

IMAGE = np.random.default_rng(7).integers(0, 256, (24, 32, 3)).astype(np.uint8)


@pytest.fixture
def room(qtbot, controller):
    views = ImageViews()
    explainer = PixelExplainer()
    qtbot.addWidget(views)
    qtbot.addWidget(explainer)
    inspector = PixelInspector(controller, views, explainer)
    readouts = []
    inspector.readoutChanged.connect(readouts.append)
    return inspector, controller, views, explainer, readouts


def wait_for(qtbot, controller, recipe):
    qtbot.waitUntil(
        lambda: (
            controller.rendering is not None
            and controller.is_idle
            and controller.rendering.recipe == recipe
        ),
        timeout=10_000,
    )


def load(qtbot, controller, image, recipe):
    with qtbot.waitSignal(controller.imageLoaded, timeout=10_000):
        controller.load_pixels(image, "test")
    controller.update(recipe=recipe)
    wait_for(qtbot, controller, recipe)


def readout_numbers(text):
    """The three groups of a readout: original, result and shown."""
    groups = re.search(r"original \((.*)\) → result \((.*)\) → shown \((.*)\)", text)
    return [np.array([float(v) for v in group.split(", ")]) for group in groups.groups()]


def test_the_readout_follows_a_new_rendering_for_the_pixel_under_the_pointer(qtbot, room):
    _inspector, controller, views, explainer, readouts = room
    blur = Recipe.single(np.ones((3, 3)), divisor=9)
    load(qtbot, controller, IMAGE, blur)
    views.hovered.emit("original", 5, 7)
    assert readouts[-1].startswith("x 7, y 5 · original (")
    original, result, shown = readout_numbers(readouts[-1])
    np.testing.assert_array_equal(original, IMAGE[5, 7])
    expected = (
        np.stack(
            [
                ndimage.correlate(IMAGE[..., c].astype(float), np.ones((3, 3)), mode="mirror")
                for c in range(3)
            ],
            axis=-1,
        )
        / 9
    )
    np.testing.assert_allclose(result, expected[5, 7], rtol=1e-5)
    np.testing.assert_array_equal(shown, to_display(expected, blur)[5, 7])

    sharpen = Recipe.single(PRESETS["sharpen"])
    before = len(readouts)
    controller.update(recipe=sharpen)
    wait_for(qtbot, controller, sharpen)
    qtbot.waitUntil(lambda: len(readouts) > before)
    _original, result, shown = readout_numbers(readouts[-1])  # no new hover needed
    expected = np.stack(
        [
            ndimage.correlate(IMAGE[..., c].astype(float), PRESETS["sharpen"], mode="mirror")
            for c in range(3)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(result, expected[5, 7], rtol=1e-5)
    np.testing.assert_array_equal(shown, to_display(expected, sharpen)[5, 7])
    # The explanation followed too.
    assert explainer.header.text().startswith("Pixel x 7, y 5, red")
    np.testing.assert_array_equal(table_numbers(explainer.weights), PRESETS["sharpen"])


def test_leaving_clears_the_readout_and_the_outline(qtbot, room):
    inspector, controller, views, _explainer, readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"]))
    views.hovered.emit("result", 3, 3)
    assert views.patch_outline.isVisible()
    views.left.emit()
    assert readouts[-1] == ""
    assert inspector.hovered is None
    assert not views.patch_outline.isVisible()


def test_grey_recipes_offer_only_grey(qtbot, room):
    _inspector, controller, _views, explainer, _readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["sharpen"], grey=True))
    combo = explainer.channel_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Grey"]
    with_alpha = np.dstack([IMAGE, np.full(IMAGE.shape[:2], 200, np.uint8)])
    load(qtbot, controller, with_alpha, Recipe.single(PRESETS["sharpen"], grey=True))
    assert [combo.itemText(i) for i in range(combo.count())] == ["Grey", "Alpha"]


def test_clicking_keeps_a_pixel_asks_for_the_panel_and_arrows_move_it(qtbot, room):
    inspector, controller, views, explainer, _readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"]))
    with qtbot.waitSignal(inspector.wantsPanel, timeout=1000):
        views.clicked.emit("original", 10, 12)
    assert inspector.chosen == (10, 12)
    views.hovered.emit("original", 2, 2)  # the kept pixel stays explained
    assert "x 12, y 10" in explainer.header.text()
    assert "kept" in explainer.header.text()
    views.stepped.emit(1, -1)
    assert inspector.chosen == (11, 11)
    np.testing.assert_array_equal(table_numbers(explainer.neighbourhood), IMAGE[10:13, 10:13, 0])
    for _ in range(40):
        views.stepped.emit(1, 1)
    assert inspector.chosen == (23, 31)  # stops at the image's corner
    with qtbot.assertNotEmitted(inspector.wantsPanel):
        views.clicked.emit("original", 23, 31)  # a second click lets it go
    assert inspector.chosen is None


def test_the_outline_is_the_whole_recipes_footprint(qtbot, room):
    inspector, controller, views, _explainer, _readouts = room
    recipe = Recipe(
        (Stage(np.ones((3, 3))), Stage(np.ones((5, 1))), Stage(np.ones((7, 7)), enabled=False))
    )
    assert footprint(recipe) == (7, 3)
    load(qtbot, controller, IMAGE, recipe)
    inspector.choose_pixel(10, 12)
    outline = views.patch_outline.rect()
    assert (outline.x(), outline.y(), outline.width(), outline.height()) == (11, 7, 3, 7)
    pixel = views.pixel_outline.rect()
    assert (pixel.x(), pixel.y(), pixel.width()) == (12, 10, 1)


def test_a_new_image_forgets_the_pixels(qtbot, room):
    inspector, controller, views, explainer, readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"]))
    inspector.choose_pixel(20, 30)
    views.hovered.emit("original", 20, 30)
    with qtbot.waitSignal(controller.imageLoaded, timeout=10_000):
        controller.load_pixels(np.zeros((10, 10), np.uint8), "tiny")
    assert inspector.chosen is None
    assert inspector.hovered is None
    assert readouts[-1] == ""
    assert explainer.note.text() == PROMPT
    assert not views.patch_outline.isVisible()
    views.hovered.emit("original", 20, 30)  # a stale position from the old image
    assert inspector.hovered is None


def test_valid_border_pixels_without_a_result_say_so(qtbot, room):
    inspector, controller, views, explainer, readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"], border="valid"))
    views.hovered.emit("original", 0, 0)
    assert "has no result" in explainer.note.text()
    assert readouts[-1].endswith("result — (outside the 'valid' area)")
    inspector.choose_pixel(1, 1)
    np.testing.assert_array_equal(table_numbers(explainer.neighbourhood), IMAGE[0:3, 0:3, 0])


def test_choosing_a_pixel_outside_the_image_keeps_the_choice(qtbot, room):
    inspector, controller, _views, explainer, _readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"]))
    inspector.choose_pixel(3, 4)
    inspector.choose_pixel(np.int64(3), np.int64(4))  # numbers from NumPy are fine
    assert inspector.chosen == (3, 4)
    for row, column in ((-1, 0), (24, 0), (0, 32), (1.5, 2), (True, 0), ("3", 4)):
        inspector.choose_pixel(row, column)
        assert inspector.chosen == (3, 4)
        assert "There is no pixel" in explainer.note.text()


def test_the_channel_chooser_re_explains(qtbot, room):
    inspector, controller, _views, explainer, _readouts = room
    load(qtbot, controller, IMAGE, Recipe.single(PRESETS["box-blur"]))
    inspector.choose_pixel(5, 5)
    explainer.channel_combo.setCurrentIndex(2)
    explainer.channel_combo.activated.emit(2)
    assert ", blue" in explainer.header.text()
    np.testing.assert_array_equal(table_numbers(explainer.neighbourhood), IMAGE[4:7, 4:7, 2])
