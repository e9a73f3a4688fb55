"""Mapping float convolution results to 8-bit pixels that a screen or file can show."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from kernelstudio.bands import row_bands, rows_per_band, run_bands, scratch, threads_for

DISPLAY_MODES: tuple[str, ...] = ("clip", "abs", "normalize", "signed", "wrap")
"""How :func:`to_uint8` maps values: clip to range, absolute value, stretch, signed, or
wrapped around as a C cast to the image's integer type does."""

ROUNDING_MODES: tuple[str, ...] = ("half-up", "half-even", "truncate")
"""How :func:`to_uint8` and :func:`round_values` turn a value into a whole number:
``half-up`` (2.5 → 3, GIMP, ImageJ), ``half-even`` (2.5 → 2, OpenCV's
``saturate_cast``) or ``truncate`` (towards zero, 2.7 → 2, a C cast)."""

_MAPPING_COST = 5
"""Passes over each sample when mapping to 8 bits, each about one multiply-add
of the convolution's dense method; weighs the work for :func:`threads_for`."""


def white_level(dtype: DTypeLike) -> float:
    """Return the value that means full brightness for pixels of `dtype`.

    Examples
    --------
    >>> white_level(np.uint8), white_level(np.uint16), white_level(np.float32)
    (255.0, 65535.0, 1.0)
    """
    kind = np.dtype(dtype)
    if kind.kind in "iu":
        return float(np.iinfo(kind).max)
    return 1.0


def round_values(values: np.ndarray, rounding: str = "half-up") -> np.ndarray:
    """Round float `values` in place to whole numbers as `rounding` says, and return them.

    Examples
    --------
    >>> values = np.array([-1.5, 0.5, 2.5, 2.7])
    >>> round_values(values.copy()), round_values(values.copy(), "half-even")
    (array([-1.,  1.,  3.,  3.]), array([-2.,  0.,  2.,  3.]))
    >>> round_values(values.copy(), "truncate")
    array([-1.,  0.,  2.,  2.])
    """
    _check_rounding(rounding)
    if rounding == "half-up":
        values += 0.5
        return np.floor(values, out=values)
    if rounding == "half-even":
        return np.rint(values, out=values)
    return np.trunc(values, out=values)


def _check_rounding(rounding: str) -> None:
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}; got {rounding!r}")


