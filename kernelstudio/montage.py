"""Laying several 8-bit pictures side by side in one image, for export."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GAP = 8
BACKGROUND = 40


def montage(panels: Sequence[np.ndarray], *, gap: int = GAP) -> np.ndarray:
    """Place 8-bit images left to right on a dark background.

    Parameters
    ----------
    panels : sequence of numpy.ndarray
        uint8 images, ``H×W`` (grey) or ``H×W×3`` (RGB), of any sizes. Each is
        centred vertically in a row as tall as the tallest.
    gap : int
        Pixels of background around and between the panels.

    Returns
    -------
    numpy.ndarray
        One ``H×W×3`` uint8 RGB image.

    Raises
    ------
    ValueError
        If there are no panels or one is not a uint8 grey or RGB image.

    Examples
    --------
    >>> montage([np.full((2, 2), 255, np.uint8), np.zeros((1, 3, 3), np.uint8)], gap=1).shape
    (4, 8, 3)
    """
    if not panels:
        raise ValueError("montage needs at least one panel")
    rgb_panels = []
    for panel in panels:
        if panel.dtype != np.uint8 or not (
            panel.ndim == 2 or (panel.ndim == 3 and panel.shape[2] == 3)
        ):
            raise ValueError(f"panels must be uint8 H×W or H×W×3; got {panel.dtype} {panel.shape}")
        rgb_panels.append(np.repeat(panel[..., None], 3, axis=2) if panel.ndim == 2 else panel)
    height = max(panel.shape[0] for panel in rgb_panels) + 2 * gap
    width = sum(panel.shape[1] for panel in rgb_panels) + gap * (len(rgb_panels) + 1)
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    left = gap
    for panel in rgb_panels:
        top = (height - panel.shape[0]) // 2
        canvas[top : top + panel.shape[0], left : left + panel.shape[1]] = panel
        left += panel.shape[1] + gap
    return canvas
