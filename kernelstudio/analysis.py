"""What a kernel does, read from its weights: brightness, separability, frequencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from kernelstudio.convolution import check_kernel, separable_factors

RESPONSE_SIZE = 64
"""Side of the frequency-response grid (the kernel zero-padded to this size)."""


@dataclass(frozen=True)
class KernelAnalysis:
    """Facts about a kernel that the window shows beside the grid.

    Attributes
    ----------
    total : float
        Sum of the weights: the factor by which a flat area's brightness changes.
    rank : int
        Numerical rank of the weights (SVD); 1 means separable.
    factors : tuple of numpy.ndarray or None
        ``(column, row)`` whose outer product is the kernel, when separable.
    response : numpy.ndarray
        Magnitude of the 2-D DFT of the zero-padded kernel, zero frequency in
        the centre (``RESPONSE_SIZE×RESPONSE_SIZE``).
    behaviour : str
        One sentence on what the response means for an image.
    """

    total: float
    rank: int
    factors: tuple[np.ndarray, np.ndarray] | None
    response: np.ndarray
    behaviour: str


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


def describe_response(response: np.ndarray) -> str:
    """Put the shape of a centred frequency response into one sentence.

    Compares the gain at zero frequency (flat areas) with the mean gain above
    half the Nyquist frequency (fine detail).
    """
    size = response.shape[0]
    frequencies = np.fft.fftshift(np.fft.fftfreq(size)) * 2  # Nyquist = ±1
    radius = np.hypot(*np.meshgrid(frequencies, frequencies, indexing="ij"))
    flat = response[size // 2, size // 2]
    detail = response[radius > 0.5].mean()
    if response.max() <= 1e-12:
        return "All weights are zero: the result is black."
    if flat < 0.05 * response.max():
        return "Flat areas vanish and changes survive: it finds edges (high-pass)."
    if detail < 0.6 * flat:
        return "Fine detail is damped and flat areas pass: it blurs (low-pass)."
    if detail > 1.25 * flat:
        return "Flat areas pass and fine detail is amplified: it sharpens (high-boost)."
    return "Every frequency passes about equally: the image keeps its detail."


def analyse_kernel(kernel: ArrayLike) -> KernelAnalysis:
    """Return the :class:`KernelAnalysis` of `kernel`.

    Examples
    --------
    >>> facts = analyse_kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    >>> facts.total, facts.rank
    (16.0, 1)
    >>> facts.behaviour
    'Fine detail is damped and flat areas pass: it blurs (low-pass).'
    """
    weights = check_kernel(kernel)
    response = frequency_response(weights, max(RESPONSE_SIZE, *weights.shape))
    return KernelAnalysis(
        total=float(weights.sum()),
        rank=int(np.linalg.matrix_rank(weights)),
        factors=separable_factors(weights),
        response=response,
        behaviour=describe_response(response),
    )
