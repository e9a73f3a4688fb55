"""What a kernel does, read from its weights: brightness, separability, frequencies.

The sentences follow the stage as the image meets it: a flat area of value
``v`` becomes ``v · sum / divisor + offset``, and the display mapping (clip,
abs, normalize, signed) decides what a person sees of that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from kernelstudio.convolution import check_kernel, separable_factors
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.kernels import format_weight

RESPONSE_SIZE = 64
"""Side of the frequency-response grid (the kernel zero-padded to this size)."""

_TINY = 1e-9
"""Gains and offsets this close to a round value count as that value."""


@dataclass(frozen=True)
class KernelAnalysis:
    """Facts about a kernel that the window shows beside the grid.

    Attributes
    ----------
    total : float
        Sum of the weights.
    rank : int
        Numerical rank of the weights (SVD); 1 means separable.
    factors : tuple of numpy.ndarray or None
        ``(column, row)`` whose outer product is the kernel, when separable.
    response : numpy.ndarray
        Magnitude of the 2-D DFT of the zero-padded weights (not divided by
        the divisor), zero frequency in the centre
        (``RESPONSE_SIZE×RESPONSE_SIZE``).
    behaviour : str
        One sentence on what the response means for an image.
    flat_gain : float
        ``total / divisor``: the factor one pass applies to a flat area.
    brightness : str
        One sentence on what a person sees of a flat area (see
        :func:`describe_flat`).
    """

    total: float
    rank: int
    factors: tuple[np.ndarray, np.ndarray] | None
    response: np.ndarray
    behaviour: str
    flat_gain: float
    brightness: str


def frequency_response(kernel: ArrayLike, size: int = RESPONSE_SIZE) -> np.ndarray:
    """Return ``|DFT|`` of `kernel` zero-padded to ``size×size``, centred on zero frequency.

    Examples
    --------
    >>> response = frequency_response([[1 / 3, 1 / 3, 1 / 3]], size=4)
    >>> round(float(response[2, 2]), 6)  # the centre is the zero frequency: the sum
    1.0
    """
    weights = check_kernel(kernel)
    if max(weights.shape) > size:
        raise ValueError(f"a {weights.shape[0]}×{weights.shape[1]} kernel needs size ≥ its side")
    padded = np.zeros((size, size))
    padded[: weights.shape[0], : weights.shape[1]] = weights
    return np.abs(np.fft.fftshift(np.fft.fft2(padded)))


def describe_response(response: np.ndarray, *, divisor: float = 1.0, offset: float = 0.0) -> str:
    """Put the shape of a centred frequency response into one sentence.

    Compares the gain at zero frequency (flat areas) with the mean gain above
    half the Nyquist frequency (fine detail), both divided by `divisor`, so
    that the sentence agrees with the flat areas' gain: it says "flat areas
    pass" only when that gain is 1.

    Examples
    --------
    >>> describe_response(frequency_response([[1, 2, 1]]), divisor=4)
    'Fine detail is damped and flat areas pass: it blurs (low-pass).'
    >>> describe_response(frequency_response([[1, 2, 1]]), divisor=8)
    'Fine detail is damped more than flat areas, which are darkened to 50 %: it blurs (low-pass).'
    """
    size = response.shape[0]
    frequencies = np.fft.fftshift(np.fft.fftfreq(size)) * 2  # Nyquist = ±1
    radius = np.hypot(*np.meshgrid(frequencies, frequencies, indexing="ij"))
    scale = 1.0 / abs(float(divisor))
    flat = float(response[size // 2, size // 2]) * scale
    detail = float(response[radius > 0.5].mean()) * scale
    if float(response.max()) <= 1e-12:
        return f"All weights are zero: every pixel becomes the offset, {_number(offset)}."
    if flat < 0.05 * float(response.max()) * scale:
        return "Flat areas vanish and changes survive: it finds edges (high-pass)."
    passes = abs(flat - 1) <= _TINY
    if detail < 0.6 * flat:
        if passes:
            return "Fine detail is damped and flat areas pass: it blurs (low-pass)."
        return (
            f"Fine detail is damped more than flat areas, which are {_scaled(flat)}: "
            "it blurs (low-pass)."
        )
    if detail > 1.25 * flat:
        if passes:
            return "Flat areas pass and fine detail is amplified: it sharpens (high-boost)."
        return (
            "Fine detail is boosted relative to flat areas, which are "
            f"{_scaled(flat)}: it sharpens (high-boost)."
        )
    if passes:
        return "Every frequency passes about equally: the image keeps its detail."
    return f"Every frequency is scaled about equally, {_scaled(flat)}: the image keeps its detail."


def describe_flat(
    total: float,
    *,
    divisor: float = 1.0,
    offset: float = 0.0,
    display: str = "clip",
    white: float = 255.0,
) -> str:
    """Say what a person sees of a flat area after one stage and the display mapping.

    A flat area of value ``v`` becomes ``v · total / divisor + offset``; the
    display mode then maps it to the screen (see
    :func:`kernelstudio.display.to_uint8`).

    Parameters
    ----------
    total : float
        Sum of the stage's weights.
    divisor, offset : float
        The stage's divisor (not zero) and offset.
    display : {'clip', 'abs', 'normalize', 'signed'}
        The recipe's display mapping.
    white : float
        The value shown as white in ``clip`` and ``abs`` (255 for 8-bit images).

    Returns
    -------
    str
        A sentence starting "Sum …".

    Raises
    ------
    ValueError
        For a divisor of 0 or an unknown display mode.

    Examples
    --------
    >>> describe_flat(1)
    'Sum 1: brightness is kept.'
    >>> describe_flat(0)
    'Sum 0: flat areas become black (0).'
    >>> describe_flat(0, display="signed")
    'Sum 0: flat areas become mid-grey (0 is mid-grey).'
    >>> describe_flat(0, display="normalize")
    'Sum 0: flat areas take the middle of the stretched range, usually grey.'
    >>> describe_flat(0, offset=128)
    'Sum 0: flat areas become 128, mid-grey.'
    >>> describe_flat(16, divisor=16)
    'Sum 16 ÷ 16 = 1: brightness is kept.'
    >>> describe_flat(16)
    'Sum 16: flat areas are brightened to 1600 % (v × 16); from v = 15.94 up they are white.'
    """
    if display not in DISPLAY_MODES:
        raise ValueError(
            f"display mode must be one of {', '.join(DISPLAY_MODES)}; got {display!r}"
        )
    divisor = float(divisor)
    if not math.isfinite(divisor) or divisor == 0:
        raise ValueError(f"divisor must be a finite number other than 0; got {divisor!r}")
    gain, offset = float(total) / divisor, float(offset)
    head = f"Sum {format_weight(round(float(total), 12))}"
    if divisor != 1:
        head += f" ÷ {format_weight(divisor)} = {format_weight(round(gain, 12))}"
    return f"{head}: {_flat_effect(gain, offset, display, white)}."


def analyse_kernel(
    kernel: ArrayLike,
    *,
    divisor: float = 1.0,
    offset: float = 0.0,
    display: str = "clip",
    white: float = 255.0,
) -> KernelAnalysis:
    """Return the :class:`KernelAnalysis` of `kernel` used with `divisor`, `offset`, `display`.

    Examples
    --------
    >>> facts = analyse_kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    >>> facts.total, facts.rank
    (16.0, 1)
    >>> facts.behaviour.split(": ")[0]
    'Fine detail is damped more than flat areas, which are brightened to 1600 %'
    >>> facts = analyse_kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], divisor=16)
    >>> facts.behaviour
    'Fine detail is damped and flat areas pass: it blurs (low-pass).'
    >>> facts.brightness
    'Sum 16 ÷ 16 = 1: brightness is kept.'
    >>> analyse_kernel([[-1, 0, 1]], offset=128).brightness
    'Sum 0: flat areas become 128, mid-grey.'
    """
    weights = check_kernel(kernel)
    response = frequency_response(weights, max(RESPONSE_SIZE, *weights.shape))
    total = float(weights.sum())
    brightness = describe_flat(total, divisor=divisor, offset=offset, display=display, white=white)
    return KernelAnalysis(
        total=total,
        rank=int(np.linalg.matrix_rank(weights)),
        factors=separable_factors(weights),
        response=response,
        behaviour=describe_response(response, divisor=divisor, offset=offset),
        flat_gain=total / float(divisor),
        brightness=brightness,
    )


def _number(value: float) -> str:
    return format_weight(round(float(value), 9))


def _percent(gain: float) -> str:
    value = abs(gain) * 100
    return f"{value:.0f} %" if value >= 10 else f"{value:.3g} %"


def _scaled(gain: float) -> str:
    # How a positive gain other than 1 changes brightness, as a percentage.
    verb = "darkened" if abs(gain) < 1 else "brightened"
    flipped = ", their sign flipped" if gain < 0 else ""
    return f"{verb} to {_percent(gain)}{flipped}"


def _expression(gain: float, offset: float) -> str:
    # What a flat area of value v becomes, written as a person would.
    if abs(gain) <= _TINY:
        return _number(offset)
    text = "v" if abs(gain - 1) <= _TINY else f"v × {_number(gain)}"
    if abs(offset) > _TINY:
        text += f" + {_number(offset)}" if offset > 0 else f" − {_number(-offset)}"
    return text


def _level(value: float, white: float) -> str:
    # A constant as clip shows it: black, white, mid-grey or a share of white.
    if value <= 0:
        return "black (0)"
    if value >= white:
        return f"{_number(value)}, white"
    share = value / white
    if abs(share - 0.5) <= 0.02:
        return f"{_number(value)}, mid-grey"
    return f"{_number(value)}, a {share * 100:.0f} % grey"


def _flat_effect(gain: float, offset: float, display: str, white: float) -> str:
    constant = abs(gain) <= _TINY
    if display == "normalize":
        if constant:
            return "flat areas take the middle of the stretched range, usually grey"
        inverted = "; the gain is negative, so the picture is inverted" if gain < 0 else ""
        return (
            f"flat areas become {_expression(gain, offset)}, but normalize stretches the "
            "result's smallest value to black and its largest to white, so the divisor and "
            f"offset do not change the picture{inverted}"
        )
    if display == "signed":
        if constant and abs(offset) <= _TINY:
            return "flat areas become mid-grey (0 is mid-grey)"
        if constant:
            side = "lighter" if offset > 0 else "darker"
            return (
                f"flat areas become {_number(offset)}, {side} than mid-grey "
                "(signed shows 0 as mid-grey)"
            )
        return (
            f"flat areas become {_expression(gain, offset)}; signed shows 0 as mid-grey, "
            "positive values lighter and negative ones darker, in proportion to the "
            "result's largest magnitude"
        )
    if display == "abs" and constant:
        return f"flat areas become {_level(abs(offset), white)}"
    if constant:
        return f"flat areas become {_level(offset, white)}"
    if gain < 0 and abs(offset) <= _TINY:
        if display == "abs":
            magnitude = "brightness is kept" if abs(gain + 1) <= _TINY else _scaled(-gain)
            return (
                f"flat areas become negative (v × {_number(gain)}); abs shows their "
                f"magnitude: {magnitude}"
            )
        return f"flat areas become negative (v × {_number(gain)}), which clip shows as black"
    if abs(gain - 1) <= _TINY and abs(offset) <= _TINY:
        return "brightness is kept"
    expression = _expression(gain, offset)
    if abs(offset) <= _TINY:
        return f"flat areas are {_scaled(gain)} ({expression}){_white_from(gain, offset, white)}"
    negative = display == "abs" and (gain < 0 or offset < 0)
    shown = f"|{expression}|" if negative else expression
    black = ""
    if display == "clip" and gain > 0 and offset < 0:
        black = f"; below v = {-offset / gain:.4g} they are black"
    return f"flat areas become {shown}{black}{_white_from(gain, offset, white)}"


def _white_from(gain: float, offset: float, white: float) -> str:
    # Where clip turns a brightening into white, when that lies inside 0…white.
    if gain <= 0:
        return ""
    start = (white - offset) / gain
    if 0 < start < white:
        return f"; from v = {start:.4g} up they are white"
    return ""
