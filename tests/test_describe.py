"""Image sizes in a person's words: width first, the kind of colour, the depth."""

import numpy as np
import pytest

from kernelstudio.describe import describe_image, describe_size


@pytest.mark.parametrize(
    ("shape", "dtype", "expected"),
    [
        ((400, 600, 3), np.uint8, "600 × 400 px, RGB, 8-bit"),
        ((400, 600), np.uint8, "600 × 400 px, Grey, 8-bit"),
        ((400, 600, 1), np.uint16, "600 × 400 px, Grey, 16-bit"),
        ((1, 2, 2), np.uint16, "2 × 1 px, Grey + alpha, 16-bit"),
        ((4000, 6000, 4), np.float32, "6000 × 4000 px, RGBA, 32-bit float"),
        ((3, 5), np.float64, "5 × 3 px, Grey, 64-bit float"),
        ((3, 5), np.int16, "5 × 3 px, Grey, 16-bit signed"),
        ((3, 5), "uint8", "5 × 3 px, Grey, 8-bit"),
    ],
)
def test_sizes_read_width_first_with_kind_and_depth(shape, dtype, expected):
    assert describe_size(shape, dtype) == expected


def test_an_image_is_described_by_its_own_shape_and_dtype():
    pixels = np.zeros((400, 600, 3), np.uint8)
    assert describe_image(pixels) == "600 × 400 px, RGB, 8-bit"


@pytest.mark.parametrize(
    ("shape", "dtype", "named"),
    [
        ((5,), np.uint8, "(5,)"),
        ((2, 2, 5), np.uint8, "(2, 2, 5)"),
        ((2, 2, 3, 1), np.uint8, "(2, 2, 3, 1)"),
        ((-1, 2), np.uint8, "(-1, 2)"),
        ("wide", np.uint8, "'wide'"),
        ((2, 2), np.bool_, "bool"),
        ((2, 2), np.complex64, "complex64"),
        ((2, 2), "not-a-type", "not-a-type"),
    ],
)
def test_what_is_not_an_image_is_refused_by_name(shape, dtype, named):
    with pytest.raises(ValueError, match="image") as raised:
        describe_size(shape, dtype)
    assert named in str(raised.value)
