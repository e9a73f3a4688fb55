"""Kernels made from parameters: Gaussian σ, LoG, DoG, Gabor, motion blur at any angle.

Each generator is one typed function whose parameters carry their range and
unit in :data:`typing.Annotated` metadata; :data:`GENERATORS` lists them all,
read from the signatures, and the window's sliders and the command line's
``-k "gaussian:sigma=2.5"`` are built from that list. Adding a generator is
writing one function under the :func:`generator` decorator.

Every generator returns new float64 weights, odd × odd. Where a ``size`` of
``None`` is allowed, the smallest odd size that holds the kernel is chosen
(a Gaussian's is ``2·ceil(3σ) + 1``), capped at :data:`MAX_SIDE`; a kernel cut
by the cap is renormalised and a :class:`TruncatedKernelWarning` says so.

Angles are in degrees, counter-clockwise from the positive x axis (pointing
right) with y pointing **up**, as on a protractor held to the screen: 90° is
straight up, −45° points down and to the right. The one exception is
:func:`gabor`, whose ``theta`` is OpenCV's (y down, so clockwise on screen) so
that it equals ``cv2.getGaborKernel``.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Literal

import numpy as np

MAX_SIDE = 31
"""The largest height or width a generator makes (the largest stage kernel)."""


class TruncatedKernelWarning(UserWarning):
    """A kernel that needed more than :data:`MAX_SIDE` cells was cut to fit."""


class GeneratorError(ValueError):
    """A generator name or parameter that cannot be used; the message names it and its range."""


@dataclass(frozen=True)
class Range:
    """The values a number parameter takes, as metadata in ``Annotated[float, Range(...)]``.

    Attributes
    ----------
    minimum, maximum : float
        The inclusive bounds.
    unit : str
        What the number counts: ``"px"``, ``"°"`` or ``""``.
    step : float
        The slider's step; an odd-size parameter uses 2.
    start : float or None
        Where the window's slider starts for a parameter without a default.
    odd : bool
        The value must be an odd integer (a kernel side).
    """

    minimum: float
    maximum: float
    unit: str = ""
    step: float = 0.1
    start: float | None = None
    odd: bool = False


SIDE = Range(1, MAX_SIDE, step=2, odd=True, start=3)
"""The range of a kernel side: an odd number of cells from 1 to 31."""

Side = Annotated[int, SIDE]
AutoSide = Annotated[int | None, SIDE]
"""A side that may be ``None``: the generator picks the smallest that holds the kernel."""
AutoSideFrom3 = Annotated[int | None, Range(3, MAX_SIDE, step=2, start=3, odd=True)]
"""As :data:`AutoSide`, at least 3: a 1 × 1 Laplacian has no neighbours to compare."""
Sigma = Annotated[float, Range(0.1, 10.0, "px", 0.1, start=1.0)]
Angle = Annotated[float, Range(-180.0, 180.0, "°", 1.0, start=0.0)]
Direction = Literal["right", "left", "bottom", "top"]
"""The side that, when brighter, gives a positive response: ``right`` is d/dx, ``bottom`` d/dy."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a generator, read from its function's signature.

    Attributes
    ----------
    name : str
        The keyword, as the command line spells it (``sigma``).
    kind : {'float', 'int', 'choice'}
        A number, a whole number, or one of `choices`.
    default : object
        The signature's default; ``None`` with `required` for one without.
    required : bool
        The caller must give it.
    start : object
        A good first value for a slider: the default, or the range's start.
    minimum, maximum, step : float
        The range of a number (``nan`` for a choice).
    unit : str
        ``px``, ``°`` or nothing.
    choices : tuple
        The values of a choice.
    odd : bool
        A kernel side: odd whole numbers only.
    optional : bool
        ``None`` is allowed (an automatic size).
    """

    name: str
    kind: str
    default: object
    required: bool
    start: object
    minimum: float = math.nan
    maximum: float = math.nan
    step: float = math.nan
    unit: str = ""
    choices: tuple = ()
    odd: bool = False
    optional: bool = False

    def describe_range(self) -> str:
        """Say which values the parameter takes, as in an error message.

        Examples
        --------
        >>> GENERATORS["gaussian"].parameter("sigma").describe_range()
        'a number from 0.1 to 10 px'
        >>> GENERATORS["sobel"].parameter("size").describe_range()
        'one of 3, 5, 7'
        """
        if self.kind == "choice":
            return "one of " + ", ".join(str(choice) for choice in self.choices)
        unit = f" {self.unit}" if self.unit and self.unit != "°" else self.unit
        if self.odd:
            text = f"an odd whole number from {self.minimum:g} to {self.maximum:g}"
        elif self.kind == "int":
            text = f"a whole number from {self.minimum:g} to {self.maximum:g}"
        else:
            text = f"a number from {self.minimum:g} to {self.maximum:g}{unit}"
        return text + (" or auto" if self.optional else "")

    def describe(self) -> str:
        """Say what values the parameter takes and whether it must be given.

        Examples
        --------
        >>> GENERATORS["gaussian"].parameter("size").describe()
        'an odd whole number from 1 to 31 or auto (default auto)'
        """
        default = "required" if self.required else f"default {_spec_value(self.default)}"
        return f"{self.describe_range()} ({default})"

    def check(self, value: object, generator: str) -> object:
        """Return `value` as this parameter's type, or raise :class:`GeneratorError` naming it."""
        if value is None and self.optional:
            return None
        shown = format(value, "g") if type(value) in (int, float) else repr(value)
        problem = f"{generator}: {self.name} is {shown}; it must be {self.describe_range()}"
        if self.kind == "choice":
            matches = [choice for choice in self.choices if choice == value]
            if not matches:
                raise GeneratorError(problem)
            return matches[0]
        if isinstance(value, bool) or not isinstance(
            value, int | float | np.integer | np.floating
        ):
            raise GeneratorError(problem)
        number = float(value)
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            raise GeneratorError(problem)
        if self.kind == "int":
            if not number.is_integer() or (self.odd and int(number) % 2 == 0):
                raise GeneratorError(problem)
            return int(number)
        return number


