"""Side-by-side composition used by Export All Views."""

import numpy as np
import pytest

from kernelstudio.kernels import Kernel
from kernelstudio.montage import BACKGROUND, montage
from kernelstudio.pipeline import Stage


def test_panels_are_placed_left_to_right_and_centred():
    tall = np.full((6, 2, 3), 200, np.uint8)
    short_grey = np.full((2, 3), 90, np.uint8)
    canvas = montage([tall, short_grey], gap=1)
    assert canvas.shape == (8, 1 + 2 + 1 + 3 + 1, 3)
    np.testing.assert_array_equal(canvas[1:7, 1:3], tall)
    np.testing.assert_array_equal(canvas[3:5, 4:7], np.full((2, 3, 3), 90))
    assert (canvas[0] == BACKGROUND).all()
    assert (canvas[:, 3] == BACKGROUND).all()


@pytest.mark.parametrize(
    "panels",
    [[], [np.zeros((2, 2), np.float32)], [np.zeros((2, 2, 2), np.uint8)]],
)
def test_bad_panels_are_refused(panels):
    with pytest.raises(ValueError, match="panel"):
        montage(panels)


def test_transparent_panels_are_laid_over_the_background():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, :, :3] = 250
    rgba[0, :, 3] = [0, 255, 128]
    canvas = montage([rgba], gap=1)
    expected = [BACKGROUND, 250, round(250 * 128 / 255 + BACKGROUND * 127 / 255)]
    np.testing.assert_array_equal(canvas[1, 1:4, 0], expected)


def _photo(height, width, seed):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _ink_bands(region):
    """How many separate runs of rows hold text (pixels well above the background)."""
    inked = (region.max(axis=(1, 2)) > BACKGROUND + 60).astype(int)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], inked])) == 1))


def test_captions_add_one_line_above_every_panel_and_leave_the_panels_exact():
    panels = [_photo(30, 120, 1), np.full((30, 90), 77, np.uint8)]
    plain = montage(panels, gap=4)
    captioned = montage(panels, captions=["Original — coffee.png", "Result"], gap=4, text_size=14)
    room = captioned.shape[0] - plain.shape[0]
    assert room >= 14 + 4
    assert captioned.shape[1] == plain.shape[1]
    top = 4 + room
    np.testing.assert_array_equal(captioned[top : top + 30, 4:124], panels[0])
    np.testing.assert_array_equal(captioned[top : top + 30, 128:218], 77)
    for left, right in ((4, 124), (128, 218)):
        caption = captioned[4 : top - 4, left:right]
        assert (caption > BACKGROUND + 100).any(), "the caption's text is drawn"
        assert (plain[:4, left:right] == BACKGROUND).all()
    assert (captioned[:, 124:128] == BACKGROUND).all(), "no caption spills into the gap"


def test_different_captions_draw_different_text():
    panels = [_photo(20, 150, 2)]
    red = montage(panels, captions=["Red"], text_size=14)
    green = montage(panels, captions=["Green"], text_size=14)
    assert red.shape == green.shape
    assert not np.array_equal(red, green)


def test_a_caption_wider_than_its_panel_is_cut_short_inside_it():
    panels = [_photo(10, 40, 3), _photo(10, 40, 4)]
    canvas = montage(panels, captions=["A very long caption indeed", ""], gap=5, text_size=14)
    assert (canvas[:, 45:50] == BACKGROUND).all()
    assert (canvas[: 5 + 14, 50:90] == BACKGROUND).all(), "an empty caption draws nothing"


def test_the_text_grows_with_the_pictures_when_no_size_is_given():
    def caption_room(height):
        panel = np.zeros((height, 400), np.uint8)
        return montage([panel], captions=["Result"]).shape[0] - montage([panel]).shape[0]

    assert caption_room(1200) > caption_room(100)


def _kernel_region(canvas, panels, gap):
    left = gap + sum(panel.shape[1] + gap for panel in panels)
    return canvas[:, left:-gap]


def test_the_kernel_panel_lists_each_row_of_weights_and_the_divisor():
    panels = [_photo(200, 50, 5)]
    gaussian = Stage(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), divisor=16)
    canvas = montage(panels, kernel=gaussian, gap=4, text_size=14)
    plain = montage(panels, gap=4)
    assert canvas.shape[0] == plain.shape[0]
    assert canvas.shape[1] > plain.shape[1]
    np.testing.assert_array_equal(canvas[:, : plain.shape[1] - 4], plain[:, :-4])
    assert _ink_bands(_kernel_region(canvas, panels, 4)) == 3 + 1  # three rows, then ÷ 16


def test_bare_weights_show_their_rows_and_nothing_else():
    panels = [_photo(200, 50, 6)]
    canvas = montage(panels, kernel=np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), gap=4)
    assert _ink_bands(_kernel_region(canvas, panels, 4)) == 3


def test_a_wider_kernel_makes_a_wider_table():
    panels = [_photo(100, 50, 7)]
    narrow = montage(panels, kernel=np.ones((3, 3)), text_size=14)
    wide = montage(panels, kernel=np.ones((3, 7)), text_size=14)
    assert wide.shape[1] > narrow.shape[1]


def test_a_recipe_lists_every_stage_with_its_title_offset_and_state():
    panels = [_photo(300, 50, 8)]
    stages = [
        Stage(np.ones((3, 3)), divisor=9, name="box"),
        Stage(np.array([[1.0]]), offset=128, enabled=False),
    ]
    canvas = montage(panels, kernel=stages, captions=["Original"], gap=4, text_size=14)
    region = _kernel_region(canvas, panels, 4)
    captions = 1
    first = 1 + 3 + 1  # title, rows, ÷ 9
    second = 1 + 1 + 1  # title (off), the one row, + 128
    assert _ink_bands(region) == captions + first + second


def test_the_kernel_panel_gets_a_caption_when_the_panels_have_them():
    panels = [_photo(100, 50, 9)]
    kernel = Kernel("sharpen", np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float))
    with_caption = montage(panels, kernel=kernel, captions=["Result"], gap=4, text_size=14)
    without = montage(panels, kernel=kernel, gap=4, text_size=14)
    room = with_caption.shape[0] - without.shape[0]
    kernel_caption = _kernel_region(with_caption, panels, 4)[4 : 4 + room - 4]
    assert (kernel_caption > BACKGROUND + 100).any()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"captions": ["one", "two"]}, "one caption per panel"),
        ({"captions": "one"}, "one caption per panel"),
        ({"captions": [3]}, "caption is text"),
        ({"kernel": []}, "at least one kernel"),
        ({"kernel": np.ones((2, 2))}, "odd"),
        ({"kernel": [np.ones((3, 3)), "rows"]}, "'rows'"),
        ({"kernel": 5}, "got 5"),
        ({"kernel": "1 2 1"}, "got '1 2 1'"),
    ],
)
def test_bad_captions_and_kernels_are_refused(options, named):
    with pytest.raises(ValueError, match=named):
        montage([np.zeros((4, 4), np.uint8)], **options)