def to_uint8(
    values: ArrayLike, mode: str = "clip", *, white: float = 255.0, rounding: str = "half-up"
) -> np.ndarray:
    """Turn convolution results into 8-bit pixels.

    Parameters
    ----------
    values : array_like
        Float results of any shape.
    mode : {'clip', 'abs', 'normalize', 'signed'}
        ``clip`` maps ``0..white`` to ``0..255`` and clips the rest, which suits
        blurs and sharpening. ``abs`` does the same with ``|value|``, so that
        negative responses of edge kernels show as bright as positive ones.
        ``normalize`` stretches the smallest finite value to 0 and the largest
        to 255, as ``matplotlib.pyplot.imshow`` does; a flat result is black.
        ``signed`` shows 0 as mid-grey (128) and ``±m``, the largest finite
        magnitude, as 0 and 255, so an edge kernel's two signs show apart; an
        all-zero result is mid-grey. ``wrap`` rounds, then takes the value modulo
        ``white + 1`` before mapping as ``clip`` does: what casting to an
        8-bit (``white`` 255) or 16-bit (65535) integer does in C or NumPy, so
        300 shows as 44 and −3 as 253 (scipy.ndimage's integer output);
        infinities show as 0, as NaN does.
    white : float
        The value that maps to 255 in ``clip`` and ``abs``; see
        :func:`white_level`.
    rounding : {'half-up', 'half-even', 'truncate'}
        How a scaled value becomes a whole number; see :data:`ROUNDING_MODES`.

    Returns
    -------
    numpy.ndarray
        uint8 array of the same shape, rounded as `rounding` says. NaN becomes 0;
        infinities saturate. Large arrays are mapped in bands on every core.

    Raises
    ------
    ValueError
        For an unknown mode or a `white` that is not a positive finite number.

    Examples
    --------
    >>> to_uint8([-20.0, 100.4, 300.0])
    array([  0, 100, 255], dtype=uint8)
    >>> to_uint8([-20.0, 100.4, 300.0], "abs")
    array([ 20, 100, 255], dtype=uint8)
    >>> to_uint8([-1.0, 0.0, 1.0], "normalize")
    array([  0, 128, 255], dtype=uint8)
    >>> to_uint8([-4.0, 0.0, 2.0], "signed")
    array([  0, 128, 191], dtype=uint8)
    >>> to_uint8([0.5, 1.5, 2.5, 254.9], rounding="half-even")
    array([  0,   2,   2, 255], dtype=uint8)
    >>> to_uint8([0.5, 1.5, 2.5, 254.9], rounding="truncate")
    array([  0,   1,   2, 254], dtype=uint8)
    >>> to_uint8([-3.0, 255.0, 300.4], "wrap", rounding="truncate")
    array([253, 255,  44], dtype=uint8)
    """
    _check_rounding(rounding)
    if mode not in DISPLAY_MODES:
        raise ValueError(f"display mode must be one of {', '.join(DISPLAY_MODES)}; got {mode!r}")
    if not (np.isfinite(white) and white > 0):
        raise ValueError(f"white must be a positive number; got {white!r}")
    data = np.asarray(values)
    if data.dtype.kind not in "biuf":
        data = data.astype(np.float32)
    low = 0.0
    if mode == "normalize":
        low, high = _finite_range(data)
        if not high > low:
            return np.where(data == np.inf, 255, 0).astype(np.uint8)
        scale = 255.0 / (high - low)
    elif mode == "signed":
        low, high = _finite_range(data)
        magnitude = max(abs(low), abs(high))
        if not magnitude > 0:
            flat = np.where(data == np.inf, 255, np.where(data == -np.inf, 0, 128))
            return flat.astype(np.uint8)
        # m maps to 255 and -m to 0, both 127.5 steps from the centre 127.5,
        # which rounds half up to 128 for 0.
        low, scale = -magnitude, 127.5 / magnitude
    else:
        scale = 255.0 / white
    pixels = np.empty(data.shape, dtype=np.uint8)
    flat_data = data.reshape(data.shape[0], -1) if data.ndim else data.reshape(1, 1)
    flat_pixels = pixels.reshape(flat_data.shape)

    def map_rows(start: int, stop: int) -> None:
        # floor(x + 0.5) rounds; fmax and fmin also send NaN to 0 and clamp infinities.
        rows = flat_data[start:stop]
        if mode in ("normalize", "signed"):
            # float64: a span as narrow as 1e-40, or values far from zero with a
            # small span, would lose their steps (or overflow the scale) in float32.
            scaled = np.subtract(rows, low, dtype=np.float64)
            scaled *= scale
        elif mode == "wrap":
            # float64: whole values up to 2**53 wrap exactly; then scaled as clip.
            scaled = round_values(rows.astype(np.float64), rounding)
            np.mod(scaled, white + 1.0, out=scaled)
            scaled *= scale
        else:
            scaled = scratch("display", rows.shape)
            np.multiply(rows, np.float32(scale), out=scaled)
            if mode == "abs":  # after the conversion, so |-128| fits even for int8
                np.abs(scaled, out=scaled)
        if rounding == "half-up":
            scaled += 0.5  # then the cast's truncation of a value ≥ 0 is floor
        elif rounding == "half-even":
            np.rint(scaled, out=scaled)
        np.fmax(scaled, 0.0, out=scaled)
        np.fmin(scaled, 255.0, out=scaled)
        flat_pixels[start:stop] = scaled

    # Each band is converted to float32 on its own, never the whole image at once.
    height = rows_per_band(4 * flat_data.shape[1])
    threads = threads_for(_MAPPING_COST * flat_data.size)
    run_bands(map_rows, row_bands(flat_data.shape[0], height, multiple=threads), threads)
    return pixels


def _finite_range(data: np.ndarray) -> tuple[float, float]:
    if data.size == 0:
        return 0.0, 0.0
    low, high = float(data.min()), float(data.max())
    if np.isfinite(low) and np.isfinite(high):
        return low, high
    finite = data[np.isfinite(data)]
    if not finite.size:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())
