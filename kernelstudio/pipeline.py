"""A recipe of kernel stages and the one function that turns an image into a result.

Every result Kernel Studio makes, in the window and on the command line, comes
from :func:`render` (the float result) and :func:`to_display` (its 8-bit
picture). A :class:`Recipe` holds one to :data:`MAX_STAGES` :class:`Stage` s,
each a kernel with a divisor and an offset, and the options that say how they
meet the image: the border, flip, greyscale, which channels the stages act on,
and what happens to transparency.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from kernelstudio.colour import to_grey
from kernelstudio.convolution import BORDERS, convolve
from kernelstudio.display import (
    DISPLAY_MODES,
    ROUNDING_MODES,
    round_values,
    to_uint8,
    white_level,
)
from kernelstudio.generators import GeneratorSettings, check_settings, generate
from kernelstudio.kernels import MAX_KERNEL_SIDE, validate_kernel

MAX_STAGES = 16
"""The most stages one recipe holds."""

MAX_STAGE_SIDE = min(MAX_KERNEL_SIDE, 31)
"""The largest height or width of a stage's kernel."""

CHANNEL_LETTERS = "rgba"
"""The channels a recipe may name: red, green, blue, alpha."""

ALPHA_MODES: tuple[str, ...] = ("keep", "weighted", "process")
"""What a recipe does with transparency; see :class:`Recipe`."""

BETWEEN_STAGES: tuple[str, ...] = ("float", "clip", "round", "wrap")
"""What a stage's result becomes before the next stage sees it: exact floats,
clipped to the image's range, clipped and rounded to its whole values (as when a
program runs one filter after another on an 8-bit image), or rounded and wrapped
around as a C cast to the image's integer type does."""

COVERAGE_FLOOR = 1e-5
"""With ``weighted`` alpha, a neighbourhood covered less than this (a fraction of
the kernel's Σ|w|) counts as fully transparent: the FFT used for large kernels
leaves rounding of about 1e-7 where the coverage is exactly 0, and dividing by
it would blow the hidden colour up instead of hiding it."""


@dataclass(frozen=True, eq=False)
class Stage:
    """One kernel of a recipe: ``out = correlate(previous, weights) / divisor + offset``.

    Attributes
    ----------
    weights : numpy.ndarray
        2-D float64 weights, odd × odd, from 1×1 up to 31×31 (rectangular
        allowed); stored as a read-only copy.
    divisor : float
        What the weighted sum is divided by: finite and not zero.
    offset : float
        Added after dividing, in the image's value units (128 is mid-grey for
        8-bit images, 32768 for 16-bit, 0.5 for float images).
    enabled : bool
        A disabled stage is skipped.
    name : str
        What the person calls it.
    generator : GeneratorSettings or None
        The generator and parameters the weights were made from, so that the
        window can show its sliders again; ``None`` for typed weights. The
        weights are always what is applied: a stage whose weights are not
        exactly what its generator makes (a typed edit, a hand-edited file,
        settings a newer version wrote) drops the generator and keeps the
        weights.

    Examples
    --------
    >>> from kernelstudio.generators import parse_spec
    >>> blur = Stage.generated(parse_spec("box:rows=1,cols=3"))
    >>> blur.generator.spec
    'box:rows=1,cols=3'
    >>> Stage(blur.weights * 2, generator=blur.generator).generator is None
    True
    >>> Stage([[1, 2, 1]], divisor=4).divisor
    4.0
    >>> Stage([[1, 2, 1]], divisor=0)
    Traceback (most recent call last):
    ...
    ValueError: divisor must be a finite number other than 0; got 0
    """

    weights: np.ndarray
    divisor: float = 1.0
    offset: float = 0.0
    enabled: bool = True
    name: str = ""
    generator: GeneratorSettings | None = None

    @classmethod
    def generated(cls, settings: GeneratorSettings, **fields: object) -> Stage:
        """Make a stage of what `settings` generate, remembering the settings.

        Raises
        ------
        GeneratorError
            If the settings name no generator or hold values it refuses.
        """
        settings = check_settings(settings.slug, settings.values)
        return cls(generate(settings).weights, generator=settings, **fields)

    def _generator_of(self, weights: np.ndarray) -> GeneratorSettings | None:
        settings = self.generator
        if settings is None:
            return None
        if not isinstance(settings, GeneratorSettings):
            raise ValueError(
                f"a stage's generator must be GeneratorSettings; got {type(settings).__name__}"
            )
        try:
            made = generate(check_settings(settings.slug, settings.values)).weights
        except ValueError:  # a generator or a range this version does not have
            return None
        return settings if np.array_equal(made, weights) else None

    def __post_init__(self) -> None:
        weights = validate_kernel(self.weights)
        if max(weights.shape) > MAX_STAGE_SIDE:
            height, width = weights.shape
            raise ValueError(
                f"a stage's kernel may be at most {MAX_STAGE_SIDE}×{MAX_STAGE_SIDE}; "
                f"got {height}×{width}"
            )
        weights.flags.writeable = False
        divisor = _finite_number(self.divisor, "divisor")
        if divisor == 0:
            raise ValueError(f"divisor must be a finite number other than 0; got {self.divisor!r}")
        try:
            validate_kernel(weights / divisor)  # what one pass applies must fit float32 too
        except ValueError as error:
            raise ValueError(f"divided by {divisor:g}, {error}") from None
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "divisor", divisor)
        object.__setattr__(self, "offset", _finite_number(self.offset, "offset"))
        object.__setattr__(self, "enabled", bool(self.enabled))
        if not isinstance(self.name, str):
            raise ValueError(f"a stage's name must be text; got {type(self.name).__name__}")
        object.__setattr__(self, "generator", self._generator_of(weights))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        weights = self.weights
        return (
            weights.shape,
            weights.tobytes(),
            self.divisor,
            self.offset,
            self.enabled,
            self.name,
            self.generator,
        )

    @property
    def scaled_weights(self) -> np.ndarray:
        """The weights divided by the divisor: what one pass over the image applies."""
        return self.weights / self.divisor


