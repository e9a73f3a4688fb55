"""Other programs' kernel conventions, so that a recipe can behave like one of them.

Each :class:`Convention` says how one program applies a kernel: whether it
correlates or convolves, how it invents pixels beyond the edge, how it rounds
and clamps, what it does between two filters run one after the other, and
which divisor and offset it chooses by itself. :func:`behave_like` returns the
recipe with those options set, so that :func:`kernelstudio.pipeline.render`
and :func:`kernelstudio.pipeline.to_display` give the 8-bit result that
program writes for the same kernel on the same image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kernelstudio.pipeline import Recipe, Stage

NORMALISATIONS: tuple[str, ...] = ("none", "gimp", "imagej")
"""How a program picks a divisor and offset by itself: never, as GIMP's dialog
does (÷ sum, ÷ −sum with offset 1, offset ½ for zero-sum kernels), or as
ImageJ's *Normalize* does (÷ sum unless it is 0)."""


@dataclass(frozen=True)
class Convention:
    """How one program applies a kernel to an 8-bit image.

    Attributes
    ----------
    name : str
        The program as people call it ("GIMP 2.10").
    border, flip, rounding, between_stages : str, bool, str, str
        The :class:`~kernelstudio.pipeline.Recipe` options that reproduce it;
        `border` is the program's default border.
    normalise : str
        One of :data:`NORMALISATIONS`: the divisor and offset it picks by itself.
    checked : str
        How this convention was checked against the real program here (the
        version and the agreement measured), or why it could not be.
    display : str
        The recipe's ``display``: how the program turns results into 8-bit
        values (``clip`` for a program that clamps to 0…255).
    borders : tuple of (str, str)
        Every border the program offers, as ``(its name, our border)``.
    max_side : int or None
        The largest kernel height or width the program takes (GIMP's and
        Photoshop's grids are 5×5); ``None`` for no limit of its own.
    whole_numbers : bool
        The program takes only whole weights and offsets and a whole divisor
        of 1 or more (Photoshop's *Custom* dialog).
    alpha, channels : str or None
        The recipe's ``alpha`` and ``channels`` for a program that filters
        transparency like a colour (``"process"`` and ``"rgba"``); ``None``
        where no alpha mode of ours does what it does (GIMP's alpha
        weighting, ImageJ's flattening over white, ImageMagick's own
        weighting): the recipe's own are kept, and RGBA images differ.
    """

    name: str
    border: str
    flip: bool
    rounding: str
    between_stages: str
    normalise: str
    checked: str
    display: str = "clip"
    borders: tuple[tuple[str, str], ...] = ()
    max_side: int | None = None
    whole_numbers: bool = False
    alpha: str | None = None
    channels: str | None = None

    def is_followed_by(self, recipe: Recipe) -> bool:
        """Whether `recipe`'s options are the ones this convention sets (its divisors aside).

        Examples
        --------
        >>> CONVENTIONS["opencv"].is_followed_by(behave_like(Recipe.single([[1]]), "opencv"))
        True
        >>> CONVENTIONS["opencv"].is_followed_by(Recipe.single([[1]]))
        False
        """
        return all(
            getattr(self, name) in (None, getattr(recipe, name)) for name in CONVENTION_OPTIONS
        )


CONVENTION_OPTIONS = (
    "border",
    "flip",
    "rounding",
    "between_stages",
    "display",
    "alpha",
    "channels",
)
"""The Recipe options a Convention sets (``alpha`` and ``channels`` only where not None)."""

