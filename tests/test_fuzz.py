"""Fuzzing everything a person types or loads: cells, kernel text, kernel files, extreme weights.

Every input either works or is refused with a message; no input is ever run as code; and
however extreme the weights, only uint8 pixels reach the view.
"""

import builtins
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernelstudio.convolution import BORDERS, convolve
from kernelstudio.display import DISPLAY_MODES, to_uint8, white_level
from kernelstudio.kernels import (
    KERNEL_FILE_FORMAT,
    KERNEL_FILE_VERSION,
    MAX_KERNEL_SIDE,
    Kernel,
    KernelFileError,
    kernel_from_json,
    parse_kernel,
    parse_weight,
)

CORE_FUZZ = settings(max_examples=400, deadline=None)

# Injected code --------------------------------------------------------------------

SENTINEL_FILE = Path(tempfile.gettempdir()) / f"kernelstudio-fuzz-sentinel-{os.getpid()}"
MARK = "kernelstudio_fuzz_executed"
PAYLOADS = (
    f"__import__('os').system('touch {SENTINEL_FILE}')",
    f"open({str(SENTINEL_FILE)!r}, 'w').write('x')",
    f"setattr(__import__('builtins'), {MARK!r}, True)",
    f"exec('import builtins; builtins.{MARK} = True')",
    "eval('1+1')",
    "os.system('true')",
    f"lambda: setattr(__import__('builtins'), {MARK!r}, True)",
    "f'{1+1}'",
    "(1).__class__.__mro__",
    "__builtins__",
    "${HOME}",
    "`id`",
)
NUMBERISH = (
    *"0123456789",
    *"+-/.eE",
    " ",
    "\t",
    "\n",
    "\u2212",
    "\u2012",
    "\u2013",
    "_",
    "x",
    "j",
    "0x1F",
    "0b1",
    "1_000",
    "1j",
    "2**3",
    "2*3",
    "1//2",
    "~1",
    "()",
    "[1]",
    "None",
    "True",
    "inf",
    "-inf",
    "nan",
    "Infinity",
    "1e309",
    "1e-400",
    "1e308",
    "\u0661\u0662",  # Arabic-Indic digits, which Python's float() reads
    "\uff11\uff12",  # full-width digits
    "\u00b2",
    "\u00bd",
    "\u00a0",
    "\x1c",  # str.isspace() but not ASCII whitespace
)
SAFE_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})
NUMBER_CHARACTERS = set("0123456789+-./eE \t\n\r\x0b\x0c\u2212\u2012\u2013")


@contextmanager
def code_execution_forbidden():
    """Make every way of running text as Python fail loudly for the duration.

    NumPy imports some of its own modules lazily, so those imports alone are let through.
    """
    real_import = builtins.__import__

    def refuse(*args, **kwargs):
        raise AssertionError(f"input was handed to the interpreter: {args[:1]!r}")

    def numpy_only_import(name, *args, **kwargs):
        if name == "numpy" or name.startswith("numpy."):
            return real_import(name, *args, **kwargs)
        return refuse(name)

    replacements = {"eval": refuse, "exec": refuse, "compile": refuse}
    replacements["__import__"] = numpy_only_import
    saved = {name: getattr(builtins, name) for name in replacements}
    for name, function in replacements.items():
        setattr(builtins, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(builtins, name, function)


def assert_nothing_ran():
    assert not SENTINEL_FILE.exists()
    assert not hasattr(builtins, MARK)


@pytest.fixture(scope="module", autouse=True)
def _no_sentinel_before():
    assert not SENTINEL_FILE.exists(), f"remove {SENTINEL_FILE} left by an earlier run"
    yield
    assert_nothing_ran()


def numberish_text(fragments=NUMBERISH + PAYLOADS, max_size=8):
    return st.lists(st.sampled_from(fragments), max_size=max_size).map("".join)


WEIGHT_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds("{}/{}".format, st.integers(-999, 999), st.integers(-999, 999)),
    st.integers(-(10**6), 10**6).map(str),
)


def reference_weight(text):
    """Python's own float() on the one or two numbers of a fraction, for number-only text."""
    numerator, slash, denominator = text.translate(SAFE_MINUS).partition("/")
    parts = (float(numerator), float(denominator) if slash else 1.0)
    value = parts[0] / parts[1]
    if not all(math.isfinite(number) for number in parts) or not finite_in_float32(value):
        raise ValueError("too large")
    return value


def finite_in_float32(value):
    """Whether numpy's float32 keeps `value` finite (the engine computes in float32)."""
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.float32(value)))


# parse_weight -----------------------------------------------------------------------


