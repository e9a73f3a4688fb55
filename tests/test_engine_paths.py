"""The engine's Fourier tiles and per-band exact fallback against scipy.ndimage."""

import numpy as np
import pytest
from scipy import ndimage

from kernelstudio import bands, convolution
from kernelstudio.convolution import BORDERS, convolve

DTYPES = [np.uint8, np.uint16, np.float32, np.float64]


def scipy_oracle(image, weights, border):
    """scipy.ndimage per channel, in float64; 'valid' crops the constant border."""
    pixels = np.asarray(image, dtype=np.float64)
    mode = "constant" if border == "valid" else border
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    expected = np.stack(
        [ndimage.correlate(planes[..., c], weights, mode=mode) for c in range(planes.shape[2])],
        axis=-1,
    )
    if border == "valid":
        top, left = weights.shape[0] // 2, weights.shape[1] // 2
        expected = expected[top : pixels.shape[0] - top, left : pixels.shape[1] - left]
    return expected[..., 0] if pixels.ndim == 2 else expected


def random_image(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 255).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


@pytest.fixture
def small_tiles(monkeypatch):
    # Tiles of 40 and bands of a few rows: every call cuts the image into many
    # bands and tiles, the last ones ragged, spread over the worker threads.
    monkeypatch.setattr(convolution, "_FFT_TILE", 40)
    monkeypatch.setattr(convolution, "FFT_COST", 10)
    monkeypatch.setattr(bands, "PARALLEL_MIN_WORK", 0)


@pytest.mark.usefixtures("small_tiles")
@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("kernel_shape", [(5, 7), (9, 3), (13, 13)])
def test_fourier_tiles_match_scipy(border, dtype, channels, kernel_shape):
    rng = np.random.default_rng(sum(kernel_shape) + channels)
    shape = (97, 83) if channels == 1 else (97, 83, 3)
    image = random_image(rng, shape, dtype)
    weights = rng.normal(size=kernel_shape)
    chosen = convolution._choose_method(weights, image.reshape(97, 83, -1))
    assert type(chosen).__name__ == "_Fourier"
    result = convolve(image, weights, border=border, offset=-3.5)
    expected = scipy_oracle(image, weights, border) - 3.5
    assert result.dtype == np.float32
    assert result.shape == expected.shape
    scale = np.abs(weights).sum() * float(np.abs(image).max())
    np.testing.assert_allclose(result, expected, atol=2e-5 * scale)


@pytest.mark.parametrize("border", [border for border in BORDERS if border != "valid"])
@pytest.mark.parametrize("image_shape", [(1, 1), (2, 50), (50, 2), (31, 31, 3)])
def test_fourier_on_images_smaller_than_the_kernel(monkeypatch, image_shape, border):
    # scipy pads an image shorter than half the kernel otherwise than np.pad
    # (repeated reflections): the exact methods, which pad as np.pad does, are
    # the reference here.
    rng = np.random.default_rng(8)
    image = random_image(rng, image_shape, np.uint8)
    weights = rng.normal(size=(31, 25))
    result = convolve(image, weights, border=border)
    monkeypatch.setattr(convolution, "FFT_COST", 10**9)
    expected = convolve(image, weights, border=border)
    np.testing.assert_allclose(result, expected, atol=2e-5 * np.abs(weights).sum() * 255)


def test_fourier_tiles_forget_the_image_before(monkeypatch):
    # A large image of huge values leaves them in every work buffer; a narrower
    # image after it must round as if the tiles had held zeros there.
    monkeypatch.setattr(convolution, "_FFT_TILE", 64)
    weights = np.random.default_rng(9).normal(size=(25, 25))
    convolve(np.full((100, 120), 1e30, dtype=np.float64), weights)
    image = np.random.default_rng(10).random((70, 45))
    result = convolve(image, weights, border="nearest")
    # float32 rounding of results near 10 is 1e-6; a leftover 1e30 would add 1e14.
    np.testing.assert_allclose(result, scipy_oracle(image, weights, "nearest"), atol=1e-5)


FAST_KERNELS = {
    "fourier": np.random.default_rng(2).normal(size=(23, 25)),
    "low-rank": np.pad([[0, 0, 0], [0, 2, 0], [0, 0, 0]], 4) - np.full((11, 11), 1 / 121),
}


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kernel", list(FAST_KERNELS))
def test_only_bands_that_read_a_non_finite_pixel_take_the_exact_path(
    monkeypatch, kernel, bad_value, channels, border
):
    monkeypatch.setattr(bands, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(bands, "BAND_BYTES", 4096)
    monkeypatch.setattr(convolution, "_FFT_TILE", 48)
    weights = FAST_KERNELS[kernel]
    shape = (150, 90) if channels == 1 else (150, 90, 3)
    image = np.random.default_rng(4).random(shape).astype(np.float32)
    image[100, 40] = bad_value
    method = convolution._choose_method(weights, image.reshape(150, 90, -1))
    exact_bands = []
    exact_type = type(method.exact)
    original_call = exact_type.__call__

    def counted(self, source, result, start, stop, offset):
        exact_bands.append((start, stop))
        original_call(self, source, result, start, stop, offset)

    monkeypatch.setattr(exact_type, "__call__", counted)
    with np.errstate(invalid="ignore"):
        result = convolve(image, weights, border=border)
    expected = scipy_oracle(image, weights, border)
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(result), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(result), np.isneginf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(result[finite], expected[finite], atol=1e-4)
    # The exact method ran near the bad row only, not over the whole image.
    covered = sum(stop - start for start, stop in exact_bands)
    assert 0 < covered < result.shape[0] // 2


def test_integer_images_never_need_the_exact_path():
    weights = FAST_KERNELS["fourier"]
    method = convolution._choose_method(weights, np.zeros((60, 60, 1), np.uint16))
    assert type(method).__name__ == "_Fourier"
    assert method.exact is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_scratch_buffers_are_kept_per_purpose_and_dtype(dtype):
    first = bands.scratch("test-purpose", (4, 5), dtype)
    again = bands.scratch("test-purpose", (2, 3), dtype)
    assert first.dtype == again.dtype == np.dtype(dtype)
    assert again.shape == (2, 3)
    assert np.shares_memory(first, again)
    other = bands.scratch("test-purpose", (4, 5), np.int16)
    assert not np.shares_memory(first, other)
