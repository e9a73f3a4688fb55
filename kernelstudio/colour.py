"""Colour conversions applied before convolution."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

GREY_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights for R, G, B, the ones ``cv2.COLOR_BGR2GRAY`` uses."""


def to_grey(image: ArrayLike) -> np.ndarray:
    """Convert an RGB image to one grey channel; a grey image is returned as is.

    Parameters
    ----------
    image : array_like
        ``H×W`` grey or ``H×W×3`` RGB pixels.

    Returns
    -------
    numpy.ndarray
        ``H×W`` luma ``0.299 R + 0.587 G + 0.114 B`` in the input's dtype,
        rounded to the nearest integer for integer dtypes.

    Raises
    ------
    ValueError
        If `image` is neither ``H×W`` nor ``H×W×3``.

    Examples
    --------
    >>> to_grey(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8))
    array([[ 76, 150,  29]], dtype=uint8)
    """
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected an H×W or H×W×3 image; got shape {pixels.shape}")
    luma = pixels.astype(np.float32) @ np.asarray(GREY_WEIGHTS, dtype=np.float32)
    if pixels.dtype.kind in "iu":
        info = np.iinfo(pixels.dtype)
        return np.clip(np.rint(luma), info.min, info.max).astype(pixels.dtype)
    return luma.astype(pixels.dtype, copy=False)
