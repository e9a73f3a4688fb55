"""The convolution engine against independent oracles: scipy.ndimage, OpenCV, a slow loop."""

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage

from kernelstudio.convolution import BORDERS, check_kernel, convolve, explain_pixel

SAME_SIZE_BORDERS = [border for border in BORDERS if border != "valid"]
OPENCV_BORDERS = {
    "constant": cv2.BORDER_CONSTANT,
    "nearest": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "mirror": cv2.BORDER_REFLECT_101,
}
KERNEL_SHAPES = [(1, 1), (3, 3), (1, 7), (5, 3), (7, 7), (3, 9)]


def scipy_oracle(image, weights, border, flip=False):
    """scipy.ndimage per channel, in float64."""
    operation = ndimage.convolve if flip else ndimage.correlate
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim == 2:
        return operation(pixels, weights, mode=border, cval=0.0)
    channels = [operation(pixels[..., c], weights, mode=border, cval=0.0) for c in range(3)]
    return np.stack(channels, axis=-1)


def tutorial_loop(image, weights):
    """The seed tutorial's double loop: 'valid' output of (N-f+1)×(M-g+1)."""
    rows = image.shape[0] - weights.shape[0] + 1
    columns = image.shape[1] - weights.shape[1] + 1
    output = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            patch = image[i : i + weights.shape[0], j : j + weights.shape[1]]
            output[i, j] = (patch * weights).sum()
    return output


def tolerance(image, weights):
    return 2e-6 * np.abs(weights).sum() * max(1.0, float(np.abs(image).max()))


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


@pytest.mark.parametrize("border", SAME_SIZE_BORDERS)
@pytest.mark.parametrize("kernel_shape", KERNEL_SHAPES)
@pytest.mark.parametrize("image_shape", [(13, 17), (9, 11, 3), (1, 6), (4, 1, 3)])
@pytest.mark.parametrize("flip", [False, True])
def test_matches_scipy(rng, border, kernel_shape, image_shape, flip):
    image = rng.integers(0, 256, size=image_shape).astype(np.uint8)
    weights = rng.normal(size=kernel_shape)
    result = convolve(image, weights, border=border, flip=flip)
    expected = scipy_oracle(image, weights, border, flip)
    assert result.dtype == np.float32
    assert result.shape == image.shape
    np.testing.assert_allclose(result, expected, atol=tolerance(image, weights))


@pytest.mark.parametrize("border", list(OPENCV_BORDERS))
@pytest.mark.parametrize("kernel_shape", [(3, 3), (5, 5), (1, 5), (7, 3)])
def test_matches_opencv_filter2d(rng, border, kernel_shape):
    image = rng.random((31, 23, 3), dtype=np.float32) * 255
    weights = rng.normal(size=kernel_shape)
    expected = cv2.filter2D(image, cv2.CV_32F, weights, borderType=OPENCV_BORDERS[border])
    result = convolve(image, weights, border=border)
    np.testing.assert_allclose(result, expected, atol=tolerance(image, weights))


@pytest.mark.parametrize(
    "weights",
    [
        np.array([[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]]),
        np.array([[1, 0, -1]] * 3, dtype=float),
        np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
        np.arange(15, dtype=float).reshape(3, 5),
    ],
    ids=["gaussian", "vertical-edge", "outline", "3x5"],
)
def test_valid_matches_tutorial_loop(rng, weights):
    image = rng.integers(0, 256, size=(100, 100)).astype(np.uint8)
    result = convolve(image, weights, border="valid")
    expected = tutorial_loop(image.astype(np.float64), weights)
    assert result.shape == (100 - weights.shape[0] + 1, 100 - weights.shape[1] + 1)
    np.testing.assert_allclose(result, expected, atol=tolerance(image, weights))


def test_valid_on_colour_processes_channels_independently(rng):
    image = rng.integers(0, 256, size=(12, 10, 3)).astype(np.uint8)
    weights = rng.normal(size=(3, 5))
    result = convolve(image, weights, border="valid")
    for channel in range(3):
        expected = tutorial_loop(image[..., channel].astype(np.float64), weights)
        np.testing.assert_allclose(result[..., channel], expected, atol=1e-3)


