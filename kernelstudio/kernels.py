"""Kernel weights: parsing what people type, the preset library, and kernel files."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from kernelstudio.atomic import describe_os_error, read_regular_file, write_atomically
from kernelstudio.convolution import check_kernel
from kernelstudio.generators import GeneratorSettings, generate, parse_spec

MAX_KERNEL_SIDE = 31
"""Largest kernel height or width accepted from text or files."""

_FLOAT32_OVERFLOW = float(np.finfo(np.float32).max) * (1 + 2.0**-25)
"""Magnitudes from here on round to infinity in float32, the engine's precision."""

MAX_KERNEL_FILE_BYTES = 1_000_000
"""Largest kernel file read: a 31×31 kernel written out in full needs about 25 kB."""

KERNEL_FILE_FORMAT = "kernelstudio-kernel"
KERNEL_FILE_VERSION = 2
"""Version 2 added ``divisor`` and ``offset``; version 1 files still load."""

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_WEIGHT_PATTERN = re.compile(rf"\s*({_NUMBER})\s*(?:/\s*({_NUMBER})\s*)?", re.ASCII)
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})
_ROW_SEPARATOR = re.compile(r"[;\n]")
_SPACED_SLASH = re.compile(r"[ \t]*/[ \t]*")
_CELL_SEPARATOR = re.compile(r"[\s,]+")
_SUM_TOLERANCE = 1e-9


def parse_weight(text: str) -> float:
    """Read one kernel weight as a person types it into a cell.

    Parameters
    ----------
    text : str
        An integer (``-1``), a decimal (``0.25``, ``.5``), scientific notation
        (``1e-3``) or a fraction of two such numbers (``1/16``, ``-1/8``), with
        optional spaces around it. A typographic minus (``−``) counts as ``-``.

    Returns
    -------
    float
        The finite value.

    Raises
    ------
    ValueError
        For anything else: words, expressions, ``nan``, ``inf``, numbers too
        large for a float, or a zero denominator. Text is never evaluated.

    Examples
    --------
    >>> parse_weight(" 1/16 ")
    0.0625
    >>> parse_weight("-2.5e-1")
    -0.25
    >>> parse_weight("2*3")
    Traceback (most recent call last):
    ...
    ValueError: '2*3' is not a number or a fraction such as 1/16
    """
    if not isinstance(text, str):
        raise TypeError(f"weight text must be a string; got {type(text).__name__}")
    match = _WEIGHT_PATTERN.fullmatch(text.translate(_MINUS_SIGNS))
    if match is None:
        if not text.strip():
            raise ValueError("empty cell: type a number such as 0, 1 or 1/16")
        raise ValueError(f"{text.strip()!r} is not a number or a fraction such as 1/16")
    numerator = float(match.group(1))
    denominator = 1.0 if match.group(2) is None else float(match.group(2))
    if not (math.isfinite(numerator) and math.isfinite(denominator)):
        raise ValueError(f"{text.strip()!r} is too large for a weight (the largest is 3.4e38)")
    if denominator == 0.0:
        raise ValueError(f"{text.strip()!r} divides by zero")
    value = numerator / denominator
    if not _finite_in_float32(value):
        raise ValueError(f"{text.strip()!r} is too large for a weight (the largest is 3.4e38)")
    return value


def _finite_in_float32(value: float) -> bool:
    return abs(value) < _FLOAT32_OVERFLOW


