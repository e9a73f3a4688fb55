"""Mapping float convolution results to 8-bit pixels that a screen or file can show."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

DISPLAY_MODES: tuple[str, ...] = ("clip", "abs", "normalize")
"""How :func:`to_uint8` maps values: clip to range, absolute value, or stretch."""


def white_level(dtype: DTypeLike) -> float:
    """Return the value that means full brightness for pixels of `dtype`.

    Examples
    --------
    >>> white_level(np.uint8), white_level(np.uint16), white_level(np.float32)
    (255.0, 65535.0, 1.0)
    """
    kind = np.dtype(dtype)
    if kind == np.bool_:
        return 1.0
    if kind.kind in "iu":
        return float(np.iinfo(kind).max)
    return 1.0


def to_uint8(values: ArrayLike, mode: str = "clip", *, white: float = 255.0) -> np.ndarray:
    """Turn convolution results into 8-bit pixels.

    Parameters
    ----------
    values : array_like
        Float results of any shape.
    mode : {'clip', 'abs', 'normalize'}
        ``clip`` maps ``0..white`` to ``0..255`` and clips the rest, which suits
        blurs and sharpening. ``abs`` does the same with ``|value|``, so that
        negative responses of edge kernels show as bright as positive ones.
        ``normalize`` stretches the smallest finite value to 0 and the largest
        to 255, as ``matplotlib.pyplot.imshow`` does; a flat result is black.
    white : float
        The value that maps to 255 in ``clip`` and ``abs``; see
        :func:`white_level`.

    Returns
    -------
    numpy.ndarray
        uint8 array of the same shape. NaN becomes 0; infinities saturate.

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
    """
    if mode not in DISPLAY_MODES:
        raise ValueError(f"display mode must be one of {', '.join(DISPLAY_MODES)}; got {mode!r}")
    if not (np.isfinite(white) and white > 0):
        raise ValueError(f"white must be a positive number; got {white!r}")
    data = np.asarray(values, dtype=np.float32)
    if mode == "normalize":
        finite = data[np.isfinite(data)]
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 0.0
        if not high > low:
            return np.where(data == np.inf, 255, 0).astype(np.uint8)
        # float64 keeps the span finite when the values sit near float32's limits.
        scaled = (data.astype(np.float64) - low) * (255.0 / (high - low))
    else:
        source = np.abs(data) if mode == "abs" else data
        scaled = source * np.float32(255.0 / white)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return np.rint(scaled).astype(np.uint8)