def test_valid_with_kernel_as_large_as_image_gives_one_pixel(rng):
    image = rng.random((5, 7))
    weights = rng.normal(size=(5, 7))
    result = convolve(image, weights, border="valid")
    assert result.shape == (1, 1)
    assert result[0, 0] == pytest.approx((image * weights).sum(), rel=1e-5)


@pytest.mark.parametrize("image_shape", [(2, 9), (9, 2), (1, 1)])
def test_valid_rejects_image_smaller_than_kernel(image_shape):
    with pytest.raises(ValueError, match="smaller than the 3×3 kernel"):
        convolve(np.ones(image_shape), np.ones((3, 3)), border="valid")


@pytest.mark.parametrize("border", SAME_SIZE_BORDERS)
def test_kernel_larger_than_image_still_matches_scipy(rng, border):
    image = rng.random((4, 3))
    weights = rng.normal(size=(11, 9))
    expected = scipy_oracle(image, weights, border)
    np.testing.assert_allclose(convolve(image, weights, border=border), expected, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64, np.int16])
def test_accepts_common_dtypes(rng, dtype):
    image = (rng.random((8, 9, 3)) * 200).astype(dtype)
    weights = rng.normal(size=(3, 3))
    expected = scipy_oracle(image, weights, "mirror")
    np.testing.assert_allclose(convolve(image, weights), expected, atol=tolerance(image, weights))


def test_31x31_kernel_on_uint16(rng):
    image = rng.integers(0, 65536, size=(40, 50)).astype(np.uint16)
    weights = rng.random((31, 31))
    expected = scipy_oracle(image, weights, "reflect")
    result = convolve(image, weights, border="reflect")
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=tolerance(image, weights))


def test_input_is_never_modified(rng):
    image = rng.random((6, 7, 3)).astype(np.float32)
    original = image.copy()
    weights = rng.normal(size=(3, 3))
    weights_before = weights.copy()
    convolve(image, weights, border="constant", flip=True)
    np.testing.assert_array_equal(image, original)
    np.testing.assert_array_equal(weights, weights_before)


def test_non_contiguous_input(rng):
    image = rng.random((20, 30, 3))[::2, ::3]
    weights = rng.normal(size=(3, 3))
    np.testing.assert_allclose(
        convolve(image, weights), scipy_oracle(image, weights, "mirror"), atol=1e-5
    )


def test_flip_matters_for_asymmetric_kernels_only(rng):
    image = rng.random((10, 10))
    symmetric = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    asymmetric = np.array([[1, 2, 3], [0, 0, 0], [0, 0, -1]], dtype=float)
    np.testing.assert_array_equal(
        convolve(image, symmetric, flip=True), convolve(image, symmetric, flip=False)
    )
    assert not np.allclose(
        convolve(image, asymmetric, flip=True), convolve(image, asymmetric, flip=False)
    )


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        (np.ones((2, 3)), "must be odd"),
        (np.ones((3, 4)), "must be odd"),
        (np.ones((0, 3)), "empty"),
        (np.ones((3, 3, 3)), "must be 2-D"),
        (np.ones(3), "must be 2-D"),
        (np.array([[np.nan, 0, 0]]), "NaN or infinity"),
        (np.array([[0, np.inf, 0]]), "NaN or infinity"),
        ([[1, 2, 3], [4, 5]], "equal-length rows"),
        ([["a", "b", "c"]], "must be numbers"),
        ([[10**400, 0, 0]], "must be numbers"),
    ],
)
def test_bad_kernels_are_refused_with_a_reason(kernel, message):
    with pytest.raises(ValueError, match=message):
        convolve(np.zeros((5, 5)), kernel)
    with pytest.raises(ValueError, match=message):
        check_kernel(kernel)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros(5), "H×W or H×W×C"),
        (np.zeros((2, 2, 2, 2)), "H×W or H×W×C"),
        (np.zeros((0, 4)), "empty"),
        (np.array([["a"]]), "real numbers"),
        (np.zeros((3, 3), dtype=complex), "real numbers"),
    ],
)
def test_bad_images_are_refused_with_a_reason(image, message):
    with pytest.raises(ValueError, match=message):
        convolve(image, np.ones((1, 1)))