CONVENTIONS: dict[str, Convention] = {
    "gimp": Convention(
        name="GIMP 2.10",
        border="nearest",
        flip=False,
        rounding="half-up",
        between_stages="round",
        normalise="gimp",
        checked=(
            "checked against GIMP 2.10.34 (Debian 12): plug-in-convmatrix from "
            "gimp-console-2.10 -i -b, every border, 8 kernels (3×3, 3×5, 5×5, zero-sum, "
            "stacks) on 6 images: within ±1 on 100 % of values, equal on 98.6–100 % "
            "(84–92 % for zero-sum kernels, whose offset ½ makes every value a tie that "
            "GIMP's float32 sums break either way); its Normalise, which the PDB cannot "
            "switch on, follows GEGL's source; alpha weighting (the dialog's default) "
            "is not followed"
        ),
        borders=(("EXTEND", "nearest"), ("WRAP", "wrap"), ("CLEAR", "constant")),
        max_side=5,
    ),
    "imagej": Convention(
        name="ImageJ 1.53",
        border="nearest",
        flip=False,
        rounding="half-up",
        between_stages="round",
        normalise="imagej",
        checked=(
            "checked against ImageJ 1.53t (Debian 12): Process > Filters > Convolve... "
            "with and without Normalize, 3×3 to 9×7 and stacks, on 5 opaque images: "
            "within ±1 on 100 % of values, equal on 99.5–100 %; ImageJ flattens RGBA "
            "over white when it opens it, which is not followed"
        ),
        borders=(("edge pixels repeated", "nearest"),),
    ),
    "photoshop": Convention(
        name="Photoshop (Custom filter)",
        border="nearest",
        flip=False,
        rounding="half-up",
        between_stages="round",
        normalise="none",
        checked=(
            "not checked: Photoshop does not run here; set from the documentation of "
            "Filter > Other > Custom (Adobe's user guide: the 5×5 grid as the neighbours "
            "lie, divided by Scale, plus Offset in levels; the Photoshop Bible: whole "
            "weights −999…999, Scale 1…9999, Offset −9999…9999); its border and "
            "rounding are not documented and are assumed (edge repeated, half up)"
        ),
        max_side=5,
        whole_numbers=True,
    ),
    "opencv": Convention(
        name="OpenCV (cv2.filter2D)",
        border="mirror",
        flip=False,
        rounding="half-even",
        between_stages="round",
        normalise="none",
        checked=(
            "checked against OpenCV 5.1 (cv2.filter2D on uint8, delta as the offset, "
            "one call per stage): every border it offers, 8 kernels on 6 images: "
            "within ±1 on 100 % of values, equal on 99.996–100 %"
        ),
        borders=(
            ("BORDER_REFLECT_101", "mirror"),
            ("BORDER_CONSTANT", "constant"),
            ("BORDER_REPLICATE", "nearest"),
            ("BORDER_REFLECT", "reflect"),
        ),
        alpha="process",
        channels="rgba",
    ),
    "scipy": Convention(
        name="SciPy (ndimage.correlate)",
        border="reflect",
        flip=False,
        rounding="truncate",
        between_stages="wrap",
        normalise="none",
        checked=(
            "checked against SciPy 1.17 (ndimage.correlate, uint8 in and out, every "
            "mode): within ±1 on 100 % of values, equal on 92–100 % (it truncates "
            "float64 sums, we float32 ones, so whole results can fall a level lower "
            "here); outside 0…255 both wrap around modulo 256, as a C cast does"
        ),
        display="wrap",
        borders=(
            ("reflect", "reflect"),
            ("constant", "constant"),
            ("nearest", "nearest"),
            ("mirror", "mirror"),
            ("wrap", "wrap"),
        ),
        alpha="process",
        channels="rgba",
    ),
    "imagemagick": Convention(
        name="ImageMagick 6 Q16 (-morphology Convolve)",
        border="nearest",
        flip=True,
        rounding="truncate",
        between_stages="clip",
        normalise="none",
        checked=(
            "ImageMagick 6.9.11-60 Q16: convert IN -virtual-pixel V -morphology Convolve "
            "'WxH: …' OUT, 2 images × 5 kernels (a 2-stage stack too) × 4 borders: "
            "100 % within ±1, 99.3–100 % exact (mean 99.9 %)"
        ),
        borders=(
            ("-virtual-pixel edge", "nearest"),
            ("-virtual-pixel mirror", "reflect"),
            ("-virtual-pixel tile", "wrap"),
            ("-virtual-pixel black", "constant"),
        ),
    ),
    "vips": Convention(
        name="libvips 8 (vips conv, float precision)",
        border="nearest",
        flip=False,
        rounding="truncate",
        between_stages="float",
        normalise="none",
        checked=(
            "libvips 8.14.1: vips conv IN OUT MATRIX (a float .v between stages), "
            "2 images × 5 kernels: 100 % within ±1, 99.6–100 % exact (mean 99.9 %)"
        ),
        borders=(("edge pixels copied", "nearest"),),
        alpha="process",
        channels="rgba",
    ),
    "gmic": Convention(
        name="G'MIC 2.9 (convolve, then cut 0,255 and -o)",
        border="nearest",
        flip=True,
        rounding="truncate",
        between_stages="float",
        normalise="none",
        checked=(
            "G'MIC 2.9.4: gmic IN (…) -convolve[0] [-1],B -remove[-1] -cut 0,255 -o OUT, "
            "2 images × 5 kernels × 4 boundaries: 100 % within ±1, 98.3–100 % exact "
            "(mean 99.7 %)"
        ),
        borders=(
            ("1 (neumann)", "nearest"),
            ("0 (dirichlet)", "constant"),
            ("2 (periodic)", "wrap"),
            ("3 (mirror)", "reflect"),
        ),
        alpha="process",
        channels="rgba",
    ),
}
"""Every program :func:`behave_like` knows, by its ``--like`` name."""


