"""Kernel analysis: brightness, separability (SVD rank), frequency response."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelstudio.analysis import (
    analyse_kernel,
    describe_flat,
    describe_response,
    frequency_response,
)
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


# What a flat area of value v looks like, written out by hand for every sum
# (0, 1, 0.5645, 16) × divisor (1, 16) × offset (0, 128) × display mode. The flat
# gain is sum / divisor; 255 is white.
_NORMALIZE_SCALED = (
    "but normalize stretches the result's smallest value to black and its largest to "
    "white, so the divisor and offset do not change the picture"
)
_SIGNED_SCALED = (
    "signed shows 0 as mid-grey, positive values lighter and negative ones darker, "
    "in proportion to the result's largest magnitude"
)
FLAT_CASES = [
    # sum 0: a flat area becomes the offset, whatever its value
    (0, 1, 0, "clip", "Sum 0: flat areas become black (0)."),
    (0, 1, 0, "abs", "Sum 0: flat areas become black (0)."),
    (0, 1, 0, "signed", "Sum 0: flat areas become mid-grey (0 is mid-grey)."),
    (
        0,
        1,
        0,
        "normalize",
        "Sum 0: flat areas take the middle of the stretched range, usually grey.",
    ),
    (0, 1, 128, "clip", "Sum 0: flat areas become 128, mid-grey."),
    (0, 1, 128, "abs", "Sum 0: flat areas become 128, mid-grey."),
    (
        0,
        1,
        128,
        "signed",
        "Sum 0: flat areas become 128, lighter than mid-grey (signed shows 0 as mid-grey).",
    ),
    (
        0,
        16,
        128,
        "normalize",
        "Sum 0 ÷ 16 = 0: flat areas take the middle of the stretched range, usually grey.",
    ),
    (0, 16, 0, "clip", "Sum 0 ÷ 16 = 0: flat areas become black (0)."),
    # sum 1
    (1, 1, 0, "clip", "Sum 1: brightness is kept."),
    (1, 1, 0, "abs", "Sum 1: brightness is kept."),
    (1, 1, 0, "normalize", f"Sum 1: flat areas become v, {_NORMALIZE_SCALED}."),
    (1, 1, 0, "signed", f"Sum 1: flat areas become v; {_SIGNED_SCALED}."),
    # 255 − 128 = 127: from there v + 128 reaches white
    (1, 1, 128, "clip", "Sum 1: flat areas become v + 128; from v = 127 up they are white."),
    (1, 16, 0, "clip", "Sum 1 ÷ 16 = 1/16: flat areas are darkened to 6.25 % (v × 1/16)."),
    (1, 16, 128, "abs", "Sum 1 ÷ 16 = 1/16: flat areas become v × 1/16 + 128."),
    (
        1,
        16,
        128,
        "signed",
        f"Sum 1 ÷ 16 = 1/16: flat areas become v × 1/16 + 128; {_SIGNED_SCALED}.",
    ),
    # sum 0.5645: darker, never "brightness is kept"
    (0.5645, 1, 0, "clip", "Sum 0.5645: flat areas are darkened to 56 % (v × 0.5645)."),
    (0.5645, 1, 0, "abs", "Sum 0.5645: flat areas are darkened to 56 % (v × 0.5645)."),
    (0.5645, 1, 0, "normalize", f"Sum 0.5645: flat areas become v × 0.5645, {_NORMALIZE_SCALED}."),
    # (255 − 128) / 0.5645 = 224.98
    (
        0.5645,
        1,
        128,
        "clip",
        "Sum 0.5645: flat areas become v × 0.5645 + 128; from v = 225 up they are white.",
    ),
    # 0.5645 / 16 = 0.03528
    (
        0.5645,
        16,
        0,
        "clip",
        "Sum 0.5645 ÷ 16 = 0.03528: flat areas are darkened to 3.53 % (v × 0.03528).",
    ),
    (
        0.5645,
        16,
        128,
        "signed",
        f"Sum 0.5645 ÷ 16 = 0.03528: flat areas become v × 0.03528 + 128; {_SIGNED_SCALED}.",
    ),
    # sum 16: 255 / 16 = 15.94, (255 − 128) / 16 = 7.938
    (
        16,
        1,
        0,
        "clip",
        "Sum 16: flat areas are brightened to 1600 % (v × 16); from v = 15.94 up they are white.",
    ),
    (
        16,
        1,
        128,
        "abs",
        "Sum 16: flat areas become v × 16 + 128; from v = 7.938 up they are white.",
    ),
    (16, 1, 0, "normalize", f"Sum 16: flat areas become v × 16, {_NORMALIZE_SCALED}."),
    (16, 16, 0, "clip", "Sum 16 ÷ 16 = 1: brightness is kept."),
    (16, 16, 0, "signed", f"Sum 16 ÷ 16 = 1: flat areas become v; {_SIGNED_SCALED}."),
    (
        16,
        16,
        128,
        "clip",
        "Sum 16 ÷ 16 = 1: flat areas become v + 128; from v = 127 up they are white.",
    ),
    (
        16,
        16,
        128,
        "normalize",
        f"Sum 16 ÷ 16 = 1: flat areas become v + 128, {_NORMALIZE_SCALED}.",
    ),
]


@pytest.mark.parametrize(("total", "divisor", "offset", "display", "sentence"), FLAT_CASES)
def test_flat_areas_are_described_as_they_are_shown(total, divisor, offset, display, sentence):
    assert describe_flat(total, divisor=divisor, offset=offset, display=display) == sentence


@pytest.mark.parametrize(
    ("total", "offset", "display", "sentence"),
    [
        (-1, 0, "clip", "Sum -1: flat areas become negative (v × -1), which clip shows as black."),
        (
            -1,
            0,
            "abs",
            "Sum -1: flat areas become negative (v × -1); abs shows their magnitude: "
            "brightness is kept.",
        ),
        (1, -20, "clip", "Sum 1: flat areas become v − 20; below v = 20 they are black."),
        (1, -20, "abs", "Sum 1: flat areas become |v − 20|."),
        (0, 300, "clip", "Sum 0: flat areas become 300, white."),
        (0, 64, "clip", "Sum 0: flat areas become 64, a 25 % grey."),
    ],
)
def test_negative_gains_and_offsets(total, offset, display, sentence):
    assert describe_flat(total, offset=offset, display=display) == sentence


def test_the_sentence_matches_what_to_uint8_shows_for_a_constant():
    # Independent check of the constant cases: render a flat area through to_uint8.
    from kernelstudio.display import to_uint8

    edges = np.array([-40.0, 0.0, 40.0])  # a sum-0 result: flat 0 between two edges
    assert to_uint8(edges, "clip")[1] == 0
    assert "black (0)" in describe_flat(0, display="clip")
    assert to_uint8(edges, "signed")[1] == 128
    assert "mid-grey" in describe_flat(0, display="signed")
    assert to_uint8(edges, "normalize")[1] == 128
    assert "middle of the stretched range" in describe_flat(0, display="normalize")
    assert to_uint8(edges + 128, "clip")[1] == 128
    assert "128, mid-grey" in describe_flat(0, offset=128)


def test_bad_display_and_divisor_are_refused():
    with pytest.raises(ValueError, match="display mode"):
        describe_flat(1, display="glow")
    with pytest.raises(ValueError, match="divisor"):
        describe_flat(1, divisor=0)


@pytest.mark.parametrize(
    ("weights", "divisor", "sentence"),
    [
        # the flat gain is the sum over the divisor; detail is compared with it
        (
            PRESETS["sharpen"],
            1,
            "Flat areas pass and fine detail is amplified: it sharpens (high-boost).",
        ),
        (
            PRESETS["sharpen"] * 0.5645,
            1,
            "Fine detail is boosted relative to flat areas, which are darkened to 56 %: "
            "it sharpens (high-boost).",
        ),
        (
            np.ones((3, 3)),
            1,
            "Fine detail is damped more than flat areas, which are brightened to 900 %: "
            "it blurs (low-pass).",
        ),
        (np.ones((3, 3)), 9, "Fine detail is damped and flat areas pass: it blurs (low-pass)."),
        (
            np.eye(1) * 2,
            1,
            "Every frequency is scaled about equally, brightened to 200 %: "
            "the image keeps its detail.",
        ),
        (np.eye(1) * 2, 2, "Every frequency passes about equally: the image keeps its detail."),
    ],
)
def test_behaviour_agrees_with_the_flat_gain(weights, divisor, sentence):
    facts = analyse_kernel(weights, divisor=divisor)
    assert facts.behaviour == sentence
    assert facts.flat_gain == pytest.approx(weights.sum() / divisor)
    if "areas pass" in sentence or "frequency passes" in sentence:
        assert facts.flat_gain == pytest.approx(1)


def test_analysis_carries_the_stage_and_display():
    facts = analyse_kernel(PRESETS["laplacian"], offset=128, display="signed")
    assert facts.brightness == describe_flat(0, offset=128, display="signed")
    assert facts.behaviour.endswith("it finds edges (high-pass).")
    zero = analyse_kernel(np.zeros((3, 3)), offset=128)
    assert zero.behaviour == "All weights are zero: every pixel becomes the offset, 128."
