"""The image area on its own: modes, fit, split, compare, channels, transparency, numbers."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton, QVBoxLayout, QWidget

from kernelstudio.app.image_views import INVITATION, ImageViews
from kernelstudio.compare import compare_results

SIZES = [(960, 700), (1600, 900)]
HEIGHT, WIDTH = 400, 600


def rgb_image():
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.dstack([columns % 256, rows % 256, (rows + columns) % 256]).astype(np.uint8)


def rgba_image(alpha=128):
    return np.dstack([rgb_image(), np.full((HEIGHT, WIDTH), alpha, np.uint8)])


def solid(colour, shape=(HEIGHT, WIDTH)):
    return np.broadcast_to(np.array(colour, np.uint8), (*shape, len(colour))).copy()


@pytest.fixture
def make_views(qtbot):
    hosts = []  # qtbot holds widgets weakly; the host must live as long as the test

    def build(size=(960, 700)):
        host = QWidget()
        hosts.append(host)
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        views = ImageViews(host)
        layout.addWidget(views)
        host.resize(*size)
        qtbot.addWidget(host)
        host.show()
        qtbot.waitExposed(host)
        return views

    return build


def settle(views):
    """Let the layout finish: a wrapped label may take more than one pass."""
    sizes = None
    for _ in range(20):
        QApplication.processEvents()
        now = [canvas(views, name).size() for name in views.views]
        if now == sizes:
            return
        sizes = now
    raise AssertionError("the layout never settled")


def canvas(views, panel):
    return views.views[panel].getViewWidget()


def on_screen(views, panel, x, y):
    """The viewport point showing image point (x, y) of view `panel`."""
    scene_point = views.views[panel].mapViewToScene(QPointF(x, y))
    return canvas(views, panel).mapFromScene(scene_point)


def coverage(views, panel, item_key):
    """Fractions of the viewport's width and height the image item covers."""
    item = views.items[item_key]
    graphics_view = canvas(views, panel)
    rect = graphics_view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    viewport = graphics_view.viewport().rect().intersected(rect)
    return (
        viewport.width() / graphics_view.viewport().width(),
        viewport.height() / graphics_view.viewport().height(),
    )


def shows_whole_image(views, panel, item_key, filled=0.95):
    view = views.views[panel]
    contains = view.viewRect().contains(QRectF(0, 0, WIDTH, HEIGHT))
    return contains and max(coverage(views, panel, item_key)) >= filled


def colour_at(views, panel, point):
    return QColor(canvas(views, panel).grab().toImage().pixel(point))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pixels", [rgb_image(), rgba_image()], ids=["rgb", "rgba"])
def test_side_by_side_fit_fills_each_view_keeping_the_aspect(make_views, qtbot, size, pixels):
    views = make_views(size)
    views.set_image("original", pixels)
    views.set_image("result", pixels)
    settle(views)
    # A margin of at most 1 % a side where the image meets its view's edges.
    assert shows_whole_image(views, "original", "original", filled=0.98)
    assert shows_whole_image(views, "result", "result", filled=0.98)
    for name in ("original", "result"):
        view = views.views[name]
        assert view.state["aspectLocked"]
        pixel_width, pixel_height = view.viewPixelSize()
        assert pixel_width == pytest.approx(pixel_height, rel=1e-6)
    # Both share the top row equally.
    assert canvas(views, "original").width() == pytest.approx(
        canvas(views, "result").width(), abs=2
    )


@pytest.mark.parametrize("size", SIZES)
def test_split_mode_shows_the_whole_image_in_one_large_view(make_views, qtbot, size):
    views = make_views(size)
    views.set_image("original", rgb_image())
    views.set_image("result", rgb_image())
    with qtbot.waitSignal(views.modeChanged) as signal:
        views.set_mode("split")
    assert signal.args == ["split"]
    assert views.mode == "split"
    assert canvas(views, "split").isVisible()
    assert not canvas(views, "original").isVisible()
    assert not canvas(views, "result").isVisible()
    settle(views)
    assert shows_whole_image(views, "split", "split_original", filled=0.98)
    assert views.split_position == WIDTH / 2
    assert canvas(views, "split").width() > 0.8 * views.width()