@pytest.mark.parametrize("border", ["same", "zero", "", None, "REFLECT"])
def test_unknown_border_is_refused(border):
    with pytest.raises(ValueError, match="border must be one of"):
        convolve(np.zeros((5, 5)), np.ones((3, 3)), border=border)


# Properties ------------------------------------------------------------------

small_images = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    elements=st.floats(-1000, 1000, allow_nan=False, width=32),
)
odd_sides = st.sampled_from([1, 3, 5, 7])
borders = st.sampled_from(SAME_SIZE_BORDERS)


@settings(max_examples=60, deadline=None)
@given(image=small_images, height=odd_sides, width=odd_sides, border=borders)
def test_identity_kernel_returns_the_image(image, height, width, border):
    identity = np.zeros((height, width))
    identity[height // 2, width // 2] = 1.0
    np.testing.assert_array_equal(
        convolve(image, identity, border=border), image.astype(np.float32)
    )


@settings(max_examples=60, deadline=None)
@given(
    image=small_images,
    seed=st.integers(0, 2**32 - 1),
    border=borders,
    a=st.floats(-4, 4),
    b=st.floats(-4, 4),
)
def test_linearity_in_the_kernel(image, seed, border, a, b):
    generator = np.random.default_rng(seed)
    first, second = generator.normal(size=(2, 3, 5))
    combined = convolve(image, a * first + b * second, border=border)
    separate = a * convolve(image, first, border=border) + b * convolve(
        image, second, border=border
    )
    scale = (abs(a) + abs(b)) * 15 * 4 * (1 + np.abs(image).max())
    np.testing.assert_allclose(combined, separate, atol=1e-5 * scale + 1e-30)


@settings(max_examples=60, deadline=None)
@given(
    image=small_images,
    dy=st.integers(-2, 2),
    dx=st.integers(-3, 3),
)
def test_shifted_delta_shifts_the_image(image, dy, dx):
    delta = np.zeros((5, 7))
    delta[2 + dy, 3 + dx] = 1.0
    result = convolve(image, delta, border="wrap")
    # Correlation with a delta at offset (dy, dx) reads the pixel at (y+dy, x+dx).
    expected = np.roll(image, shift=(-dy, -dx), axis=(0, 1)).astype(np.float32)
    np.testing.assert_array_equal(result, expected)
    flipped = convolve(image, delta, border="wrap", flip=True)
    np.testing.assert_array_equal(flipped, np.roll(image, shift=(dy, dx), axis=(0, 1)))


@settings(max_examples=80, deadline=None)
@given(
    image=hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])),
    ),
    height=odd_sides,
    width=odd_sides,
    border=borders,
    flip=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_cases_match_scipy(image, height, width, border, flip, seed):
    weights = np.random.default_rng(seed).normal(size=(height, width))
    expected = np.stack(
        [scipy_oracle(image[..., c], weights, border, flip) for c in range(image.shape[2])],
        axis=-1,
    )
    result = convolve(image, weights, border=border, flip=flip)
    np.testing.assert_allclose(result, expected, atol=tolerance(image, weights))


# Every engine path ---------------------------------------------------------------

