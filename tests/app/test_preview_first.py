"""Preview first: the pixels on screen of an edit come before its whole result, exact."""

import numpy as np
import pytest

from kernelstudio.app import controller as controller_module
from kernelstudio.app.main_window import PREVIEW_TITLE
from kernelstudio.convolution import BORDERS
from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.preview import sample_grid
from tests.app.test_controller import WAIT_MS, Spy

EDGE = PRESETS["vertical-edge"]
SHARPEN = PRESETS["sharpen"]


@pytest.fixture
def small_previews(monkeypatch):
    """Previews from 40 000 pixels on, so that test images stay small and quick."""
    monkeypatch.setattr(controller_module, "PREVIEW_MIN_PIXELS", 40_000)


def photo(shape=(300, 400, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def load(qtbot, controller, pixels, viewport):
    controller.set_viewport(*viewport)
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(pixels, "photo")
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)


def edit(qtbot, controller, **changes):
    """Make one edit; return its previews and its whole result, in the order they came."""
    came = []
    controller.previewReady.connect(came.append)
    controller.renderingReady.connect(came.append)
    try:
        controller.update(**changes)
        qtbot.waitUntil(lambda: controller.is_idle and bool(came), timeout=WAIT_MS)
    finally:
        controller.previewReady.disconnect(came.append)
        controller.renderingReady.disconnect(came.append)
    return came


def expected_at(rendering, preview):
    """The whole result's picture at the preview's samples."""
    top, left = rendering.offset
    height, width = preview.pixels8.shape[:2]
    rows = preview.offset[0] - top + preview.step * np.arange(height) + preview.step // 2
    columns = preview.offset[1] - left + preview.step * np.arange(width) + preview.step // 2
    result8 = rendering.result8
    rows = np.minimum(rows, result8.shape[0] - 1)
    columns = np.minimum(columns, result8.shape[1] - 1)
    return result8[np.ix_(rows, columns)]


ZOOMED_OUT = ((0, 0, 300, 400), (60, 80))  # 5 image pixels per screen pixel
ZOOMED_IN = ((100.5, 150.2, 140, 200), (160, 200))  # 4 screen pixels per image pixel


@pytest.mark.usefixtures("small_previews")
@pytest.mark.parametrize("viewport", [ZOOMED_OUT, ZOOMED_IN], ids=["zoomed-out", "zoomed-in"])
@pytest.mark.parametrize("border", BORDERS)
def test_the_preview_comes_first_and_is_the_whole_results_pixels(
    qtbot, controller, viewport, border
):
    load(qtbot, controller, photo(), viewport)
    stack = Recipe((Stage(EDGE), Stage(SHARPEN)), border=border, between_stages="round")
    for changes in ({"weights": EDGE, "border": border}, {"recipe": stack}):
        came = edit(qtbot, controller, **changes)
        if "recipe" in changes and viewport is ZOOMED_OUT:
            # Stacked stages far apart need every earlier stage at each sample's
            # neighbourhood: dearer than a sixteenth of the whole, which comes first.
            assert [getattr(item, "whole", None) for item in came] == [True, None]
            continue
        preview, whole, rendering = came
        assert not preview.whole
        assert whole.whole
        assert rendering is controller.rendering
        assert preview.recipe == rendering.recipe == controller.recipe
        assert preview.step == (5 if viewport is ZOOMED_OUT else 1)
        np.testing.assert_array_equal(preview.pixels8, expected_at(rendering, preview))
        np.testing.assert_array_equal(whole.pixels8, rendering.result8)


@pytest.mark.usefixtures("small_previews")
def test_a_grey_recipe_with_channel_views_of_the_result_previews_them_too(qtbot, controller):
    load(qtbot, controller, photo(), ZOOMED_OUT)
    preview, _whole, rendering = edit(
        qtbot, controller, weights=SHARPEN, channels_of_result=True, channels="rb"
    )
    assert len(preview.channels8) == 3
    for channel, expected in zip(preview.channels8, rendering.channels8, strict=True):
        sampled = expected[2::5, 2::5]  # every 5th pixel from the 3rd
        np.testing.assert_array_equal(channel, sampled[: channel.shape[0], : channel.shape[1]])


def test_small_images_and_whole_range_displays_come_whole(qtbot, controller, monkeypatch):
    # Below the size (and for the stretching displays) the whole result is
    # quicker than a preview and then the whole result: previewReady says so.
    load(qtbot, controller, photo((120, 160)), ZOOMED_OUT)
    came = edit(qtbot, controller, weights=EDGE)
    assert [getattr(item, "whole", None) for item in came] == [True, None]
    monkeypatch.setattr(controller_module, "PREVIEW_MIN_PIXELS", 100)
    came = edit(qtbot, controller, display="normalize")
    assert [getattr(item, "whole", None) for item in came] == [True, None]


@pytest.mark.usefixtures("small_previews")
def test_a_newer_edit_wins_and_stops_the_older_whole_result(qtbot, controller, monkeypatch):
    load(qtbot, controller, photo(), ZOOMED_OUT)
    render = Spy(controller_module._render)
    render.gate.clear()
    monkeypatch.setattr(controller_module, "_render", render)
    shown = []
    controller.previewReady.connect(
        lambda preview: shown.append((preview.recipe == controller.recipe, preview))
    )
    wholes = []
    controller.renderingReady.connect(wholes.append)
    controller.update(weights=EDGE)
    qtbot.waitUntil(lambda: len(render.calls) == 1, timeout=WAIT_MS)  # preview shown first
    cancel = render.calls[0][4]
    assert not cancel.is_set()
    for weights in (SHARPEN, np.ones((3, 3)) / 9, EDGE.T):
        controller.update(weights=weights)
    assert cancel.is_set()  # the edge result is no longer wanted
    render.gate.set()
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
    assert all(current for current, _preview in shown)  # never an older edit's pixels
    assert shown[-1][1].recipe.stages[0] == Stage(EDGE.T)
    assert [rendering.recipe.stages[0] for rendering in wholes] == [Stage(EDGE.T)]


@pytest.mark.usefixtures("small_previews")
def test_moving_the_view_while_the_whole_result_is_on_its_way_fills_it_in(
    qtbot, controller, monkeypatch
):
    load(qtbot, controller, photo(), ZOOMED_OUT)
    render = Spy(controller_module._render)
    render.gate.clear()
    monkeypatch.setattr(controller_module, "_render", render)
    previews = []
    controller.previewReady.connect(previews.append)
    controller.update(weights=EDGE)
    qtbot.waitUntil(lambda: len(previews) == 1, timeout=WAIT_MS)
    assert controller.whole_pending
    assert not controller.preview_pending
    controller.set_viewport((200, 300, 220, 330), (80, 120))  # zoomed in on a corner
    qtbot.waitUntil(lambda: len(previews) == 2, timeout=WAIT_MS)
    render.gate.set()
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
    panned = previews[1]
    assert (panned.step, panned.offset) == (1, (200, 300))
    np.testing.assert_array_equal(panned.pixels8, expected_at(controller.rendering, panned))
    assert not controller.whole_pending
    count = len(previews)
    controller.set_viewport((0, 0, 50, 50), (80, 120))  # the whole result is here: no work
    assert controller.is_idle
    assert len(previews) == count


def test_a_real_size_photo_previews_what_the_screen_shows(qtbot, controller):
    # 4.2 MP grey, fitted into 350 × 480 screen pixels: every 5th pixel.
    pixels = photo((1750, 2400), seed=3)
    viewport = ((0, 0, 1750, 2400), (350, 480))
    load(qtbot, controller, pixels, viewport)
    preview, whole, rendering = edit(qtbot, controller, weights=SHARPEN)
    assert not preview.whole
    grid = sample_grid((1750, 2400), *viewport)
    assert preview.pixels8.shape == grid.shape
    assert preview.step == grid.step == 5
    np.testing.assert_array_equal(preview.pixels8, expected_at(rendering, preview))
    assert whole.whole


@pytest.mark.usefixtures("small_previews")
def test_the_window_shows_the_preview_then_the_whole_result(qtbot, make_window, monkeypatch):
    window = make_window()
    views = window.views
    # Larger than the window, so that fitted it is sampled.
    window.controller.load_pixels(photo((2400, 3200, 3)), "photo")
    qtbot.waitUntil(lambda: window.controller.image is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=WAIT_MS)
    views.fit()
    assert views.viewport() is not None
    controller = window.controller
    render = Spy(controller_module._render)
    render.gate.clear()
    monkeypatch.setattr(controller_module, "_render", render)
    try:
        with qtbot.waitSignal(controller.previewReady, timeout=WAIT_MS) as shown:
            window.choose_preset("vertical-edge")
        preview = shown.args[0]
        assert not preview.whole
        assert preview.step > 1  # fitted into the window: zoomed out
        assert views.shown("result") is preview.pixels8
        assert views.title("result") == PREVIEW_TITLE
        item = views.items["result"]
        rect = item.mapRectToParent(item.boundingRect())
        assert rect.width() == pytest.approx(preview.pixels8.shape[1] * preview.step)
        assert "whole result on its way" in window.timing_label.text()
    finally:
        render.gate.set()
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
    assert views.shown("result") is controller.rendering.result8
    assert views.title("result") == "Result"
