"""Image convolution in pure NumPy.

The engine slides a small weight matrix (the kernel) over an image and, at every
position, sums the products of the weights and the pixels under them. It imports
neither Qt nor OpenCV so that the GUI, the CLI and the tests share one definition
of the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike

from kernelstudio.bands import row_bands, rows_per_band, run_bands, scratch, threads_for

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
    except (TypeError, ValueError, OverflowError) as error:
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
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    border: str = "mirror",
    flip: bool = False,
    offset: float = 0.0,
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
    offset : float
        Added to every result, inside the bands while they are in cache (no
        extra pass over the image).

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

    and convolution uses :math:`w[a-i, b-j]` instead. Results are float32. The
    image is processed in bands of rows, padded one band at a time and, unless
    the work is small, spread over all cores. The engine picks one of four
    methods:

    - *separable* kernels (rank 1, such as box, Gaussian and Sobel) run as a
      vertical then a horizontal 1-D pass, ``h + w`` operations per pixel;
    - *low-rank* kernels (a sum of a few separable ones, such as unsharp
      masks, differences and Laplacians of Gaussians, Gabor filters) run as
      one pair of passes per term, when that is cheaper than the dense sum;
    - *dense* kernels (over a third of the weights non-zero) take one matrix
      product per output row, which gives the vertical sum under every kernel
      column, then add those sums shifted by their column;
    - *sparse* kernels add one shifted view of the band per non-zero weight;
    - *large* kernels (the costs of the other two over :data:`FFT_COST`)
      multiply spectra of overlapping tiles (overlap-save with ``numpy.fft``),
      in float64 for float images; its rounding error is relative to the
      largest value in a tile (about 512 pixels wide, as tall as a band).

    A NaN or infinite pixel reaches exactly the outputs that give it a non-zero
    weight, as in ``scipy.ndimage``: the bands of rows that read one take the
    dense or sparse method instead of the low-rank or Fourier one.

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
    height, width = pixels.shape[:2]
    if border == "valid" and (height < kernel_height or width < kernel_width):
        raise ValueError(
            f"image of {height}×{width} pixels is smaller than the "
            f"{kernel_height}×{kernel_width} kernel, so 'valid' leaves no output"
        )
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    planes = pixels.reshape(height, width, channels)
    if border == "valid":
        row_index, column_index = np.arange(height), np.arange(width)
        out_height, out_width = height - kernel_height + 1, width - kernel_width + 1
    else:
        row_index = _padded_index(height, kernel_height // 2, border)
        column_index = _padded_index(width, kernel_width // 2, border)
        out_height, out_width = height, width
    result = np.empty((out_height, out_width * channels), dtype=np.float32)
    source = _BandSource(planes, row_index, column_index)
    method = _choose_method(weights, planes)
    height = method.band_rows(result.shape[1] * result.itemsize)
    threads = threads_for(result.size * method.cost)
    bands = row_bands(out_height, height, multiple=threads)
    shift = np.float32(offset)

    def band(start: int, stop: int) -> None:
        method(source, result, start, stop, shift)

    run_bands(band, bands, threads)
    return result.reshape((out_height, out_width, *pixels.shape[2:]))


@dataclass(frozen=True)
class PixelExplanation:
    """How one output pixel of :func:`convolve` is computed.

    Attributes
    ----------
    row, column : int
        The output pixel.
    source_rows, source_columns : numpy.ndarray
        For each kernel row and column, the image row and column read, or -1
        where the ``constant`` border supplies a zero. Positions past the edge
        show which pixel the border mode repeats.
    neighbourhood : numpy.ndarray
        The pixels under the kernel, border values included (``h×w``, or
        ``h×w×C`` for every channel of a colour image).
    weights : numpy.ndarray
        The weights applied, rotated 180° when flipped (``h×w``).
    products : numpy.ndarray
        ``neighbourhood × weights``, element by element.
    total : float or numpy.ndarray
        The sum of the products: the output value (one per channel for colour).
    """

    row: int
    column: int
    source_rows: np.ndarray
    source_columns: np.ndarray
    neighbourhood: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: float | np.ndarray


def explain_pixel(
    image: ArrayLike,
    kernel: ArrayLike,
    row: int,
    column: int,
    *,
    border: str = "mirror",
    flip: bool = False,
    channel: int | None = None,
) -> PixelExplanation:
    """Show the arithmetic behind ``convolve(image, kernel, ...)[row, column]``.

    Parameters
    ----------
    image, kernel, border, flip
        As for :func:`convolve`.
    row, column : int
        The output pixel. With ``border="valid"`` they index the smaller
        output, whose pixel ``(r, c)`` reads the image from ``(r, c)`` on.
    channel : int, optional
        For a colour image, explain this channel only; by default every
        channel is explained side by side.

    Returns
    -------
    PixelExplanation
        Neighbourhood, weights, products and their sum, which equals the
        convolved value up to float32 rounding (it is summed in float64).

    Raises
    ------
    ValueError
        For the same reasons as :func:`convolve`, for a pixel outside the
        output, or a channel the image does not have.

    Examples
    --------
    >>> image = np.arange(16).reshape(4, 4)
    >>> step = explain_pixel(image, [[0, 1, 0], [1, 1, 1], [0, 1, 0]], 0, 0, border="nearest")
    >>> step.neighbourhood
    array([[0., 0., 1.],
           [0., 0., 1.],
           [4., 4., 5.]])
    >>> float(step.total)
    5.0
    """
    weights = check_kernel(kernel)
    border = _check_border(border)
    pixels = _check_image(image)
    if flip:
        weights = weights[::-1, ::-1]
    height, width = pixels.shape[:2]
    kernel_height, kernel_width = weights.shape
    if border == "valid":
        out_height, out_width = height - kernel_height + 1, width - kernel_width + 1
        source_rows = np.arange(row, row + kernel_height)
        source_columns = np.arange(column, column + kernel_width)
    else:
        out_height, out_width = height, width
        source_rows = _padded_index(height, kernel_height // 2, border)[row : row + kernel_height]
        source_columns = _padded_index(width, kernel_width // 2, border)[
            column : column + kernel_width
        ]
    if not (0 <= row < out_height and 0 <= column < out_width):
        raise ValueError(
            f"pixel ({row}, {column}) is outside the "
            f"{max(out_height, 0)}×{max(out_width, 0)} output"
        )
    planes = pixels if pixels.ndim == 3 else pixels[..., None]
    if channel is not None:
        if not 0 <= channel < planes.shape[2]:
            raise ValueError(
                f"channel {channel} does not exist in a {planes.shape[2]}-channel image"
            )
        planes = planes[..., channel : channel + 1]
    gathered = planes[np.ix_(np.maximum(source_rows, 0), np.maximum(source_columns, 0))]
    neighbourhood = gathered.astype(np.float64)
    neighbourhood[source_rows < 0] = 0.0
    neighbourhood[:, source_columns < 0] = 0.0
    products = neighbourhood * weights[..., None]
    total = products.sum(axis=(0, 1))
    if pixels.ndim == 2 or channel is not None:
        neighbourhood, products, total = neighbourhood[..., 0], products[..., 0], total[0]
    return PixelExplanation(
        row, column, source_rows, source_columns, neighbourhood, weights, products, total
    )


FFT_COST = 500
"""What the FFT costs per pixel, in units of one weight of the dense method.