ENGINE_KERNELS = {
    "separable-gaussian": (np.outer([1, 4, 6, 4, 1], [1, 2, 1]) / 64.0, "_Separable"),
    "separable-sobel": (np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float), "_Separable"),
    "sparse-direct": (np.eye(5)[::-1] * np.arange(1, 6), "_Direct"),
    "dense-column-sums": (np.random.default_rng(1).normal(size=(5, 7)), "_ColumnSums"),
    "wide-column-sums": (np.random.default_rng(7).normal(size=(5, 21)), "_ColumnSums"),
    "half-empty-column-sums": (np.triu(np.ones((7, 7))), "_ColumnSums"),
    "fourier": (np.random.default_rng(2).normal(size=(23, 25)), "_Fourier"),
    # Two and three separable terms: a difference of Gaussians, and an unsharp
    # mask plus a ridge, whose peeled terms hold zeros.
    "low-rank-two": (
        np.outer(*[cv2.getGaussianKernel(15, 1.5).ravel()] * 2)
        - np.outer(*[cv2.getGaussianKernel(15, 3.0).ravel()] * 2),
        "_LowRank",
    ),
    "low-rank-three": (
        np.pad([[0, 0, 0], [0, 2, 0], [0, 0, 0]], 4)
        - np.full((11, 11), 1 / 121)
        + 0.3 * np.outer(np.hanning(11), np.sin(np.arange(11))),
        "_LowRank",
    ),
}


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("case", list(ENGINE_KERNELS))
def test_every_engine_path_matches_scipy_across_many_bands(monkeypatch, case, channels, border):
    from kernelstudio import bands, convolution

    weights, method = ENGINE_KERNELS[case]
    shape = (97, 61) if channels == 1 else (97, 61, 3)
    image = np.random.default_rng(3).integers(0, 256, size=shape).astype(np.uint8)
    chosen = convolution._choose_method(weights, image.reshape(97, 61, -1))
    assert type(chosen).__name__ == method
    # Tiny bands force dozens of them, spread over the worker threads, and tiny
    # matrix products cut every row into chunks, most with a ragged last one.
    monkeypatch.setattr(bands, "BAND_BYTES", 1024)
    monkeypatch.setattr(bands, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(convolution, "PRODUCT_SIZE", 1000)
    result = convolve(image, weights, border=border)
    if border == "valid":
        half = (weights.shape[0] // 2, weights.shape[1] // 2)
        expected = scipy_oracle(image, weights, "constant")[
            half[0] : shape[0] - half[0], half[1] : shape[1] - half[1]
        ]
    else:
        expected = scipy_oracle(image, weights, border)
    assert result.shape == expected.shape
    # The FFT rounds in float32 over whole tiles, so it gets a looser bound.
    slack = 20 if method == "_Fourier" else 1
    np.testing.assert_allclose(result, expected, atol=slack * tolerance(image, weights))


def test_separable_factors_are_exact_for_textbook_kernels():
    from kernelstudio.convolution import separable_factors

    for weights in (np.ones((3, 3)) / 9, np.outer([1, 2, 1], [1, 2, 1]) / 16, np.eye(1)):
        column, row = separable_factors(weights)
        np.testing.assert_array_equal(np.outer(column, row), weights)
    assert separable_factors(np.eye(3)) is None
    assert separable_factors(np.zeros((3, 3))) is None


def test_fast_lengths_are_smooth_and_large_enough():
    from kernelstudio.convolution import _fast_length

    for minimum in range(1, 700):
        length = _fast_length(minimum)
        assert length >= minimum
        remainder = length
        for factor in (2, 3, 5):
            while remainder % factor == 0:
                remainder //= factor
        assert remainder == 1


NON_FINITE_KERNELS = {
    "dense": np.random.default_rng(5).normal(size=(7, 7)),
    "dense-with-zeros": np.where(
        np.random.default_rng(12).random((7, 7)) < 0.4,
        0,
        np.random.default_rng(13).normal(size=(7, 7)),
    ),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "sobel": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float),
    "sparse": np.eye(5)[::-1] * np.arange(1, 6),
    "fft-sized": np.random.default_rng(14).normal(size=(25, 25)),
    # Low rank on finite images; its terms would spread NaN where the sum is 0.
    "low-rank-sized": np.pad([[0, 0, 0], [0, 2, 0], [0, 0, 0]], 4) - np.full((11, 11), 1 / 121),
}


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("kernel", list(NON_FINITE_KERNELS))
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_pixel_spreads_exactly_where_scipy_spreads_it(bad_value, kernel, channels):
    shape = (60, 70) if channels == 1 else (60, 70, 3)
    image = np.random.default_rng(4).random(shape).astype(np.float32)
    image[30, 35] = bad_value
    weights = NON_FINITE_KERNELS[kernel]
    with np.errstate(invalid="ignore"):
        result = convolve(image, weights, border="reflect")
    expected = scipy_oracle(image, weights, "reflect")
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(result), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(result), np.isneginf(expected))
    finite = np.isfinite(expected)
    assert 0 < finite.sum() < finite.size
    np.testing.assert_allclose(result[finite], expected[finite], atol=1e-4)


