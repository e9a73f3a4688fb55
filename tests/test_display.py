"""Display mapping from float results to 8-bit pixels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernelstudio.display import DISPLAY_MODES, to_uint8, white_level


def reference(values, mode, white=255.0):
    """A plain float64 restatement of the mappings."""
    data = np.asarray(values, dtype=np.float64)
    if mode == "signed":
        finite = data[np.isfinite(data)]
        magnitude = np.abs(finite).max() if finite.size else 0.0
        if magnitude == 0:
            return np.full(data.shape, 128.0)
        scaled = (data / magnitude + 1) * 127.5
    elif mode == "normalize":
        finite = data[np.isfinite(data)]
        low, high = finite.min(), finite.max()
        scaled = (data - low) / (high - low) * 255
    elif mode == "wrap":  # a C cast of the rounded value to the image's integer type
        with np.errstate(invalid="ignore"):
            scaled = np.nan_to_num(np.mod(np.floor(data + 0.5), white + 1)) * 255 / white
    else:
        scaled = (np.abs(data) if mode == "abs" else data) * 255 / white
    return np.clip(np.rint(scaled), 0, 255)


@pytest.mark.parametrize("mode", DISPLAY_MODES)
def test_modes_match_the_reference(mode):
    values = np.random.default_rng(3).normal(scale=300, size=(40, 30, 3)).astype(np.float32)
    result = to_uint8(values, mode)
    assert result.dtype == np.uint8
    assert result.shape == values.shape
    assert np.abs(result.astype(int) - reference(values, mode)).max() <= 1


@pytest.mark.parametrize("mode", DISPLAY_MODES)
def test_modes_match_the_reference_in_many_bands_on_the_threads(monkeypatch, mode):
    from kernelstudio import bands

    monkeypatch.setattr(bands, "BAND_BYTES", 512)
    monkeypatch.setattr(bands, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(bands, "worker_count", lambda: 2)
    values = np.random.default_rng(4).normal(scale=300, size=(97, 61, 3)).astype(np.float32)
    result = to_uint8(values, mode)
    assert np.abs(result.astype(int) - reference(values, mode)).max() <= 1


def test_clip_saturates_and_abs_mirrors_negative_values():
    values = np.array([-300.0, -50.0, 0.0, 50.0, 300.0])
    np.testing.assert_array_equal(to_uint8(values, "clip"), [0, 0, 0, 50, 255])
    np.testing.assert_array_equal(to_uint8(values, "abs"), [255, 50, 0, 50, 255])


def test_normalize_stretches_to_full_range():
    result = to_uint8(np.array([[10.0, 20.0], [30.0, 50.0]]), "normalize")
    np.testing.assert_array_equal(result, [[0, 64], [128, 255]])


def test_white_level_scales_sixteen_bit_and_float_sources():
    np.testing.assert_array_equal(to_uint8([65535.0, 32768.0], white=65535.0), [255, 128])
    np.testing.assert_array_equal(to_uint8([1.0, 0.5, -0.5], "abs", white=1.0), [255, 128, 128])
    assert white_level(np.uint8) == 255
    assert white_level(np.uint16) == 65535
    assert white_level(np.float64) == 1.0
    assert white_level(bool) == 1.0


def test_flat_result_normalizes_to_black():
    np.testing.assert_array_equal(to_uint8(np.full((2, 2), 7.0), "normalize"), np.zeros((2, 2)))


@pytest.mark.parametrize("mode", DISPLAY_MODES)
def test_nan_and_infinities_never_reach_the_view(mode):
    values = np.array([np.nan, np.inf, -np.inf, 3.0, 100.0], dtype=np.float32)
    result = to_uint8(values, mode)
    assert result[0] == 0
    # wrap: a C cast of infinity has no value; it shows as 0, as NaN does
    assert result[1] == (0 if mode == "wrap" else 255)
    assert result[2] == (255 if mode == "abs" else 0)


@settings(max_examples=150, deadline=None)
@given(
    values=hnp.arrays(
        np.float32,
        st.integers(1, 50),
        elements=st.floats(width=32, allow_nan=True, allow_infinity=True),
    ),
    mode=st.sampled_from(DISPLAY_MODES),
)
def test_any_float32_values_map_to_valid_pixels(values, mode):
    result = to_uint8(values, mode)
    assert result.dtype == np.uint8
    assert result.shape == values.shape
    finite = values[np.isfinite(values)]
    if mode == "normalize" and finite.size and finite.max() > finite.min():
        assert result[values == finite.max()].min() == 255
        assert result[values == finite.min()].max() == 0


@pytest.mark.parametrize(("mode", "white"), [("gamma", 255.0), ("clip", 0.0), ("clip", np.nan)])
def test_bad_arguments_are_refused(mode, white):
    with pytest.raises(ValueError, match="must be"):
        to_uint8([1.0], mode, white=white)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.float64, bool])
@pytest.mark.parametrize("mode", DISPLAY_MODES)
def test_integer_and_float64_inputs_map_like_their_float32_values(dtype, mode):
    values = np.random.default_rng(8).integers(-128, 256, size=(33, 17))
    typed = values.astype(dtype)
    result = to_uint8(typed, mode)
    assert result.dtype == np.uint8
    assert np.abs(result.astype(int) - reference(typed.astype(np.float64), mode)).max() <= 1


def test_signed_shows_zero_as_mid_grey_and_the_largest_magnitude_as_black_or_white():
    pixels = to_uint8(np.array([-6.0, -3.0, 0.0, 1.5, np.inf, np.nan]), "signed")
    assert pixels.tolist() == [0, 64, 128, 159, 255, 0]
    assert to_uint8(np.zeros((2, 2)), "signed").tolist() == [[128, 128], [128, 128]]