def test_dragging_the_split_divider_moves_where_the_result_begins(make_views, qtbot):
    views = make_views()
    views.set_image("original", solid((220, 0, 0)))
    views.set_image("result", solid((0, 0, 220)))
    views.set_mode("split")
    qtbot.waitUntil(lambda: shows_whole_image(views, "split", "split"))
    probe = on_screen(views, "split", WIDTH * 0.4, HEIGHT / 2)
    assert colour_at(views, "split", probe).red() > 200  # left of the middle: original

    viewport = canvas(views, "split").viewport()
    start = on_screen(views, "split", views.split_position, HEIGHT / 2)
    end = on_screen(views, "split", WIDTH * 0.25, HEIGHT / 2)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 11):
        QTest.mouseMove(viewport, start + (end - start) * (step / 10))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    qtbot.waitUntil(lambda: abs(views.split_position - WIDTH * 0.25) < 3)
    assert colour_at(views, "split", probe).blue() > 200  # now right of it: result
    left = on_screen(views, "split", WIDTH * 0.1, HEIGHT / 2)
    assert colour_at(views, "split", left).red() > 200


def test_split_position_stays_within_the_image(make_views):
    views = make_views()
    views.set_image("original", rgb_image())
    views.set_split_position(-50)
    assert views.split_position == 0
    views.set_split_position(10_000)
    assert views.split_position == WIDTH
    views.set_split_position(float("nan"))
    assert views.split_position == WIDTH / 2


@pytest.mark.parametrize("size", SIZES)
def test_compare_mode_shows_whole_pinned_result_and_difference(make_views, qtbot, size):
    views = make_views(size)
    current = rgb_image().astype(np.float32)
    pinned = current.copy()
    pinned[100:200, 300:350] += 12
    views.set_image("original", rgb_image())
    views.set_mode("compare")
    summary = views.findChild(type(views.summary), "compareSummary")
    assert summary.isVisible()
    assert summary.text() == INVITATION
    assert "Pin a result (Ctrl+P), then change the kernel" in summary.text()

    comparison = compare_results(current, pinned)
    views.show_comparison(np.clip(pinned, 0, 255).astype(np.uint8), comparison)
    settle(views)
    for name in ("pinned", "difference"):
        assert shows_whole_image(views, name, name, filled=0.98)
        assert canvas(views, name).width() > 0.4 * views.width()
    np.testing.assert_array_equal(views.items["difference"].image, comparison.difference8)
    changed = 100 * 50 * 3
    assert summary.text() == (
        f"{changed:,} values changed ({changed / current.size:.1%}); the largest change is 12."
    )
    views.clear_comparison()
    assert summary.text() == INVITATION
    assert views.items["pinned"].image is None


def test_compare_says_why_there_is_no_comparison(make_views):
    views = make_views()
    views.set_mode("compare")
    views.show_comparison(rgb_image(), "the pinned result is 2×2; pin again to compare")
    assert views.summary.text() == "The pinned result is 2×2; pin again to compare."
    assert views.items["difference"].image is None


def test_a_bad_mode_is_refused_and_the_mode_kept(make_views):
    views = make_views()
    views.set_mode("split")
    with pytest.raises(ValueError, match="'sideways'"):
        views.set_mode("sideways")
    assert views.mode == "split"


def test_grey_shows_one_channel_view(make_views, qtbot):
    views = make_views()
    views.set_image("original", rgb_image())
    channels = tuple(np.ascontiguousarray(rgb_image()[..., index]) for index in range(3))
    views.set_channels(channels, ("Red", "Green", "Blue"))
    assert [canvas(views, name).isVisible() for name in ("red", "green", "blue", "grey")] == [
        True,
        True,
        True,
        False,
    ]
    grey = channels[1]
    views.set_channels((grey,), ("Grey (original)",))
    visible = [
        name for name in ("red", "green", "blue", "grey") if canvas(views, name).isVisible()
    ]
    assert visible == ["grey"]
    assert views.title("grey") == "Grey (original)"
    assert views.shown("red") is None
    qtbot.waitUntil(lambda: shows_whole_image(views, "grey", "grey"))
    with pytest.raises(ValueError, match="1 or 3 images"):
        views.set_channels(channels[:2], ("a", "b"))
    assert views.shown("grey") is grey