@dataclass(frozen=True)
class Recipe:
    """Stages and the options that apply them to an image.

    Attributes
    ----------
    stages : tuple of Stage
        1 to :data:`MAX_STAGES` stages, applied in order to the unclipped float
        result of the stage before; at least one must be enabled.
    border : str
        One of :data:`kernelstudio.convolution.BORDERS`; with ``valid`` each
        stage shrinks the image by its kernel's size less one.
    flip : bool
        Rotate every kernel 180° (true convolution).
    grey : bool
        Turn colour into grey (BT.601 luma) first; alpha is kept.
    channels : str
        The channels the stages act on, a non-empty subset of ``r``, ``g``,
        ``b``, ``a`` in any order; the others pass through unchanged. In a grey
        image any of ``r``, ``g``, ``b`` names its one grey channel.
    alpha : {'keep', 'weighted', 'process'}
        ``keep``: colour is filtered as stored and alpha passes through.
        ``weighted``: each colour is weighted by alpha, so that the hidden
        colour of transparent pixels never shows (see Notes); alpha passes
        through unless ``a`` is in `channels`. ``process``: alpha is filtered
        like a colour when ``a`` is in `channels`. Images without alpha ignore it.
    display : str
        How :func:`to_display` maps colour values to 8 bits; one of
        :data:`kernelstudio.display.DISPLAY_MODES`.
    rounding : str
        How :func:`to_display` (and ``between_stages="round"``) makes whole
        numbers; one of :data:`kernelstudio.display.ROUNDING_MODES`.
    between_stages : str
        One of :data:`BETWEEN_STAGES`: what each stage's colour becomes before
        the next stage: ``float`` (exact, the default), ``clip`` (to ``0…white``
        of the image's dtype), ``round`` (clipped, then rounded with
        `rounding` for integer images) or ``wrap`` (rounded, then modulo
        ``white + 1`` for integer images, as a C cast does; clipped for
        float images), for every channel the stages act on.

    Notes
    -----
    With ``weighted``, a colour ``C`` with coverage ``A`` (alpha as 0…1) becomes

    ``C' = (C·A ⋆ w) / (A ⋆ |w|) · Σ|w| / d + o``

    (``⋆`` correlation, ``d`` the divisor, ``o`` the offset), and ``o`` where
    ``A ⋆ |w|`` is below :data:`COVERAGE_FLOOR` · Σ|w|. Where every pixel is
    opaque this is the plain ``C ⋆ w / d + o``, for any kernel, except near the
    edge with the ``constant`` border, whose padding counts as transparent
    (so a blur does not darken towards the edge); for a blur (no negative
    weight) it is ``(C·A ⋆ w) / (A ⋆ w)``, the alpha-weighted average GIMP
    computes, so the hidden colour of a transparent pixel has no weight at all,
    even when it is infinite or NaN.
    """

    stages: tuple[Stage, ...]
    border: str = "mirror"
    flip: bool = False
    grey: bool = False
    channels: str = "rgb"
    alpha: str = "keep"
    display: str = "clip"
    rounding: str = "half-up"
    between_stages: str = "float"

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not 1 <= len(stages) <= MAX_STAGES:
            raise ValueError(f"a recipe holds 1 to {MAX_STAGES} stages; got {len(stages)}")
        if not all(isinstance(stage, Stage) for stage in stages):
            raise ValueError("every stage of a recipe must be a Stage")
        if not any(stage.enabled for stage in stages):
            raise ValueError("at least one stage must be enabled")
        object.__setattr__(self, "stages", stages)
        _choose(self.border, BORDERS, "border")
        _choose(self.alpha, ALPHA_MODES, "alpha")
        _choose(self.display, DISPLAY_MODES, "display")
        _choose(self.rounding, ROUNDING_MODES, "rounding")
        _choose(self.between_stages, BETWEEN_STAGES, "between_stages")
        object.__setattr__(self, "channels", check_channels(self.channels))
        object.__setattr__(self, "flip", bool(self.flip))
        object.__setattr__(self, "grey", bool(self.grey))

    def with_stage(self, index: int, stage: Stage, **options: object) -> Recipe:
        """Return the recipe with stage `index` replaced by `stage` (and `options` changed).

        Examples
        --------
        >>> Recipe.single([[1]]).with_stage(0, Stage([[2]]), border="wrap").stages[0].weights
        array([[2.]])
        """
        stages = list(self.stages)
        stages[index] = stage
        return replace(self, stages=tuple(stages), **options)

    @classmethod
    def single(cls, weights: ArrayLike, **options: object) -> Recipe:
        """Make a one-stage recipe of `weights`; ``divisor`` and ``offset`` go to the stage."""
        stage_fields = {key: options.pop(key) for key in ("divisor", "offset") if key in options}
        return cls((Stage(np.asarray(weights, dtype=np.float64), **stage_fields),), **options)

    @property
    def active_stages(self) -> tuple[Stage, ...]:
        """The enabled stages, in order."""
        return tuple(stage for stage in self.stages if stage.enabled)

    @property
    def shrink(self) -> tuple[int, int]:
        """Rows and columns the result loses on its top and left edges (``valid`` only)."""
        if self.border != "valid":
            return (0, 0)
        return (
            sum(stage.weights.shape[0] // 2 for stage in self.active_stages),
            sum(stage.weights.shape[1] // 2 for stage in self.active_stages),
        )


def check_channels(channels: str) -> str:
    """Return `channels` if it names a non-empty subset of r, g, b, a, else raise.

    Examples
    --------
    >>> check_channels("gb")
    'gb'
    >>> check_channels("rx")
    Traceback (most recent call last):
    ...
    ValueError: channels must be some of r, g, b, a (such as rgb, r or rgba); got 'rx'
    """
    if (
        not isinstance(channels, str)
        or not channels
        or set(channels) - set(CHANNEL_LETTERS)
        or len(set(channels)) != len(channels)
    ):
        raise ValueError(
            f"channels must be some of r, g, b, a (such as rgb, r or rgba); got {channels!r}"
        )
    return channels


def split_alpha(image: ArrayLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Split grey, grey+alpha, RGB or RGBA pixels into colour and alpha (or ``None``).

    Examples
    --------
    >>> colour, alpha = split_alpha(np.zeros((2, 3, 4), np.uint8))
    >>> colour.shape, alpha.shape
    ((2, 3, 3), (2, 3))
    """
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels, None
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected grey, grey+alpha, RGB or RGBA pixels; got {pixels.shape}")
    channels = pixels.shape[2]
    if channels == 1:
        return pixels[..., 0], None
    if channels == 2:
        return pixels[..., 0], pixels[..., 1]
    if channels == 3:
        return pixels, None
    return pixels[..., :3], pixels[..., 3]


def stage_input(image: ArrayLike, recipe: Recipe) -> np.ndarray:
    """Return the pixels the first stage sees: the image, or its grey when ``recipe.grey``.

    Alpha is kept beside the grey (grey+alpha); grey images come back as they are.

    Examples
    --------
    >>> rgb = np.array([[[255, 0, 0]]], np.uint8)
    >>> stage_input(rgb, Recipe.single([[1]], grey=True))  # BT.601: 0.299 of red
    array([[76]], dtype=uint8)
    >>> stage_input(rgb, Recipe.single([[1]])) is rgb
    True
    """
    pixels = np.asarray(image)
    colour, alpha = split_alpha(pixels)
    if not recipe.grey or colour.ndim == 2:
        return pixels
    grey = to_grey(colour)
    return grey if alpha is None else np.stack([grey, alpha], axis=-1)


def render(image: ArrayLike, recipe: Recipe) -> np.ndarray:
    """Apply `recipe` to `image` and return the exact float32 result.

    Parameters
    ----------
    image : array_like
        ``H×W`` grey, ``H×W×2`` grey+alpha, ``H×W×3`` RGB or ``H×W×4`` RGBA
        pixels of any integer or float dtype.
    recipe : Recipe
        The stages and options.

    Returns
    -------
    numpy.ndarray
        float32, with the image's channels (grey ones when ``recipe.grey``),
        smaller by each stage's kernel less one for ``valid``. Channels the
        stages do not act on hold the image's values, unclipped.

    Raises
    ------
    ValueError
        For an image that is not 2-D or 3-D numbers, or a ``valid`` image
        smaller than the stages' kernels.

    Examples
    --------
    >>> image = np.full((3, 3), 100, np.uint8)
    >>> emboss = Recipe.single([[-1, 0, 1]], offset=128, border="nearest")
    >>> render(image, emboss)[1]
    array([128., 128., 128.], dtype=float32)
    >>> blur_then_double = Recipe((Stage([[1, 1, 1]], divisor=3), Stage([[2]])))
    >>> render(image, blur_then_double)[0]
    array([200., 200., 200.], dtype=float32)
    """
    pixels = np.asarray(image)
    colour, alpha = split_alpha(pixels)
    if recipe.border == "valid":
        _check_valid_size(pixels.shape[:2], recipe)
    if recipe.grey and colour.ndim == 3:
        pixels = stage_input(pixels, recipe)
        colour, alpha = split_alpha(pixels)
    wanted = set(recipe.channels)
    if colour.ndim == 2:
        filtered = [bool(wanted & set("rgb"))]
    else:
        filtered = [letter in wanted for letter in "rgb"]
    if alpha is not None:
        filtered.append("a" in wanted and recipe.alpha != "keep")
        if recipe.alpha == "weighted" and any(filtered[:-1]):
            return _render_weighted(pixels, filtered, recipe)
    return _render_channels(pixels, filtered, recipe)


def _render_channels(pixels: np.ndarray, filtered: list[bool], recipe: Recipe) -> np.ndarray:
    # The common cases (every channel filtered) go to the engine as they are, with
    # no copy; otherwise the untouched channels are copied and the others replaced.
    if all(filtered):
        return _apply_stages(pixels, recipe)
    if pixels.ndim == 2 or not any(filtered):
        return _cropped(pixels, recipe)
    chosen = [index for index, wanted in enumerate(filtered) if wanted]
    result = _cropped(pixels, recipe)
    if chosen == list(range(chosen[0], chosen[-1] + 1)):
        source = pixels[..., chosen[0] : chosen[-1] + 1]  # a view
    else:
        source = pixels[..., chosen]
    result[..., chosen] = _apply_stages(source, recipe)
    return result


def _apply_stages(values: np.ndarray, recipe: Recipe) -> np.ndarray:
    dtype = values.dtype  # the image's, before the first stage makes floats
    stages = recipe.active_stages
    for number, stage in enumerate(stages, 1):
        values = convolve(
            values,
            stage.scaled_weights,
            border=recipe.border,
            flip=recipe.flip,
            offset=stage.offset,
        )
        if number < len(stages):
            values = next_stage_input(values, recipe, dtype)
    return values


def next_stage_input(values: np.ndarray, recipe: Recipe, dtype: DTypeLike) -> np.ndarray:
    """Turn a stage's float result, in place, into what the next stage sees.

    As ``recipe.between_stages`` says: unchanged (``float``), clipped to
    ``0…white`` of the image's `dtype` (``clip``), clipped and rounded with
    ``recipe.rounding`` when `dtype` is an integer type (``round``), or
    rounded and taken modulo ``white + 1`` (``wrap``, integer types; float
    images are clipped).

    Examples
    --------
    >>> values = np.array([-3.0, 2.5, 300.0], np.float32)
    >>> next_stage_input(values.copy(), Recipe.single([[1]], between_stages="round"), np.uint8)
    array([  0.,   3., 255.], dtype=float32)
    >>> wrapped = Recipe.single([[1]], between_stages="wrap", rounding="truncate")
    >>> next_stage_input(values.copy(), wrapped, np.uint8)
    array([253.,   2.,  44.], dtype=float32)
    """
    if recipe.between_stages == "float":
        return values
    integer = np.dtype(dtype).kind in "biu"
    if recipe.between_stages == "wrap" and integer:
        round_values(values, recipe.rounding)
        return np.mod(values, white_level(dtype) + 1.0, out=values)
    np.clip(values, 0.0, white_level(dtype), out=values)
    if recipe.between_stages == "round" and integer:
        round_values(values, recipe.rounding)
    return values


def _render_weighted(pixels: np.ndarray, filtered: list[bool], recipe: Recipe) -> np.ndarray:
    white = np.float32(white_level(pixels.dtype))
    chosen = [index for index, wanted in enumerate(filtered[:-1]) if wanted]
    colour = pixels[..., :-1].astype(np.float32)
    alpha_values = pixels[..., -1].astype(np.float32)
    stages = recipe.active_stages
    for number, stage in enumerate(stages, 1):
        one_stage = Recipe((stage,), border=recipe.border, flip=recipe.flip)
        # Coverage 0…1, also when an alpha filtered by an earlier stage left that range.
        weight = np.clip(alpha_values / white, 0.0, 1.0)
        # where(): the hidden colour of a transparent pixel, even inf or NaN, weighs nothing.
        covered = weight[..., None] > 0
        with np.errstate(invalid="ignore"):
            premultiplied = np.where(covered, colour[..., chosen] * weight[..., None], 0.0)
        # Both kernels are divided by Σ|w| (no sum can then exceed the largest colour,
        # so nothing overflows that the exact value would not): their ratio is unchanged.
        magnitude = float(np.abs(stage.weights).sum()) or 1.0  # all zeros: no coverage
        shares = stage.weights / magnitude
        sums = convolve(premultiplied, shares, border=recipe.border, flip=recipe.flip)
        coverage = convolve(weight, np.abs(shares), border=recipe.border, flip=recipe.flip)
        coverage = coverage[..., None]
        scale = np.float32(magnitude / stage.divisor)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            averaged = np.where(coverage > COVERAGE_FLOOR, sums / coverage, np.float32(0.0))
            averaged = averaged * scale + np.float32(stage.offset)
        if number < len(stages):
            averaged = next_stage_input(averaged, recipe, pixels.dtype)
        colour_after = _cropped(colour, one_stage)
        colour_after[..., chosen] = averaged
        colour = colour_after
        if filtered[-1]:
            alpha_values = _apply_stages(alpha_values, one_stage)
        else:
            alpha_values = _cropped(alpha_values, one_stage)
    return np.concatenate([colour, alpha_values[..., None]], axis=-1)


def _check_valid_size(shape: tuple[int, ...], recipe: Recipe) -> None:
    # Said for the whole stack, before any work: "6×6 is smaller than the three
    # 3×3 kernels", not "2×2 is smaller than 3×3" from inside the last stage.
    rows = 1 + sum(stage.weights.shape[0] - 1 for stage in recipe.active_stages)
    columns = 1 + sum(stage.weights.shape[1] - 1 for stage in recipe.active_stages)
    if shape[0] < rows or shape[1] < columns:
        kernels = " then ".join(
            "×".join(map(str, stage.weights.shape)) for stage in recipe.active_stages
        )
        raise ValueError(
            f"image of {shape[0]}×{shape[1]} pixels is smaller than the {kernels} "
            f"kernel{'s' if len(recipe.active_stages) > 1 else ''}, so 'valid' leaves no output "
            f"(it needs at least {rows}×{columns})"
        )


def _cropped(plane: np.ndarray, recipe: Recipe) -> np.ndarray:
    # Always a new float32 array: callers write into it.
    top, left = recipe.shrink
    if top == 0 and left == 0:
        return plane.astype(np.float32)
    height, width = plane.shape[:2]
    for stage in recipe.active_stages:
        height -= stage.weights.shape[0] - 1
        width -= stage.weights.shape[1] - 1
    if height <= 0 or width <= 0:
        raise ValueError(
            f"image of {plane.shape[0]}×{plane.shape[1]} pixels is smaller than the "
            f"recipe's kernels, so 'valid' leaves no output"
        )
    return plane[top : top + height, left : left + width].astype(np.float32)


def to_display(result: np.ndarray, recipe: Recipe, *, white: float = 255.0) -> np.ndarray:
    """Map a :func:`render` result to the 8-bit picture of it.

    Colour (or grey) values are mapped with ``recipe.display``; alpha, when
    the result has it (2 or 4 channels), is clipped to ``0…white``.

    Parameters
    ----------
    result : numpy.ndarray
        What :func:`render` returned.
    recipe : Recipe
        The recipe that made it.
    white : float
        The value that means full brightness: see
        :func:`kernelstudio.display.white_level` of the image's dtype.

    Returns
    -------
    numpy.ndarray
        uint8 pixels of the same shape.

    Examples
    --------
    >>> to_display(np.array([[[-10.0, 300.0]]]), Recipe.single([[1]], display="abs"))
    array([[[ 10, 255]]], dtype=uint8)
    """
    rounding = recipe.rounding
    if result.ndim == 2 or result.shape[2] in (1, 3):  # no alpha: one mapping, shape kept
        return to_uint8(result, recipe.display, white=white, rounding=rounding)
    colour, alpha = split_alpha(result)
    colour8 = to_uint8(colour, recipe.display, white=white, rounding=rounding)
    alpha8 = to_uint8(alpha, "clip", white=white, rounding=rounding)
    planes = [colour8] if colour8.ndim == 2 else [colour8[..., c] for c in range(3)]
    return np.stack([*planes, alpha8], axis=-1)


def equivalent_kernel(recipe: Recipe) -> tuple[np.ndarray, float]:
    """Return the one kernel and offset that do what the recipe's stages do together.

    The kernel is the full 2-D convolution of the enabled stages' kernels, each
    divided by its divisor; the offset is each stage's offset carried through
    the stages after it (times their weights' sum). Applied with the recipe's
    `flip`, it equals the stack **away from the borders** (within each stage's
    reach of an edge the stack pads every stage's result anew) and exactly for
    ``valid``; and for colour, not with ``weighted`` alpha, which is not linear.

    Examples
    --------
    >>> kernel, offset = equivalent_kernel(Recipe((Stage([[1, 1, 1]]), Stage([[1, 1, 1]]))))
    >>> kernel
    array([[1., 2., 3., 2., 1.]])
    >>> equivalent_kernel(Recipe((Stage([[2]], offset=1), Stage([[3]], offset=5))))
    (array([[6.]]), 8.0)
    """
    kernel = np.ones((1, 1))
    offset = 0.0
    for stage in recipe.active_stages:
        weights = stage.scaled_weights
        kernel = _full_convolution(kernel, weights)
        offset = offset * float(weights.sum()) + stage.offset
    return kernel, offset


def _full_convolution(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    # Correlating with `first` then `second` correlates with this kernel.
    rows = first.shape[0] + second.shape[0] - 1
    columns = first.shape[1] + second.shape[1] - 1
    combined = np.zeros((rows, columns))
    for (row, column), weight in np.ndenumerate(first):
        if weight:
            combined[row : row + second.shape[0], column : column + second.shape[1]] += (
                weight * second
            )
    return combined


def _choose(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _finite_number(value: object, name: str) -> float:
    unusable = ValueError(
        f"{name} must be a finite number{' other than 0' if name == 'divisor' else ''}; "
        f"got {value!r}"
    )
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise unusable
    try:
        number = float(value)
    except OverflowError:
        raise unusable from None
    if not np.isfinite(number):
        raise unusable
    return number