@dataclass(frozen=True)
class GeneratorSettings:
    """A generator and the values of its parameters: what a stage remembers of how it was made.

    Attributes
    ----------
    slug : str
        The generator's key in :data:`GENERATORS`.
    parameters : tuple of (str, object)
        Every parameter, in signature order, with its checked value.

    Examples
    --------
    >>> settings = check_settings("gaussian", {"sigma": 2})
    >>> settings.spec
    'gaussian:sigma=2,size=auto'
    >>> settings.values["sigma"]
    2.0
    """

    slug: str
    parameters: tuple[tuple[str, object], ...]

    @property
    def values(self) -> dict[str, object]:
        """The parameters as a new dict."""
        return dict(self.parameters)

    @property
    def spec(self) -> str:
        """The settings as the command line's ``-k`` reads them."""
        words = [f"{name}={_spec_value(value)}" for name, value in self.parameters]
        return f"{self.slug}:{','.join(words)}" if words else self.slug

    def with_values(self, **values: object) -> GeneratorSettings:
        """Return the settings with some parameters changed (and checked)."""
        return check_settings(self.slug, {**self.values, **values})


def _spec_value(value: object) -> str:
    if value is None:
        return "auto"
    if isinstance(value, float):
        return format(value, "g") if float(format(value, "g")) == value else repr(value)
    return str(value)


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` made: the weights (read-only), the settings, and any notes."""

    settings: GeneratorSettings
    weights: np.ndarray
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Generator:
    """A registered generator function and its parameters.

    Attributes
    ----------
    slug : str
        The command line's name for it (``gaussian``, ``motion-blur``).
    title : str
        What the window calls it.
    summary : str
        The first line of the function's docstring.
    function : callable
        The function itself.
    parameters : tuple of Parameter
        In signature order.
    display : str
        The display mapping that reads best for its results: ``abs`` for
        kernels that sum to 0 (edges), ``clip`` for the others.
    """

    slug: str
    title: str
    summary: str
    function: Callable[..., np.ndarray]
    parameters: tuple[Parameter, ...]
    display: str = "clip"

    def parameter(self, name: str) -> Parameter:
        """Return the parameter called `name`; :class:`GeneratorError` lists the others."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        names = ", ".join(parameter.name for parameter in self.parameters) or "none"
        raise GeneratorError(f"{self.slug} has no parameter {name!r}; its parameters are {names}")

    def start_settings(self) -> GeneratorSettings:
        """Return settings with every parameter at its slider's starting value."""
        return check_settings(
            self.slug, {parameter.name: parameter.start for parameter in self.parameters}
        )

    def example(self) -> str:
        """Return a ``-k`` spec with every required parameter at its slider's start.

        Examples
        --------
        >>> GENERATORS["gabor"].example()
        'gabor:sigma=1,theta=0,wavelength=8'
        """
        required = [p for p in self.parameters if p.required]
        words = ",".join(f"{p.name}={_spec_value(p.start)}" for p in required)
        return f"{self.slug}:{words}" if words else self.slug


_REGISTRY: dict[str, Generator] = {}

GENERATORS: Mapping[str, Generator] = MappingProxyType(_REGISTRY)
"""Every generator by slug, in the order the window lists them."""


def generator(
    slug: str, title: str, display: str = "clip"
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a kernel generator; its parameters come from its annotated signature.

    Number parameters are annotated ``Annotated[float, Range(...)]`` (or
    ``int``), choices ``Literal[...]``. The registered function checks its
    arguments against those ranges before it runs, so a bad value raises a
    :class:`GeneratorError` naming the parameter and its range.
    """

    def register(function: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        parameters = _parameters_of(function)
        summary = (inspect.getdoc(function) or title).splitlines()[0]

        @functools.wraps(function)
        def checked(*args: object, **kwargs: object) -> np.ndarray:
            bound = inspect.signature(function).bind(*args, **kwargs)
            bound.apply_defaults()
            for parameter in parameters:
                bound.arguments[parameter.name] = parameter.check(
                    bound.arguments[parameter.name], slug
                )
            return function(*bound.args, **bound.kwargs)

        _REGISTRY[slug] = Generator(slug, title, summary, checked, parameters, display)
        return checked

    return register


def _parameters_of(function: Callable[..., np.ndarray]) -> tuple[Parameter, ...]:
    hints = typing.get_type_hints(function, include_extras=True)
    parameters = []
    for name, signature_parameter in inspect.signature(function).parameters.items():
        hint = hints[name]
        required = signature_parameter.default is inspect.Parameter.empty
        default = None if required else signature_parameter.default
        if typing.get_origin(hint) is Literal:
            choices = typing.get_args(hint)
            start = choices[0] if required else default
            parameters.append(Parameter(name, "choice", default, required, start, choices=choices))
            continue
        base, number_range = typing.get_args(hint)
        optional = type(None) in typing.get_args(base)
        kind = "int" if int in (base, *typing.get_args(base)) else "float"
        if required:
            start = number_range.start if number_range.start is not None else number_range.minimum
        else:
            start = default
        parameters.append(
            Parameter(
                name,
                kind,
                default,
                required,
                start,
                float(number_range.minimum),
                float(number_range.maximum),
                float(number_range.step),
                number_range.unit,
                odd=number_range.odd,
                optional=optional,
            )
        )
    return tuple(parameters)


def check_settings(slug: str, values: Mapping[str, object]) -> GeneratorSettings:
    """Check a generator's name and parameter values and return them as settings.

    Parameters
    ----------
    slug : str
        A key of :data:`GENERATORS`.
    values : mapping
        Parameter values by name; parameters with a default may be left out.

    Raises
    ------
    GeneratorError
        For an unknown generator or parameter, a missing required one, or a
        value out of its range; the message names it and says what it takes.

    Examples
    --------
    >>> check_settings("gaussian", {}).spec
    Traceback (most recent call last):
    ...
    kernelstudio.generators.GeneratorError: gaussian needs sigma: a number from 0.1 to 10 px
    """
    if slug not in GENERATORS:
        raise GeneratorError(f"no generator {slug!r}; the generators are {', '.join(GENERATORS)}")
    entry = GENERATORS[slug]
    for name in values:
        entry.parameter(name)
    checked = []
    for parameter in entry.parameters:
        if parameter.name in values:
            checked.append((parameter.name, parameter.check(values[parameter.name], slug)))
        elif parameter.required:
            raise GeneratorError(f"{slug} needs {parameter.name}: {parameter.describe_range()}")
        else:
            checked.append((parameter.name, parameter.default))
    return GeneratorSettings(slug, tuple(checked))


def generate(settings: GeneratorSettings) -> Generated:
    """Make the weights of `settings`, with a note for each warning the generator gave.

    Examples
    --------
    >>> made = generate(check_settings("gaussian", {"sigma": 8}))
    >>> made.weights.shape
    (31, 31)
    >>> print(*made.notes)
    gaussian: σ 8 needs 49 cells across; cut to 31 (the largest side) and renormalised
    """
    return _generate(settings)


@functools.lru_cache(maxsize=128)
def _generate(settings: GeneratorSettings) -> Generated:
    # Cached: a slider drag and every stage that remembers its settings ask again and again.
    entry = GENERATORS[settings.slug]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TruncatedKernelWarning)
        weights = entry.function(**settings.values)
    notes = []
    for warning in caught:
        if issubclass(warning.category, TruncatedKernelWarning):
            notes.append(str(warning.message))
        else:  # not a note about the kernel: passed on as it came
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    notes = tuple(notes)
    weights.flags.writeable = False
    return Generated(settings, weights, notes)


_SPEC = re.compile(r"\s*([a-z][a-z0-9-]*)\s*(?::(.*))?", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def looks_like_spec(text: str) -> bool:
    """Whether `text` names a generator, as ``gaussian`` or ``gaussian:sigma=2`` do.

    Examples
    --------
    >>> looks_like_spec("gabor:sigma=3"), looks_like_spec("1 2 1")
    (True, False)
    """
    match = _SPEC.fullmatch(text)
    return match is not None and match.group(1) in GENERATORS


def parse_spec(text: str) -> GeneratorSettings:
    """Read ``name:key=value,key=value`` as the command line's ``-k`` takes it.

    Numbers are read as decimals (never evaluated), a size may be ``auto``,
    and a choice is its word.

    Raises
    ------
    GeneratorError
        Naming the generator, the parameter and what it takes.

    Examples
    --------
    >>> parse_spec("gabor:sigma=3,theta=45,wavelength=8").values["theta"]
    45.0
    >>> parse_spec("gaussian:sigma=50")
    Traceback (most recent call last):
    ...
    kernelstudio.generators.GeneratorError: gaussian: sigma is 50; it must be a number
    from 0.1 to 10 px
    """
    match = _SPEC.fullmatch(text)
    if match is None:
        raise GeneratorError(f"{text!r} is not a generator such as gaussian:sigma=2")
    slug, rest = match.group(1), match.group(2) or ""
    if slug not in GENERATORS:
        raise GeneratorError(f"no generator {slug!r}; the generators are {', '.join(GENERATORS)}")
    entry = GENERATORS[slug]
    values: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, equals, word = (piece.strip() for piece in item.partition("="))
        if not equals or not word:
            raise GeneratorError(f"{slug}: {item!r} must be written name=value, such as sigma=2")
        parameter = entry.parameter(name)
        if name in values:
            raise GeneratorError(f"{slug}: {name} is given twice")
        values[name] = _read_value(parameter, word, slug)
    return check_settings(slug, values)


def _read_value(parameter: Parameter, word: str, slug: str) -> object:
    if parameter.optional and word.lower() == "auto":
        return None
    if parameter.kind == "choice":
        for choice in parameter.choices:
            if str(choice) == word:
                return choice
        raise GeneratorError(
            f"{slug}: {parameter.name} is {word!r}; it must be {parameter.describe_range()}"
        )
    if _NUMBER.fullmatch(word.replace("\u2212", "-")) is None:
        raise GeneratorError(
            f"{slug}: {parameter.name} is {word!r}; it must be {parameter.describe_range()}"
        )
    return float(word.replace("\u2212", "-"))


# ---------------------------------------------------------------- helpers


def _cos_sin(degrees: float) -> tuple[float, float]:
    # Exact at multiples of 45°, so that 45° lines and embosses have exact weights.
    eighths = degrees / 45.0
    if eighths.is_integer():
        root_half = math.sqrt(0.5)
        table = ((1.0, 0.0), (root_half, root_half), (0.0, 1.0), (-root_half, root_half))
        cos, sin = table[int(eighths) % 4]
        return (cos, sin) if int(eighths) % 8 < 4 else (-cos, -sin)
    radians = math.radians(degrees)
    return math.cos(radians), math.sin(radians)


def _fitted_half(needed_half: int, slug: str, what: str, *, renormalised: bool = True) -> int:
    limit = MAX_SIDE // 2
    if needed_half <= limit:
        return needed_half
    side = 2 * needed_half + 1
    warnings.warn(
        TruncatedKernelWarning(
            f"{slug}: {what} needs {side} cells across; cut to {MAX_SIDE} (the largest side)"
            + (" and renormalised" if renormalised else "")
        ),
        stacklevel=4,  # past the generator and its checking wrapper, to the caller
    )
    return limit


def _gaussian_profile(sigma: float, half: int) -> np.ndarray:
    # cv2.getGaussianKernel's formula: exp(-x²/2σ²) over the odd window, summing to 1.
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    profile = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    return profile / profile.sum()


def _identity(rows: int, cols: int) -> np.ndarray:
    weights = np.zeros((rows, cols))
    weights[rows // 2, cols // 2] = 1.0
    return weights


def _grid(half: int) -> tuple[np.ndarray, np.ndarray]:
    # Offsets (x right, y up) of every cell of a (2·half + 1)² kernel, as rows × columns.
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    return offsets[np.newaxis, :], -offsets[:, np.newaxis]


def _trim(weights: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
    # Drop outer rows and columns that hold nothing, keeping the centre in the middle.
    weights = np.where(np.abs(weights) > tolerance * np.abs(weights).max(), weights, 0.0)
    rows = np.flatnonzero(weights.any(axis=1))
    cols = np.flatnonzero(weights.any(axis=0))
    centre_row, centre_col = weights.shape[0] // 2, weights.shape[1] // 2
    half_rows = max(abs(rows[0] - centre_row), abs(rows[-1] - centre_row))
    half_cols = max(abs(cols[0] - centre_col), abs(cols[-1] - centre_col))
    return weights[
        centre_row - half_rows : centre_row + half_rows + 1,
        centre_col - half_cols : centre_col + half_cols + 1,
    ]


def _derivative(direction: str, smoothing: np.ndarray, slope: np.ndarray) -> np.ndarray:
    # 'right' = d/dx as cv2.getDerivKernels(1, 0, …); 'bottom' = d/dy; 'left', 'top' negated.
    weights = (
        np.outer(smoothing, slope)
        if direction in ("right", "left")
        else np.outer(slope, smoothing)
    )
    return (-weights if direction in ("left", "top") else weights) + 0.0


# ---------------------------------------------------------------- the generators


@generator("identity", "Identity")
def identity(size: Side = 3) -> np.ndarray:
    """Make a kernel that changes nothing: 1 in the centre of a `size` × `size` grid.

    Examples
    --------
    >>> identity(3)
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]])
    """
    return _identity(size, size)


@generator("box", "Box blur")
def box(rows: Side, cols: Side) -> np.ndarray:
    """Average a `rows` × `cols` neighbourhood.

    Examples
    --------
    >>> box(1, 3)
    array([[0.33333333, 0.33333333, 0.33333333]])
    """
    return np.full((rows, cols), 1.0 / (rows * cols))


@generator("binomial", "Binomial blur")
def binomial(size: Side = 3) -> np.ndarray:
    """Make Pascal's triangle times itself: the integer approximation of a Gaussian.

    ``binomial(3)`` is ``[1 2 1]ᵀ[1 2 1] / 16``, the classic 3 × 3 Gaussian blur.

    Examples
    --------
    >>> binomial(3) * 16
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    row = np.array([math.comb(size - 1, k) for k in range(size)], dtype=np.float64)
    return np.outer(row, row) / row.sum() ** 2


@generator("gaussian", "Gaussian blur")
def gaussian(sigma: Sigma, size: AutoSide = None) -> np.ndarray:
    """Make a Gaussian blur of standard deviation `sigma`, summing to 1.

    Parameters
    ----------
    sigma : float
        The standard deviation in pixels, 0.1 to 10.
    size : int or None
        An odd side from 1 to 31; ``None`` picks ``2·ceil(3σ) + 1`` (capped at 31).

    Notes
    -----
    ``w = g gᵀ`` with ``g[i] = exp(-i² / 2σ²) / Σ exp(-j² / 2σ²)``: the outer
    product of ``cv2.getGaussianKernel(size, sigma)`` with itself.

    Examples
    --------
    >>> gaussian(1.0).shape
    (7, 7)
    >>> float(gaussian(0.5, size=3).sum())
    1.0
    """
    half = (
        size // 2
        if size is not None
        else _fitted_half(math.ceil(3 * sigma), "gaussian", f"σ {sigma:g}")
    )
    profile = _gaussian_profile(sigma, half)
    return np.outer(profile, profile)


@generator("elliptical-gaussian", "Elliptical Gaussian")
def elliptical_gaussian(
    sigma_x: Sigma, sigma_y: Sigma, angle: Angle = 0.0, size: AutoSide = None
) -> np.ndarray:
    """Make a Gaussian blur stretched along `angle`: `sigma_x` along it, `sigma_y` across.

    Notes
    -----
    ``w ∝ exp(-u²/2σx² - v²/2σy²)`` where ``u``, ``v`` are the cell's offsets
    along and across `angle` (degrees, counter-clockwise from right); it sums
    to 1. With equal sigmas it is :func:`gaussian`.

    Examples
    --------
    >>> bool(np.allclose(elliptical_gaussian(1.0, 1.0), gaussian(1.0)))
    True
    >>> elliptical_gaussian(3.0, 0.5, 0.0).shape
    (19, 19)
    """
    if size is None:
        half = _fitted_half(
            math.ceil(3 * max(sigma_x, sigma_y)), "elliptical-gaussian", "the blur"
        )
    else:
        half = size // 2
    x, y = _grid(half)
    cos, sin = _cos_sin(angle)
    along, across = x * cos + y * sin, -x * sin + y * cos
    weights = np.exp(-(along**2) / (2 * sigma_x**2) - across**2 / (2 * sigma_y**2))
    return weights / weights.sum()


@generator("log", "Laplacian of Gaussian", display="abs")
def laplacian_of_gaussian(sigma: Sigma, size: AutoSideFrom3 = None) -> np.ndarray:
    """Make the Laplacian of a Gaussian blur (negative centre), summing to exactly 0.

    Parameters
    ----------
    sigma : float
        The Gaussian's standard deviation in pixels.
    size : int or None
        An odd side from 3; ``None`` picks ``2·ceil(3σ) + 1`` (capped at 31).

    Notes
    -----
    The sampled ``∇²G = (r² - 2σ²) / σ⁴ · G(r)`` does not sum to 0 once cut to
    a window: what is cut off is negative area's complement. The truncation is
    corrected in three steps: the mean weight is subtracted from every cell (so
    flat areas give 0), the kernel is scaled so that ``Σ w·x² = 2`` (so, like
    the 3 × 3 Laplacian ``[1 -2 1]``, it gives ∇²(x²) = 2 exactly on a
    quadratic ramp), and the weights are rounded to multiples of 2⁻⁴⁰ with the
    centre set to minus the sum of the others, so that the sum is exactly 0 in
    any order of addition. Each step keeps the kernel's symmetry.

    Examples
    --------
    >>> weights = laplacian_of_gaussian(1.0)
    >>> weights.shape, float(weights.sum()), bool(weights[3, 3] < 0)
    ((7, 7), 0.0, True)
    """
    half = (
        size // 2
        if size is not None
        else _fitted_half(math.ceil(3 * sigma), "log", f"σ {sigma:g}")
    )
    x, y = _grid(half)
    squared = x**2 + y**2
    weights = (squared - 2 * sigma**2) * np.exp(-squared / (2 * sigma**2))
    weights = weights - weights.mean()
    moment = float((weights * x**2).sum())
    if moment > 0:
        weights = weights * (2.0 / moment)
    quantum = 2.0**-40
    weights = np.round(weights / quantum) * quantum
    weights[half, half] = 0.0
    weights[half, half] = -weights.sum()
    return weights


@generator("dog", "Difference of Gaussians", display="abs")
def difference_of_gaussians(
    sigma1: Sigma,
    sigma2: Annotated[float, Range(0.1, 10.0, "px", 0.1, start=2.0)],
    size: AutoSide = None,
) -> np.ndarray:
    """Make a band-pass filter: ``gaussian(sigma1) - gaussian(sigma2)`` on one grid, summing to 0.

    With ``sigma1 < sigma2`` the centre is positive: edges and spots between
    the two scales stand out; its sum is 0 to rounding.

    Examples
    --------
    >>> weights = difference_of_gaussians(1.0, 2.0)
    >>> weights.shape, bool(abs(weights.sum()) < 1e-15), bool(weights[6, 6] > 0)
    ((13, 13), True, True)
    """
    if size is None:
        half = _fitted_half(
            math.ceil(3 * max(sigma1, sigma2)), "dog", f"σ {max(sigma1, sigma2):g}"
        )
    else:
        half = size // 2
    narrow, wide = _gaussian_profile(sigma1, half), _gaussian_profile(sigma2, half)
    return np.outer(narrow, narrow) - np.outer(wide, wide)


@generator("gabor", "Gabor", display="abs")
def gabor(
    sigma: Sigma,
    theta: Angle,
    wavelength: Annotated[float, Range(2.0, 31.0, "px", 0.5, start=8.0)],
    aspect: Annotated[float, Range(0.1, 4.0, "", 0.05)] = 1.0,
    phase: Annotated[float, Range(-180.0, 180.0, "°", 1.0)] = 0.0,
    size: AutoSide = None,
) -> np.ndarray:
    """Make a Gabor filter: stripes of `wavelength` across direction `theta`, under a Gaussian.

    Parameters
    ----------
    sigma : float
        The Gaussian envelope's standard deviation along the stripes' normal, px.
    theta : float
        The stripes' normal in **degrees** (OpenCV takes radians). It follows
        OpenCV, whose y axis points down: on screen it turns clockwise, unlike
        the other generators' angles.
    wavelength : float
        The stripes' period in pixels.
    aspect : float
        The envelope's aspect ratio γ: σ across is ``sigma / aspect``.
    phase : float
        The cosine's phase ψ in **degrees** (0 gives a bright centre stripe).
    size : int or None
        An odd side; ``None`` picks the smallest square that holds the
        envelope's 3σ ellipse.

    Notes
    -----
    Equal to ``cv2.getGaborKernel((size, size), sigma, radians(theta),
    wavelength, aspect, radians(phase))``:
    ``w(x, y) = exp(-(x'² + γ²y'²) / 2σ²) · cos(2π x'/λ + ψ)`` with
    ``x' = x cos θ + y sin θ``, ``y' = -x sin θ + y cos θ``, stored as OpenCV
    stores it (row ``half - y``, column ``half - x``). Not normalised.

    Examples
    --------
    >>> gabor(2.0, 0.0, 8.0).shape
    (13, 13)
    """
    radians, phase_radians = math.radians(theta), math.radians(phase)
    sigma_y = sigma / aspect
    if size is None:
        # The bounding box of the envelope's 3σ ellipse, turned by theta.
        cos, sin = math.cos(radians), math.sin(radians)
        across_x = math.hypot(3 * sigma * cos, 3 * sigma_y * sin)
        across_y = math.hypot(3 * sigma * sin, 3 * sigma_y * cos)
        needed = math.ceil(max(across_x, across_y) - 1e-9)
        half = _fitted_half(max(needed, 1), "gabor", "the envelope", renormalised=False)
    else:
        half = size // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    x, y = offsets[np.newaxis, :], offsets[:, np.newaxis]
    x_rotated = x * math.cos(radians) + y * math.sin(radians)
    y_rotated = -x * math.sin(radians) + y * math.cos(radians)
    envelope = np.exp(-0.5 / sigma**2 * x_rotated**2 - 0.5 / sigma_y**2 * y_rotated**2)
    weights = envelope * np.cos(2 * math.pi / wavelength * x_rotated + phase_radians)
    return weights[::-1, ::-1].copy()


@generator("motion-blur", "Motion blur")
def motion_blur(
    length: Annotated[float, Range(1.0, 43.0, "px", 0.5, start=9.0)], angle: Angle
) -> np.ndarray:
    """Blur along a straight line of `length` pixels at `angle` degrees, summing to 1.

    Notes
    -----
    The line is a segment of `length` centred on the middle cell; each cell's
    weight is the length of the segment inside that cell's square, divided by
    the whole length: an exact anti-aliased line. At 0° and a whole length it
    is the box row ``[1 … 1] / length``; at −45° and ``length = n√2`` it is
    ``eye(n) / n``. The grid is the smallest (odd × odd) that holds the line,
    up to 31 × 31.

    Examples
    --------
    >>> motion_blur(3, 0)
    array([[0.33333333, 0.33333333, 0.33333333]])
    >>> motion_blur(4, 90).ravel()
    array([0.125, 0.25 , 0.25 , 0.25 , 0.125])
    """
    cos, sin = _cos_sin(angle)
    reach = length / 2 * max(abs(cos), abs(sin))
    half = _fitted_half(max(math.ceil(reach - 0.5), 0), "motion-blur", f"a length of {length:g}")
    x, y = _grid(half)
    inside = _segment_in_squares(x, y, cos, sin, length / 2)
    if inside.sum() <= 0:
        return _identity(1, 1)
    return _trim(inside / inside.sum())


def _segment_in_squares(
    x: np.ndarray, y: np.ndarray, cos: float, sin: float, half_length: float
) -> np.ndarray:
    # Liang–Barsky: the part of t ∈ [-h, h] of the point t·(cos, sin) inside each unit square.
    low = np.full(np.broadcast_shapes(x.shape, y.shape), -half_length)
    high = np.full_like(low, half_length)
    for centre, step in ((x, cos), (y, sin)):
        centre = np.broadcast_to(centre, low.shape)
        if abs(step) < 1e-12:  # parallel to this axis (to far below a cell over 43 px)
            outside = np.abs(centre) > 0.5
            high = np.where(outside, -np.inf, high)
            continue
        first, second = (centre - 0.5) / step, (centre + 0.5) / step
        low = np.maximum(low, np.minimum(first, second))
        high = np.minimum(high, np.maximum(first, second))
    return np.clip(high - low, 0.0, None)


@generator("disk", "Lens blur (disk)")
def disk(radius: Annotated[float, Range(0.5, 15.5, "px", 0.5, start=3.0)]) -> np.ndarray:
    """Make a lens blur: a disk of `radius` pixels with an anti-aliased edge, summing to 1.

    Notes
    -----
    Each cell's weight is the exact area of the disk inside the cell's square
    (by integrating the circle's height in closed form), divided by the total,
    so the edge is smooth and the kernel changes continuously with `radius`.

    Examples
    --------
    >>> disk(0.5)
    array([[1.]])
    >>> weights = disk(1.5)
    >>> weights.shape, round(float(weights.sum()), 12)
    ((3, 3), 1.0)
    """
    half = math.ceil(radius - 0.5)
    x, y = _grid(half)
    area = (
        _quarter_area(x + 0.5, y + 0.5, radius)
        - _quarter_area(x - 0.5, y + 0.5, radius)
        - _quarter_area(x + 0.5, y - 0.5, radius)
        + _quarter_area(x - 0.5, y - 0.5, radius)
    )
    area = np.clip(area, 0.0, None)
    return _trim(area / area.sum())


def _quarter_area(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    # The signed area of the disk within the rectangle between the origin and (x, y).
    sign = np.sign(x) * np.sign(y)
    x, y = np.minimum(np.abs(x), radius), np.minimum(np.abs(y), radius)
    # Below the height y, up to a = √(r² - y²), the rectangle is inside; beyond it, the arc.
    a = np.minimum(np.sqrt(np.maximum(radius**2 - y**2, 0.0)), x)

    def under_arc(u: np.ndarray) -> np.ndarray:
        # ∫₀ᵘ √(r² − t²) dt; arctan2 keeps its precision where u is close to r and
        # arcsin(u / r) would lose half the digits.
        height = np.sqrt(np.maximum((radius - u) * (radius + u), 0.0))
        return 0.5 * (u * height + radius**2 * np.arctan2(u, height))

    return sign * (a * y + under_arc(x) - under_arc(a))


@generator("unsharp-mask", "Unsharp mask")
def unsharp_mask(
    sigma: Sigma,
    amount: Annotated[float, Range(0.0, 5.0, "", 0.05, start=1.0)],
    size: AutoSide = None,
) -> np.ndarray:
    """Sharpen by unsharp masking: ``identity + amount · (identity - gaussian(sigma))``.

    Notes
    -----
    ``enhanced = original + amount · (original - blurred)``, as one kernel; it
    sums to 1, so flat areas keep their brightness.

    Examples
    --------
    >>> weights = unsharp_mask(1.0, 1.0, size=5)
    >>> round(float(weights.sum()), 12), bool(weights[2, 2] > 1)
    (1.0, True)
    """
    if size is None:
        half = _fitted_half(math.ceil(3 * sigma), "unsharp-mask", f"σ {sigma:g}")
    else:
        half = size // 2
    profile = _gaussian_profile(sigma, half)
    blurred = np.outer(profile, profile)
    sharp = _identity(*blurred.shape)
    return sharp + amount * (sharp - blurred)


@generator("sobel", "Sobel", display="abs")
def sobel(direction: Direction, size: Literal[3, 5, 7] = 3) -> np.ndarray:
    """Make the Sobel derivative: positive where the `direction` side is brighter.

    ``right`` equals ``ky kxᵀ`` of ``cv2.getDerivKernels(1, 0, size)``,
    ``bottom`` of ``cv2.getDerivKernels(0, 1, size)``; ``left`` and ``top``
    are their negatives.

    Examples
    --------
    >>> sobel("right")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    smoothing = np.array([math.comb(size - 1, k) for k in range(size)], dtype=np.float64)
    # The derivative row: the difference of the binomial of size − 2 shifted by one.
    inner = np.array([math.comb(size - 2, k) for k in range(size - 1)], dtype=np.float64)
    slope = np.concatenate(([0.0], inner)) - np.concatenate((inner, [0.0]))
    return _derivative(direction, smoothing, slope)


@generator("scharr", "Scharr", display="abs")
def scharr(direction: Direction) -> np.ndarray:
    """Make the Scharr derivative: Sobel with ``[3 10 3]`` smoothing, closer to isotropic.

    Equal to ``cv2.getDerivKernels(1, 0, cv2.FILTER_SCHARR)`` for ``right``.

    Examples
    --------
    >>> scharr("top")
    array([[  3.,  10.,   3.],
           [  0.,   0.,   0.],
           [ -3., -10.,  -3.]])
    """
    return _derivative(direction, np.array([3.0, 10.0, 3.0]), np.array([-1.0, 0.0, 1.0]))


@generator("prewitt", "Prewitt", display="abs")
def prewitt(direction: Direction) -> np.ndarray:
    """Make the Prewitt derivative: a difference across three unweighted rows or columns.

    Examples
    --------
    >>> prewitt("left")
    array([[ 1.,  0., -1.],
           [ 1.,  0., -1.],
           [ 1.,  0., -1.]])
    """
    return _derivative(direction, np.ones(3), np.array([-1.0, 0.0, 1.0]))


@generator("emboss", "Emboss")
def emboss(angle: Angle, strength: Annotated[float, Range(0.0, 5.0, "", 0.1)] = 1.0) -> np.ndarray:
    """Make a relief lit from `angle`: the identity plus a difference across the 3 × 3 ring.

    Notes
    -----
    ``w = identity + strength · (dx·cos θ + dy·sin θ) / max(|cos θ|, |sin θ|)``
    for each ring cell at offset ``(dx, dy)`` (y up), so the strongest side
    weight is ``strength`` at every angle and the weights are whole numbers
    at multiples of 45°. It sums to 1. ``emboss(-45)`` is the classic
    ``[-2 -1 0; -1 1 1; 0 1 2]``.

    Examples
    --------
    >>> emboss(-45)
    array([[-2., -1.,  0.],
           [-1.,  1.,  1.],
           [ 0.,  1.,  2.]])
    """
    cos, sin = _cos_sin(angle)
    x, y = _grid(1)
    ring = (x * cos + y * sin) / max(abs(cos), abs(sin))
    return _identity(3, 3) + strength * ring + 0.0


@generator("laplacian", "Laplacian", display="abs")
def laplacian(
    neighbours: Literal[4, 8] = 4,
    strength: Annotated[float, Range(-4.0, 4.0, "", 0.1)] = 1.0,
) -> np.ndarray:
    """Make the 3 × 3 Laplacian over 4 or 8 `neighbours`, times `strength`; it sums to 0.

    A negative `strength` gives the positive-centre form that outlines edges.

    Examples
    --------
    >>> laplacian(4)
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    >>> laplacian(8, -1)
    array([[-1., -1., -1.],
           [-1.,  8., -1.],
           [-1., -1., -1.]])
    """
    ring = (
        np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        if neighbours == 4
        else np.ones((3, 3))
    )
    ring[1, 1] = -float(neighbours)
    return strength * ring + 0.0


@generator("sharpen", "Sharpen")
def sharpen(
    amount: Annotated[float, Range(0.0, 4.0, "", 0.1)] = 1.0, neighbours: Literal[4, 8] = 4
) -> np.ndarray:
    """Sharpen by the Laplacian: ``identity - amount · laplacian(neighbours)``; it sums to 1.

    Examples
    --------
    >>> sharpen(1)
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    """
    return _identity(3, 3) - amount * laplacian(neighbours) + 0.0
