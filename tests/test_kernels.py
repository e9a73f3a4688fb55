"""Kernel weights: typed cells, presets, kernel files."""

import json
import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelstudio import kernels
from kernelstudio.kernels import (
    MAX_KERNEL_SIDE,
    PRESET_DISPLAY,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    format_weight,
    kernel_from_json,
    kernel_sum,
    kernel_to_json,
    normalise,
    parse_kernel,
    parse_weight,
    preset_kernel,
    read_kernel_file,
    validate_kernel,
    write_kernel_file,
)

# parse_weight ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("-1", -1.0),
        ("+2", 2.0),
        ("0.25", 0.25),
        (".5", 0.5),
        ("5.", 5.0),
        ("-0.125", -0.125),
        ("1e-3", 0.001),
        ("2.5E+2", 250.0),
        ("1/16", 1 / 16),
        ("-1/8", -1 / 8),
        ("1 / 9", 1 / 9),
        ("  3/4  ", 0.75),
        ("\t-2\n", -2.0),
        ("1/-4", -0.25),
        ("1.5/0.5", 3.0),
        ("1e2/1e1", 10.0),
        ("\u22121/16", -1 / 16),
        ("1e-300", 1e-300),
    ],
)
def test_parse_weight_accepts(text, expected):
    assert parse_weight(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a number"),
        ("nan", "not a number"),
        ("NaN", "not a number"),
        ("inf", "not a number"),
        ("-Infinity", "not a number"),
        ("1e400", "too large"),
        ("-1e309", "too large"),
        ("1e308/1e-308", "too large"),
        ("1/0", "divides by zero"),
        ("0/0", "divides by zero"),
        ("1/0.0", "divides by zero"),
        ("2*3", "not a number"),
        ("1+1", "not a number"),
        ("1/2/3", "not a number"),
        ("__import__('os')", "not a number"),
        ("0x10", "not a number"),
        ("1_000", "not a number"),
        ("\u0661", "not a number"),
        ("1,5", "not a number"),
        ("--1", "not a number"),
        ("1 2", "not a number"),
        ("e5", "not a number"),
        ("/2", "not a number"),
    ],
)
def test_parse_weight_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_weight(text)


def test_parse_weight_refuses_non_text():
    with pytest.raises(TypeError):
        parse_weight(3)


@settings(max_examples=300)
@given(st.text())
def test_parse_weight_either_parses_to_a_finite_float_or_says_why(text):
    try:
        value = parse_weight(text)
    except ValueError as error:
        message = str(error)
        assert message
    else:
        assert isinstance(value, float)
        assert math.isfinite(value)


@settings(max_examples=200)
@given(
    st.fractions(min_value=-1000, max_value=1000, max_denominator=10_000).filter(
        lambda value: value != 0
    ),
    st.integers(1, 10_000),
)
def test_parse_weight_reads_fractions_exactly(value, scale):
    text = f"{value.numerator * scale}/{value.denominator * scale}"
    assert parse_weight(text) == pytest.approx(float(Fraction(value)), rel=1e-12)


@settings(max_examples=200)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32).map(float))
def test_parse_weight_round_trips_python_float_text(value):
    assert parse_weight(repr(value)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("3.5e38", 3.5e38), ("-1e39", -1e39), ("1e308", 1e308), ("1e30/1e-10", 1e40)],
)
def test_parse_weight_refuses_what_float32_cannot_hold(text, value):
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.float32(value))
    with pytest.raises(ValueError, match="too large"):
        parse_weight(text)


def test_parse_weight_keeps_the_largest_float32():
    largest = float(np.finfo(np.float32).max)
    assert parse_weight(repr(largest)) == largest


@pytest.mark.parametrize(
    "weights",
    [[[2e38, 0, 2e38]], [[3e38, -3e38, 1.0]], [[1e38] * 5], [[1e308, 0, 1e308]]],
)
def test_validate_kernel_refuses_sums_float32_cannot_hold(weights):
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.abs(np.float32(weights)).sum(dtype=np.float32))
    with pytest.raises(ValueError, match="float32 limit"):
        validate_kernel(weights)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e308, -1e-320])
def test_format_weight_is_total(value):
    text = format_weight(value)
    assert isinstance(text, str)
    assert text


# parse_kernel ------------------------------------------------------------------


def test_parse_kernel_reads_rows():
    weights = parse_kernel("1/16 1/8 1/16; 1/8 1/4 1/8; 1/16 1/8 1/16")
    expected = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    np.testing.assert_array_equal(weights, expected)