def test_re_sending_the_same_channels_costs_nothing(make_views, monkeypatch):
    views = make_views()
    views.set_image("original", rgb_image())
    channels = tuple(np.ascontiguousarray(rgb_image()[..., index]) for index in range(3))
    views.set_channels(channels, ("R", "G", "B"))
    calls = []
    for name in ("red", "green", "blue"):
        monkeypatch.setattr(views.items[name], "setImage", lambda *a, **k: calls.append(a))
    views.set_channels(channels, ("R", "G", "B"))
    assert calls == []
    views.set_channels(tuple(channel.copy() for channel in channels), ("R", "G", "B"))
    assert len(calls) == 3


@pytest.mark.parametrize("size", SIZES)
def test_collapsing_the_channels_gives_the_top_views_the_height(make_views, qtbot, size):
    views = make_views(size)
    views.set_image("original", rgb_image())
    toggle = views.findChild(QToolButton, "channelsToggle")
    assert toggle.isCheckable()
    assert toggle.text() == "▾ Channels"
    assert toggle.accessibleName()
    assert toggle.toolTip()
    strip_height = canvas(views, "red").height()
    top_height = canvas(views, "original").height()
    # The strip is about a third of the views' height.
    assert 0.25 < strip_height / (strip_height + top_height) < 0.4
    with qtbot.waitSignal(views.channelsVisibleChanged) as signal:
        qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert signal.args == [False]
    assert not views.channels_visible
    assert toggle.text() == "▸ Channels"
    qtbot.waitUntil(lambda: canvas(views, "original").height() > top_height + 0.8 * strip_height)
    assert not canvas(views, "red").isVisible()
    qtbot.waitUntil(lambda: shows_whole_image(views, "original", "original"))
    with qtbot.waitSignal(views.channelsVisibleChanged) as signal:
        views.set_channels_visible(True)
    assert signal.args == [True]
    assert toggle.isChecked()


def test_checkerboard_only_under_transparent_images(make_views, qtbot):
    views = make_views()
    views.set_image("original", rgb_image())
    views.set_image("result", np.zeros((HEIGHT, WIDTH, 4), np.uint8))  # fully transparent
    qtbot.waitUntil(lambda: shows_whole_image(views, "result", "result"))
    assert not views.checkerboards["original"].isVisible()
    assert views.checkerboards["result"].isVisible()
    assert views.checkerboards["result"].rect() == QRectF(0, 0, WIDTH, HEIGHT)
    # What a person sees through the transparent result: light and dark grey squares.
    image = canvas(views, "result").grab().toImage()
    centre = on_screen(views, "result", WIDTH / 2, HEIGHT / 2)
    greys = {QColor(image.pixel(centre + QPoint(dx, 0))).name() for dx in range(0, 32, 4)}
    assert greys == {"#cccccc", "#999999"}
    views.set_image("result", rgba_image(alpha=255))  # RGBA but opaque
    assert not views.checkerboards["result"].isVisible()
    views.set_image("original", rgba_image(alpha=10))
    assert views.checkerboards["original"].isVisible()
    views.set_mode("split")
    assert views.checkerboards["split_original"].isVisible()
    assert not views.checkerboards["split"].isVisible()


def zoom_to(views, panel, pixels_per_pixel, left=100.0, top=50.0):
    viewport = canvas(views, panel).viewport()
    views.show_region(
        QRectF(
            left, top, viewport.width() / pixels_per_pixel, viewport.height() / pixels_per_pixel
        )
    )


def visible_pixels(views, panel):
    seen = views.views[panel].viewRect()
    rows = range(max(int(np.floor(seen.top())), 0), min(int(np.ceil(seen.bottom())), HEIGHT))
    columns = range(max(int(np.floor(seen.left())), 0), min(int(np.ceil(seen.right())), WIDTH))
    return [(row, column) for row in rows for column in columns]