def format_weight(value: float) -> str:
    """Write a weight as a person would type it: ``5``, ``1/16``, ``0.1134``.

    Integers below a million are written without a point, values that are a fraction with a
    denominator up to 256 as that fraction, and anything else with four
    significant digits. :func:`parse_weight` reads every result back.

    Examples
    --------
    >>> [format_weight(v) for v in (5.0, -0.125, 1 / 9, 0.011343)]
    ['5', '-1/8', '1/9', '0.01134']

    It is total: NaN and infinities, which no kernel holds, are written as
    text that :func:`parse_weight` refuses rather than raising.

    >>> [format_weight(v) for v in (float("inf"), float("-inf"), float("nan"))]
    ['inf', '-inf', 'nan']
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    fraction = Fraction(value).limit_denominator(256)
    if fraction.denominator > 1 and math.isclose(float(fraction), value, rel_tol=1e-12):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{value:.4g}"


_DENOMINATORS = np.arange(2, 257, dtype=np.float64)


def format_weights(weights: ArrayLike) -> list[str]:
    """Write every weight as :func:`format_weight` does, many times faster for a whole grid.

    A slider drag refreshes a 15 × 15 grid per step; the fraction search of
    :func:`format_weight` is then done for all weights at once, and only a
    weight that is close to a fraction with a denominator up to 256 is written
    by :func:`format_weight` itself.

    Examples
    --------
    >>> format_weights([[0.0625, 0.125], [-3.0, 0.011343]])
    ['1/16', '1/8', '-3', '0.01134']
    """
    values = np.asarray(weights, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(values)[:, np.newaxis] * _DENOMINATORS
        near_fraction = (np.abs(scaled - np.rint(scaled)) <= 1e-9 * scaled).any(axis=1)
    texts = []
    for value, maybe_fraction in zip(values.tolist(), near_fraction.tolist(), strict=True):
        simple = not math.isfinite(value) or (value.is_integer() and abs(value) < 1e6)
        if simple or maybe_fraction:
            texts.append(format_weight(value))
        else:
            texts.append(f"{value:.4g}")
    return texts


def parse_kernel(text: str) -> np.ndarray:
    """Read a whole kernel written as rows of weights.

    Parameters
    ----------
    text : str
        Rows separated by ``;`` or new lines, weights within a row by spaces or
        commas; each weight as accepted by :func:`parse_weight`.

    Returns
    -------
    numpy.ndarray
        float64 weights with odd height and width.

    Raises
    ------
    ValueError
        If a weight cannot be read, rows differ in length, or the shape is not a
        usable kernel. The message names the row and column of a bad weight.

    Examples
    --------
    >>> parse_kernel("1/4 1/2 1/4")
    array([[0.25, 0.5 , 0.25]])
    >>> parse_kernel("0 -1 0; -1 5 -1; 0 -1 0").sum()
    np.float64(1.0)
    """
    # "1 / 16" is one weight, as in a cell, not three.
    text = _SPACED_SLASH.sub("/", text)
    rows = [row.strip() for row in _ROW_SEPARATOR.split(text)]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError("kernel text is empty")
    weights: list[list[float]] = []
    for row_number, row in enumerate(rows, start=1):
        cells = [cell for cell in _CELL_SEPARATOR.split(row) if cell]
        parsed = []
        for column_number, cell in enumerate(cells, start=1):
            try:
                parsed.append(parse_weight(cell))
            except ValueError as error:
                raise ValueError(f"row {row_number}, column {column_number}: {error}") from None
        weights.append(parsed)
    lengths = {len(row) for row in weights}
    if len(lengths) != 1:
        raise ValueError(f"kernel rows differ in length: {[len(row) for row in weights]}")
    return validate_kernel(weights)


def validate_kernel(weights: ArrayLike) -> np.ndarray:
    """Check weights that came from a person or a file and return them as float64.

    Parameters
    ----------
    weights : array_like
        Candidate 2-D weights.

    Returns
    -------
    numpy.ndarray
        A new float64 array.

    Raises
    ------
    ValueError
        If :func:`kernelstudio.convolution.check_kernel` refuses the weights, a
        side exceeds :data:`MAX_KERNEL_SIDE`, or a weight, the sum or the sum of
        magnitudes is beyond the float32 range the engine computes in.

    Examples
    --------
    >>> validate_kernel([[2e38, 0, 2e38]])
    Traceback (most recent call last):
    ...
    ValueError: the weights are too large: their magnitudes add up to 4e+38,
    beyond the float32 limit of 3.4e38
    """
    checked = check_kernel(weights)
    if max(checked.shape) > MAX_KERNEL_SIDE:
        height, width = checked.shape
        raise ValueError(
            f"kernel of {height}×{width} is larger than the limit of "
            f"{MAX_KERNEL_SIDE}×{MAX_KERNEL_SIDE}"
        )
    largest = float(np.abs(checked).max())
    if not _finite_in_float32(largest):
        raise ValueError(f"a weight of {largest:.3g} is beyond the float32 limit of 3.4e38")
    magnitude = float(np.abs(checked).sum())
    if not _finite_in_float32(magnitude):
        raise ValueError(
            f"the weights are too large: their magnitudes add up to {magnitude:.3g}, "
            f"beyond the float32 limit of 3.4e38"
        )
    return checked


def kernel_sum(weights: ArrayLike) -> float:
    """Return the sum of the weights: the factor applied to a flat image's brightness.

    Examples
    --------
    >>> kernel_sum([[1, 2, 1]])
    4.0
    """
    return float(np.sum(np.asarray(weights, dtype=np.float64)))


def normalise(weights: ArrayLike) -> np.ndarray:
    """Scale the weights so that they sum to one, keeping brightness unchanged.

    Parameters
    ----------
    weights : array_like
        Kernel weights.

    Returns
    -------
    numpy.ndarray
        float64 weights divided by their sum, or an unchanged copy when the sum
        is (close to) zero, as for edge detectors, which cannot be normalised.

    Examples
    --------
    >>> normalise([[1, 2, 1]])
    array([[0.25, 0.5 , 0.25]])
    >>> normalise([[1, 0, -1]])
    array([[ 1.,  0., -1.]])
    """
    array = np.array(weights, dtype=np.float64)
    total = array.sum()
    scale = np.abs(array).sum()
    if abs(total) <= _SUM_TOLERANCE * max(scale, 1.0):
        return array
    return array / total


@dataclass(frozen=True)
class Kernel:
    """A named kernel, as stored in a kernel file.

    Attributes
    ----------
    name : str
        What people call it.
    weights : numpy.ndarray
        float64 weights with odd height and width.
    divisor : float
        What the weighted sum is divided by: finite and not zero.
    offset : float
        Added after dividing, in the image's value units (128 is mid-grey for 8-bit).
    """

    name: str
    weights: np.ndarray
    divisor: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class _Preset:
    slug: str
    name: str
    spec: str
    display: str


# Every preset is a generator's output, so choosing one brings its sliders.
_CATALOGUE = (
    _Preset("identity", "Identity", "identity:size=3", "clip"),
    _Preset("box-blur", "Box blur", "box:rows=3,cols=3", "clip"),
    _Preset("gaussian-blur", "Gaussian blur", "binomial:size=3", "clip"),
    _Preset("sharpen", "Sharpen", "sharpen:amount=1,neighbours=4", "clip"),
    _Preset("vertical-edge", "Vertical edge", "prewitt:direction=left", "abs"),
    _Preset("horizontal-edge", "Horizontal edge", "prewitt:direction=top", "abs"),
    _Preset("outline", "Outline", "laplacian:neighbours=8,strength=-1", "abs"),
    _Preset("emboss", "Emboss", "emboss:angle=-45,strength=1", "clip"),
    _Preset("sobel-left", "Sobel left", "sobel:direction=left", "abs"),
    _Preset("sobel-right", "Sobel right", "sobel:direction=right", "abs"),
    _Preset("sobel-top", "Sobel top", "sobel:direction=top", "abs"),
    _Preset("sobel-bottom", "Sobel bottom", "sobel:direction=bottom", "abs"),
    _Preset("laplacian", "Laplacian", "laplacian:neighbours=4", "abs"),
    _Preset("gaussian-blur-5x5", "Gaussian blur 5×5", "gaussian:sigma=1,size=5", "clip"),
    _Preset(
        "unsharp-mask-5x5", "Unsharp mask 5×5", "unsharp-mask:sigma=1,amount=1,size=5", "clip"
    ),
    _Preset(
        "motion-blur-7x7",
        "Motion blur 7×7 (diagonal)",
        f"motion-blur:length={7 * math.sqrt(2)!r},angle=-45",
        "clip",
    ),
)


PRESET_GENERATORS: Mapping[str, GeneratorSettings] = MappingProxyType(
    {preset.slug: parse_spec(preset.spec) for preset in _CATALOGUE}
)
"""The generator and parameters that make each preset, by slug."""


def _read_only(weights: np.ndarray) -> np.ndarray:
    weights = weights.copy()
    weights.flags.writeable = False
    return weights


PRESETS: Mapping[str, np.ndarray] = MappingProxyType(
    {slug: _read_only(generate(settings).weights) for slug, settings in PRESET_GENERATORS.items()}
)
"""Preset weights by slug, in menu order. The arrays are read-only."""

PRESET_NAMES: Mapping[str, str] = MappingProxyType(
    {preset.slug: preset.name for preset in _CATALOGUE}
)
"""Display name of every preset, by slug."""

PRESET_DISPLAY: Mapping[str, str] = MappingProxyType(
    {preset.slug: preset.display for preset in _CATALOGUE}
)
"""The display mapping that reads best for each preset (edge kernels use ``abs``)."""


def preset_kernel(slug: str) -> Kernel:
    """Return the preset called `slug` as a :class:`Kernel` with a writeable copy.

    Raises
    ------
    KeyError
        If there is no such preset; the message lists the valid slugs.
    """
    if slug not in PRESETS:
        raise KeyError(f"no preset {slug!r}; choose one of: {', '.join(PRESETS)}")
    return Kernel(PRESET_NAMES[slug], PRESETS[slug].copy())


PRESETS_ORGANIZATION = "KernelStudio"
PRESETS_APPLICATION = "Kernel Studio"
"""The names Qt files the window's settings under; they decide where user presets live."""


