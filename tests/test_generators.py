"""Kernel generators against independent oracles: OpenCV, Pascal's triangle, supersampling.

Nothing here compares a generator with its own output: every expected kernel comes
from OpenCV (``getGaussianKernel``, ``getGaborKernel``, ``getDerivKernels``), exact
integer arithmetic, a hand-written matrix, a documented property of the maths, or a
brute-force rasterisation (dense points along a motion-blur line, dense points in each
cell of a disk).
"""

import contextlib
import math
import warnings

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import integrate, ndimage

from kernelstudio.generators import (
    GENERATORS,
    MAX_SIDE,
    GeneratorError,
    GeneratorSettings,
    TruncatedKernelWarning,
    binomial,
    box,
    check_settings,
    difference_of_gaussians,
    disk,
    elliptical_gaussian,
    emboss,
    gabor,
    gaussian,
    generate,
    identity,
    laplacian,
    laplacian_of_gaussian,
    looks_like_spec,
    motion_blur,
    parse_spec,
    prewitt,
    scharr,
    sharpen,
    sobel,
    unsharp_mask,
)

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)

# What every generator's weights sum to, as its docstring says (None: not constrained).
DOCUMENTED_SUM = {
    "identity": 1.0,
    "box": 1.0,
    "binomial": 1.0,
    "gaussian": 1.0,
    "elliptical-gaussian": 1.0,
    "log": 0.0,
    "dog": 0.0,
    "gabor": None,
    "motion-blur": 1.0,
    "disk": 1.0,
    "unsharp-mask": 1.0,
    "sobel": 0.0,
    "scharr": 0.0,
    "prewitt": 0.0,
    "emboss": 1.0,
    "laplacian": 0.0,
    "sharpen": 1.0,
}
SLUGS = list(DOCUMENTED_SUM)
DIRECTIONS = ["right", "left", "bottom", "top"]


# ---------------------------------------------------------------- oracles and strategies


def cv2_gaussian(size, sigma):
    """The 2-D Gaussian as OpenCV makes it: the outer product of its 1-D kernel."""
    column = cv2.getGaussianKernel(size, sigma, ktype=cv2.CV_64F)
    return column @ column.T


def auto_side(sigma):
    """The documented automatic side of a Gaussian-based kernel."""
    return 2 * math.ceil(3 * sigma) + 1


def cv2_derivative(dx, dy, size):
    """OpenCV's derivative kernel: ky kxᵀ of getDerivKernels."""
    kx, ky = cv2.getDerivKernels(dx, dy, size, ktype=cv2.CV_64F)
    return np.outer(ky, kx)


@contextlib.contextmanager
def no_truncation_warning():
    """A TruncatedKernelWarning inside is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncatedKernelWarning)
        yield


def value_strategy(parameter):
    """Every value a parameter takes, read from its registry metadata only."""
    if parameter.kind == "choice":
        values = st.sampled_from(parameter.choices)
    elif parameter.odd:
        low = math.ceil((parameter.minimum - 1) / 2)
        high = math.floor((parameter.maximum - 1) / 2)
        values = st.integers(low, high).map(lambda k: 2 * k + 1)
    elif parameter.kind == "int":
        values = st.integers(math.ceil(parameter.minimum), math.floor(parameter.maximum))
    else:
        values = st.floats(parameter.minimum, parameter.maximum, allow_nan=False)
    return st.none() | values if parameter.optional else values


def values_strategy(slug):
    """A dict of values for `slug`: every required parameter, any of the others."""
    parameters = GENERATORS[slug].parameters
    return st.fixed_dictionaries(
        {p.name: value_strategy(p) for p in parameters if p.required},
        optional={p.name: value_strategy(p) for p in parameters if not p.required},
    )


def made(slug, values):
    """The weights of `slug` with `values`, any truncation warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        return GENERATORS[slug].function(**values)


def assert_symmetric_8_fold(weights, atol=0.0):
    for image in (weights.T, weights[::-1], weights[:, ::-1], weights[::-1, ::-1]):
        np.testing.assert_allclose(image, weights, rtol=0, atol=atol)


# ---------------------------------------------------------------- the registry


def test_registry_lists_every_generator_in_order():
    assert list(GENERATORS) == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_every_parameter_start_passes_its_own_check(slug):
    entry = GENERATORS[slug]
    assert entry.slug == slug
    assert entry.title
    assert entry.summary
    for parameter in entry.parameters:
        assert parameter.check(parameter.start, slug) == parameter.start
        if parameter.kind == "choice":
            assert parameter.start in parameter.choices
        elif parameter.start is None:
            assert parameter.optional
        else:
            assert parameter.minimum <= parameter.start <= parameter.maximum
            assert parameter.step > 0
    settings_ = entry.start_settings()
    assert settings_.slug == slug
    assert [name for name, _ in settings_.parameters] == [p.name for p in entry.parameters]
    assert generate(settings_).weights.ndim == 2


def test_parameter_metadata_reads_the_signatures():
    sigma = GENERATORS["gaussian"].parameter("sigma")
    assert (sigma.kind, sigma.required, sigma.minimum, sigma.maximum, sigma.unit) == (
        "float",
        True,
        0.1,
        10.0,
        "px",
    )
    size = GENERATORS["gaussian"].parameter("size")
    assert (size.kind, size.required, size.default, size.odd, size.optional) == (
        "int",
        False,
        None,
        True,
        True,
    )
    assert (size.minimum, size.maximum) == (1, MAX_SIDE)
    direction = GENERATORS["sobel"].parameter("direction")
    assert direction.kind == "choice"
    assert direction.choices == tuple(DIRECTIONS)
    assert GENERATORS["sobel"].parameter("size").choices == (3, 5, 7)
    assert GENERATORS["identity"].parameter("size").optional is False
    assert GENERATORS["gabor"].parameter("theta").unit == "°"


def test_parameter_lookup_names_the_others():
    with pytest.raises(GeneratorError, match=r"radius.*sigma, size"):
        GENERATORS["gaussian"].parameter("radius")


# ---------------------------------------------------------------- check_settings