def test_magnified_pixels_print_their_values(make_views, qtbot):
    views = make_views()
    original = rgb_image()
    values = np.random.default_rng(1).normal(scale=100, size=(HEIGHT, WIDTH)).astype(np.float32)
    views.set_image("original", original)
    views.set_image("result", np.clip(values, 0, 255).astype(np.uint8))
    views.set_values("original", original)
    views.set_values("result", values)

    zoom_to(views, "original", 30)
    assert 1 / views.views["original"].viewPixelSize()[0] == pytest.approx(30, rel=0.01)
    expected = {
        (row, col): str(original[row, col, 0]) for row, col in visible_pixels(views, "original")
    }
    assert expected
    assert views.numbers("original") == expected
    expected = {
        (row, col): f"{values[row, col]:.4g}" for row, col in visible_pixels(views, "result")
    }
    assert views.numbers("result") == expected

    zoom_to(views, "original", 60)  # room for every channel: one line each
    pixels = visible_pixels(views, "original")
    row, column = pixels[0]
    assert views.numbers("original")[(row, column)] == "\n".join(
        str(channel) for channel in original[row, column]
    )
    assert len(views.numbers("original")) == len(pixels)

    zoom_to(views, "original", 10)
    assert views.numbers("original") == {}
    assert views.numbers("result") == {}


def test_magnified_numbers_follow_the_split(make_views):
    views = make_views()
    original = solid((250, 250, 250))  # light: black text
    result = solid((3, 3, 3))
    views.set_image("original", original)
    views.set_image("result", result)
    views.set_mode("split")
    views.set_split_position(110)
    zoom_to(views, "split", 30, left=100)
    numbers = views.numbers("split")
    assert numbers
    for (_row, column), text in numbers.items():
        assert text == ("250" if column < 110 else "3")
    assert views.numbers("original") == {}  # hidden in this mode
    # Black text on the light original (250), white on the dark result (3).
    assert min(greys_around(views, "split", 105, 55)) < 80
    assert max(greys_around(views, "split", 115, 55)) > 200


def greys_around(views, panel, column, row):
    """The brightness of the screen pixels around the centre of an image pixel."""
    image = canvas(views, panel).grab().toImage()
    centre = on_screen(views, panel, column + 0.5, row + 0.5)
    return [
        QColor(image.pixel(centre + QPoint(dx, dy))).value()
        for dx in range(-10, 11)
        for dy in range(-6, 7)
    ]


def test_numbers_over_transparency_are_black_on_the_light_checkerboard(make_views):
    views = make_views()
    views.set_image("original", np.zeros((HEIGHT, WIDTH, 4), np.uint8))  # black, but clear
    zoom_to(views, "original", 30)
    assert set(views.numbers("original").values()) == {"0"}
    values = greys_around(views, "original", 100, 50)
    assert min(values) < 80  # black digits
    assert max(values) < 210  # and no white ones, over squares of 153 and 204


def test_hovering_and_clicking_give_the_image_pixel(make_views, qtbot):
    views = make_views()
    views.set_image("original", rgb_image())
    views.set_image("result", rgb_image())
    qtbot.waitUntil(lambda: shows_whole_image(views, "result", "result"))
    # Zoomed in, so that the whole screen pixel under the pointer is in one image pixel.
    zoom_to(views, "result", 10, left=100, top=30)
    viewport = canvas(views, "result").viewport()
    point = on_screen(views, "result", 123.5, 45.5)
    with qtbot.waitSignal(views.hovered) as signal:
        QTest.mouseMove(viewport, point)
    assert signal.args == ["result", 45, 123]
    with qtbot.waitSignal(views.clicked) as signal:
        QTest.mouseClick(
            viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
        )
    assert signal.args == ["result", 45, 123]

    views.set_mode("compare")
    views.show_comparison(rgb_image(), "nothing pinned")
    settle(views)
    zoom_to(views, "pinned", 10, left=0, top=290)
    point = on_screen(views, "pinned", 10.5, 300.5)
    with qtbot.waitSignal(views.hovered) as signal:
        QTest.mouseMove(canvas(views, "pinned").viewport(), point)
    assert signal.args == ["pinned", 300, 10]


def test_views_stay_linked_in_every_mode(make_views, qtbot):
    views = make_views()
    views.set_image("original", rgb_image())
    views.set_image("result", rgb_image())
    region = QRectF(50, 60, 120, 80)
    views.show_region(region)
    for mode, panels in (("side", ("original", "result")), ("split", ("split",))):
        views.set_mode(mode)
        for name in (*panels, "red"):
            qtbot.waitUntil(lambda name=name: views.views[name].viewRect().contains(region))
            assert views.views[name].viewRect().center().x() == pytest.approx(region.center().x())