Measured on 12 MP grey and colour images, uint8 and float32: the dense method
(:class:`_ColumnSums`) costs about the same for every weight of the kernel, zero
or not; the sparse method about three times that per non-zero weight; the FFT the
same whatever the kernel, which matches the dense method near 23×23.
"""

_FFT_TILE = 512

PRODUCT_SIZE = 2**18
"""Most multiply-adds in one matrix product of the dense method.

OpenBLAS splits larger products over its own threads, which then fight the band
threads for the cores (twice as slow on two cores); chunks this small also
keep each product's rows in cache.
"""


def _padded_index(length: int, margin: int, border: str) -> np.ndarray:
    # np.pad applied to the indices themselves gives, for every padded position,
    # the source index the border mode reads; -1 marks constant (zero) padding.
    indices = np.arange(length)
    if border == "constant":
        return np.pad(indices, margin, mode="constant", constant_values=-1)
    return np.pad(indices, margin, mode=_NUMPY_PAD_MODES[border])


class _BandSource:
    """Hands out padded float32 bands of an image without padding all of it."""

    def __init__(self, planes: np.ndarray, row_index: np.ndarray, column_index: np.ndarray):
        self.planes = planes
        self.channels = planes.shape[2]
        self.row_index = row_index
        self.column_index = column_index
        # Padding is symmetric, so the image's own columns start at `left`.
        self.left = (column_index.size - planes.shape[1]) // 2
        positions = np.arange(column_index.size)
        self.outside = positions[
            (positions < self.left) | (positions >= self.left + planes.shape[1])
        ]

    def finite(self, first_row: int, rows: int) -> bool:
        """Return whether every pixel that `rows` padded rows from `first_row` read is finite."""
        if self.planes.dtype.kind != "f":
            return True
        wanted = np.unique(self.row_index[first_row : first_row + rows])
        wanted = wanted[wanted >= 0]
        if not wanted.size:
            return True
        # Inner bands read a run of rows, checked in place; edge bands may also
        # read rows from the other end (wrap) and gather them.
        if wanted[-1] - wanted[0] + 1 == wanted.size:
            return bool(np.isfinite(self.planes[wanted[0] : wanted[-1] + 1]).all())
        return bool(np.isfinite(self.planes[wanted]).all())

    def band(self, first_row: int, rows: int, out: np.ndarray | None = None) -> np.ndarray:
        """Return padded rows ``first_row .. first_row + rows`` as (rows, columns·C) float32.

        With `out`, a (rows, columns, C) array that may be a strided view, the
        rows are written there instead and `out` is returned as it is.
        """
        wanted = self.row_index[first_row : first_row + rows]
        width = self.planes.shape[1]
        shape = (rows, self.column_index.size, self.channels)
        band = scratch("band", shape) if out is None else out
        core = band[:, self.left : self.left + width]
        start = int(wanted[0])
        if start >= 0 and np.array_equal(wanted, np.arange(start, start + rows)):
            core[...] = self.planes[start : start + rows]
        else:
            core[...] = self.planes[np.maximum(wanted, 0)]
            core[wanted < 0] = 0.0
        for position in self.outside:
            source_column = self.column_index[position]
            if source_column < 0:
                band[:, position] = 0.0
            else:
                band[:, position] = core[:, source_column]
        return band.reshape(rows, -1) if out is None else band


class _Direct:
    """Weighted sum of shifted views of each band, one view per non-zero weight."""

    def __init__(self, weights: np.ndarray):
        self.height = weights.shape[0]
        self.weights = weights.astype(np.float32)
        self.cost = _sparse_cost(weights)

    def band_rows(self, row_bytes: int) -> int:
        return rows_per_band(row_bytes)

    def __call__(
        self, source: _BandSource, result: np.ndarray, start: int, stop: int, offset: np.float32
    ) -> None:
        rows = stop - start
        band = source.band(start, rows + self.height - 1)
        _accumulate(band, self.weights, source.channels, result[start:stop])
        _add_offset(result[start:stop], offset)


class _ColumnSums:
    """Dense kernels: matrix products give every kernel column's vertical sums.

    For output row ``y``, the product of the transposed kernel (``w×h``) and the
    ``h`` padded rows from ``y`` (``h×columns``) holds, in its row ``j``, the
    weighted vertical sum of every image column under kernel column ``j``.
    Shifting those rows by ``j`` pixels and adding them gives the output row.
    BLAS keeps the ``h·w`` multiply-adds in registers and reads the rows
    straight from strided views, where a pass per weight would read and write
    the whole row every time.
    """

    def __init__(self, weights: np.ndarray):
        self.height, self.width = weights.shape
        self.weights = weights.astype(np.float32)
        self.columns = np.ascontiguousarray(self.weights.T)
        self.has_zeros = not np.all(weights)
        self.cost = _dense_cost(weights)

    def band_rows(self, row_bytes: int) -> int:
        # The column sums of a band take `width` times the output; about twice
        # BAND_BYTES of them per band measured fastest.
        return rows_per_band(self.width * row_bytes // 2)

    def __call__(
        self, source: _BandSource, result: np.ndarray, start: int, stop: int, offset: np.float32
    ) -> None:
        rows, channels = stop - start, source.channels
        band_rows = rows + self.height - 1
        length = source.column_index.size * channels
        # Each column of a product depends on that column of the band alone, so
        # rows are cut into chunks of equal width (the band gets spare columns,
        # never read back), which keeps every product small.
        chunks = -(-self.height * self.width * length // PRODUCT_SIZE)
        chunk = -(-length // chunks)
        band = scratch("wide-band", (band_rows, chunks * chunk))
        # Spare columns are multiplied but never read back; zeros keep leftovers
        # of an earlier call (inf, say) from raising floating-point warnings.
        band[:, length:] = 0.0
        source.band(start, band_rows, out=band[:, :length].reshape(band_rows, -1, channels))
        out = result[start:stop]
        if self.has_zeros and not _all_finite(source, band[:, :length]):
            # A product multiplies NaN and infinity by zero weights too, which
            # would spread them over the whole kernel; scipy and OpenCV skip
            # those weights, and so does adding one weight at a time.
            _add_weight_by_weight(band[:, :length], self.weights, channels, out)
            _add_offset(out, offset)
            return
        row_stride, item = band.strides
        stacks = as_strided(
            band,
            shape=(rows, chunks, self.height, chunk),
            strides=(row_stride, chunk * item, row_stride, item),
            writeable=False,
        )
        sums = scratch("column-sums", (rows, self.width, chunks * chunk))
        sums_chunks = as_strided(
            sums,
            shape=(rows, chunks, self.width, chunk),
            strides=(sums.strides[0], chunk * item, sums.strides[1], item),
        )
        np.matmul(self.columns, stacks, out=sums_chunks)
        # One reduction adds the w rows of sums, row j shifted by j pixels, to
        # the offset, in blocks that stay in cache: far faster than w - 1
        # separate additions, a little faster than einsum, and the offset
        # costs no pass of its own.
        kept = out.shape[1]
        shifted = as_strided(
            sums,
            shape=(self.width, rows, kept),
            strides=(sums.strides[1] + channels * item, sums.strides[0], item),
            writeable=False,
        )
        # Sums past float32 become ±inf, as einsum gave them, without a warning
        # on stderr: the display maps them like any other value.
        with np.errstate(over="ignore", invalid="ignore"):
            np.add.reduce(shifted, axis=0, out=out, initial=offset)


def _add_offset(out: np.ndarray, offset: np.float32) -> None:
    # A pass over a band that was just written, so mostly from cache.
    if offset:
        out += offset


def _all_finite(source: _BandSource, band: np.ndarray) -> bool:
    # Bands of integer images are always finite.
    return source.planes.dtype.kind != "f" or bool(np.isfinite(band).all())


def _took_exact_path(
    method: _LowRank | _Fourier,
    source: _BandSource,
    result: np.ndarray,
    start: int,
    stop: int,
    offset: np.float32,
) -> bool:
    # Runs the band with `method.exact`, in its own smaller bands, when a pixel
    # it reads is not finite; the check reads image rows that the band is
    # about to read anyway.
    if method.exact is None or source.finite(start, stop - start + method.height - 1):
        return False
    row_bytes = result.shape[1] * result.itemsize
    for first, last in row_bands(stop - start, method.exact.band_rows(row_bytes)):
        method.exact(source, result, start + first, start + last, offset)
    return True


def _uses_einsum(weights: np.ndarray, channels: int) -> bool:
    # einsum multiplies every weight, zeros too, and 0 × NaN is NaN; so it only
    # takes kernels without zeros. With one channel and several kernel
    # columns, the column shift and the pixel step share one stride and einsum
    # then loops over the kernel innermost, several times slower than a
    # multiply-add per weight.
    return bool(np.all(weights)) and (channels > 1 or weights.shape[1] == 1)


def _accumulate(
    band: np.ndarray, weights: np.ndarray, channels: int, out: np.ndarray, *, finite: bool = False
) -> None:
    # out[r, x] = sum over (dy, dx) of weights[dy, dx] * band[r + dy, x + dx * channels]
    # With `finite` bands, zero weights cannot spread NaN, so einsum may take them.
    einsum = (channels > 1 or weights.shape[1] == 1) if finite else _uses_einsum(weights, channels)
    if not einsum:
        _add_weight_by_weight(band, weights, channels, out)
        return
    # einsum reads every shifted view once per output element, where
    # multiply-then-add would pass over the band twice per weight.
    rows, row_length = out.shape
    row_stride, column_stride = band.strides
    views = as_strided(
        band,
        shape=(*weights.shape, rows, row_length),
        strides=(row_stride, channels * column_stride, row_stride, column_stride),
        writeable=False,
    )
    np.einsum("ab,abrx->rx", weights, views, out=out)


def _add_weight_by_weight(
    band: np.ndarray, weights: np.ndarray, channels: int, out: np.ndarray
) -> None:
    # The sum of _accumulate, one multiply-add per non-zero weight: zero weights
    # never touch the band, so NaN and infinity spread only where scipy.ndimage
    # and OpenCV spread them.
    rows, row_length = out.shape
    taps = np.argwhere(weights != 0)
    if not len(taps):
        out[...] = 0.0
        return
    product = scratch("product", out.shape)
    for index, (dy, dx) in enumerate(taps):
        window = band[dy : dy + rows, dx * channels : dx * channels + row_length]
        if index == 0:
            np.multiply(window, weights[dy, dx], out=out)
        else:
            np.multiply(window, weights[dy, dx], out=product)
            out += product


class _Separable(_Direct):
    """A rank-1 kernel ``outer(column, row)``: a vertical pass, then a horizontal one."""

    def __init__(self, column: np.ndarray, row: np.ndarray):
        self.height = column.size
        self.column = column.astype(np.float32).reshape(-1, 1)
        self.row = row.astype(np.float32).reshape(1, -1)
        self.cost = _sparse_cost(self.column) + _sparse_cost(self.row)

    def __call__(
        self, source: _BandSource, result: np.ndarray, start: int, stop: int, offset: np.float32
    ) -> None:
        rows = stop - start
        band = source.band(start, rows + self.height - 1)
        columns = scratch("columns", (rows, band.shape[1]))
        _accumulate(band, self.column, 1, columns)
        _accumulate(columns, self.row, source.channels, result[start:stop])
        _add_offset(result[start:stop], offset)


class _LowRank(_Direct):
    """A sum of rank-1 kernels ``outer(column_k, row_k)``: a pair of 1-D passes per term."""

    def __init__(self, terms: list[tuple[np.ndarray, np.ndarray]]):
        self.height = terms[0][0].size
        self.terms = [
            (column.astype(np.float32).reshape(-1, 1), row.astype(np.float32).reshape(1, -1))
            for column, row in terms
        ]
        # Finite bands let einsum read every tap once: about 1.5 multiply-adds of
        # the dense method per tap (1 MP RGB, 15×15: two terms 12 ms, dense 20 ms).
        self.cost = sum(3 * (column.size + row.size) // 2 for column, row in self.terms)
        self.exact: _ColumnSums | _Direct | None = None

    def __call__(
        self, source: _BandSource, result: np.ndarray, start: int, stop: int, offset: np.float32
    ) -> None:
        if _took_exact_path(self, source, result, start, stop, offset):
            return
        rows = stop - start
        band = source.band(start, rows + self.height - 1)
        columns = scratch("columns", (rows, band.shape[1]))
        term = scratch("low-rank-term", (rows, result.shape[1]))
        out = result[start:stop]
        for index, (column, row) in enumerate(self.terms):
            _accumulate(band, column, 1, columns, finite=True)
            _accumulate(columns, row, source.channels, out if index == 0 else term, finite=True)
            if index:
                out += term
        _add_offset(out, offset)


def low_rank_terms(kernel: ArrayLike, most: int = 4) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Split a kernel into at most `most` rank-1 terms whose outer products add up to it.

    Each term is peeled off through the largest remaining weight (Gaussian
    elimination with complete pivoting), so a kernel of rank ``r`` gives ``r``
    terms, exact to rounding.

    Returns
    -------
    list of (column, row) or None
        The terms, or ``None`` when more than `most` are needed (what is left
        stays above 1e-9 of the largest weight) or the kernel is all zeros.

    Examples
    --------
    >>> unsharp = 2 * np.eye(3)[1:2].T @ np.eye(3)[1:2] - np.full((3, 3), 1 / 9)
    >>> terms = low_rank_terms(unsharp)
    >>> len(terms), bool(np.allclose(sum(np.outer(c, r) for c, r in terms), unsharp))
    (2, True)
    >>> low_rank_terms(np.eye(5)) is None
    True
    """
    remaining = np.array(kernel, dtype=np.float64)
    tolerance = 1e-9 * float(np.abs(remaining).max())
    if tolerance == 0.0:
        return None
    terms = []
    while np.abs(remaining).max() > tolerance:
        if len(terms) == most:
            return None
        row, column = np.unravel_index(np.argmax(np.abs(remaining)), remaining.shape)
        column_factor = remaining[:, column] / remaining[row, column]
        row_factor = remaining[row, :].copy()
        terms.append((column_factor, row_factor))
        remaining -= np.outer(column_factor, row_factor)
    return terms


