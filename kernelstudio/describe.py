"""An image's size, colours and depth in the words a person uses: ``600 × 400 px, RGB, 8-bit``.

NumPy writes an image's shape rows first (``(400, 600, 3)``); people say width
first and name the colours, so the window and the exports say it their way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

_KINDS = {1: "Grey", 2: "Grey + alpha", 3: "RGB", 4: "RGBA"}
"""What the channels of an ``H×W×C`` image hold, by ``C``."""


def describe_size(shape: tuple[int, ...], dtype: DTypeLike) -> str:
    """Say how large an image is, what colours it holds and how deep they are.

    Parameters
    ----------
    shape : tuple of int
        The pixel array's shape: ``(height, width)`` for grey, or
        ``(height, width, channels)`` with 1 (grey), 2 (grey + alpha), 3 (RGB)
        or 4 (RGBA) channels.
    dtype : numpy dtype or its name
        The pixel type: unsigned integers are ``N-bit``, signed ones
        ``N-bit signed``, floating point ``N-bit float``.

    Returns
    -------
    str
        Width first, then height, the kind of colour and the depth.

    Raises
    ------
    ValueError
        If `shape` is not that of an image, or `dtype` is not a number type.

    Examples
    --------
    >>> describe_size((400, 600, 3), np.uint8)
    '600 × 400 px, RGB, 8-bit'
    >>> describe_size((5, 5), "uint16"), describe_size((5, 7, 2), np.float32)
    ('5 × 5 px, Grey, 16-bit', '7 × 5 px, Grey + alpha, 32-bit float')
    >>> describe_size((1, 2, 4), np.uint8)
    '2 × 1 px, RGBA, 8-bit'
    """
    try:
        size = tuple(int(side) for side in shape)
    except (TypeError, ValueError):
        raise ValueError(f"an image's shape is a tuple of sizes; got {shape!r}") from None
    channels = 1 if len(size) == 2 else size[2] if len(size) == 3 else 0
    if channels not in _KINDS or min(size) < 0:
        raise ValueError(
            f"an image's shape is (height, width) or (height, width, 1 to 4); got {shape!r}"
        )
    height, width = size[:2]
    return f"{width} × {height} px, {_KINDS[channels]}, {_depth(dtype)}"


def describe_image(pixels: np.ndarray) -> str:
    """Say how large the image `pixels` is, as :func:`describe_size` does.

    Examples
    --------
    >>> describe_image(np.zeros((3, 4), np.float32))
    '4 × 3 px, Grey, 32-bit float'
    """
    return describe_size(pixels.shape, pixels.dtype)


def _depth(dtype: DTypeLike) -> str:
    try:
        number_type = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"an image's pixels are numbers; got the type {dtype!r}") from None
    bits = number_type.itemsize * 8
    if np.issubdtype(number_type, np.unsignedinteger):
        return f"{bits}-bit"
    if np.issubdtype(number_type, np.signedinteger):
        return f"{bits}-bit signed"
    if np.issubdtype(number_type, np.floating):
        return f"{bits}-bit float"
    raise ValueError(f"an image's pixels are numbers; got {number_type.name} pixels")