@pytest.mark.parametrize("leftover", [np.nan, np.inf])
def test_what_work_buffers_held_before_does_not_reach_the_next_result(monkeypatch, leftover):
    from kernelstudio import convolution

    # Small products give the band spare columns; a wider image before leaves
    # its values where the next band's spare columns are.
    monkeypatch.setattr(convolution, "PRODUCT_SIZE", 1000)
    weights = np.random.default_rng(9).normal(size=(7, 7))
    with np.errstate(invalid="ignore"):
        convolve(np.full((60, 97, 3), leftover, dtype=np.float32), weights)
    image = np.random.default_rng(10).random((60, 80, 3)).astype(np.float32)
    with np.errstate(all="raise"):
        result = convolve(image, weights)
    np.testing.assert_allclose(result, scipy_oracle(image, weights, "mirror"), atol=1e-4)


def test_fft_on_float_images_keeps_small_values_next_to_a_highlight():
    from kernelstudio import convolution

    image = np.full((200, 200), 0.01, dtype=np.float32)
    image[100, 100] = 1e5
    weights = np.random.default_rng(6).normal(size=(25, 25))
    chosen = convolution._choose_method(weights, image[..., None])
    assert type(chosen).__name__ == "_Fourier"
    result = convolve(image, weights, border="nearest")
    expected = scipy_oracle(image, weights, "nearest")
    far = np.ones(image.shape, bool)
    far[88:113, 88:113] = False
    np.testing.assert_allclose(result[far], expected[far], atol=1e-6)


@pytest.mark.parametrize(
    ("channels", "shape", "method"),
    [(3, (3, 9), "_Direct"), (1, (3, 9), "_ColumnSums"), (3, (5, 9), "_ColumnSums")],
)
def test_short_wide_kernels_on_colour_take_einsum(channels, shape, method):
    from kernelstudio import convolution

    rng = np.random.default_rng(15)
    weights = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    image = rng.integers(0, 256, (40, 50, channels)).astype(np.uint8)
    chosen = convolution._choose_method(weights, image)
    assert type(chosen).__name__ == method
    image = image[..., 0] if channels == 1 else image
    result = convolve(image, weights, border="nearest")
    np.testing.assert_allclose(
        result, scipy_oracle(image, weights, "nearest"), atol=tolerance(image, weights)
    )


@pytest.mark.parametrize(
    ("nonzero", "method"), [(8, "_Direct"), (17, "_ColumnSums"), (49, "_ColumnSums")]
)
def test_sparse_and_dense_kernels_take_their_own_paths(nonzero, method):
    from kernelstudio import convolution

    rng = np.random.default_rng(11)
    weights = np.zeros(49)
    weights[rng.choice(49, nonzero, replace=False)] = rng.uniform(1, 2, nonzero)
    weights = weights.reshape(7, 7)
    image = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    chosen = convolution._choose_method(weights, image)
    assert type(chosen).__name__ == method
    result = convolve(image, weights, border="wrap")
    np.testing.assert_allclose(
        result, scipy_oracle(image, weights, "wrap"), atol=tolerance(image, weights)
    )


# explain_pixel --------------------------------------------------------------------