def test_parse_kernel_reads_spaced_fractions_like_a_cell():
    np.testing.assert_array_equal(parse_kernel("1 / 4  1/2 1 /4"), [[0.25, 0.5, 0.25]])


def test_parse_kernel_accepts_commas_and_new_lines():
    weights = parse_kernel("1, 0, -1\n2, 0, -2\n1, 0, -1\n")
    np.testing.assert_array_equal(weights, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" ; ; ", "empty"),
        ("1 2 3; 4 5", "differ in length"),
        ("1 2; 3 4", "must be odd"),
        ("1 x 3", "row 1, column 2"),
        ("1 2 3; 4 5 1/0; 7 8 9", "row 2, column 3"),
        (" ".join(["1"] * (MAX_KERNEL_SIDE + 2)), "larger than the limit"),
    ],
)
def test_parse_kernel_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_kernel(text)


# presets -----------------------------------------------------------------------

REQUIRED_PRESETS = [
    "identity",
    "box-blur",
    "gaussian-blur",
    "sharpen",
    "vertical-edge",
    "horizontal-edge",
    "outline",
    "emboss",
    "sobel-left",
    "sobel-right",
    "sobel-top",
    "sobel-bottom",
    "laplacian",
]


def test_required_presets_exist_in_order():
    assert list(PRESETS)[: len(REQUIRED_PRESETS)] == REQUIRED_PRESETS
    assert set(PRESET_NAMES) == set(PRESETS) == set(PRESET_DISPLAY)


