"""Laying several 8-bit pictures side by side in one image, for export.

Each picture may carry a caption above it ("Original — coffee.png", "Result",
"Red"), and the kernel (or every stage of a recipe) may follow as a table of
its weights, so the exported picture says what it shows. Text is drawn with
Pillow: a common system font where there is one (for accents and signs), else
Pillow's own, so nothing here needs Qt or a font shipped with the app.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kernelstudio.kernels import Kernel, brief, format_weight
from kernelstudio.pipeline import Stage

GAP = 8
BACKGROUND = 40
TEXT = 235
"""Grey level of captions and weights: light on the dark background."""
MIN_TEXT_SIZE = 14
"""The smallest font size (pixels) chosen when none is given."""
TEXT_SIZE_FRACTION = 1 / 40
"""Chosen font size as a share of the tallest panel, so text stays legible on big images."""

KernelLike = np.ndarray | Stage | Kernel
"""One kernel for the weights panel: bare weights, or a stage or kernel with divisor and offset."""


def montage(
    panels: Sequence[np.ndarray],
    *,
    captions: Sequence[str] | None = None,
    kernel: KernelLike | Sequence[KernelLike] | None = None,
    gap: int = GAP,
    text_size: int | None = None,
) -> np.ndarray:
    """Place 8-bit images left to right on a dark background, with captions and the kernel.

    Parameters
    ----------
    panels : sequence of numpy.ndarray
        uint8 images, ``H×W`` (grey), ``H×W×3`` (RGB) or ``H×W×4`` (RGBA, shown
        over the background as its alpha says), of any sizes. Each is centred
        vertically in a row as tall as the tallest.
    captions : sequence of str, optional
        One caption per panel, drawn above it (cut short with "…" where the
        panel is narrower). ``None`` draws none and adds no room for them.
    kernel : numpy.ndarray, Stage, Kernel, or a sequence of them, optional
        The weights to list as a table of numbers in a panel after the
        others, with the divisor and offset where they are not 1 and 0; a
        sequence is a recipe, one table per stage, stacked.
    gap : int
        Pixels of background around and between the panels (and between a
        caption and its panel).
    text_size : int, optional
        Font size in pixels; by default 1/40 of the tallest panel, at least 14.

    Returns
    -------
    numpy.ndarray
        One ``H×W×3`` uint8 RGB image.

    Raises
    ------
    ValueError
        If there are no panels, one is not a uint8 grey, RGB or RGBA image,
        the captions do not match the panels, or a kernel is not valid weights.

    Examples
    --------
    >>> montage([np.full((2, 2), 255, np.uint8), np.zeros((1, 3, 3), np.uint8)], gap=1).shape
    (4, 8, 3)
    """
    if not panels:
        raise ValueError("montage needs at least one panel")
    rgb_panels = [_on_background(panel) for panel in panels]
    labels = _checked_captions(captions, len(rgb_panels))
    tallest = max(panel.shape[0] for panel in rgb_panels)
    lettering = _lettering(text_size or max(MIN_TEXT_SIZE, round(tallest * TEXT_SIZE_FRACTION)))
    if kernel is not None:
        stages = _stages(kernel)
        rgb_panels.append(_on_background(_weights_panel(stages, lettering)))
        if labels is not None:
            labels.append(_kernel_caption(stages))
    caption_room = lettering.line_height() + gap if labels is not None else 0
    row_height = max(panel.shape[0] for panel in rgb_panels)
    height = row_height + caption_room + 2 * gap
    width = sum(panel.shape[1] for panel in rgb_panels) + gap * (len(rgb_panels) + 1)
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    left = gap
    for index, panel in enumerate(rgb_panels):
        top = gap + caption_room + (row_height - panel.shape[0]) // 2
        canvas[top : top + panel.shape[0], left : left + panel.shape[1]] = panel
        if labels is not None:
            strip = _text_strip(labels[index], panel.shape[1], lettering)
            canvas[gap : gap + strip.shape[0], left : left + panel.shape[1]] = strip[..., None]
        left += panel.shape[1] + gap
    return canvas


def _on_background(panel: np.ndarray) -> np.ndarray:
    if (
        not isinstance(panel, np.ndarray)
        or panel.dtype != np.uint8
        or not (panel.ndim == 2 or (panel.ndim == 3 and panel.shape[2] in (3, 4)))
    ):
        raise ValueError(
            "panels must be uint8 H×W, H×W×3 or H×W×4; got "
            f"{getattr(panel, 'dtype', type(panel).__name__)} {getattr(panel, 'shape', '')}"
        )
    if panel.ndim == 2:
        return np.repeat(panel[..., None], 3, axis=2)
    if panel.shape[2] == 3:
        return panel
    alpha = panel[..., 3:].astype(np.float32) / 255
    blended = panel[..., :3] * alpha + BACKGROUND * (1 - alpha)
    return np.rint(blended).astype(np.uint8)


def _checked_captions(captions: Sequence[str] | None, count: int) -> list[str] | None:
    if captions is None:
        return None
    if isinstance(captions, str) or len(captions) != count:
        raise ValueError(f"montage needs one caption per panel ({count}); got {captions!r}")
    for caption in captions:
        if not isinstance(caption, str):
            raise ValueError(f"a caption is text; got {caption!r}")
    return list(captions)


def _stages(kernel: KernelLike | Sequence[KernelLike]) -> list[Stage]:
    # A 2-D array, a Stage or a Kernel is one kernel; anything else is a recipe's list.
    if isinstance(kernel, np.ndarray | Stage | Kernel):
        kernels = [kernel]
    elif isinstance(kernel, Sequence) and not isinstance(kernel, str):
        kernels = list(kernel)
    else:
        raise ValueError(
            "the kernel panel takes weights, a Stage or a Kernel, or a list of them; "
            f"got {brief(kernel)}"
        )
    if not kernels:
        raise ValueError("the kernel panel needs at least one kernel")
    stages = []
    for item in kernels:
        if isinstance(item, Stage):
            stages.append(item)
        elif isinstance(item, Kernel):
            stages.append(Stage(item.weights, item.divisor, item.offset, name=item.name))
        else:
            stages.append(Stage(item))
    return stages


def _kernel_caption(stages: list[Stage]) -> str:
    if len(stages) > 1:
        return f"Recipe, {len(stages)} stages"
    return f"Kernel — {stages[0].name}" if stages[0].name else "Kernel"


_FONT_FILES = (
    "DejaVuSans.ttf",  # most Linux systems
    "segoeui.ttf",  # Windows
    "arial.ttf",  # Windows
    "Arial.ttf",  # macOS
    "LiberationSans-Regular.ttf",
)
"""Fonts with accents, dashes and maths signs, tried in turn before Pillow's own."""
_PLAIN_SIGNS = str.maketrans({"—": "-", "–": "-", "−": "-", "÷": "/", "×": "x"})
"""Signs Pillow's own font lacks, written with ones it has."""