@pytest.mark.parametrize(
    ("slug", "values", "words"),
    [
        pytest.param("gaussian", {"sigma": 50}, ["sigma", "0.1 to 10 px"], id="above-range"),
        pytest.param("gaussian", {"sigma": 0.05}, ["sigma", "0.1 to 10 px"], id="below-range"),
        pytest.param("gaussian", {"sigma": "2"}, ["sigma", "0.1 to 10"], id="string"),
        pytest.param("gaussian", {"sigma": True}, ["sigma", "0.1 to 10"], id="bool"),
        pytest.param("gaussian", {"sigma": math.nan}, ["sigma", "0.1 to 10"], id="nan"),
        pytest.param("gaussian", {"sigma": math.inf}, ["sigma", "0.1 to 10"], id="inf"),
        pytest.param("gaussian", {"sigma": [1]}, ["sigma", "0.1 to 10"], id="list"),
        pytest.param(
            "gaussian", {"sigma": 1, "size": 4}, ["size", "odd", "1 to 31"], id="even-size"
        ),
        pytest.param(
            "gaussian", {"sigma": 1, "size": 3.5}, ["size", "odd", "1 to 31"], id="half-size"
        ),
        pytest.param(
            "gaussian", {"sigma": 1, "size": 33}, ["size", "odd", "1 to 31"], id="big-size"
        ),
        pytest.param("box", {"rows": 3, "cols": None}, ["cols", "1 to 31"], id="none-not-auto"),
        pytest.param("gaussian", {}, ["needs sigma", "0.1 to 10 px"], id="missing"),
        pytest.param(
            "gabor", {"sigma": 2, "theta": 0}, ["needs wavelength", "2 to 31 px"], id="missing-2"
        ),
        pytest.param(
            "gaussian", {"sigma": 1, "radius": 2}, ["radius", "sigma, size"], id="unknown-name"
        ),
        pytest.param("gaussain", {}, ["gaussain", "gaussian"], id="unknown-generator"),
        pytest.param(
            "sobel", {"direction": "up"}, ["direction", "right, left, bottom, top"], id="choice"
        ),
        pytest.param(
            "sobel", {"direction": "right", "size": 9}, ["size", "3, 5, 7"], id="choice-size"
        ),
        pytest.param("laplacian", {"neighbours": 6}, ["neighbours", "4, 8"], id="neighbours"),
        pytest.param("emboss", {"angle": 181}, ["angle", "-180 to 180°"], id="angle"),
    ],
)
def test_check_settings_names_the_parameter_and_its_range(slug, values, words):
    with pytest.raises(GeneratorError) as caught:
        check_settings(slug, values)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_the_functions_check_their_arguments_too():
    with pytest.raises(GeneratorError, match=r"sigma.*0\.1 to 10 px"):
        gaussian(50)
    with pytest.raises(GeneratorError, match=r"size.*odd"):
        gaussian(1.0, size=4)
    with pytest.raises(GeneratorError, match="direction"):
        sobel("up")


def test_check_settings_fills_defaults_and_converts_types():
    settings_ = check_settings("gaussian", {"sigma": 2})
    assert settings_ == GeneratorSettings("gaussian", (("sigma", 2.0), ("size", None)))
    assert isinstance(settings_.values["sigma"], float)
    settings_ = check_settings("identity", {"size": np.int64(5)})
    assert settings_.values == {"size": 5}
    assert type(settings_.values["size"]) is int
    settings_ = check_settings("sobel", {"direction": "top", "size": 5.0})
    assert settings_.values == {"direction": "top", "size": 5}
    assert check_settings("gaussian", {"sigma": 1, "size": None}).values["size"] is None


def test_with_values_changes_and_checks():
    settings_ = check_settings("gaussian", {"sigma": 2})
    assert settings_.with_values(sigma=3).values == {"sigma": 3.0, "size": None}
    assert settings_.values["sigma"] == 2.0
    with pytest.raises(GeneratorError, match="sigma"):
        settings_.with_values(sigma=11)


# ---------------------------------------------------------------- parse_spec


@pytest.mark.parametrize(
    ("text", "slug", "values"),
    [
        ("gaussian:sigma=2.5", "gaussian", {"sigma": 2.5, "size": None}),
        (
            "gabor:sigma=3,theta=45,wavelength=8",
            "gabor",
            {
                "sigma": 3.0,
                "theta": 45.0,
                "wavelength": 8.0,
                "aspect": 1.0,
                "phase": 0.0,
                "size": None,
            },
        ),
        ("sobel:direction=top,size=5", "sobel", {"direction": "top", "size": 5}),
        ("gaussian:sigma=2,size=auto", "gaussian", {"sigma": 2.0, "size": None}),
        ("gaussian:sigma=2,size=7", "gaussian", {"sigma": 2.0, "size": 7}),
        (" gaussian : sigma = 2 , size = AUTO ", "gaussian", {"sigma": 2.0, "size": None}),
        ("emboss:angle=\u221245", "emboss", {"angle": -45.0, "strength": 1.0}),
        ("gaussian:sigma=.5", "gaussian", {"sigma": 0.5, "size": None}),
        ("gaussian:sigma=2e-1", "gaussian", {"sigma": 0.2, "size": None}),
        ("laplacian", "laplacian", {"neighbours": 4, "strength": 1.0}),
        ("laplacian:neighbours=8,", "laplacian", {"neighbours": 8, "strength": 1.0}),
    ],
)
def test_parse_spec_reads_good_specs(text, slug, values):
    settings_ = parse_spec(text)
    assert settings_.slug == slug
    assert settings_.values == values
    assert looks_like_spec(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("blur:sigma=2", ["blur", "gaussian"], id="unknown-generator"),
        pytest.param("gaussian:sigma=abc", ["sigma", "abc", "0.1 to 10"], id="not-a-number"),
        pytest.param("gaussian:sigma=2,sigma=3", ["sigma", "twice"], id="twice"),
        pytest.param("gaussian:sigma", ["sigma", "name=value"], id="no-value"),
        pytest.param("gaussian:sigma=", ["sigma", "name=value"], id="empty-value"),
        pytest.param("gaussian:sigma=1e400", ["sigma", "0.1 to 10"], id="overflow"),
        pytest.param("gaussian:sigma=2*3", ["sigma", "0.1 to 10"], id="expression"),
        pytest.param("gaussian:sigma=nan", ["sigma", "0.1 to 10"], id="nan"),
        pytest.param("gaussian:sigma=inf", ["sigma", "0.1 to 10"], id="inf"),
        pytest.param("gaussian:sigma=0x10", ["sigma", "0.1 to 10"], id="hex"),
        pytest.param("gaussian:sigma=1_0", ["sigma", "0.1 to 10"], id="underscore"),
        pytest.param("gaussian:sigma=50", ["sigma", "0.1 to 10"], id="out-of-range"),
        pytest.param("gaussian:radius=2", ["radius", "sigma, size"], id="unknown-parameter"),
        pytest.param("gaussian:size=5", ["needs sigma"], id="missing"),
        pytest.param("gaussian:sigma=1,size=4", ["size", "odd"], id="even-size"),
        pytest.param("sobel:direction=up", ["direction", "right, left"], id="bad-choice"),
        pytest.param("sobel:direction=right,size=auto", ["size", "3, 5, 7"], id="no-auto"),
        pytest.param("box:rows=auto,cols=3", ["rows", "1 to 31"], id="auto-not-optional"),
        pytest.param("Gaussian:sigma=2", ["Gaussian"], id="capital"),
        pytest.param("", ["generator"], id="empty"),
        pytest.param("gaussian:sigma=1\n2", ["sigma", "0.1 to 10"], id="newline-in-value"),
        pytest.param("gaussian:sigma=2,\nradius=1", ["radius"], id="newline-in-name"),
        pytest.param("gaussian:sigma=2,\nx", ["name=value"], id="newline-no-equals"),
    ],
)
def test_parse_spec_rejects_bad_specs_in_one_line(text, words):
    with pytest.raises(GeneratorError) as caught:
        parse_spec(text)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_parse_spec_never_evaluates(monkeypatch):
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("evaluated")

    monkeypatch.setattr(builtins, "eval", refuse)
    with pytest.raises(GeneratorError):
        parse_spec("gaussian:sigma=__import__('os').getcwd()")
    with pytest.raises(GeneratorError):
        parse_spec("gaussian:sigma=2*3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gaussian", True),
        ("gabor:sigma=3", True),
        ("motion-blur:length=9,angle=0", True),
        ("gaussian:sigma=abc", True),
        ("1 2 1", False),
        ("sharpen.json", False),
        ("blur:sigma=2", False),
        ("", False),
    ],
)
def test_looks_like_spec(text, expected):
    assert looks_like_spec(text) is expected