@CORE_FUZZ
@given(st.one_of(st.text(), numberish_text(), WEIGHT_TEXT))
@example(PAYLOADS[0])
@example("1/0")
@example("1e308/1e-10")
@example("\u0661")
def test_any_cell_text_is_a_finite_weight_or_a_message_and_never_code(text):
    with code_execution_forbidden():
        try:
            value = parse_weight(text)
        except ValueError as error:
            value, message = None, str(error)
    assert_nothing_ran()
    event("refused" if value is None else "parsed")
    if value is None:
        assert message.strip()
        return
    assert type(value) is float
    assert math.isfinite(value)
    # Only digits, signs, points, exponents, one slash and ASCII spaces are ever accepted.
    assert set(text) <= NUMBER_CHARACTERS
    assert text.count("/") <= 1


@CORE_FUZZ
@given(st.text(alphabet=sorted(NUMBER_CHARACTERS), max_size=14))
@example("1 / -4")
@example(".5e-3/+2.")
@example("5e-324/2")
@example("1/1e999")
def test_number_text_parses_exactly_as_pythons_float_reads_it(text):
    # float() also reads "1_0", "inf" and Arabic digits, so the comparison is limited to
    # the characters a weight may contain; within them both must agree on every text.
    try:
        expected = reference_weight(text)
    except (ValueError, ZeroDivisionError):
        expected = None
    try:
        value = parse_weight(text)
    except ValueError:
        value = None
    assert value == expected


# parse_kernel -----------------------------------------------------------------------


def _check_kernel_text(text):
    with code_execution_forbidden():
        try:
            weights = parse_kernel(text)
        except ValueError as error:
            weights, message = None, str(error)
    assert_nothing_ran()
    if weights is None:
        assert message.strip()
        return None
    assert weights.dtype == np.float64
    assert weights.ndim == 2
    height, width = weights.shape
    assert height % 2 == 1
    assert width % 2 == 1
    assert max(height, width) <= MAX_KERNEL_SIDE
    assert np.isfinite(weights).all()
    return weights


@CORE_FUZZ
@given(
    st.one_of(
        st.text(),
        numberish_text(NUMBERISH + PAYLOADS + (";", ",", "\r\n", " ; ", "\n\n"), max_size=20),
    )
)
@example("1e308 1e308 1e308")
@example(";;;\n")
@example("1 2;3")
def test_any_kernel_text_is_an_odd_finite_kernel_or_a_message(text):
    _check_kernel_text(text)


def _cell_text(value, style):
    if style == "repr":
        return repr(value)
    if style == "typographic-minus":
        return repr(value).replace("-", "\u2212")
    numerator, denominator = value.as_integer_ratio()
    if denominator > 2**40:  # keep the fraction exact in float64
        return repr(value)
    return (
        f"{numerator} / {denominator}"
        if style == "spaced-fraction"
        else f"{numerator}/{denominator}"
    )


@st.composite
def written_kernels(draw):
    """A grid of weights and the text a person might write for it."""
    height = draw(st.one_of(st.integers(1, 8), st.sampled_from([MAX_KERNEL_SIDE, 64, 65])))
    width = draw(st.one_of(st.integers(1, 8), st.sampled_from([MAX_KERNEL_SIDE, 64, 65])))
    seed = draw(st.integers(0, 2**32 - 1))
    magnitude = draw(st.sampled_from([1.0, 1e-30, 1e30, 1e300]))
    values = np.random.default_rng(seed).normal(size=(height, width)) * magnitude
    style = draw(st.sampled_from(["repr", "typographic-minus", "fraction", "spaced-fraction"]))
    cell_separator = draw(st.sampled_from([" ", ",", ", ", "\t", " , "]))
    row_separator = draw(st.sampled_from([";", "\n", " ; ", "\r\n", ";\n", "\n\n"]))
    rows = [cell_separator.join(_cell_text(float(v), style) for v in row) for row in values]
    return values, row_separator.join(rows)


@settings(max_examples=200, deadline=None)
@given(written_kernels())
def test_written_kernels_parse_to_exactly_their_weights(written):
    values, text = written
    height, width = values.shape
    fits_float32 = finite_in_float32(np.abs(values).sum())
    usable = height % 2 and width % 2 and max(height, width) <= MAX_KERNEL_SIDE
    if usable and fits_float32:
        np.testing.assert_array_equal(_check_kernel_text(text), values)
    else:
        with pytest.raises(ValueError, match=r"odd|larger than the limit|too large|float32"):
            parse_kernel(text)


# kernel files -----------------------------------------------------------------------

HUGE_INTEGERS = st.integers(min_value=10**300, max_value=10**400) | st.integers(
    max_value=-(10**300), min_value=-(10**400)
)
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTEGERS
    | st.floats()  # NaN and infinities are written as NaN / Infinity, which json reads
    | st.text(max_size=10)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
