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
        uint8 images, ``H×W`` (grey), ``H×W×3`` (RGB) or ``H×W×4`` (RGBA, shown
        over the background as its alpha says), of any sizes. Each is centred
        vertically in a row as tall as the tallest.
    gap : int
        Pixels of background around and between the panels.

    Returns
    -------
    numpy.ndarray
        One ``H×W×3`` uint8 RGB image.

    Raises
    ------
    ValueError
        If there are no panels or one is not a uint8 grey, RGB or RGBA image.

    Examples
    --------
    >>> montage([np.full((2, 2), 255, np.uint8), np.zeros((1, 3, 3), np.uint8)], gap=1).shape
    (4, 8, 3)
    """
    if not panels:
        raise ValueError("montage needs at least one panel")
    rgb_panels = [_on_background(panel) for panel in panels]
    height = max(panel.shape[0] for panel in rgb_panels) + 2 * gap
    width = sum(panel.shape[1] for panel in rgb_panels) + gap * (len(rgb_panels) + 1)
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    left = gap
    for panel in rgb_panels:
        top = (height - panel.shape[0]) // 2
        canvas[top : top + panel.shape[0], left : left + panel.shape[1]] = panel
        left += panel.shape[1] + gap
    return canvas


def _on_background(panel: np.ndarray) -> np.ndarray:
    if panel.dtype != np.uint8 or not (
        panel.ndim == 2 or (panel.ndim == 3 and panel.shape[2] in (3, 4))
    ):
        raise ValueError(
            f"panels must be uint8 H×W, H×W×3 or H×W×4; got {panel.dtype} {panel.shape}"
        )
    if panel.ndim == 2:
        return np.repeat(panel[..., None], 3, axis=2)
    if panel.shape[2] == 3:
        return panel
    alpha = panel[..., 3:].astype(np.float32) / 255
    blended = panel[..., :3] * alpha + BACKGROUND * (1 - alpha)
    return np.rint(blended).astype(np.uint8)
