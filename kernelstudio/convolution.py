"""Image convolution in pure NumPy.

The engine slides a small weight matrix (the kernel) over an image and, at every
position, sums the products of the weights and the pixels under them. It imports
neither Qt nor OpenCV so that the GUI, the CLI and the tests share one definition
of the arithmetic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

BORDERS: tuple[str, ...] = ("valid", "constant", "nearest", "reflect", "mirror", "wrap")
"""Border modes accepted by :func:`convolve`, named as in ``scipy.ndimage``."""

_NUMPY_PAD_MODES = {
    "constant": "constant",
    "nearest": "edge",
    "reflect": "symmetric",
    "mirror": "reflect",
    "wrap": "wrap",
}


def check_kernel(kernel: ArrayLike) -> np.ndarray:
    """Return `kernel` as a 2-D float64 array, or raise if it cannot be used.

    Parameters
    ----------
    kernel : array_like
        Candidate weights.

    Returns
    -------
    numpy.ndarray
        A new float64 array of shape ``(h, w)`` with odd ``h`` and ``w``.

    Raises
    ------
    ValueError
        If the weights are not numbers, not 2-D, empty, of even height or width,
        or contain NaN or infinity. The message says which.

    Examples
    --------
    >>> check_kernel([[0, 1, 0]]).shape
    (1, 3)
    >>> check_kernel([[1, 1], [1, 1]])
    Traceback (most recent call last):
    ...
    ValueError: kernel height and width must be odd so that it has a centre; got 2×2
    """
    try:
        weights = np.array(kernel, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"kernel weights must be numbers in equal-length rows ({error})"
        ) from None
    if weights.ndim != 2:
        raise ValueError(f"kernel must be 2-D (rows × columns); got {weights.ndim}-D")
    height, width = weights.shape
    if height == 0 or width == 0:
        raise ValueError("kernel is empty")
    if height % 2 == 0 or width % 2 == 0:
        raise ValueError(
            f"kernel height and width must be odd so that it has a centre; got {height}×{width}"
        )
    if not np.isfinite(weights).all():
        raise ValueError("kernel contains NaN or infinity")
    return weights


def _check_image(image: ArrayLike) -> np.ndarray:
    pixels = np.asarray(image)
    if pixels.dtype.kind not in "biuf":
        raise ValueError(f"image must hold real numbers; got dtype {pixels.dtype}")
    if pixels.ndim not in (2, 3):
        raise ValueError(f"image must be H×W or H×W×C; got shape {pixels.shape}")
    if 0 in pixels.shape:
        raise ValueError(f"image is empty; got shape {pixels.shape}")
    return pixels


def _check_border(border: str) -> str:
    if border not in BORDERS:
        raise ValueError(f"border must be one of {', '.join(BORDERS)}; got {border!r}")
    return border


def convolve(
    image: ArrayLike, kernel: ArrayLike, *, border: str = "mirror", flip: bool = False
) -> np.ndarray:
    r"""Slide `kernel` over `image` and sum the weighted neighbourhood of every pixel.

    Parameters
    ----------
    image : array_like
        ``H×W`` (grey) or ``H×W×C`` (colour) pixels of any integer or float dtype.
        Each channel is processed on its own. The input is never modified.
    kernel : array_like
        2-D weights with odd height and odd width (``1×7``, ``5×3``, ``31×31`` …).
    border : {'mirror', 'reflect', 'nearest', 'constant', 'wrap', 'valid'}
        How pixels beyond the edge are invented. The names and their meaning are
        exactly those of ``scipy.ndimage`` (shown for a row ``a b c d``):

        ==========  ===================  ======================  ============
        border      padding              OpenCV                  GIMP
        ==========  ===================  ======================  ============
        mirror      ``c b | a b c d``    ``BORDER_REFLECT_101``  —
        reflect     ``b a | a b c d``    ``BORDER_REFLECT``      Mirror
        nearest     ``a a | a b c d``    ``BORDER_REPLICATE``    Extend
        constant    ``0 0 | a b c d``    ``BORDER_CONSTANT``     Black
        wrap        ``c d | a b c d``    ``BORDER_WRAP``         Wrap
        valid       no padding           —                       Crop
        ==========  ===================  ======================  ============

        Every mode but ``valid`` keeps the input size. ``valid`` computes only
        the positions where the kernel fits inside the image, so an ``N×M``
        image and an ``f×g`` kernel give ``(N−f+1)×(M−g+1)`` pixels.
    flip : bool
        ``False`` (default) computes correlation: the kernel is laid on the image
        as written, which is what most image tools call convolution. ``True``
        rotates the kernel by 180° first, which is convolution in the
        mathematical sense. Symmetric kernels give the same result either way.

    Returns
    -------
    numpy.ndarray
        float32 array, ``H×W`` or ``H×W×C`` (smaller for ``valid``).

    Raises
    ------
    ValueError
        For an unusable kernel (see :func:`check_kernel`), an image that is not
        2-D or 3-D numbers, an unknown border, or a ``valid`` image smaller than
        the kernel.

    See Also
    --------
    scipy.ndimage.correlate, scipy.ndimage.convolve, cv2.filter2D

    Notes
    -----
    With weights :math:`w` of size :math:`(2a+1)×(2b+1)` and padded image
    :math:`I`, correlation is

    .. math:: O[y, x] = \sum_{i=-a}^{a} \sum_{j=-b}^{b} w[a+i, b+j]\, I[y+i, x+j]

    and convolution uses :math:`w[a-i, b-j]` instead. The sum is accumulated in
    float32, one shifted view of the padded image per non-zero weight.

    Examples
    --------
    >>> image = np.arange(25, dtype=np.uint8).reshape(5, 5)
    >>> convolve(image, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])[0]
    array([0., 1., 2., 3., 4.], dtype=float32)
    >>> convolve(image, [[1, 0, -1]] * 3, border="valid")
    array([[-6., -6., -6.],
           [-6., -6., -6.],
           [-6., -6., -6.]], dtype=float32)
    >>> convolve(image, [[1, 2, 3]], flip=True)[0, 1:4]
    array([ 4., 10., 16.], dtype=float32)
    """
    weights = check_kernel(kernel)
    border = _check_border(border)
    pixels = _check_image(image)
    if flip:
        weights = weights[::-1, ::-1]
    kernel_height, kernel_width = weights.shape

    if border == "valid":
        if pixels.shape[0] < kernel_height or pixels.shape[1] < kernel_width:
            raise ValueError(
                f"image of {pixels.shape[0]}×{pixels.shape[1]} pixels is smaller than the "
                f"{kernel_height}×{kernel_width} kernel, so 'valid' leaves no output"
            )
        padded = pixels.astype(np.float32)
    else:
        margins = [(kernel_height // 2,) * 2, (kernel_width // 2,) * 2]
        margins += [(0, 0)] * (pixels.ndim - 2)
        padded = np.pad(pixels.astype(np.float32), margins, mode=_NUMPY_PAD_MODES[border])

    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    out_height = padded.shape[0] - kernel_height + 1
    out_width = padded.shape[1] - kernel_width + 1
    # Viewing H×W×C as H×(W·C) turns every shifted window into one 2-D slice whose
    # column offset is a multiple of C, so channels never mix.
    rows = padded.reshape(padded.shape[0], -1)
    row_length = out_width * channels
    result = np.zeros((out_height, row_length), dtype=np.float32)
    product = np.empty_like(result)
    for (dy, dx), weight in np.ndenumerate(weights):
        if weight == 0.0:
            continue
        window = rows[dy : dy + out_height, dx * channels : dx * channels + row_length]
        np.multiply(window, np.float32(weight), out=product)
        result += product
    return result.reshape((out_height, out_width, *pixels.shape[2:]))