def user_presets_folder(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> Path:
    """Return the folder of the presets a person saved in the window, as kernel files.

    It is Qt's ``QStandardPaths.AppConfigLocation`` for the organisation
    ``KernelStudio`` and the application ``Kernel Studio``, plus ``presets``,
    found without Qt so that the command line never loads it:

    - Linux and other Unix: ``$XDG_CONFIG_HOME/KernelStudio/Kernel Studio/presets``,
      where an unset, empty or relative ``XDG_CONFIG_HOME`` means ``~/.config``;
    - macOS: ``~/Library/Preferences/KernelStudio/Kernel Studio/presets``;
    - Windows: ``%LOCALAPPDATA%/KernelStudio/Kernel Studio/presets``.

    Parameters
    ----------
    environ : mapping, optional
        The environment; :data:`os.environ` by default.
    platform : str, optional
        A :data:`sys.platform` value; the running one by default.

    Examples
    --------
    >>> user_presets_folder({"XDG_CONFIG_HOME": "/cfg"}, "linux").as_posix()
    '/cfg/KernelStudio/Kernel Studio/presets'
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    home = Path(environ.get("HOME") or Path.home())
    if platform == "win32":
        local = environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        config = Path(local)
    elif platform == "darwin":
        config = home / "Library" / "Preferences"
    else:
        chosen = environ.get("XDG_CONFIG_HOME", "")
        config = Path(chosen) if os.path.isabs(chosen) else home / ".config"
    return config / PRESETS_ORGANIZATION / PRESETS_APPLICATION / "presets"


class KernelFileError(ValueError):
    """A kernel file that cannot be read or written; the message says why."""


def kernel_to_json(kernel: Kernel) -> str:
    """Serialise `kernel` in the versioned kernel-file format.

    The document is ``{"format": "kernelstudio-kernel", "version": 2,
    "name": ..., "weights": [[...], ...], "divisor": ..., "offset": ...}``.

    Raises
    ------
    ValueError
        If the weights, the divisor or the offset are unusable.

    Examples
    --------
    >>> emboss = Kernel("emboss", np.array([[-1.0, 0.0, 1.0]]), offset=128)
    >>> document = json.loads(kernel_to_json(emboss))
    >>> document["version"], document["divisor"], document["offset"]
    (2, 1.0, 128.0)
    """
    weights = validate_kernel(kernel.weights)
    document = {
        "format": KERNEL_FILE_FORMAT,
        "version": KERNEL_FILE_VERSION,
        "name": kernel.name,
        "weights": weights.tolist(),
        "divisor": file_number(kernel.divisor, "'divisor'", nonzero=True),
        "offset": file_number(kernel.offset, "'offset'"),
    }
    return json.dumps(document, indent=2) + "\n"


def kernel_from_json(text: str, *, source: str = "kernel file") -> Kernel:
    """Read a kernel from the text of a kernel file.

    Parameters
    ----------
    text : str
        JSON as written by :func:`kernel_to_json`. ``format`` and ``version``
        may be omitted (the current version is meant); a newer version is
        refused. ``divisor`` (default 1) and ``offset`` (default 0) are read
        from version 2 on; version 1 had neither, so a version 1 file loads
        as it always did, whatever other keys it holds.
    source : str
        What to call the text in error messages (usually the file name).

    Returns
    -------
    Kernel

    Raises
    ------
    KernelFileError
        If the text is not JSON, not an object, of another format or a newer
        version, or its name, weights, divisor or offset are unusable; the
        message names the field and the value.

    Examples
    --------
    >>> kernel_from_json('{"weights": [[1, 2, 1]], "divisor": 4}').divisor
    4.0
    >>> kernel_from_json('{"weights": [[1]], "divisor": 0}', source="'k.json'")
    Traceback (most recent call last):
    ...
    kernelstudio.kernels.KernelFileError: 'k.json': 'divisor' is 0; it must be a finite
    number other than 0
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, or an over-long integer
        raise KernelFileError(f"{source} is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise KernelFileError(f"{source} must hold a JSON object with 'name' and 'weights'")
    file_format = document.get("format", KERNEL_FILE_FORMAT)
    if file_format != KERNEL_FILE_FORMAT:
        raise KernelFileError(f"{source} is not a Kernel Studio kernel (format {file_format!r})")
    version = document.get("version", KERNEL_FILE_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise KernelFileError(f"{source} has an invalid version {version!r}")
    if version > KERNEL_FILE_VERSION:
        raise KernelFileError(
            f"{source} is version {version}; this Kernel Studio reads up to "
            f"version {KERNEL_FILE_VERSION}"
        )
    name = document.get("name", "")
    if not isinstance(name, str):
        raise KernelFileError(f"{source} has a name that is not text")
    if "weights" not in document:
        raise KernelFileError(f"{source} has no 'weights'")
    try:
        weights = weights_from_rows(document["weights"], "'weights'")
        if version < 2:
            return Kernel(name, weights)
        divisor = file_number(document.get("divisor", 1.0), "'divisor'", nonzero=True)
        offset = file_number(document.get("offset", 0.0), "'offset'")
    except ValueError as error:
        raise KernelFileError(f"{source}: {error}") from None
    return Kernel(name, weights, divisor, offset)


def weights_from_rows(rows: object, field: str = "'weights'") -> np.ndarray:
    """Check weights read from a file, a JSON list of rows of numbers, and return them.

    Parameters
    ----------
    rows : object
        What the file holds for the weights.
    field : str
        What to call them in messages, such as ``'weights'`` or ``stages[2].weights``.

    Returns
    -------
    numpy.ndarray
        float64 weights, as :func:`validate_kernel` returns them.

    Raises
    ------
    ValueError
        Naming `field`, the row and column of a bad weight, and its value.

    Examples
    --------
    >>> weights_from_rows([[1, "x", 1]], "stages[1].weights")
    Traceback (most recent call last):
    ...
    ValueError: stages[1].weights: the weight at row 1, column 2 is 'x', not a finite number
    """
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ValueError(f"{field} must be a list of rows of numbers")
    for row_number, row in enumerate(rows, start=1):
        for column_number, value in enumerate(row, start=1):
            if isinstance(value, list | dict):
                raise ValueError(
                    f"{field} must be 2-D, rows of numbers; row {row_number} "
                    f"holds a {'list' if isinstance(value, list) else 'object'} at "
                    f"column {column_number}"
                )
            if not _is_number(value):
                raise ValueError(
                    f"{field}: the weight at row {row_number}, column {column_number} "
                    f"is {brief(value)}, not a finite number"
                )
    try:
        return validate_kernel(rows)
    except ValueError as error:
        raise ValueError(f"{field}: {error}") from None


def file_number(value: object, field: str, *, nonzero: bool = False) -> float:
    """Return `value`, read from a file, as a finite float, or raise naming `field` and `value`.

    Examples
    --------
    >>> file_number(128, "'offset'")
    128.0
    >>> file_number(0, "stages[2].divisor", nonzero=True)
    Traceback (most recent call last):
    ...
    ValueError: stages[2].divisor is 0; it must be a finite number other than 0
    """
    if isinstance(value, np.floating | np.integer):
        value = value.item()
    if not _is_number(value) or (nonzero and value == 0):
        other = " other than 0" if nonzero else ""
        raise ValueError(f"{field} is {brief(value)}; it must be a finite number{other}")
    return float(value)


def brief(value: object, limit: int = 40) -> str:
    """Quote `value` for a message, cut to `limit` characters (a stored file may hold megabytes).

    Examples
    --------
    >>> brief("sideways"), brief("x" * 50, limit=8)
    ("'sideways'", "'xxxxxx…")
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def read_kernel_file(path: str | os.PathLike[str]) -> Kernel:
    """Load a kernel file written by :func:`write_kernel_file`.

    Raises
    ------
    KernelFileError
        If the file cannot be read or its content is not a valid kernel.
    """
    path = Path(path)
    try:
        # A BOM, as some editors write, is harmless.
        text = read_regular_file(path, MAX_KERNEL_FILE_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KernelFileError(f"'{path.name}' is not a text file") from None
    except OSError as error:
        reason = describe_os_error(error, saving=False)
        raise KernelFileError(f"Cannot read '{path.name}': {reason}.") from None
    return kernel_from_json(text, source=f"'{path.name}'")


def write_kernel_file(path: str | os.PathLike[str], kernel: Kernel) -> None:
    """Save `kernel` as JSON, atomically: the file is complete or untouched.

    Raises
    ------
    KernelFileError
        If the weights are invalid or the file cannot be written.
    """
    path = Path(path)
    try:
        text = kernel_to_json(kernel)
    except ValueError as error:
        raise KernelFileError(f"Cannot save '{path.name}': {error}.") from None
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as error:
        reason = describe_os_error(error, saving=True)
        raise KernelFileError(f"Cannot save '{path.name}': {reason}.") from None


def check_result_fits(weights: ArrayLike, largest_pixel: float) -> None:
    """Refuse weights whose results could reach beyond float32 on pixels up to `largest_pixel`.

    No result can be larger in magnitude than the sum of the weights'
    magnitudes times the largest pixel magnitude, so when that bound is finite
    in float32, the engine's precision, no result and no partial sum overflows.

    Parameters
    ----------
    weights : array_like
        The kernel's weights.
    largest_pixel : float
        The largest pixel magnitude of the image: its white level for integer
        pixels (see :func:`kernelstudio.display.white_level`), the largest
        finite ``|pixel|`` for float pixels.

    Raises
    ------
    ValueError
        If the bound ``sum(|weights|) × |largest_pixel|`` is not finite in
        float32, or `largest_pixel` is not a finite number.

    Notes
    -----
    ``bound = sum(|w|) × max|p|``; the result fits when ``bound < 3.4e38``.

    Examples
    --------
    >>> check_result_fits([[1, 2, 1]], 65535.0)
    >>> check_result_fits([[1e38, 1e38, 1e38]], 255.0)
    Traceback (most recent call last):
    ...
    ValueError: the result would overflow: weights whose magnitudes add up to 3e+38
    times pixel values up to 255 exceed the float32 limit of 3.4e38
    """
    largest = abs(float(largest_pixel))
    if not math.isfinite(largest):
        raise ValueError(f"the largest pixel value must be a finite number, got {largest_pixel!r}")
    magnitude = float(np.abs(np.asarray(weights, dtype=np.float64)).sum())
    if not _finite_in_float32(magnitude * largest):
        raise ValueError(
            f"the result would overflow: weights whose magnitudes add up to {magnitude:.3g} "
            f"times pixel values up to {largest:.6g} exceed the float32 limit of 3.4e38"
        )
