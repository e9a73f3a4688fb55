"""Kernel analysis: brightness, separability (SVD rank), frequency response."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelstudio.analysis import analyse_kernel, describe_response, frequency_response
from kernelstudio.kernels import PRESETS


@pytest.mark.parametrize(
    ("slug", "separable"),
    [
        ("identity", True),
        ("box-blur", True),
        ("gaussian-blur", True),
        ("gaussian-blur-5x5", True),
        ("vertical-edge", True),
        ("sobel-left", True),
        ("sharpen", False),
        ("outline", False),
        ("laplacian", False),
        ("emboss", False),
        ("motion-blur-7x7", False),
    ],
)
def test_separability_matches_the_svd_rank(slug, separable):
    weights = PRESETS[slug]
    singular_values = np.linalg.svd(weights, compute_uv=False)
    rank_one = bool(singular_values[1] <= 1e-10 * singular_values[0])
    facts = analyse_kernel(weights)
    assert rank_one is separable
    assert (facts.factors is not None) is separable
    assert (facts.rank == 1) is separable
    if separable:
        column, row = facts.factors
        np.testing.assert_allclose(np.outer(column, row), weights, atol=1e-12)


@settings(max_examples=100)
@given(
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3),
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=5, max_size=5),
)
def test_outer_products_are_always_found_separable(column, row):
    weights = np.outer(column, row)
    facts = analyse_kernel(weights)
    if np.abs(weights).max() > 1e-6:
        assert facts.factors is not None
        np.testing.assert_allclose(np.outer(*facts.factors), weights, atol=1e-9)


def test_frequency_response_is_the_dft_magnitude():
    weights = np.random.default_rng(1).normal(size=(3, 5))
    response = frequency_response(weights, size=16)
    padded = np.zeros((16, 16))
    padded[:3, :5] = weights
    expected = np.abs(np.fft.fftshift(np.fft.fft2(padded)))
    np.testing.assert_allclose(response, expected)
    assert response[8, 8] == pytest.approx(abs(weights.sum()))


@pytest.mark.parametrize(
    ("slug", "words"),
    [
        ("gaussian-blur", "blurs"),
        ("box-blur", "blurs"),
        ("outline", "finds edges"),
        ("sobel-top", "finds edges"),
        ("sharpen", "sharpens"),
        ("unsharp-mask-5x5", "sharpens"),
        ("identity", "keeps its detail"),
    ],
)
def test_behaviour_sentence(slug, words):
    assert words in analyse_kernel(PRESETS[slug]).behaviour


def test_zero_kernel_is_called_black():
    assert "zero" in describe_response(frequency_response(np.zeros((3, 3))))


def test_large_kernels_get_a_large_enough_grid():
    facts = analyse_kernel(np.ones((63, 63)))
    assert facts.response.shape == (64, 64)
    with pytest.raises(ValueError, match="needs size"):
        frequency_response(np.ones((9, 9)), size=8)