def test_long_titles_elide_with_the_whole_text_in_a_tooltip(make_views):
    views = make_views()
    long_title = "Original — " + "a_very_long_file_name_" * 10 + ".png"
    views.set_title("original", long_title)
    label = views.findChild(QWidget, "title_original")
    assert label.text() != long_title
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.toolTip() == long_title
    assert views.title("original") == long_title
    views.set_title("original", "Original")
    assert label.text() == "Original"
    assert label.toolTip() == ""


def test_bad_images_are_refused_and_the_previous_one_kept(make_views):
    views = make_views()
    pixels = rgb_image()
    views.set_image("original", pixels)
    for bad in (
        pixels.astype(np.float32),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((0, 3), np.uint8),
    ):
        with pytest.raises(ValueError, match="uint8"):
            views.set_image("original", bad)
        assert views.shown("original") is pixels
    with pytest.raises(ValueError, match="'nowhere'"):
        views.set_image("nowhere", pixels)
    views.show_region(QRectF(0, 0, float("nan"), 5))
    assert views.region.width() > 0


def test_the_split_view_reports_its_pixels_and_arrow_keys_step(make_views, qtbot):
    views = make_views()
    views.set_image("original", rgb_image())
    views.set_image("result", rgb_image())
    views.set_mode("split")
    settle(views)
    zoom_to(views, "split", 10, left=280, top=100)
    viewport = canvas(views, "split").viewport()
    with qtbot.waitSignal(views.hovered) as signal:
        QTest.mouseMove(viewport, on_screen(views, "split", 310.5, 120.5))
    assert signal.args == ["split", 120, 310]
    with qtbot.waitSignal(views.stepped) as signal:
        QTest.keyClick(canvas(views, "split"), Qt.Key.Key_Left)
    assert signal.args == [0, -1]


def test_numbers_are_centred_on_their_pixel(make_views):
    views = make_views()
    views.set_image("original", solid((250, 250, 250)))
    zoom_to(views, "original", 50)
    image = canvas(views, "original").grab().toImage()
    centre = on_screen(views, "original", 105.5, 55.5)
    ink = [
        (dx, dy)
        for dx in range(-25, 25)
        for dy in range(-25, 25)
        if QColor(image.pixel(centre + QPoint(dx, dy))).value() < 100
    ]
    across = [dx for dx, _ in ink]
    down = [dy for _, dy in ink]
    assert abs(min(across) + max(across)) <= 3
    assert abs(min(down) + max(down)) <= 4


def test_a_large_image_is_handed_to_qt_as_the_pixels_each_view_samples(make_views, qtbot):
    # 6 MP: converting all of it on every change would hold the GUI thread.
    large = np.random.default_rng(4).integers(0, 256, (2000, 3000, 3), dtype=np.uint8)
    views = make_views()
    views.set_image("original", large)
    views.set_image("result", large)
    settle(views)
    item = views.items["result"]
    given = item.image
    size = views.views["result"].size()
    assert given.shape[0] <= 1.3 * size.height() + 2
    assert given.shape[1] <= 1.3 * size.width() + 2
    rect = item.mapRectToParent(item.boundingRect())
    step = round(rect.width() / given.shape[1])
    assert step > 1
    rows = np.minimum(np.arange(given.shape[0]) * step + step // 2, 1999)
    columns = np.minimum(np.arange(given.shape[1]) * step + step // 2, 2999)
    np.testing.assert_array_equal(given, large[np.ix_(rows, columns)])
    # Zoomed in on a corner: every pixel there, and only there.
    views.show_region(QRectF(2500, 1700, 100, 80))
    settle(views)
    given = views.items["result"].image
    rect = item.mapRectToParent(item.boundingRect())
    top, left = round(rect.top()), round(rect.left())
    assert rect.width() == given.shape[1]  # one pixel per image pixel
    assert given.shape[0] < 200
    np.testing.assert_array_equal(
        given, large[top : top + given.shape[0], left:][:, : given.shape[1]]
    )
    assert views.shown("result") is large  # what the views show is still the whole array