@pytest.mark.parametrize("slug", SLUGS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_spec_round_trips_through_parse_spec(slug, data):
    settings_ = check_settings(slug, data.draw(values_strategy(slug)))
    again = parse_spec(settings_.spec)
    assert again == settings_
    assert again.spec == settings_.spec


def test_spec_spelling():
    assert check_settings("gaussian", {"sigma": 2}).spec == "gaussian:sigma=2,size=auto"
    precise = parse_spec("gaussian:sigma=0.1234567891")
    assert precise.spec == "gaussian:sigma=0.1234567891,size=auto"
    assert parse_spec("sobel:direction=top,size=5").spec == "sobel:direction=top,size=5"


# ---------------------------------------------------------------- generate


def test_generate_notes_a_truncation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = generate(check_settings("gaussian", {"sigma": 8}))
    assert result.weights.shape == (MAX_SIDE, MAX_SIDE)
    assert len(result.notes) == 1
    assert "49" in result.notes[0]
    assert "31" in result.notes[0]
    assert result.settings == check_settings("gaussian", {"sigma": 8})


@pytest.mark.parametrize(
    ("slug", "values"),
    [
        ("log", {"sigma": 6}),
        ("dog", {"sigma1": 1, "sigma2": 7}),
        ("elliptical-gaussian", {"sigma_x": 9, "sigma_y": 1}),
        ("gabor", {"sigma": 2, "theta": 0, "wavelength": 8, "aspect": 0.1}),
        ("motion-blur", {"length": 43, "angle": 0}),
    ],
)
def test_generate_notes_every_truncating_generator(slug, values):
    result = generate(check_settings(slug, values))
    assert len(result.notes) == 1
    assert str(MAX_SIDE) in result.notes[0]
    assert max(result.weights.shape) == MAX_SIDE


@pytest.mark.parametrize("slug", SLUGS)
def test_generate_has_no_notes_without_truncation(slug):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = generate(GENERATORS[slug].start_settings())
    assert result.notes == ()


def test_generate_explicit_size_never_notes():
    result = generate(check_settings("gaussian", {"sigma": 10, "size": 31}))
    assert result.notes == ()


@pytest.mark.parametrize("slug", SLUGS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_generate_notes_nothing_but_truncations(slug, data):
    settings_ = check_settings(slug, data.draw(values_strategy(slug)))
    result = generate(settings_)
    assert len(result.notes) <= 1
    for note in result.notes:
        assert "cut to 31" in note
    if result.notes:
        assert max(result.weights.shape) == MAX_SIDE
    np.testing.assert_array_equal(result.weights, made(slug, settings_.values))


@pytest.mark.parametrize(
    ("slug", "values"),
    [
        ("gaussian", {"sigma": 6}),
        ("unsharp-mask", {"sigma": 6, "amount": 1}),
        ("dog", {"sigma1": 1, "sigma2": 7}),
        ("motion-blur", {"length": 43, "angle": 0}),
    ],
)
def test_truncation_note_names_the_generator_asked_for(slug, values):
    (note,) = generate(check_settings(slug, values)).notes
    assert note.startswith(f"{slug}: ")


@pytest.mark.parametrize("angle", [1e-307, -1e-308, 2.2250738585072014e-308, 1e-310])
def test_motion_blur_at_a_tiny_angle_is_the_row_without_a_note(angle):
    # A tiny nonzero sine used to overflow a division: numpy's "overflow encountered in
    # divide" RuntimeWarning escaped, and generate() turned it into a note for the user.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = motion_blur(9, angle)
    np.testing.assert_allclose(weights, np.full((1, 9), 1 / 9), rtol=1e-12)
    result = generate(check_settings("motion-blur", {"length": 9, "angle": angle}))
    assert result.notes == ()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: gaussian(8.0), id="gaussian"),
        pytest.param(lambda: laplacian_of_gaussian(6.0), id="log"),
        pytest.param(lambda: motion_blur(43, 0), id="motion-blur"),
        pytest.param(lambda: unsharp_mask(6.0, 1.0), id="unsharp-mask"),
    ],
)
def test_truncation_warning_points_at_the_caller(make):
    with pytest.warns(TruncatedKernelWarning) as caught:
        make()
    assert [warning.filename for warning in caught] == [__file__]


