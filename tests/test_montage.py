"""Side-by-side composition used by Export All Views."""

import numpy as np
import pytest

from kernelstudio.montage import BACKGROUND, montage


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