@dataclass(frozen=True)
class _Lettering:
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont
    plain: bool  # Pillow's own font: write _PLAIN_SIGNS its way

    def line_height(self) -> int:
        # Tall capitals, an accent and a descender: the room one line of any text needs.
        return int(self.font.getbbox("ÁgÅ|")[3]) + 1

    def width(self, text: str) -> int:
        return int(np.ceil(self.font.getlength(self.readable(text)))) if text else 0

    def readable(self, text: str) -> str:
        return text.translate(_PLAIN_SIGNS) if self.plain else text

    def draw(self, canvas: ImageDraw.ImageDraw, left: int, top: int, text: str) -> None:
        canvas.text((left, top), self.readable(text), fill=TEXT, font=self.font)


@functools.lru_cache(maxsize=8)
def _lettering(size: int) -> _Lettering:
    for name in _FONT_FILES:
        try:
            return _Lettering(ImageFont.truetype(name, size), plain=False)
        except OSError:
            continue
    try:
        return _Lettering(ImageFont.load_default(size=size), plain=True)
    except TypeError:  # Pillow 10.0 has only the small bitmap font
        return _Lettering(ImageFont.load_default(), plain=True)


def _fitted(text: str, width: int, lettering: _Lettering) -> str:
    if lettering.width(text) <= width:
        return text
    # The longest start of `text` that fits with "…" after it, found by halving.
    fits, too_long = -1, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if lettering.width(text[:middle].rstrip() + "…") <= width:
            fits = middle
        else:
            too_long = middle
    return text[:fits].rstrip() + "…" if fits >= 0 else ""


def _text_strip(text: str, width: int, lettering: _Lettering) -> np.ndarray:
    strip = Image.new("L", (width, lettering.line_height()), BACKGROUND)
    lettering.draw(ImageDraw.Draw(strip), 0, 0, _fitted(text, width, lettering))
    return np.asarray(strip)


def _weights_panel(stages: list[Stage], lettering: _Lettering) -> np.ndarray:
    # Each stage: its title (recipes only), one line per row of weights with the
    # numbers right-aligned in columns, then the divisor and offset if they act;
    # a line is either free text (str) or a row of weights (tuple of str).
    line_step = lettering.line_height() + max(2, lettering.line_height() // 4)
    column_gap = lettering.width("  ")
    blocks: list[tuple[list[str | tuple[str, ...]], int]] = []
    for number, stage in enumerate(stages, start=1):
        rows = [tuple(format_weight(value) for value in row) for row in stage.weights]
        column_width = max(lettering.width(cell) for row in rows for cell in row)
        lines: list[str | tuple[str, ...]] = []
        if len(stages) > 1:
            title = f"Stage {number} — {stage.name}" if stage.name else f"Stage {number}"
            lines.append(title if stage.enabled else f"{title} (off)")
        lines.extend(rows)
        if stage.divisor != 1:
            lines.append(f"÷ {format_weight(stage.divisor)}")
        if stage.offset:
            sign = "+" if stage.offset > 0 else "−"
            lines.append(f"{sign} {format_weight(abs(stage.offset))}")
        blocks.append((lines, column_width))

    def line_width(text: str | tuple[str, ...], column_width: int) -> int:
        if isinstance(text, str):
            return lettering.width(text)
        return len(text) * (column_width + column_gap) - column_gap

    width = max(line_width(text, cw) for lines, cw in blocks for text in lines)
    line_count = sum(len(lines) for lines, _ in blocks) + len(blocks) - 1
    panel = Image.new("L", (width, line_count * line_step), BACKGROUND)
    draw = ImageDraw.Draw(panel)
    top = 0
    for lines, column_width in blocks:
        for text in lines:
            if isinstance(text, str):
                lettering.draw(draw, 0, top, text)
            else:
                for column, cell in enumerate(text):
                    right = (column + 1) * column_width + column * column_gap
                    lettering.draw(draw, right - lettering.width(cell), top, cell)
            top += line_step
        top += line_step  # a blank line between stages
    return np.asarray(panel)
