"""Greyscale conversion against OpenCV's BGR2GRAY, the tutorial's conversion."""

import cv2
import numpy as np
import pytest

from kernelstudio.colour import to_grey


def test_matches_opencv_on_uint8():
    rgb = np.random.default_rng(5).integers(0, 256, size=(37, 41, 3)).astype(np.uint8)
    expected = cv2.cvtColor(np.ascontiguousarray(rgb[..., ::-1]), cv2.COLOR_BGR2GRAY)
    grey = to_grey(rgb)
    assert grey.dtype == np.uint8
    assert np.abs(grey.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_matches_opencv_on_other_depths(dtype):
    rgb = (np.random.default_rng(6).random((9, 8, 3)) * 1000).astype(dtype)
    expected = cv2.cvtColor(np.ascontiguousarray(rgb[..., ::-1]), cv2.COLOR_BGR2GRAY)
    grey = to_grey(rgb)
    assert grey.dtype == dtype
    np.testing.assert_allclose(grey, expected, atol=1)


def test_grey_input_is_returned_unchanged():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_grey(grey) is grey


@pytest.mark.parametrize("shape", [(4, 4, 4), (4, 4, 1), (4,)])
def test_other_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="H×W or H×W×3"):
        to_grey(np.zeros(shape))
