"""check_result_fits refuses exactly the kernels whose results leave float32."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernelstudio.convolution import convolve
from kernelstudio.kernels import check_result_fits

FLOAT32_MAX = float(np.finfo(np.float32).max)


def overflows_float32(value):
    """The oracle: does NumPy itself round `value` to infinity in float32?"""
    with np.errstate(over="ignore"):
        return not np.isfinite(np.float32(value))


@pytest.mark.parametrize(
    ("weights", "largest_pixel"),
    [
        ([[1e38, 1e38, 1e38]], 255.0),
        ([[-2e36, 0, 2e36]], 65535.0),
        ([[FLOAT32_MAX]], 1.0000001),
        ([[1.0]], 1e39),
    ],
    ids=["issue-example", "negative-weights", "just-over", "huge-float-pixel"],
)
def test_refuses_results_beyond_float32_with_one_sentence(weights, largest_pixel):
    with pytest.raises(ValueError, match=r"^the result would overflow: .*3\.4e38$") as caught:
        check_result_fits(weights, largest_pixel)
    assert "\n" not in str(caught.value)


def test_names_the_sum_and_the_pixel_values():
    with pytest.raises(ValueError, match="overflow") as caught:
        check_result_fits([[1e38, 1e38, 1e38]], 255)
    assert "3e+38" in str(caught.value)
    assert "up to 255 " in str(caught.value)


@pytest.mark.parametrize(
    ("weights", "largest_pixel"),
    [([[1, 2, 1]], 65535.0), ([[1e38, 1e38, 1e38]], 1.0), ([[FLOAT32_MAX]], 1.0), ([[5]], 0.0)],
)
def test_accepts_results_within_float32(weights, largest_pixel):
    check_result_fits(weights, largest_pixel)


@pytest.mark.parametrize("largest_pixel", [float("inf"), float("nan")])
def test_refuses_a_largest_pixel_that_is_not_finite(largest_pixel):
    with pytest.raises(ValueError, match="finite"):
        check_result_fits([[1.0]], largest_pixel)


@given(
    magnitude=st.floats(1e30, 1e39, allow_nan=False),
    largest_pixel=st.floats(1.0, 70000.0),
)
def test_refuses_exactly_when_float32_overflows(magnitude, largest_pixel):
    weights = [[magnitude / 2, 0.0, -magnitude / 2]]
    bound = float(np.abs(np.asarray(weights)).sum()) * largest_pixel
    if overflows_float32(bound):
        with pytest.raises(ValueError, match="overflow"):
            check_result_fits(weights, largest_pixel)
    else:
        check_result_fits(weights, largest_pixel)


def test_an_accepted_kernel_at_the_limit_gives_finite_results():
    white = np.full((9, 9), 255, dtype=np.uint8)
    weights = np.full((3, 3), FLOAT32_MAX * 0.999 / 9 / 255)
    check_result_fits(weights, 255.0)
    with np.errstate(all="raise"):
        result = convolve(white, weights)
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, FLOAT32_MAX * 0.999, rtol=1e-5)