class _Fourier:
    """Overlap-save: spectra of overlapping tiles times the kernel's spectrum.

    Each band is cut into tiles of equal width, all about :data:`_FFT_TILE`
    wide and exactly as tall as the band needs (rounded up to a length the FFT
    handles fast), so tiles transform few rows and columns they do not use.
    """

    def __init__(self, weights: np.ndarray, dtype: type[np.floating]):
        self.height, self.width = weights.shape
        self.flipped = weights[::-1, ::-1]
        self.dtype = dtype
        self.cost = FFT_COST
        self.exact: _ColumnSums | _Direct | None = None
        # Spectra of the flipped kernel by tile shape; bands differ by a row at
        # most, so a call needs one or two. Threads that race here compute the
        # same array, and either copy may win.
        self.spectra: dict[tuple[int, int], np.ndarray] = {}

    def band_rows(self, row_bytes: int) -> int:
        return max(_FFT_TILE, 2 * self.height) - self.height + 1

    def _spectrum(self, shape: tuple[int, int]) -> np.ndarray:
        spectrum = self.spectra.get(shape)
        if spectrum is None:
            padded = np.zeros(shape, dtype=self.dtype)
            padded[: self.height, : self.width] = self.flipped
            spectrum = self.spectra[shape] = np.fft.rfft2(padded)
        return spectrum

    def __call__(
        self, source: _BandSource, result: np.ndarray, start: int, stop: int, offset: np.float32
    ) -> None:
        if _took_exact_path(self, source, result, start, stop, offset):
            return
        rows, channels = stop - start, source.channels
        band = source.band(start, rows + self.height - 1)
        band = band.reshape(band.shape[0], -1, channels)
        out_width = result.shape[1] // channels
        out = result[start:stop].reshape(rows, out_width, channels)
        # As few tiles as fit the row, all of one width: the last is not
        # mostly padding.
        most_per_tile = max(_FFT_TILE, 2 * self.width) - self.width + 1
        step = -(-out_width // -(-out_width // most_per_tile))
        shape = (_fast_length(band.shape[0]), _fast_length(step + self.width - 1))
        spectrum = self._spectrum(shape)
        tile = scratch("fourier-tile", (channels, *shape), self.dtype)
        # Beyond the band, tiles hold zeros: the valid outputs never read
        # there, but leftovers of another image would add their rounding.
        tile[:, band.shape[0] :] = 0.0
        spectra = scratch("fourier-spectra", (*tile.shape[:2], shape[1] // 2 + 1), spectrum.dtype)
        filtered = scratch("fourier-filtered", tile.shape, self.dtype)
        for left in range(0, out_width, step):
            piece = band[:, left : left + step + self.width - 1]
            tile[:, : piece.shape[0], : piece.shape[1]] = piece.transpose(2, 0, 1)
            tile[:, :, piece.shape[1] :] = 0.0
            np.fft.rfft2(tile, out=spectra)
            spectra *= spectrum
            # irfft2 with `out` returns wrong values (numpy 2.4); its two steps
            # with `out` are right, and the first runs in place.
            np.fft.ifft(spectra, axis=1, out=spectra)
            np.fft.irfft(spectra, n=shape[1], axis=2, out=filtered)
            span = min(step, out_width - left)
            valid = filtered[:, self.height - 1 : self.height - 1 + rows, self.width - 1 :]
            # The offset is added in the copy out of the tile.
            np.add(
                valid[:, :, :span].transpose(1, 2, 0),
                offset,
                out=out[:, left : left + span],
                casting="same_kind",
            )


def _choose_method(weights: np.ndarray, planes: np.ndarray):
    factors = separable_factors(weights)
    if factors is not None:
        return _Separable(*factors)
    dense_cost, sparse_cost = _dense_cost(weights), _sparse_cost(weights)
    if dense_cost < sparse_cost and not _einsum_beats_products(weights, planes.shape[2]):
        exact = _ColumnSums(weights)
    else:
        exact = _Direct(weights)
    fast = None
    terms = low_rank_terms(weights)
    if terms is not None and _LowRank(terms).cost < min(dense_cost, sparse_cost):
        fast = _LowRank(terms)
    elif min(dense_cost, sparse_cost) > FFT_COST:
        # Integer pixels span at most 1:65535, where float32 spectra are exact
        # enough; float images may hold highlights many orders above their
        # shadows, and the FFT spreads rounding over a whole tile, so they get
        # float64.
        fast = _Fourier(weights, np.float64 if planes.dtype.kind == "f" else np.float32)
    if fast is None:
        return exact
    # A NaN or infinity would spread over a whole FFT tile, or reach, through
    # low-rank terms that cancel, outputs that give it no weight: bands that
    # read one go to the exact method instead, which keeps it to the pixels
    # whose neighbourhood holds it. Integer bands are always finite.
    if planes.dtype.kind == "f":
        fast.exact = exact
    return fast


def _einsum_beats_products(weights: np.ndarray, channels: int) -> bool:
    # A kernel three rows tall saves little in each product but still writes w
    # rows of sums; on colour images, einsum over shifted views is then faster
    # from five columns on (12 MP RGB: 3×11 81 against 105 ms, 3×31 201 against
    # 295). Taller kernels, and grey images (where einsum is slow), favour the
    # products (5×15: 159 against 134 ms).
    height, width = weights.shape
    return height <= 3 and width >= 5 and _uses_einsum(weights, channels)


def _dense_cost(weights: np.ndarray) -> int:
    # Per output sample, in multiply-adds of the dense method: every weight.
    return weights.size


def _sparse_cost(weights: np.ndarray) -> int:
    # A multiply and an add over the band per non-zero weight: about three
    # multiply-adds of the dense method each (see FFT_COST).
    return max(1, 3 * int(np.count_nonzero(weights)))


def _fast_length(minimum: int) -> int:
    # The smallest 2^a·3^b·5^c at least `minimum`: lengths the FFT handles fastest.
    best = 2 * minimum
    power_of_five = 1
    while power_of_five < best:
        power_of_three = power_of_five
        while power_of_three < best:
            length = power_of_three
            while length < minimum:
                length *= 2
            best = min(best, length)
            power_of_three *= 3
        power_of_five *= 5
    return best


def separable_factors(kernel: ArrayLike) -> tuple[np.ndarray, np.ndarray] | None:
    """Split a rank-1 kernel into a column and a row whose outer product it is.

    Parameters
    ----------
    kernel : array_like
        2-D weights.

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(column, row)`` with ``np.outer(column, row)`` equal to the kernel
        (to 1e-9 of its largest weight), or ``None`` when the kernel is not
        separable (its rank is not 1, or it is all zeros). The factors go
        through the largest weight, which keeps them exact for kernels made of
        small integers and fractions, unlike an SVD.

    Examples
    --------
    >>> column, row = separable_factors([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    >>> column, row
    (array([0.5, 1. , 0.5]), array([2., 4., 2.]))
    >>> separable_factors(np.eye(3)) is None
    True
    """
    weights = np.asarray(kernel, dtype=np.float64)
    row, column = np.unravel_index(np.argmax(np.abs(weights)), weights.shape)
    pivot = weights[row, column]
    if pivot == 0.0:
        return None
    column_factor = weights[:, column] / pivot
    row_factor = weights[row, :]
    tolerance = 1e-9 * abs(pivot)
    if np.abs(np.outer(column_factor, row_factor) - weights).max() > tolerance:
        return None
    return column_factor, row_factor