@pytest.mark.parametrize(
    ("slug", "rows"),
    [
        (
            "gaussian-blur",
            [[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]],
        ),
        ("vertical-edge", [[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
        ("outline", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        ("identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        ("sobel-left", [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        ("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    ],
)
def test_tutorial_and_textbook_presets_have_their_weights(slug, rows):
    np.testing.assert_array_equal(PRESETS[slug], rows)


@pytest.mark.parametrize("slug", list(PRESETS))
def test_every_preset_is_a_valid_read_only_kernel(slug):
    weights = PRESETS[slug]
    assert weights.dtype == np.float64
    assert weights.ndim == 2
    assert weights.shape[0] % 2 == 1
    assert weights.shape[1] % 2 == 1
    assert np.isfinite(weights).all()
    assert PRESET_NAMES[slug]
    assert PRESET_DISPLAY[slug] in ("clip", "abs", "normalize")
    with pytest.raises(ValueError, match="read-only"):
        weights[0, 0] = 5


@pytest.mark.parametrize(
    ("slug", "expected_sum"),
    [
        ("identity", 1),
        ("box-blur", 1),
        ("gaussian-blur", 1),
        ("gaussian-blur-5x5", 1),
        ("sharpen", 1),
        ("unsharp-mask-5x5", 1),
        ("motion-blur-7x7", 1),
        ("emboss", 1),
        ("vertical-edge", 0),
        ("outline", 0),
        ("sobel-top", 0),
        ("laplacian", 0),
    ],
)
def test_preset_sums(slug, expected_sum):
    assert kernel_sum(PRESETS[slug]) == pytest.approx(expected_sum, abs=1e-12)


def test_edge_presets_default_to_a_display_that_shows_negative_responses():
    for slug in ["vertical-edge", "horizontal-edge", "outline", "sobel-left", "laplacian"]:
        assert PRESET_DISPLAY[slug] != "clip"


def test_preset_kernel_returns_a_writeable_copy():
    kernel = preset_kernel("sharpen")
    kernel.weights[1, 1] = 0
    assert PRESETS["sharpen"][1, 1] == 5
    assert kernel.name == "Sharpen"


def test_unknown_preset_lists_the_valid_slugs():
    with pytest.raises(KeyError, match="gaussian-blur"):
        preset_kernel("gausian")


# sum and normalise -------------------------------------------------------------


def test_normalise_makes_weights_sum_to_one():
    weights = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    normalised = normalise(weights)
    np.testing.assert_allclose(normalised, weights / 16)
    np.testing.assert_array_equal(weights, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("weights", [[[1, 0, -1]], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]])
def test_normalise_leaves_zero_sum_kernels_alone(weights):
    np.testing.assert_array_equal(normalise(weights), weights)


def test_normalise_handles_negative_sums():
    np.testing.assert_allclose(normalise([[-1, -2, -1]]), [[0.25, 0.5, 0.25]])


@settings(max_examples=100)
@given(st.lists(st.floats(-100, 100), min_size=9, max_size=9))
def test_normalised_kernels_sum_to_one_or_are_unchanged(values):
    weights = np.array(values).reshape(3, 3)
    normalised = normalise(weights)
    assert np.isfinite(normalised).all()
    if np.array_equal(normalised, weights):
        assert abs(weights.sum()) <= 1e-9 * max(np.abs(weights).sum(), 1) or np.isclose(
            weights.sum(), 1
        )
    else:
        assert normalised.sum() == pytest.approx(1.0, rel=1e-6, abs=1e-6)


# kernel files ------------------------------------------------------------------


def test_kernel_file_round_trip(tmp_path):
    original = Kernel("My blur – ñ", np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), 16.0, -0.5)
    path = tmp_path / "blur.json"
    write_kernel_file(path, original)
    loaded = read_kernel_file(path)
    assert (loaded.name, loaded.divisor, loaded.offset) == ("My blur – ñ", 16.0, -0.5)
    np.testing.assert_array_equal(loaded.weights, original.weights)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "kernelstudio-kernel"
    assert document["version"] == 2
    assert (document["divisor"], document["offset"]) == (16.0, -0.5)


def test_the_limit_is_31_by_31():
    assert MAX_KERNEL_SIDE == 31
    assert validate_kernel(np.ones((31, 31))).shape == (31, 31)
    assert validate_kernel(np.ones((1, 31))).shape == (1, 31)
    with pytest.raises(ValueError, match="33×33 is larger than the limit of 31×31"):
        validate_kernel(np.ones((33, 33)))


def test_version_1_files_load_as_they_always_did():
    text = json.dumps(
        {
            "format": "kernelstudio-kernel",
            "version": 1,
            "name": "old",
            "weights": [[1, 2, 1]],
            "divisor": 0,  # not part of version 1: ignored, like any other extra key
            "offset": "mid-grey",
            "comment": "saved by Kernel Studio 0.1",
        }
    )
    kernel = kernel_from_json(text)
    assert (kernel.name, kernel.divisor, kernel.offset) == ("old", 1.0, 0.0)
    np.testing.assert_array_equal(kernel.weights, [[1, 2, 1]])


def test_version_2_reads_divisor_and_offset_with_their_defaults():
    kernel = kernel_from_json('{"version": 2, "weights": [[-1, 0, 1]], "offset": 128}')
    assert (kernel.divisor, kernel.offset) == (1.0, 128.0)
    kernel = kernel_from_json('{"weights": [[1, 2, 1]], "divisor": 4}')  # no version: the newest
    assert (kernel.divisor, kernel.offset) == (4.0, 0.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('"divisor": 0', "'k.json': 'divisor' is 0; it must be a finite number other than 0"),
        ('"divisor": -0.0', "'divisor' is -0.0; it must be a finite number other than 0"),
        ('"divisor": NaN', "'divisor' is nan; it must be a finite number other than 0"),
        ('"divisor": "4"', "'divisor' is '4'; it must be a finite number other than 0"),
        ('"divisor": true', "'divisor' is True; it must be a finite number other than 0"),
        ('"offset": Infinity', "'offset' is inf; it must be a finite number"),
        ('"offset": null', "'offset' is None; it must be a finite number"),
        ('"offset": 1' + "0" * 400, "'offset' is 1000"),
    ],
)
def test_bad_divisor_or_offset_names_the_field_and_the_value(fields, message):
    with pytest.raises(KernelFileError) as refused:
        kernel_from_json(f'{{"version": 2, "weights": [[1]], {fields}}}', source="'k.json'")
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("divisor", "offset"), [(0.0, 0.0), (float("nan"), 0.0), (1.0, float("inf"))]
)
def test_writing_a_bad_divisor_or_offset_is_refused(tmp_path, divisor, offset):
    with pytest.raises(KernelFileError, match="it must be a finite number"):
        write_kernel_file(tmp_path / "k.json", Kernel("k", np.ones((1, 1)), divisor, offset))
    assert not list(tmp_path.iterdir())


@settings(max_examples=50)
@given(
    name=st.text(max_size=30),
    height=st.sampled_from([1, 3, 5]),
    width=st.sampled_from([1, 3, 7]),
    values=st.lists(st.floats(-1e36, 1e36), min_size=35, max_size=35),
    divisor=st.floats(allow_nan=False, allow_infinity=False).filter(bool),
    offset=st.floats(allow_nan=False, allow_infinity=False),
)
def test_kernel_json_round_trip_is_exact(name, height, width, values, divisor, offset):
    weights = np.array(values[: height * width]).reshape(height, width)
    loaded = kernel_from_json(kernel_to_json(Kernel(name, weights, divisor, offset)))
    assert (loaded.name, loaded.divisor, loaded.offset) == (name, divisor, offset)
    np.testing.assert_array_equal(loaded.weights, weights)


def test_minimal_hand_written_file_is_accepted():
    kernel = kernel_from_json('{"name": "edge", "weights": [[1, 0, -1]]}')
    np.testing.assert_array_equal(kernel.weights, [[1, 0, -1]])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[[1, 0, -1]]", "JSON object"),
        ('{"name": "x"}', "no 'weights'"),
        ('{"weights": "1 0 -1"}', "list of rows"),
        ('{"weights": [1, 0, -1]}', "list of rows"),
        ('{"weights": [["1", 0, -1]]}', "not a finite number"),
        ('{"weights": [[true, 0, -1]]}', "not a finite number"),
        ('{"weights": [[null, 0, -1]]}', "not a finite number"),
        ('{"weights": [[1, 0], [1, 0]]}', "must be odd"),
        ('{"weights": [[1, 0, -1], [1]]}', "equal-length rows"),
        ('{"weights": []}', "2-D"),
        ('{"weights": [[NaN, 0, 1]]}', "finite number"),
        ('{"weights": [[1e999, 0, 1]]}', "finite number"),
        ('{"weights": [[1' + "0" * 400 + ", 0, 1]]}", "finite number"),
        ('{"weights": [[1' + "0" * 5000 + ", 0, 1]]}", "not valid JSON"),
        ('{"name": 3, "weights": [[1]]}', "name that is not text"),
        ('{"format": "gimp", "weights": [[1]]}', "not a Kernel Studio kernel"),
        ('{"version": 99, "weights": [[1]]}', "version 99"),
        ('{"version": "1", "weights": [[1]]}', "invalid version"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_kernel_json_is_refused(text, reason):
    with pytest.raises(KernelFileError, match=reason):
        kernel_from_json(text)


@settings(max_examples=300)
@given(st.text())
def test_any_text_is_a_kernel_or_a_kernel_file_error(text):
    try:
        kernel = kernel_from_json(text)
    except KernelFileError as error:
        message = str(error)
        assert message
    else:
        assert np.isfinite(kernel.weights).all()


def test_reading_missing_or_binary_files_raises_kernel_file_error(tmp_path):
    with pytest.raises(
        KernelFileError, match=r"Cannot read 'missing\.json': the file does not exist"
    ):
        read_kernel_file(tmp_path / "missing.json")
    with pytest.raises(KernelFileError, match="Cannot read"):
        read_kernel_file(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(KernelFileError, match="not a text file"):
        read_kernel_file(binary)


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "kernel.json"
    path.write_text("old content")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(KernelFileError, match="the disk is full"):
        write_kernel_file(path, Kernel("k", np.ones((3, 3))))
    assert path.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernel.json"]


def test_write_into_missing_folder_raises_kernel_file_error(tmp_path):
    with pytest.raises(KernelFileError, match=r"Cannot save 'k\.json': the folder does not exist"):
        write_kernel_file(tmp_path / "nope" / "k.json", Kernel("k", np.ones((1, 1))))


def test_writing_an_invalid_kernel_is_refused(tmp_path):
    with pytest.raises(KernelFileError, match="must be odd"):
        write_kernel_file(tmp_path / "k.json", Kernel("k", np.ones((2, 2))))
    assert not list(tmp_path.iterdir())


def test_module_never_uses_eval():
    source = Path(kernels.__file__).read_text(encoding="utf-8")
    assert "eval(" not in source
    assert "exec(" not in source


# format_weight -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-3.0, "-3"),
        (0.0625, "1/16"),
        (-0.125, "-1/8"),
        (1 / 9, "1/9"),
        (0.011343, "0.01134"),
        (1e7, "1e+07"),
        (1e-300, "1e-300"),
    ],
)
def test_format_weight(value, text):
    assert kernels.format_weight(value) == text


@settings(max_examples=200)
@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_formatted_weights_parse_back_to_four_significant_digits(value):
    assert parse_weight(kernels.format_weight(value)) == pytest.approx(value, rel=1e-3, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.fractions(max_denominator=300).map(float),
            st.integers(-(10**7), 10**7).map(float),
            st.floats(-1, 1).map(lambda value: round(value, 3)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_format_weights_writes_each_weight_as_format_weight_does(values):
    from kernelstudio.kernels import format_weights

    assert format_weights(values) == [format_weight(value) for value in values]
