"""The tutorial's steps, replayed in the window one at a time.

The tutorial this project grew from shrinks a photograph to 100×100 grey pixels
(here its centre square, so nothing is squashed), convolves it with a Python
double loop (so the result shrinks to 98×98) using a Gaussian blur, a
vertical-edge and an outline kernel, and finally looks at the red, green and
blue channels of the colour photograph. Each step here sets the
window up the same way and says in one sentence what to look at.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kernelstudio.colour import to_grey
from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe

TUTORIAL_SIDE = 100
"""The tutorial works on a 100×100 greyscale image."""


@dataclass(frozen=True)
class WalkthroughStep:
    """One step: what the window shows, and a sentence about it.

    Attributes
    ----------
    title : str
        Short heading.
    sentence : str
        What the person sees, and why.
    image : {'tutorial', 'colour'}
        The 100×100 grey sample (:func:`tutorial_image`), or the colour sample
        at full size.
    preset : str
        Slug of the kernel in :data:`kernelstudio.kernels.PRESETS`.
    border, display : str
        Options as in :class:`kernelstudio.pipeline.Recipe`.
    """

    title: str
    sentence: str
    image: str
    preset: str
    border: str
    display: str

    @property
    def recipe(self) -> Recipe:
        """The one-stage recipe of this step: its preset with its border and display."""
        return Recipe.single(PRESETS[self.preset], border=self.border, display=self.display)


STEPS: tuple[WalkthroughStep, ...] = (
    WalkthroughStep(
        "1. A small grey image",
        "The centre of the sample photograph, grey and shrunk to 100×100 pixels: small enough "
        "that every pixel is a number you can hover over and read.",
        "tutorial",
        "identity",
        "mirror",
        "clip",
    ),
    WalkthroughStep(
        "2. Where the kernel fits",
        "With the 'valid' border the 3×3 kernel only visits positions where it lies wholly "
        "inside the image, so the result loses a pixel on each side: 98×98.",
        "tutorial",
        "identity",
        "valid",
        "clip",
    ),
    WalkthroughStep(
        "3. Gaussian blur",
        "Each output pixel is a weighted average of its 3×3 neighbourhood, the centre "
        "counting most, so sharp edges soften while flat areas stay as they were.",
        "tutorial",
        "gaussian-blur",
        "valid",
        "normalize",
    ),
    WalkthroughStep(
        "4. Vertical edges",
        "The left column minus the right one: zero on flat areas, strongly positive or "
        "negative where brightness changes from left to right, so vertical edges stand out.",
        "tutorial",
        "vertical-edge",
        "valid",
        "normalize",
    ),
    WalkthroughStep(
        "5. Outline",
        "Eight times the centre minus its eight neighbours: nothing survives where a pixel "
        "looks like its surroundings, every outline does.",
        "tutorial",
        "outline",
        "valid",
        "normalize",
    ),
    WalkthroughStep(
        "6. Three channels",
        "A colour photograph is three grey images, red, green and blue, shown below the "
        "original; every kernel you try is applied to each of them separately.",
        "colour",
        "identity",
        "mirror",
        "clip",
    ),
)
"""The walkthrough, in order."""


def tutorial_image(pixels: np.ndarray) -> np.ndarray:
    """Turn `pixels` into the tutorial's input: the centre square, grey, resized to 100×100.

    Cropping before resizing keeps the picture's proportions: a circle in the
    photograph stays a circle in the tutorial's square.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``H×W`` grey or ``H×W×3`` RGB pixels.

    Returns
    -------
    numpy.ndarray
        ``100×100`` grey pixels in the input's dtype (area-averaged).

    Raises
    ------
    ValueError
        If `pixels` is neither ``H×W`` nor ``H×W×3``, or has no pixels.

    Examples
    --------
    >>> tutorial_image(np.zeros((400, 600, 3), np.uint8)).shape
    (100, 100)
    >>> wide = np.zeros((2, 6), np.uint8)
    >>> wide[:, 2:4] = 255  # the centre square is all white
    >>> int(tutorial_image(wide).min())
    255
    """
    grey = to_grey(pixels)
    height, width = grey.shape
    if height == 0 or width == 0:
        raise ValueError(f"the image has no pixels; got shape {grey.shape}")
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = np.ascontiguousarray(grey[top : top + side, left : left + side])
    return cv2.resize(square, (TUTORIAL_SIDE, TUTORIAL_SIDE), interpolation=cv2.INTER_AREA)