WEIGHT_VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(),
    HUGE_INTEGERS,
    st.sampled_from([1e30, -1e30, 1e-30, 1.7976931348623157e308, 5e-324, 0, -0.0]),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)


@st.composite
def weight_rows(draw):
    height = draw(st.integers(0, 5))
    width = draw(st.integers(0, 5))
    rows = [draw(st.lists(WEIGHT_VALUES, min_size=width, max_size=width)) for _ in range(height)]
    if rows and draw(st.booleans()):
        rows[-1] = draw(st.lists(WEIGHT_VALUES, max_size=5))  # perhaps ragged
    return rows


KERNEL_DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "format": st.just(KERNEL_FILE_FORMAT) | JSON_VALUES,
        "version": st.sampled_from([1, KERNEL_FILE_VERSION, 0, 3, 1.0, True]) | JSON_VALUES,
        "name": st.text(max_size=20) | JSON_VALUES,
        "weights": weight_rows() | JSON_VALUES,
        "divisor": WEIGHT_VALUES | JSON_VALUES,
        "offset": WEIGHT_VALUES | JSON_VALUES,
        "comment": JSON_VALUES,
    },
)


FINITE_NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e30, -1e30, 1e-30, 10**300, -(10**300)]),
)


@st.composite
def valid_documents(draw):
    """Kernel files as Kernel Studio or a careful person writes them, extra keys allowed."""
    height, width = draw(st.sampled_from([1, 3, 5, 7])), draw(st.sampled_from([1, 3, 5, 7]))
    document = {"weights": [[draw(FINITE_NUMBERS) for _ in range(width)] for _ in range(height)]}
    if draw(st.booleans()):
        document["format"] = KERNEL_FILE_FORMAT
    if draw(st.booleans()):
        document["version"] = draw(st.sampled_from([1, KERNEL_FILE_VERSION]))
    if draw(st.booleans()):
        document["name"] = draw(st.text(max_size=20))
    if draw(st.booleans()):
        document["divisor"] = draw(FINITE_NUMBERS.filter(bool))
    if draw(st.booleans()):
        document["offset"] = draw(FINITE_NUMBERS)
    if draw(st.booleans()):
        document["comment"] = draw(JSON_VALUES)
    return document


