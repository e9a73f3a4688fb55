"""Comparing two results: what one change to the kernel did to the image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernelstudio.display import to_uint8


def _largest_finite(values: np.ndarray) -> float:
    magnitudes = np.abs(values[np.isfinite(values)])
    return float(magnitudes.max()) if magnitudes.size else 0.0


@dataclass(frozen=True)
class Comparison:
    """How a result differs from a pinned one.

    Attributes
    ----------
    difference8 : numpy.ndarray
        ``|current − pinned|`` stretched to 0…255 (black: no change).
    largest : float
        The largest finite absolute difference.
    changed : int
        How many values (pixels × channels) differ by more than `tolerance`.
    fraction : float
        `changed` as a fraction of all values.
    """

    difference8: np.ndarray
    largest: float
    changed: int
    fraction: float


RELATIVE_TOLERANCE = 1e-5
"""Differences below this fraction of the largest value are float32 rounding."""


def compare_results(current: np.ndarray, pinned: np.ndarray) -> Comparison:
    """Compare two results of the same shape.

    Parameters
    ----------
    current, pinned : numpy.ndarray
        float results of equal shape. Differences up to
        :data:`RELATIVE_TOLERANCE` times their largest magnitude count as
        rounding, not as changes.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If the shapes differ (another image, size or 'valid' border).

    Examples
    --------
    >>> facts = compare_results(np.array([[1.0, 2.0]]), np.array([[1.0, 4.0]]))
    >>> facts.largest, facts.changed, facts.difference8.tolist()
    (2.0, 1, [[0, 255]])
    """
    if current.shape != pinned.shape:
        raise ValueError(
            f"the pinned result is {'×'.join(map(str, pinned.shape))} and the current one "
            f"{'×'.join(map(str, current.shape))}; pin again to compare"
        )
    current = current.astype(np.float32)
    pinned = pinned.astype(np.float32)
    # NaN where both are NaN, or the same infinity, is no change; any other
    # non-finite difference is (and shows as the brightest change).
    same = (current == pinned) | (np.isnan(current) & np.isnan(pinned))
    with np.errstate(invalid="ignore"):
        difference = np.where(same, 0.0, np.abs(current - pinned)).astype(np.float32)
    difference[np.isnan(difference)] = np.inf
    finite = difference[np.isfinite(difference)]
    scale = max(_largest_finite(current), _largest_finite(pinned), 1.0)
    changed = int(np.count_nonzero(difference > RELATIVE_TOLERANCE * scale))
    largest = float(finite.max()) if finite.size else 0.0
    return Comparison(
        difference8=to_uint8(difference, "normalize"),
        largest=largest,
        changed=changed,
        fraction=changed / max(difference.size, 1),
    )