# ---------------------------------------------------------------- every generator


@pytest.mark.parametrize("slug", SLUGS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_every_generator_makes_finite_odd_kernels_with_the_documented_sum(slug, data):
    values = data.draw(values_strategy(slug))
    weights = made(slug, values)
    assert isinstance(weights, np.ndarray)
    assert weights.dtype == np.float64
    assert weights.ndim == 2
    rows, cols = weights.shape
    assert rows % 2 == 1
    assert cols % 2 == 1
    assert rows <= MAX_SIDE
    assert cols <= MAX_SIDE
    assert np.isfinite(weights).all()
    expected = DOCUMENTED_SUM[slug]
    if expected is not None:
        tolerance = 1e-12 * max(1.0, float(np.abs(weights).sum()))
        assert abs(math.fsum(weights.ravel()) - expected) <= tolerance
    # A new array every time: editing one must not change the next.
    assert not np.shares_memory(weights, made(slug, values))


# ---------------------------------------------------------------- identity, box, binomial


@pytest.mark.parametrize("size", [1, 3, 5, 31])
def test_identity(size):
    expected = np.zeros((size, size))
    expected[size // 2, size // 2] = 1.0
    np.testing.assert_array_equal(identity(size), expected)


def test_identity_default_is_3x3():
    np.testing.assert_array_equal(identity(), [[0, 0, 0], [0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (1, 3), (3, 5), (7, 1), (31, 31)])
def test_box(rows, cols):
    weights = box(rows, cols)
    assert weights.shape == (rows, cols)
    np.testing.assert_allclose(weights, 1.0 / (rows * cols), rtol=1e-15)
    assert math.fsum(weights.ravel()) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("size", [1, 3, 5, 7, 15, 31])
def test_binomial_is_pascals_row_squared(size):
    n = size - 1
    expected = np.array(
        [[math.comb(n, i) * math.comb(n, j) / 4**n for j in range(size)] for i in range(size)]
    )
    np.testing.assert_allclose(binomial(size), expected, rtol=1e-15, atol=0)


def test_binomial_3_is_the_classic_blur():
    np.testing.assert_array_equal(binomial(3) * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ---------------------------------------------------------------- gaussian


@pytest.mark.parametrize("sigma", [0.1, 0.3, 0.5, 1.0, 1.1, 1.7, 2.5, 3.3, 4.0, 5.0])
def test_gaussian_auto_size_matches_opencv(sigma):
    side = auto_side(sigma)
    with no_truncation_warning():
        weights = gaussian(sigma)
    assert weights.shape == (side, side)
    np.testing.assert_allclose(weights, cv2_gaussian(side, sigma), rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize(
    ("sigma", "size"), [(1.0, 1), (1.0, 3), (0.5, 9), (2.0, 5), (3.0, 31), (10.0, 31), (0.1, 31)]
)
def test_gaussian_explicit_size_matches_opencv(sigma, size):
    weights = gaussian(sigma, size=size)
    assert weights.shape == (size, size)
    np.testing.assert_allclose(weights, cv2_gaussian(size, sigma), rtol=1e-12, atol=1e-17)


@PROPERTY_SETTINGS
@given(
    sigma=st.floats(0.1, 10.0),
    size=st.none() | st.integers(0, 15).map(lambda k: 2 * k + 1),
)
def test_gaussian_matches_opencv_everywhere(sigma, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = gaussian(sigma, size)
    side = size if size is not None else min(auto_side(sigma), MAX_SIDE)
    assert weights.shape == (side, side)
    np.testing.assert_allclose(weights, cv2_gaussian(side, sigma), rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("sigma", [5.01, 6.0, 8.0, 10.0])
def test_gaussian_truncated_at_31_warns_and_sums_to_1(sigma):
    with pytest.warns(TruncatedKernelWarning, match=rf"{auto_side(sigma)}.*31"):
        weights = gaussian(sigma)
    assert weights.shape == (MAX_SIDE, MAX_SIDE)
    assert math.fsum(weights.ravel()) == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(weights, cv2_gaussian(MAX_SIDE, sigma), rtol=1e-12)


def test_gaussian_at_the_cap_does_not_warn():
    with no_truncation_warning():
        assert gaussian(5.0).shape == (31, 31)


# ---------------------------------------------------------------- elliptical gaussian


@pytest.mark.parametrize(("sigma_x", "sigma_y"), [(3.0, 0.5), (1.0, 2.0), (0.7, 0.7)])
def test_elliptical_gaussian_along_the_axes(sigma_x, sigma_y):
    side = auto_side(max(sigma_x, sigma_y))
    along_x = elliptical_gaussian(sigma_x, sigma_y, 0.0)
    expected = np.outer(
        cv2.getGaussianKernel(side, sigma_y, ktype=cv2.CV_64F),
        cv2.getGaussianKernel(side, sigma_x, ktype=cv2.CV_64F),
    )
    np.testing.assert_allclose(along_x, expected, rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(
        elliptical_gaussian(sigma_x, sigma_y, 90.0), expected.T, rtol=1e-12, atol=1e-17
    )
    np.testing.assert_allclose(
        elliptical_gaussian(sigma_x, sigma_y, 180.0), expected, rtol=1e-12, atol=1e-17
    )


@PROPERTY_SETTINGS
@given(
    sigma_x=st.floats(0.1, 10.0),
    sigma_y=st.floats(0.1, 10.0),
    angle=st.floats(-180.0, 180.0),
    size=st.none() | st.integers(0, 15).map(lambda k: 2 * k + 1),
)
def test_elliptical_gaussian_matches_the_covariance_formula(sigma_x, sigma_y, angle, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = elliptical_gaussian(sigma_x, sigma_y, angle, size)
    side = size if size is not None else min(auto_side(max(sigma_x, sigma_y)), MAX_SIDE)
    assert weights.shape == (side, side)
    # exp(-½ pᵀ Σ⁻¹ p) with Σ = R diag(σx², σy²) Rᵀ, p = (x right, y up).
    theta = math.radians(angle)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    precision = np.linalg.inv(rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T)
    half = side // 2
    rows, cols = np.mgrid[0:side, 0:side]
    points = np.stack([cols - half, half - rows], axis=-1).astype(np.float64)
    exponent = -0.5 * np.einsum("...i,ij,...j->...", points, precision, points)
    expected = np.exp(exponent - exponent.max())
    expected /= expected.sum()
    np.testing.assert_allclose(weights, expected, rtol=1e-8, atol=1e-14)


def test_elliptical_gaussian_45_degrees_runs_up_and_right():
    weights = elliptical_gaussian(3.0, 0.5, 45.0, size=5)
    assert weights[0, -1] > 10 * weights[0, 0]
    np.testing.assert_allclose(weights, weights[::-1, ::-1].T, atol=1e-16)


# ---------------------------------------------------------------- laplacian of gaussian


def log_formula(sigma, side):
    """The continuous (r² − 2σ²)·exp(−r²/2σ²), sampled on the kernel's grid."""
    half = side // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    squared = x**2 + y**2
    return (squared - 2 * sigma**2) * np.exp(-squared / (2 * sigma**2)), x


LOG_CASES = [(0.1, 3), (0.5, None), (1.0, None), (1.4, None), (2.0, 7), (3.0, None), (10.0, 3)]


@pytest.mark.parametrize(("sigma", "size"), LOG_CASES)
def test_log_sums_to_exactly_zero(sigma, size):
    weights = laplacian_of_gaussian(sigma, size)
    assert float(weights.sum()) == 0.0
    assert math.fsum(weights.ravel()) == 0.0
    assert float(weights.sum(axis=0).sum()) == 0.0
    assert float(weights.sum(axis=1).sum()) == 0.0
    assert float(weights.ravel()[::-1].cumsum()[-1]) == 0.0


@pytest.mark.parametrize(("sigma", "size"), LOG_CASES)
def test_log_is_symmetric_with_a_negative_centre(sigma, size):
    weights = laplacian_of_gaussian(sigma, size)
    side = size if size is not None else auto_side(sigma)
    assert weights.shape == (side, side)
    assert_symmetric_8_fold(weights)
    half = side // 2
    assert weights[half, half] < 0
    assert weights[half, half] == weights.min()


@pytest.mark.parametrize(("sigma", "size"), LOG_CASES)
def test_log_has_the_shape_of_the_continuous_formula(sigma, size):
    weights = laplacian_of_gaussian(sigma, size)
    formula, x = log_formula(sigma, weights.shape[0])
    # The documented correction is a mean shift and a positive scale: correlation 1.
    correlation = np.corrcoef(weights.ravel(), formula.ravel())[0, 1]
    assert correlation > 1 - 1e-9
    # And, undone in the documented order: subtract the mean, scale so Σ w·x² = 2.
    shifted = formula - formula.mean()
    expected = shifted * (2.0 / float((shifted * x**2).sum()))
    np.testing.assert_allclose(weights, expected, rtol=0, atol=2.0**-40 * weights.size)


@PROPERTY_SETTINGS
@given(sigma=st.floats(0.1, 10.0), size=st.none() | st.integers(1, 15).map(lambda k: 2 * k + 1))
def test_log_properties_everywhere(sigma, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = laplacian_of_gaussian(sigma, size)
    side = weights.shape[0]
    assert side == (size if size is not None else min(auto_side(sigma), MAX_SIDE))
    assert float(weights.sum()) == 0.0
    assert math.fsum(weights.ravel()) == 0.0
    assert_symmetric_8_fold(weights)
    assert weights[side // 2, side // 2] < 0
    # Σ w·x² = 2, to the documented rounding of each weight to a multiple of 2⁻⁴⁰.
    _, x = log_formula(sigma, side)
    assert abs(math.fsum((weights * x**2).ravel()) - 2.0) <= 2.0**-41 * float((x**2).sum())
    # The weights are multiples of 2⁻⁴⁰, so any order of addition is exact.
    quanta = weights * 2.0**40
    np.testing.assert_array_equal(quanta, np.round(quanta))


@pytest.mark.parametrize(("sigma", "size"), [(1.0, None), (2.0, None), (0.5, 9), (4.0, 11)])
def test_log_gives_2_on_a_quadratic_ramp_and_0_on_flat(sigma, size):
    weights = laplacian_of_gaussian(sigma, size)
    half = weights.shape[0] // 2
    x = np.arange(64, dtype=np.float64) - 20.0
    ramp = np.tile(x**2, (48, 1))
    response = ndimage.correlate(ramp, weights, mode="nearest")
    interior = response[half:-half, half:-half]
    np.testing.assert_allclose(interior, 2.0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        ndimage.correlate(ramp.T, weights, mode="nearest")[half:-half, half:-half],
        2.0,
        rtol=0,
        atol=1e-6,
    )
    flat = ndimage.correlate(np.ones((40, 40)), weights, mode="nearest")
    assert np.all(flat == 0.0)
    grey = ndimage.correlate(np.full((40, 40), 0.37), weights, mode="nearest")
    np.testing.assert_allclose(grey, 0.0, atol=1e-14)


def test_log_truncated_warns_and_still_sums_to_zero():
    with pytest.warns(TruncatedKernelWarning, match="log"):
        weights = laplacian_of_gaussian(6.0)
    assert weights.shape == (MAX_SIDE, MAX_SIDE)
    assert float(weights.sum()) == 0.0
    assert math.fsum(weights.ravel()) == 0.0


# ---------------------------------------------------------------- difference of gaussians


@pytest.mark.parametrize(
    ("sigma1", "sigma2", "size"),
    [(1.0, 2.0, None), (0.5, 1.6, None), (2.0, 1.0, None), (1.0, 3.0, 7), (0.3, 0.3, 5)],
)
def test_dog_is_the_difference_of_opencv_gaussians(sigma1, sigma2, size):
    weights = difference_of_gaussians(sigma1, sigma2, size)
    side = size if size is not None else auto_side(max(sigma1, sigma2))
    expected = cv2_gaussian(side, sigma1) - cv2_gaussian(side, sigma2)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-15)
    assert abs(math.fsum(weights.ravel())) < 1e-14
    assert_symmetric_8_fold(weights, atol=1e-17)


@PROPERTY_SETTINGS
@given(
    sigma1=st.floats(0.1, 10.0),
    sigma2=st.floats(0.1, 10.0),
    size=st.none() | st.integers(0, 15).map(lambda k: 2 * k + 1),
)
def test_dog_matches_opencv_everywhere(sigma1, sigma2, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = difference_of_gaussians(sigma1, sigma2, size)
    side = size if size is not None else min(auto_side(max(sigma1, sigma2)), MAX_SIDE)
    expected = cv2_gaussian(side, sigma1) - cv2_gaussian(side, sigma2)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-15)
    assert abs(math.fsum(weights.ravel())) < 1e-13
    if sigma1 < sigma2:
        # Positive, or 0 where both Gaussians round to a single 1 at the centre.
        assert weights[side // 2, side // 2] >= 0


# ---------------------------------------------------------------- gabor


def cv2_gabor(side, sigma, theta, wavelength, aspect, phase):
    return cv2.getGaborKernel(
        (side, side),
        sigma,
        math.radians(theta),
        wavelength,
        aspect,
        math.radians(phase),
        ktype=cv2.CV_64F,
    )


@pytest.mark.parametrize("sigma", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("theta", [-135.0, -45.0, 0.0, 30.0, 90.0, 180.0])
@pytest.mark.parametrize(("wavelength", "aspect", "phase"), [(8.0, 1.0, 0.0), (3.5, 0.5, 90.0)])
@pytest.mark.parametrize("size", [1, 7, 15])
def test_gabor_matches_opencv_on_a_grid(sigma, theta, wavelength, aspect, phase, size):
    weights = gabor(sigma, theta, wavelength, aspect, phase, size)
    expected = cv2_gabor(size, sigma, theta, wavelength, aspect, phase)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12)


@PROPERTY_SETTINGS
@given(
    sigma=st.floats(0.1, 10.0),
    theta=st.floats(-180.0, 180.0),
    wavelength=st.floats(2.0, 31.0),
    aspect=st.floats(0.1, 4.0),
    phase=st.floats(-180.0, 180.0),
    size=st.none() | st.integers(0, 15).map(lambda k: 2 * k + 1),
)
def test_gabor_matches_opencv_everywhere(sigma, theta, wavelength, aspect, phase, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = gabor(sigma, theta, wavelength, aspect, phase, size)
    side = weights.shape[0]
    assert weights.shape == (side, side)
    if size is not None:
        assert side == size
    else:
        # At least OpenCV's own automatic half-widths (it rounds 3σ; the generator ceils).
        auto = cv2_gabor(0, sigma, theta, wavelength, aspect, phase)
        assert side == MAX_SIDE or (side >= auto.shape[0] and side >= auto.shape[1])
    expected = cv2_gabor(side, sigma, theta, wavelength, aspect, phase)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12)


def test_gabor_default_shape_and_centre():
    weights = gabor(2.0, 0.0, 8.0)
    assert weights.shape == (13, 13)
    assert weights[6, 6] == pytest.approx(1.0)


# ---------------------------------------------------------------- motion blur


CANVAS = 45  # wider than any motion-blur line, so the oracle never clips by accident


def rasterised_segment(length, angle, points=200_000, side=MAX_SIDE):
    """Dense points spaced evenly along the segment, counted into the cells of a side × side grid.

    y points up; anything outside the grid is dropped (the cap) and the rest renormalised.
    """
    half = side // 2
    t = (np.arange(points) + 0.5) / points * length - length / 2
    theta = math.radians(angle)
    x, y = t * math.cos(theta), t * math.sin(theta)
    cols = np.floor(x + 0.5).astype(int) + half
    rows = half - np.floor(y + 0.5).astype(int)
    keep = (rows >= 0) & (rows < side) & (cols >= 0) & (cols < side)
    counts = np.bincount(rows[keep] * side + cols[keep], minlength=side * side)
    counts = counts.reshape(side, side).astype(np.float64)
    return counts / counts.sum()


def embedded(weights, side=MAX_SIDE):
    canvas = np.zeros((side, side))
    top, left = (side - weights.shape[0]) // 2, (side - weights.shape[1]) // 2
    canvas[top : top + weights.shape[0], left : left + weights.shape[1]] = weights
    return canvas


def assert_smallest_odd_shape(weights):
    rows, cols = weights.shape
    assert rows % 2 == 1
    assert cols % 2 == 1
    if rows > 1:
        assert weights[0].any() or weights[-1].any()
    if cols > 1:
        assert weights[:, 0].any() or weights[:, -1].any()


@pytest.mark.parametrize("n", [1, 3, 5, 9, 15, 31])
def test_motion_blur_whole_length_is_a_box_row_and_column(n):
    np.testing.assert_allclose(motion_blur(n, 0), np.full((1, n), 1 / n), rtol=1e-14)
    np.testing.assert_allclose(motion_blur(n, 180), np.full((1, n), 1 / n), rtol=1e-14)
    np.testing.assert_allclose(motion_blur(n, 90), np.full((n, 1), 1 / n), rtol=1e-14)
    np.testing.assert_allclose(motion_blur(n, -90), np.full((n, 1), 1 / n), rtol=1e-14)


@pytest.mark.parametrize("n", [1, 3, 5, 7, 11, 21, 29])
def test_motion_blur_minus_45_is_the_diagonal(n):
    weights = motion_blur(n * math.sqrt(2), -45)
    assert weights.shape == (n, n)
    np.testing.assert_allclose(weights, np.eye(n) / n, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        motion_blur(n * math.sqrt(2), 45), np.eye(n)[::-1] / n, rtol=1e-12, atol=1e-14
    )


def test_motion_blur_documented_examples():
    np.testing.assert_allclose(motion_blur(4, 90).ravel(), [0.125, 0.25, 0.25, 0.25, 0.125])
    np.testing.assert_allclose(motion_blur(2, 0), [[0.25, 0.5, 0.25]])
    np.testing.assert_allclose(motion_blur(1, 37), [[1.0]])


@pytest.mark.parametrize(
    ("length", "angle"),
    [(9, 0), (9, 30), (9, 45), (12.5, -60), (20, 100), (43, 45), (30, -170), (7.5, 135)],
)
def test_motion_blur_matches_a_dense_rasterisation(length, angle):
    weights = motion_blur(length, angle)
    assert (weights >= 0).all()
    assert_smallest_odd_shape(weights)
    np.testing.assert_allclose(embedded(weights), rasterised_segment(length, angle), atol=1e-4)


@PROPERTY_SETTINGS
@given(length=st.floats(1.0, 43.0), angle=st.floats(-180.0, 180.0))
def test_motion_blur_matches_a_dense_rasterisation_everywhere(length, angle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        weights = motion_blur(length, angle)
    assert (weights >= 0).all()
    assert math.fsum(weights.ravel()) == pytest.approx(1.0, abs=1e-12)
    assert_smallest_odd_shape(weights)
    assert max(weights.shape) <= MAX_SIDE
    np.testing.assert_allclose(embedded(weights), rasterised_segment(length, angle), atol=1e-4)


@PROPERTY_SETTINGS
@given(length=st.floats(1.0, 43.0), angle=st.floats(-180.0, 0.0))
def test_motion_blur_half_turn_is_the_same_line(length, angle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedKernelWarning)
        forward, backward = motion_blur(length, angle), motion_blur(length, angle + 180)
    assert forward.shape == backward.shape
    np.testing.assert_allclose(forward, backward, rtol=0, atol=1e-12)
    np.testing.assert_allclose(forward, forward[::-1, ::-1], rtol=0, atol=1e-12)


def test_motion_blur_truncated_warns():
    with pytest.warns(TruncatedKernelWarning, match="motion-blur"):
        weights = motion_blur(43, 0)
    np.testing.assert_allclose(weights, np.full((1, 31), 1 / 31), rtol=1e-12)


# ---------------------------------------------------------------- disk


def supersampled_disk(radius, half, samples):
    """The fraction of each cell inside the circle, counted at samples² points per cell."""
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    coordinates = (np.arange(half + 1)[:, np.newaxis] + offsets).ravel()
    squared = coordinates**2
    inside = squared[:, np.newaxis] + squared[np.newaxis, :] <= radius**2
    quadrant = inside.reshape(half + 1, samples, half + 1, samples).mean(axis=(1, 3))
    rows = np.concatenate([quadrant[:0:-1], quadrant])
    full = np.concatenate([rows[:, :0:-1], rows], axis=1)
    return full / full.sum()


@pytest.mark.parametrize(
    ("radius", "samples"),
    [
        *((radius, 400) for radius in (0.5, 0.8, 1.0, 1.5, 2.3, 3.0, 4.75)),
        (7.2, 200),
        (15.5, 100),
    ],
)
def test_disk_weights_are_the_area_inside_each_cell(radius, samples):
    weights = disk(radius)
    half = math.ceil(radius - 0.5)
    expected = supersampled_disk(radius, half, samples)
    side = 2 * half + 1
    assert weights.shape[0] <= side
    np.testing.assert_allclose(
        embedded(weights, side), expected, rtol=0, atol=1e-3 * weights.max()
    )


def integrated_disk_cell(radius, col, row):
    """The disk's area in the cell at (col, row) (y up), by adaptive quadrature of its height."""
    x0, x1, y0, y1 = col - 0.5, col + 0.5, row - 0.5, row + 0.5
    low, high = max(x0, -radius), min(x1, radius)
    if low >= high:
        return 0.0

    def height(t):
        return math.sqrt(max((radius - t) * (radius + t), 0.0))

    def inside(t):
        return max(0.0, min(height(t), y1) - max(-height(t), y0))

    kinks = [
        sign * height(y)  # where the circle crosses the cell's top or bottom edge
        for y in (y0, y1)
        for sign in (-1, 1)
        if abs(y) < radius and low < sign * height(y) < high
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        area, _ = integrate.quad(
            inside, low, high, points=kinks or None, epsabs=1e-15, epsrel=1e-14, limit=200
        )
    return area


# 1.6008157066745852 is one of the radii (about 1 in 1000) whose radius**2 differs by one
# ulp from radius*radius; the disk's edge cells were then off by √ulp ≈ 2e-8.
PRECISE_RADII = [0.8, 1.6008157066745852, 2.5, 3.0, 4.2, 7.3]


@pytest.mark.parametrize("radius", PRECISE_RADII)
def test_disk_weights_are_the_exact_area_to_rounding(radius):
    weights = disk(radius)
    half = weights.shape[0] // 2
    expected = np.array(
        [
            [integrated_disk_cell(radius, col, -row) for col in range(-half, half + 1)]
            for row in range(-half, half + 1)
        ]
    )
    expected /= expected.sum()
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12 * weights.max())


@PROPERTY_SETTINGS
@given(radius=st.floats(0.5, 15.5))
@example(radius=1.6008157066745852)
@example(radius=12.06786732789725)
def test_disk_is_symmetric_and_sums_to_1(radius):
    weights = disk(radius)
    assert math.fsum(weights.ravel()) == pytest.approx(1.0, abs=1e-12)
    assert (weights >= 0).all()
    assert weights.shape[0] == weights.shape[1]
    assert weights.shape[0] <= MAX_SIDE
    assert_smallest_odd_shape(weights)
    # Exact up to the rounding of the closed-form areas (a difference of nearly equal terms).
    assert_symmetric_8_fold(weights, atol=1e-12 * weights.max())
    centre = weights.shape[0] // 2
    assert weights[centre, centre] == pytest.approx(weights.max(), rel=1e-12)


def test_disk_of_half_a_pixel_is_one_cell():
    np.testing.assert_array_equal(disk(0.5), [[1.0]])


def test_disk_grows_continuously():
    near = embedded(disk(3.0), 9)
    nearer = embedded(disk(3.0 + 1e-9), 9)
    np.testing.assert_allclose(near, nearer, atol=1e-8)


# ---------------------------------------------------------------- unsharp mask


@pytest.mark.parametrize(
    ("sigma", "amount", "size"), [(1.0, 1.0, 5), (1.0, 1.0, None), (2.0, 0.5, None), (0.5, 5, 3)]
)
def test_unsharp_mask_is_identity_plus_amount_times_detail(sigma, amount, size):
    side = size if size is not None else auto_side(sigma)
    centre = np.zeros((side, side))
    centre[side // 2, side // 2] = 1.0
    expected = centre + amount * (centre - cv2_gaussian(side, sigma))
    np.testing.assert_allclose(unsharp_mask(sigma, amount, size), expected, rtol=0, atol=1e-14)


def test_unsharp_mask_of_nothing_is_identity():
    np.testing.assert_allclose(unsharp_mask(1.0, 0.0, 5), identity(5), atol=0)


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("size", [3, 5, 7])
def test_sobel_matches_opencv(size):
    right = cv2_derivative(1, 0, size)
    bottom = cv2_derivative(0, 1, size)
    np.testing.assert_array_equal(sobel("right", size), right)
    np.testing.assert_array_equal(sobel("left", size), -right)
    np.testing.assert_array_equal(sobel("bottom", size), bottom)
    np.testing.assert_array_equal(sobel("top", size), -bottom)


def test_sobel_default_size_is_3():
    np.testing.assert_array_equal(sobel("right"), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def test_scharr_matches_opencv():
    right = cv2_derivative(1, 0, cv2.FILTER_SCHARR)
    bottom = cv2_derivative(0, 1, cv2.FILTER_SCHARR)
    np.testing.assert_array_equal(scharr("right"), right)
    np.testing.assert_array_equal(scharr("left"), -right)
    np.testing.assert_array_equal(scharr("bottom"), bottom)
    np.testing.assert_array_equal(scharr("top"), -bottom)
    np.testing.assert_array_equal(scharr("right"), [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])


def test_prewitt_by_hand():
    right = np.array([[-1.0, 0, 1], [-1, 0, 1], [-1, 0, 1]])
    bottom = np.array([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(prewitt("right"), right)
    np.testing.assert_array_equal(prewitt("left"), -right)
    np.testing.assert_array_equal(prewitt("bottom"), bottom)
    np.testing.assert_array_equal(prewitt("top"), -bottom)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda direction: sobel(direction, 3), id="sobel-3"),
        pytest.param(lambda direction: sobel(direction, 5), id="sobel-5"),
        pytest.param(lambda direction: sobel(direction, 7), id="sobel-7"),
        pytest.param(scharr, id="scharr"),
        pytest.param(prewitt, id="prewitt"),
    ],
)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_derivatives_respond_positively_where_their_side_is_brighter(make, direction):
    ramp = np.tile(np.arange(20, dtype=np.float64), (20, 1))  # brighter to the right
    image = {"right": ramp, "left": ramp[:, ::-1], "bottom": ramp.T, "top": ramp.T[::-1]}
    weights = make(direction)
    assert not np.signbit(weights[weights == 0]).any()
    for side, picture in image.items():
        response = ndimage.correlate(picture, weights, mode="nearest")[5:-5, 5:-5]
        if side == direction:
            assert (response > 0).all()
        elif {side, direction} in ({"left", "right"}, {"top", "bottom"}):
            assert (response < 0).all()
        else:
            np.testing.assert_allclose(response, 0.0, atol=1e-12)


# ---------------------------------------------------------------- emboss, laplacian, sharpen


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (-45, [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        (0, [[-1, 0, 1], [-1, 1, 1], [-1, 0, 1]]),
        (90, [[1, 1, 1], [0, 1, 0], [-1, -1, -1]]),
        (135, [[2, 1, 0], [1, 1, -1], [0, -1, -2]]),
        (180, [[1, 0, -1], [1, 1, -1], [1, 0, -1]]),
        (-90, [[-1, -1, -1], [0, 1, 0], [1, 1, 1]]),
    ],
)
def test_emboss_by_hand(angle, expected):
    np.testing.assert_array_equal(emboss(angle), expected)


def test_emboss_strength_scales_the_ring():
    classic = np.array([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(emboss(-45, 2.0), identity() + 2 * (classic - identity()))
    np.testing.assert_array_equal(emboss(30, 0.0), identity())


@PROPERTY_SETTINGS
@given(angle=st.floats(-180.0, 180.0), strength=st.floats(0.0, 5.0))
def test_emboss_sums_to_1_with_strength_the_strongest_side(angle, strength):
    weights = emboss(angle, strength)
    assert math.fsum(weights.ravel()) == pytest.approx(1.0, abs=1e-12)
    ring = weights - identity()
    sides = ring[[0, 1, 1, 2], [1, 0, 2, 1]]  # the four edge neighbours
    assert np.abs(sides).max() == pytest.approx(strength, abs=1e-12)
    np.testing.assert_allclose(ring, -ring[::-1, ::-1], atol=1e-12)
    # Lit from `angle`: the ring is the offset's component along it (y up).
    theta = math.radians(angle)
    direction = np.array([math.cos(theta), math.sin(theta)])
    rows, cols = np.mgrid[0:3, 0:3]
    offsets = np.stack([cols - 1, 1 - rows], axis=-1)
    along = offsets @ direction
    scale = strength / max(abs(direction[0]), abs(direction[1]))
    np.testing.assert_allclose(ring, scale * along, atol=1e-12)


def test_laplacian_by_hand():
    four = np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    eight = np.array([[1.0, 1, 1], [1, -8, 1], [1, 1, 1]])
    np.testing.assert_array_equal(laplacian(), four)
    np.testing.assert_array_equal(laplacian(4), four)
    np.testing.assert_array_equal(laplacian(8), eight)
    np.testing.assert_array_equal(laplacian(8, -1), -eight)
    np.testing.assert_array_equal(laplacian(4, 2.5), 2.5 * four)
    np.testing.assert_array_equal(laplacian(4, 0), np.zeros((3, 3)))
    assert not np.signbit(laplacian(4, 0)).any()


def test_sharpen_by_hand():
    np.testing.assert_array_equal(sharpen(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(sharpen(1, 8), [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(sharpen(0.5), [[0, -0.5, 0], [-0.5, 3, -0.5], [0, -0.5, 0]])
    np.testing.assert_array_equal(sharpen(2, 8), [[-2, -2, -2], [-2, 17, -2], [-2, -2, -2]])
    np.testing.assert_array_equal(sharpen(0), identity())
    assert not np.signbit(sharpen(0)).any()