def corner_and_random_pixels(shape, rng, count=6):
    height, width = shape
    corners = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]
    edges = [(0, width // 2), (height // 2, 0), (height - 1, width // 2)]
    randoms = [(int(rng.integers(height)), int(rng.integers(width))) for _ in range(count)]
    return corners + edges + randoms


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("channels", [1, 3])
def test_explanation_sums_to_the_convolved_value(border, flip, channels):
    rng = np.random.default_rng(12)
    shape = (9, 11) if channels == 1 else (9, 11, 3)
    image = rng.integers(0, 256, size=shape).astype(np.uint8)
    weights = rng.normal(size=(3, 5))
    result = convolve(image, weights, border=border, flip=flip)
    for row, column in corner_and_random_pixels(result.shape[:2], rng):
        step = explain_pixel(image, weights, row, column, border=border, flip=flip)
        np.testing.assert_allclose(step.total, result[row, column], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(
            step.products,
            step.neighbourhood * (step.weights if channels == 1 else step.weights[..., None]),
        )
        expected_weights = weights[::-1, ::-1] if flip else weights
        np.testing.assert_array_equal(step.weights, expected_weights)
        if channels == 3:
            for channel in range(3):
                single = explain_pixel(
                    image, weights, row, column, border=border, flip=flip, channel=channel
                )
                np.testing.assert_allclose(single.total, result[row, column, channel], atol=1e-3)


@pytest.mark.parametrize("border", [b for b in BORDERS if b != "valid"])
def test_neighbourhood_shows_the_border_values_scipy_pads_with(border):
    image = np.arange(20, dtype=float).reshape(4, 5)
    step = explain_pixel(image, np.ones((5, 5)), 0, 0, border=border)
    # scipy's own padding, read from the response of one weight at a time.
    for dy in range(5):
        for dx in range(5):
            delta = np.zeros((5, 5))
            delta[dy, dx] = 1.0
            expected = ndimage.correlate(image, delta, mode=border)[0, 0]
            assert step.neighbourhood[dy, dx] == expected


def test_valid_explanations_index_the_smaller_output():
    image = np.arange(100, dtype=float).reshape(10, 10)
    step = explain_pixel(image, np.ones((3, 3)), 0, 0, border="valid")
    np.testing.assert_array_equal(step.neighbourhood, image[:3, :3])
    np.testing.assert_array_equal(step.source_rows, [0, 1, 2])
    with pytest.raises(ValueError, match="outside the 8×8 output"):
        explain_pixel(image, np.ones((3, 3)), 8, 0, border="valid")


def test_constant_border_marks_padding_with_minus_one():
    step = explain_pixel(np.ones((3, 3)), np.ones((3, 3)), 0, 2, border="constant")
    np.testing.assert_array_equal(step.source_rows, [-1, 0, 1])
    np.testing.assert_array_equal(step.source_columns, [1, 2, -1])
    assert step.total == 4.0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"row": -1, "column": 0}, "outside"),
        ({"row": 0, "column": 7}, "outside"),
        ({"row": 0, "column": 0, "channel": 3}, "channel 3"),
        ({"row": 0, "column": 0, "border": "same"}, "border must be one of"),
    ],
)
def test_explain_pixel_refuses_bad_requests(arguments, message):
    image = np.zeros((5, 7, 3))
    with pytest.raises(ValueError, match=message):
        explain_pixel(image, np.ones((3, 3)), **arguments)


def test_low_rank_terms_add_up_to_the_kernel_and_stop_at_four():
    from kernelstudio.convolution import low_rank_terms

    rng = np.random.default_rng(21)
    for rank in (1, 2, 3, 4):
        kernel = sum(np.outer(rng.normal(size=9), rng.normal(size=7)) for _ in range(rank))
        terms = low_rank_terms(kernel)
        assert len(terms) == rank
        rebuilt = sum(np.outer(column, row) for column, row in terms)
        np.testing.assert_allclose(rebuilt, kernel, atol=1e-12 * np.abs(kernel).max())
    assert low_rank_terms(rng.normal(size=(9, 7))) is None
    assert low_rank_terms(np.zeros((3, 3))) is None