def _is_weight(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def expected_kernel(document):
    """The kernel a document describes, by the file format's rules, or None."""
    if not isinstance(document, dict):
        return None
    if document.get("format", KERNEL_FILE_FORMAT) != KERNEL_FILE_FORMAT:
        return None
    version = document.get("version", KERNEL_FILE_VERSION)
    if type(version) is not int or not 1 <= version <= KERNEL_FILE_VERSION:
        return None
    name = document.get("name", "")
    rows = document.get("weights")
    if not isinstance(name, str) or not isinstance(rows, list) or not rows:
        return None
    if not all(isinstance(row, list) and len(row) == len(rows[0]) for row in rows):
        return None
    height, width = len(rows), len(rows[0])
    if not (height % 2 and width % 2 and max(height, width) <= MAX_KERNEL_SIDE):
        return None
    if not all(_is_weight(value) for row in rows for value in row):
        return None
    weights = np.array([[float(value) for value in row] for row in rows])
    if not finite_in_float32(np.abs(weights).sum()):
        return None
    if version == 1:  # version 1 had no divisor and offset: those keys mean nothing there
        return Kernel(name, weights)
    divisor, offset = document.get("divisor", 1), document.get("offset", 0)
    if not (_is_weight(divisor) and divisor != 0 and _is_weight(offset)):
        return None
    return Kernel(name, weights, float(divisor), float(offset))


def _load_document_text(text):
    with code_execution_forbidden():
        try:
            kernel = kernel_from_json(text, source="'fuzz.json'")
        except KernelFileError as error:
            kernel, message = None, str(error)
    assert_nothing_ran()
    if kernel is None:
        assert "fuzz.json" in message
        return None
    assert isinstance(kernel.name, str)
    assert kernel.weights.dtype == np.float64
    assert kernel.weights.ndim == 2
    assert kernel.weights.shape[0] % 2 == 1
    assert kernel.weights.shape[1] % 2 == 1
    assert np.isfinite(kernel.weights).all()
    return kernel


@CORE_FUZZ
@given(st.one_of(valid_documents(), KERNEL_DOCUMENTS, JSON_VALUES))
@example({"weights": [[10**400]]})
@example({"weights": [[True]]})
@example({"weights": [[1, 2, 3]], "version": True})
@example({"weights": [[1.0e308, -1.0e308, 5e-324]]})
def test_any_json_document_is_its_kernel_or_a_kernel_file_error(document):
    kernel = _load_document_text(json.dumps(document))
    expected = expected_kernel(document)
    event("refused" if expected is None else "loaded")
    if expected is None:
        assert kernel is None
    else:
        assert kernel is not None
        assert (kernel.name, kernel.divisor, kernel.offset) == (
            expected.name,
            expected.divisor,
            expected.offset,
        )
        np.testing.assert_array_equal(kernel.weights, expected.weights)


def _nested(depth, key, opener="[", closer="]"):
    return "{" + json.dumps(key) + ": " + opener * depth + "1" + closer * depth + "}"


@CORE_FUZZ
@given(
    st.one_of(
        st.text(),
        st.builds(
            _nested,
            st.integers(1, 5_000),
            st.sampled_from(["format", "version", "name", "weights", "other"]),
        ),
        st.builds(
            _nested,
            st.integers(1, 5_000),
            st.sampled_from(["format", "weights"]),
            st.just('{"a": '),
            st.just("}"),
        ),
        st.builds(
            lambda key, digits: f'{{"{key}": 1{"0" * digits}, "weights": [[1]]}}',
            st.sampled_from(["version", "name", "weights"]),
            st.integers(4_000, 20_000),
        ),
        numberish_text(NUMBERISH + PAYLOADS + tuple('{}[]":,') + ("weights", "NaN"), 30),
    )
)
@example('{"weights": [[1' + "0" * 5_000 + "]]}")
@example('{"weights": [[NaN]]}')
@example('{"weights": [[Infinity]]}')
@example('{"weights": [[1e999]]}')
@example('{"weights": ' + "[" * 100_000 + "]" * 100_000 + "}")
def test_any_file_text_is_a_kernel_or_a_kernel_file_error(text):
    _load_document_text(text)


# Extreme weights on the way to the screen ---------------------------------------------

EXTREMES = (1e30, -1e30, 1e-30, -1e-30, 3e38, -3e38, 1e39, 1e300, -1e300, 1e-45, 5e-324, 0.0)
EXTREME_WEIGHTS = st.sampled_from(EXTREMES) | st.floats(
    min_value=-1e35, max_value=1e35, allow_nan=False, allow_infinity=False
)


@st.composite
def extreme_kernels(draw):
    shape = draw(st.sampled_from([(1, 1), (1, 3), (3, 3), (3, 5), (7, 7), (31, 31)]))
    if shape == (31, 31) and draw(st.booleans()):
        # Many taps of one huge weight: the sum overflows float32 to infinity.
        value = draw(st.sampled_from([1e36, -1e36, 3e38]))
        weights = np.full(shape, value)
        weights[::2, 1::3] *= -1 if draw(st.booleans()) else 1
        return weights
    return draw(hnp.arrays(np.float64, shape, elements=EXTREME_WEIGHTS))


@st.composite
def small_images(draw):
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float32]))
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    shape = (height, width, 3) if draw(st.booleans()) else (height, width)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype is np.float32:
        return rng.normal(scale=2.0, size=shape).astype(np.float32)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow to infinity is the point
@settings(max_examples=300, deadline=None)
@given(
    image=small_images(),
    weights=extreme_kernels(),
    border=st.sampled_from(BORDERS),
    flip=st.booleans(),
)
def test_extreme_weights_always_map_to_uint8_pixels(image, weights, border, flip):
    fits = image.shape[0] >= weights.shape[0] and image.shape[1] >= weights.shape[1]
    if border == "valid" and not fits:
        border = "constant"
    with np.errstate(all="ignore"):
        result = convolve(image, weights, border=border, flip=flip)
    white = white_level(image.dtype)
    for mode in DISPLAY_MODES:
        pixels = to_uint8(result, mode, white=white)
        assert pixels.dtype == np.uint8
        assert pixels.shape == result.shape
        if mode == "clip":
            assert (pixels[np.isnan(result)] == 0).all()
            assert (pixels[result == np.inf] == 255).all()
            assert (pixels[result == -np.inf] == 0).all()
            finite = np.isfinite(result)
            with np.errstate(all="ignore"):
                reference = np.clip(np.rint(result.astype(np.float64) * 255 / white), 0, 255)
            assert np.abs(pixels[finite].astype(int) - reference[finite]).max(initial=0) <= 1
        elif mode == "abs":
            assert (pixels[np.isinf(result)] == 255).all()


@pytest.mark.parametrize(
    "values",
    [
        [200.1, 200.10011291503906],  # a float image with a narrow range: max shows as 224
        [251.26870727539062, 251.26876831054688, 251.26881408691406],
        [1e-40, 2e-40, 3e-40],  # 1e-40 weights on any image: all white
    ],
    ids=["narrow-range", "narrow-range-3", "tiny-range"],
)
def test_normalize_stretches_narrow_and_tiny_ranges_to_black_and_white(values):
    pixels = to_uint8(np.array(values, dtype=np.float32), "normalize")
    assert pixels[0] == 0
    assert pixels[-1] == 255