def behave_like(
    recipe: Recipe, program: str, *, normalise: bool = True, white: float = 255.0
) -> Recipe:
    """Return `recipe` with the options `program` uses, and its divisors when it picks them.

    Parameters
    ----------
    recipe : Recipe
        The kernels and options to translate.
    program : str
        A key of :data:`CONVENTIONS`.
    normalise : bool
        Let the program pick each stage's divisor and offset as it does by
        default; ``False`` keeps the recipe's (as when a divisor is given).
    white : float
        Full scale of the image's values, for offsets a program gives as a
        fraction of it.

    Returns
    -------
    Recipe
        The same stages (with the divisors and offsets the program picks) and
        the program's border, flip, rounding, between-stages and display.

    Raises
    ------
    ValueError
        For a program not in :data:`CONVENTIONS`, or an enabled stage the
        program cannot take (larger than its grid, or fractions where it takes
        whole numbers).

    Examples
    --------
    >>> liked = behave_like(Recipe.single([[1, 2, 1]]), "imagej")
    >>> liked.border, liked.rounding, liked.stages[0].divisor
    ('nearest', 'half-up', 4.0)
    >>> behave_like(Recipe.single([[-1, 0, 1]]), "gimp").stages[0].offset  # ½ of white
    127.5
    >>> behave_like(Recipe.single(np.ones((7, 7))), "gimp")
    Traceback (most recent call last):
    ...
    ValueError: GIMP 2.10 takes kernels up to 5×5; the kernel is 7×7
    """
    try:
        convention = CONVENTIONS[program]
    except KeyError:
        raise ValueError(
            f"--like must be one of {', '.join(CONVENTIONS)}; got {program!r}"
        ) from None
    stages = recipe.stages
    if normalise and convention.normalise != "none":
        stages = tuple(_normalised(stage, convention.normalise, white) for stage in stages)
    liked = replace(
        recipe,
        stages=stages,
        border=convention.border,
        flip=convention.flip,
        rounding=convention.rounding,
        between_stages=convention.between_stages,
        display=convention.display,
    )
    if convention.alpha is not None:
        liked = replace(liked, alpha=convention.alpha)
    if convention.channels is not None:
        liked = replace(liked, channels=convention.channels)
    _check_takes(liked, convention)
    return liked


def _normalised(stage: Stage, normalisation: str, white: float) -> Stage:
    # GIMP: GEGL's convolution-matrix.c, normalize_div_off(), with its offset
    # (a fraction of full scale) in our units; ImageJ: Convolver's "Normalize".
    total = float(np.sum(stage.weights))
    divisor, offset = 1.0, 0.0
    if normalisation == "gimp":
        if total > 0:
            divisor = total
        elif total < 0:
            divisor, offset = -total, white
        else:
            offset = white / 2
    elif total != 0:
        divisor = total
    return replace(stage, divisor=divisor, offset=offset)


def _check_takes(recipe: Recipe, convention: Convention) -> None:
    active = recipe.active_stages
    for number, stage in enumerate(active, start=1):
        which = "the kernel" if len(active) == 1 else f"stage {number}"
        height, width = stage.weights.shape
        side = convention.max_side
        if side is not None and max(height, width) > side:
            raise ValueError(
                f"{convention.name} takes kernels up to {side}×{side}; {which} is {height}×{width}"
            )
        whole = [*stage.weights.ravel(), stage.divisor, stage.offset]
        if convention.whole_numbers and not (
            all(float(value).is_integer() for value in whole) and stage.divisor >= 1
        ):
            raise ValueError(
                f"{convention.name} takes only whole weights and offsets and a whole divisor "
                f"of 1 or more; {which} has weights {_listed(stage.weights)}, divisor "
                f"{stage.divisor:g} and offset {stage.offset:g}"
            )


def _listed(weights: np.ndarray) -> str:
    shown = ", ".join(f"{value:g}" for value in weights.ravel()[:6])
    return shown + (", …" if weights.size > 6 else "")
