"""Python scripts (NumPy, SciPy, OpenCV, dask-image) that reproduce a recipe.

Each writer of :data:`PYTHON_TARGETS` returns one self-contained script: the
recipe's stages as exact literals, then the few functions that apply them as
:func:`kernelstudio.pipeline.render` and :func:`~kernelstudio.pipeline.to_display`
do, for 8- and 16-bit grey, grey + alpha, RGB and RGBA images. The targets
differ only in how they read and write files and in the one function that
slides a kernel over a plane (``correlate``); the rest of the script, the same
for all, is written for the recipe at hand, without branches it never takes.

Every script works on planes (2-D arrays, one per channel) with the NumPy
functions that dask arrays also answer, so the dask script shares them.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from kernelstudio.export_common import (
    apply_command,
    float_literal,
    kernel_literal,
    recipe_summary,
    stage_summary,
)
from kernelstudio.pipeline import COVERAGE_FLOOR, Recipe

__all__ = ["PYTHON_TARGETS", "dask_script", "numpy_script", "opencv_script", "scipy_script"]

_ROUNDINGS = {
    "half-up": ("np.floor({} + 0.5)", "half up (2.5 → 3)"),
    "half-even": ("np.rint({})", "half to even (2.5 → 2)"),
    "truncate": ("np.trunc({})", "towards zero (2.7 → 2)"),
}
"""Each rounding as a NumPy expression around a value, and in words."""

_PADDING = {
    "constant": "0 0 | a b c, zeros",
    "nearest": "a a | a b c",
    "reflect": "b a | a b c",
    "mirror": "c b | a b c",
    "wrap": "b c | a b c",
}
"""What each border invents beyond the edge, for the comments."""

_NUMPY_PAD_MODES = {
    "constant": "constant",
    "nearest": "edge",
    "reflect": "symmetric",
    "mirror": "reflect",
    "wrap": "wrap",
}

_OPENCV_BORDERS = {
    "constant": "cv2.BORDER_CONSTANT",
    "nearest": "cv2.BORDER_REPLICATE",
    "reflect": "cv2.BORDER_REFLECT",
    "mirror": "cv2.BORDER_REFLECT_101",
}


@dataclass(frozen=True)
class _Target:
    """What one target writes of its own; the recipe's code around it is shared."""

    name: str
    title: str
    install: str
    imports: str
    correlate: Callable[[Recipe], str]
    read: str
    write: str
    main: str
    usage: str
    notes: tuple[str, ...] = ()
    needs_crop: Callable[[Recipe], bool] = lambda recipe: recipe.border == "valid"


def _block(text: str, **values: str) -> str:
    # Blocks are written indented like this module; `values` fill {name} slots.
    code = textwrap.dedent(text).strip("\n")
    for name, value in values.items():
        code = code.replace("{" + name + "}", value)
    return code.strip("\n")


def _string_literal(text: str) -> str:
    # JSON's escapes are Python's too; double quotes are what ruff format writes.
    return json.dumps(text, ensure_ascii=False)


def _wrapped_command(command: str, width: int = 76) -> list[str]:
    # Whole options (an option and its value) per line, continued with a backslash.
    words = [shlex.quote(word) for word in shlex.split(command)]
    units = []
    while words:
        word = words.pop(0)
        takes_value = word.startswith("-") and word not in ("--flip", "--grey") and words
        units.append(f"{word} {words.pop(0)}" if takes_value else word)
    lines = ["   "]
    for unit in units:
        if len(lines[-1]) + 1 + len(unit) > width and lines[-1].strip():
            lines[-1] += " \\"
            lines.append("       ")
        lines[-1] += " " + unit
    return lines


def _header(recipe: Recipe, target: _Target, source: str, destination: str) -> str:
    lines = [
        f"Kernel Studio recipe as a {target.title} script.",
        "",
        "It writes, to within ±1 per 8-bit value, what this command writes:",
        "",
        *_wrapped_command(apply_command(recipe, "INPUT", "OUTPUT")),
        "",
        "The recipe:",
        "",
        *("    " + line for line in recipe_summary(recipe)),
        "",
        f"Needs:  {target.install}",
        f"Run:    {target.usage}",
        "        (without arguments: "
        f"{_string_literal(source)} -> {_string_literal(destination)})",
        "",
        "It reads 8- and 16-bit grey, grey + alpha, RGB and RGBA images and writes",
        "8-bit pixels in the format the output's extension names.",
        *target.notes,
        f"Made by `kernelstudio export-code --target {target.name}`.",
    ]
    return "\n".join(f"# {line}".rstrip() for line in lines)


def _stages(recipe: Recipe) -> str:
    entries = []
    for number, stage in enumerate(recipe.active_stages, start=1):
        if stage.weights.shape[0] == 1:
            weights = f"np.array({kernel_literal(stage.weights)}),"
        else:
            weights = (
                f"np.array(\n            {kernel_literal(stage.weights, ' ' * 12)}\n        ),"
            )
        entries.append(
            f"    # stage {number}: {stage_summary(stage)}\n"
            f"    (\n        {weights}\n"
            f"        {float_literal(stage.divisor)},\n"
            f"        {float_literal(stage.offset)},\n    ),"
        )
    return (
        "# Each stage is (weights, divisor, offset): it makes\n"
        "#     correlate(previous, weights / divisor) + offset\n"
        "# from the unclipped float result of the stage before it.\n"
        "STAGES = [\n" + "\n".join(entries) + "\n]"
    )


def _options(recipe: Recipe, source: str, destination: str) -> str:
    constants = []
    if recipe.grey:
        constants.append(
            "GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601 luma"
        )
    if recipe.alpha == "weighted":
        constants.append(
            f"COVERAGE_FLOOR = {float_literal(COVERAGE_FLOOR)}"
            "  # weighted alpha: less coverage than this counts as none"
        )
    return _block(
        """
        INPUT = {source}
        OUTPUT = {destination}

        {stages}

        CHANNELS = {channels}  # the channels the stages act on; the others pass through
        {constants}
        """,
        source=_string_literal(source),
        destination=_string_literal(destination),
        stages=_stages(recipe),
        channels=_string_literal(recipe.channels),
        constants="\n".join(constants),
    )


def _split_planes() -> str:
    return _block(
        '''
        def split_planes(pixels):
            """Return the colour planes (one grey, or R, G, B) and the alpha plane (or None)."""
            if pixels.ndim == 2:
                return [pixels], None
            planes = [pixels[..., index] for index in range(pixels.shape[2])]
            if len(planes) in (2, 4):
                return planes[:-1], planes[-1]
            return planes, None
        '''
    )


def _to_grey() -> str:
    return _block(
        '''
        def to_grey(colour):
            """BT.601 luma of R, G, B in float32, rounded half to even into the image's type."""
            luma = np.stack(colour, axis=-1).astype(np.float32) @ GREY_WEIGHTS
            limits = np.iinfo(colour[0].dtype)
            return np.clip(np.rint(luma), limits.min, limits.max).astype(colour[0].dtype)
        '''
    )


def _crop() -> str:
    return _block(
        '''
        def crop(plane, weights):
            """Cut away half the kernel on every side: the pixels where it fits ('valid')."""
            rows, columns = weights.shape[0] // 2, weights.shape[1] // 2
            if plane.shape[0] <= 2 * rows or plane.shape[1] <= 2 * columns:
                raise SystemExit("the image is smaller than the kernels: 'valid' leaves no pixels")
            return plane[rows : plane.shape[0] - rows, columns : plane.shape[1] - columns]
        '''
    )


def _between_stages(recipe: Recipe) -> str:
    if recipe.between_stages == "float" or len(recipe.active_stages) < 2:
        return ""
    if recipe.between_stages == "clip":
        return _block(
            '''
            def between_stages(values, white):
                """Before the next stage: clip to the image's range, 0…white."""
                return np.clip(values, 0.0, white)
            '''
        )
    expression, words = _ROUNDINGS[recipe.rounding]
    if recipe.between_stages == "wrap":
        return _block(
            '''
            def between_stages(values, white):
                """Before the next stage: round {words}, then modulo white + 1."""
                return np.mod({expression}, white + 1.0)
            ''',
            words=words,
            expression=expression.format("values"),
        )
    return _block(
        '''
        def between_stages(values, white):
            """Before the next stage: clip to 0…white, then round {words}."""
            return {expression}
        ''',
        words=words,
        expression=expression.format("np.clip(values, 0.0, white)"),
    )


def _between_call(recipe: Recipe, indent: str, name: str) -> str:
    if not _between_stages(recipe):
        return ""
    return (
        f"\n{indent}if number < len(STAGES):\n{indent}    {name} = between_stages({name}, white)"
    )


def _stage_loop(recipe: Recipe) -> str:
    # The stage's number is needed only to skip between_stages after the last one.
    if _between_stages(recipe):
        return "for number, (weights, divisor, offset) in enumerate(STAGES, start=1):"
    return "for weights, divisor, offset in STAGES:"


def _filter_plane(recipe: Recipe) -> str:
    return _block(
        '''
        def filter_plane(plane, white):
            """Run every stage over one plane, each on the float result of the one before."""
            values = plane.astype(np.float64)
            {loop}
                values = correlate(values, weights / divisor) + offset{between}
            return values
        ''',
        loop=_stage_loop(recipe),
        between=_between_call(recipe, " " * 8, "values"),
    )


def _unfiltered(recipe: Recipe) -> str:
    if recipe.border != "valid":
        return _block(
            '''
            def unfiltered(plane):
                """A channel the stages leave alone, as floats."""
                return plane.astype(np.float64)
            '''
        )
    return _block(
        '''
        def unfiltered(plane):
            """A channel the stages leave alone, as floats, cropped as each stage crops."""
            plane = plane.astype(np.float64)
            for weights, _, _ in STAGES:
                plane = crop(plane, weights)
            return plane
        '''
    )


def _filter_weighted(recipe: Recipe) -> str:
    if recipe.alpha != "weighted":
        return ""
    kept = "crop({}, weights)" if recipe.border == "valid" else "{}"
    if "a" in recipe.channels:
        alpha_step = "alpha = correlate(alpha, weights / divisor) + offset"
    else:
        alpha_step = f"alpha = {kept.format('alpha')}"
    return _block(
        '''
        def filter_weighted(colour, alpha, wanted, white):
            """Stages on colour weighted by alpha, so transparent pixels' colour never shows.

            Each stage makes C' = (C·A ⋆ w) / (A ⋆ |w|) · Σ|w| / divisor + offset, with
            A the coverage (alpha as 0…1) and ⋆ correlation; just the offset where the
            kernel covers (almost) nothing. For a blur it is the alpha-weighted average.
            """
            colour = [plane.astype(np.float64) for plane in colour]
            alpha = alpha.astype(np.float64)
            {loop}
                coverage_of_pixel = np.clip(alpha / white, 0.0, 1.0)
                magnitude = float(np.abs(weights).sum()) or 1.0
                shares = weights / magnitude
                coverage = correlate(coverage_of_pixel, np.abs(shares))
                covered = coverage > COVERAGE_FLOOR
                safe_coverage = np.where(covered, coverage, 1.0)
                filtered = []
                for plane, chosen in zip(colour, wanted, strict=True):
                    if not chosen:
                        filtered.append({kept_plane})
                        continue
                    sums = correlate(plane * coverage_of_pixel, shares)
                    averaged = np.where(covered, sums / safe_coverage, 0.0)
                    averaged = averaged * (magnitude / divisor) + offset{between}
                    filtered.append(averaged)
                colour = filtered
                {alpha_step}
            return colour, alpha
        ''',
        kept_plane=kept.format("plane"),
        between=_between_call(recipe, " " * 12, "averaged"),
        alpha_step=alpha_step,
        loop=_stage_loop(recipe),
    )


def _apply_recipe(recipe: Recipe) -> str:
    grey = ""
    if recipe.grey:
        grey = "\n    if len(colour) == 3:\n        colour = [to_grey(colour)]"
    weighted = ""
    if recipe.alpha == "weighted":
        weighted = (
            "\n    if alpha is not None and any(wanted):"
            "\n        return filter_weighted(colour, alpha, wanted, white)"
        )
    if "a" in recipe.channels and recipe.alpha != "keep":
        alpha_step = "alpha = filter_plane(alpha, white)  # alpha is filtered like a colour"
    else:
        alpha_step = "alpha = unfiltered(alpha)"
    return _block(
        '''
        def apply_recipe(pixels, white):
            """Return the float colour planes and alpha (or None) the recipe makes of `pixels`."""
            colour, alpha = split_planes(pixels){grey}
            if len(colour) == 1:  # in a grey image, any of r, g, b names its one channel
                wanted = [any(letter in CHANNELS for letter in "rgb")]
            else:
                wanted = [letter in CHANNELS for letter in "rgb"]{weighted}
            colour = [
                filter_plane(plane, white) if chosen else unfiltered(plane)
                for plane, chosen in zip(colour, wanted, strict=True)
            ]
            if alpha is not None:
                {alpha_step}
            return colour, alpha
        ''',
        grey=grey,
        weighted=weighted,
        alpha_step=alpha_step,
    )


def _display(recipe: Recipe) -> str:
    expression, words = _ROUNDINGS[recipe.rounding]
    to_whole = _block(
        '''
        def to_whole(values):
            """Round {words} and clamp to the 8-bit range."""
            return np.clip({expression}, 0, 255).astype(np.uint8)
        ''',
        words=words,
        expression=expression.format("values"),
    )
    mappings = {
        "clip": (
            "0…white → 0…255, clipped",
            "planes = [to_whole(plane * (255.0 / white)) for plane in colour]",
        ),
        "abs": (
            "|value|, 0…white → 0…255, clipped",
            "planes = [to_whole(np.abs(plane) * (255.0 / white)) for plane in colour]",
        ),
        "normalize": (
            "the smallest value → 0, the largest → 255",
            _block(
                """
                low = min(float(plane.min()) for plane in colour)
                high = max(float(plane.max()) for plane in colour)
                if high > low:
                    planes = [to_whole((plane - low) * (255.0 / (high - low))) for plane in colour]
                else:  # a flat result is black
                    planes = [np.zeros_like(plane, dtype=np.uint8) for plane in colour]
                """
            ),
        ),
        "wrap": (
            "rounded, then modulo white + 1 as a C cast does, 0…white → 0…255",
            "planes = [\n"
            f"    to_whole(np.mod({expression.format('plane')}, white + 1.0) * (255.0 / white))\n"
            "    for plane in colour\n"
            "]",
        ),
        "signed": (
            "0 → 128, ±the largest magnitude → 0 and 255",
            _block(
                """
                magnitude = max(max(-float(plane.min()), float(plane.max())) for plane in colour)
                if magnitude > 0:  # -m … m → 0 … 255, so 0 lands on 127.5, which rounds to 128
                    scale = 127.5 / magnitude
                    planes = [to_whole((plane + magnitude) * scale) for plane in colour]
                else:  # an all-zero result is mid-grey
                    planes = [np.full_like(plane, 128, dtype=np.uint8) for plane in colour]
                """
            ),
        ),
    }
    words, body = mappings[recipe.display]
    to_8bit = _block(
        '''
        def to_8bit(colour, alpha, white):
            """The 8-bit picture: alpha 0…white → 0…255, colour by '{display}'.

            '{display}': {words}.
            """
            {body}
            if alpha is not None:
                planes.append(to_whole(alpha * (255.0 / white)))
            return planes[0] if len(planes) == 1 else np.stack(planes, axis=-1)
        ''',
        display=recipe.display,
        words=words,
        body=textwrap.indent(body, "    ").lstrip(),
    )
    return to_whole + "\n\n\n" + to_8bit


def _script(recipe: Recipe, target: _Target, source: str, destination: str) -> str:
    opening = "\n\n".join(
        [
            _header(recipe, target, source, destination),
            target.imports,
            _options(recipe, source, destination),
        ]
    )
    blocks = [
        opening,
        target.read,
        target.write,
        _split_planes(),
        _to_grey() if recipe.grey else "",
        _crop() if target.needs_crop(recipe) else "",
        target.correlate(recipe),
        _between_stages(recipe),
        _filter_plane(recipe),
        _unfiltered(recipe),
        _filter_weighted(recipe),
        _apply_recipe(recipe),
        _display(recipe),
        target.main,
        'if __name__ == "__main__":\n    main()',
    ]
    return "\n\n\n".join(block for block in blocks if block) + "\n"


_READ_WITH_PILLOW = '''
def read_image(path):
    """Return the pixels of `path` upright (EXIF orientation applied), 8 or 16 bits."""
    with open(path, "rb") as file:
        head = file.read(26)
    if head[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and head[24] == 16 and head[25] != 0:
        sys.exit(f"{path}: a 16-bit colour PNG, which Pillow reads as 8 bits only")
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
    if image.mode in ("1", "P", "PA", "CMYK", "YCbCr") or "transparency" in image.info:
        # Palettes, 1-bit and transparent colours become what Kernel Studio reads.
        transparent = "A" in image.mode or "transparency" in image.info
        grey = image.mode in ("1", "L")
        alpha_mode, plain_mode = ("LA", "L") if grey else ("RGBA", "RGB")
        image = image.convert(alpha_mode if transparent else plain_mode)
    pixels = np.array(image)
    pixels = pixels.astype(pixels.dtype.newbyteorder("="))  # 16-bit files may be big-endian
    if pixels.dtype not in (np.uint8, np.uint16):
        sys.exit(f"{path}: {image.mode} pixels; this script reads 8- and 16-bit images")
    return pixels
'''

_WRITE_WITH_PILLOW = '''
def write_image(path, pixels8):
    """Write 8-bit grey, grey + alpha, RGB or RGBA pixels; the extension picks the format."""
    Image.fromarray(pixels8).save(path)
'''

_MAIN = """
def main():
    source = sys.argv[1] if len(sys.argv) > 1 else INPUT
    destination = sys.argv[2] if len(sys.argv) > 2 else OUTPUT
    pixels = read_image(source)
    white = float(np.iinfo(pixels.dtype).max)  # 255 for 8-bit images, 65535 for 16-bit
    colour, alpha = apply_recipe(pixels, white)
    write_image(destination, to_8bit(colour, alpha, white))
"""


def _numpy_correlate(recipe: Recipe) -> str:
    flip = "\n    weights = weights[::-1, ::-1]  # flip: true convolution" if recipe.flip else ""
    if recipe.border == "valid":
        padding = (
            "padded = plane  # 'valid': no padding, so the result shrinks\n"
            "    if padded.shape[0] < rows or padded.shape[1] < columns:\n"
            '        raise SystemExit("the image is smaller than the kernels: '
            "'valid' leaves no pixels\")"
        )
    else:
        mode = _NUMPY_PAD_MODES[recipe.border]
        padding = (
            f"# border '{recipe.border}' ({_PADDING[recipe.border]}) is numpy.pad's {mode!r}\n"
            "    margins = ((rows // 2, rows // 2), (columns // 2, columns // 2))\n"
            f'    padded = np.pad(plane, margins, mode="{mode}")'
        )
    return _block(
        '''
        def correlate(plane, weights):
            """Slide `weights` over `plane`: each pixel becomes Σ weight × neighbour.

            Vectorised: pad the plane by half the kernel, then add up, for every
            weight, the whole padded plane shifted by that weight's place in the kernel.
            """{flip}
            rows, columns = weights.shape
            {padding}
            height = padded.shape[0] - rows + 1
            width = padded.shape[1] - columns + 1
            result = np.zeros((height, width))
            for (row, column), weight in np.ndenumerate(weights):
                if weight:  # a zero weight adds nothing
                    result += weight * padded[row : row + height, column : column + width]
            return result
        ''',
        flip=flip,
        padding=padding,
    )


def _scipy_correlate(recipe: Recipe) -> str:
    function = "convolve" if recipe.flip else "correlate"
    why = (
        "ndimage.convolve rotates the kernel 180° (flip)"
        if recipe.flip
        else "ndimage.correlate lays the kernel on as written"
    )
    if recipe.border == "valid":
        body = (
            f"# {why}; 'valid' keeps only where the kernel fits\n"
            f'    return crop(ndimage.{function}(plane, weights, mode="constant"), weights)'
        )
    else:
        body = (
            f"# {why}; border {recipe.border!r}\n"
            f"    # ({_PADDING[recipe.border]}) has the same name in scipy\n"
            f'    return ndimage.{function}(plane, weights, mode="{recipe.border}", cval=0.0)'
        )
    return _block(
        '''
        def correlate(plane, weights):
            """Slide `weights` over `plane`: each pixel becomes Σ weight × neighbour."""
            {body}
        ''',
        body=body,
    )


def _opencv_correlate(recipe: Recipe) -> str:
    if recipe.flip:
        kernel = "kernel = cv2.flip(weights, -1)  # filter2D correlates; flipped, it convolves"
    else:
        kernel = "kernel = weights  # filter2D correlates, as the recipe does"
    if recipe.border == "valid":
        body = (
            "# 'valid': filter with any border, then keep only where the kernel fits\n"
            "    filtered = cv2.filter2D(plane, cv2.CV_64F, kernel, "
            "borderType=cv2.BORDER_CONSTANT)\n"
            "    return crop(filtered, weights)"
        )
    elif recipe.border == "wrap":
        body = (
            "# filter2D has no BORDER_WRAP: pad by wrapping around, filter, crop the padding\n"
            "    rows, columns = weights.shape[0] // 2, weights.shape[1] // 2\n"
            "    padded = cv2.copyMakeBorder(plane, rows, rows, columns, columns, "
            "cv2.BORDER_WRAP)\n"
            "    filtered = cv2.filter2D(padded, cv2.CV_64F, kernel, "
            "borderType=cv2.BORDER_CONSTANT)\n"
            "    return crop(filtered, weights)"
        )
    else:
        border = _OPENCV_BORDERS[recipe.border]
        body = (
            f"# border {recipe.border!r} ({_PADDING[recipe.border]}) is {border}\n"
            f"    return cv2.filter2D(plane, cv2.CV_64F, kernel, borderType={border})"
        )
    return _block(
        '''
        def correlate(plane, weights):
            """Slide `weights` over `plane`: each pixel becomes Σ weight × neighbour.

            The anchor stays the kernel's centre (filter2D's default for odd sizes).
            """
            {kernel}
            {body}
        ''',
        kernel=kernel,
        body=body,
    )


_ORIENTATIONS = """
# EXIF orientations as array operations, the ones Pillow's ImageOps.exif_transpose makes.
ORIENTATIONS = {
    2: lambda pixels: pixels[:, ::-1],
    3: lambda pixels: pixels[::-1, ::-1],
    4: lambda pixels: pixels[::-1],
    5: lambda pixels: pixels.swapaxes(0, 1),
    6: lambda pixels: np.rot90(pixels, -1),
    7: lambda pixels: pixels.swapaxes(0, 1)[::-1, ::-1],
    8: lambda pixels: np.rot90(pixels, 1),
}
"""
"""The EXIF table of the OpenCV and dask scripts, which read pixels without it."""

_READ_WITH_OPENCV = (
    _ORIENTATIONS
    + '''

def exif_orientation(exif):
    """Return the Orientation tag (1 to 8) of an EXIF block, 1 when there is none."""
    exif = exif[6:] if exif[:6] == b"Exif\\0\\0" else exif
    if len(exif) < 8 or exif[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if exif[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", exif, 4)
    if first + 2 > len(exif):
        return 1
    (count,) = struct.unpack_from(order + "H", exif, first)
    for entry in range(first + 2, min(first + 2 + 12 * count, len(exif) - 11), 12):
        tag, _, _, value = struct.unpack_from(order + "HHIH", exif, entry)
        if tag == 0x0112:
            return value
    return 1


def grey_png_transparency(path):
    """Return the grey value a grey PNG's tRNS chunk makes transparent, or None.

    OpenCV ignores it; Kernel Studio, like Pillow, reads it as alpha.
    """
    with open(path, "rb") as file:
        data = file.read()
    if data[:8] != b"\\x89PNG\\r\\n\\x1a\\n" or data[25] != 0:
        return None
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        if kind == b"tRNS" and length == 2:
            return struct.unpack_from(">H", data, position + 8)[0]
        if kind == b"IDAT":
            return None
        position += 12 + length
    return None


def read_image(path):
    """Return the pixels of `path` upright, in R, G, B(, A) order, 8 or 16 bits as stored.

    IMREAD_UNCHANGED keeps alpha and 16 bits but neither turns the image upright
    nor hands over R, G, B in that order, and it widens grey + alpha to four channels.
    """
    pixels, kinds, blobs = cv2.imreadWithMetadata(path, flags=cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.size == 0:
        sys.exit(f"{path}: OpenCV cannot read it")
    if pixels.dtype not in (np.uint8, np.uint16):
        sys.exit(f"{path}: {pixels.dtype} pixels; this script reads 8- and 16-bit images")
    exif = b"".join(
        np.asarray(blob).tobytes()
        for kind, blob in zip(np.ravel(kinds), blobs, strict=False)
        if kind == cv2.IMAGE_METADATA_EXIF
    )
    turn = ORIENTATIONS.get(exif_orientation(exif))
    if turn is not None:
        pixels = np.ascontiguousarray(turn(pixels))
    if pixels.ndim == 3 and pixels.shape[2] in (1, 2):
        return pixels
    if pixels.ndim == 2:
        transparent = grey_png_transparency(path)
        if transparent is None:
            return pixels
        opaque = np.iinfo(pixels.dtype).max
        return np.dstack([pixels, np.where(pixels == transparent, 0, opaque).astype(pixels.dtype)])
    with open(path, "rb") as file:
        head = file.read(26)
    if pixels.shape[2] == 4 and head[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and head[25] == 4:
        return np.ascontiguousarray(pixels[..., [0, 3]])  # a grey + alpha PNG
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB if pixels.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
'''
)

_WRITE_WITH_OPENCV = '''
def write_image(path, pixels8):
    """Write 8-bit pixels; the extension picks the format.

    OpenCV wants B, G, R(, A) order, and writes no grey + alpha PNG: grey + alpha
    goes out as BGRA with the grey in all three colours.
    """
    if pixels8.ndim == 3 and pixels8.shape[2] == 2:
        grey, alpha = pixels8[..., 0], pixels8[..., 1]
        pixels8 = np.dstack([grey, grey, grey, alpha])
    elif pixels8.ndim == 3:
        order = cv2.COLOR_RGB2BGR if pixels8.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        pixels8 = cv2.cvtColor(pixels8, order)
    if not cv2.imwrite(path, pixels8):
        sys.exit(f"{path}: OpenCV cannot write it")
'''


def _dask_correlate(recipe: Recipe) -> str:
    function = "convolve" if recipe.flip else "correlate"
    why = (
        "ndfilters.convolve rotates the kernel 180° (flip)"
        if recipe.flip
        else "ndfilters.correlate lays the kernel on as written"
    )
    if recipe.border == "valid":
        body = (
            f"# {why}; 'valid' keeps only where the kernel fits\n"
            f'    return crop(ndfilters.{function}(plane, weights, mode="constant"), weights)'
        )
    else:
        body = (
            f"# {why}; border {recipe.border!r}\n"
            f"    # ({_PADDING[recipe.border]}) has the same name in scipy\n"
            f'    return ndfilters.{function}(plane, weights, mode="{recipe.border}", cval=0.0)'
        )
    return _block(
        '''
        def correlate(plane, weights):
            """Slide `weights` over the chunked `plane`: each pixel becomes Σ weight × neighbour.

            dask-image gives every chunk an overlap of half the kernel from its
            neighbours (wrapped around the image for 'wrap') before filtering it.
            """
            {body}
        ''',
        body=body,
    )


_READ_WITH_DASK = (
    _ORIENTATIONS
    + '''

def read_image(path, chunk):
    """Return the pixels of `path` as a dask array upright, chunked `chunk` × `chunk`.

    dask_image.imread reads the file lazily, where the work runs (every worker of
    a cluster must see `path`); Pillow here only looks at its header.
    """
    with open(path, "rb") as file:
        head = file.read(26)
    if head[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and head[24] == 16 and head[25] != 0:
        sys.exit(f"{path}: a 16-bit colour PNG, which dask-image reads as 8 bits")
    with Image.open(path) as opened:
        mode, orientation = opened.mode, opened.getexif().get(0x0112, 1)
        transparency = "transparency" in opened.info
    if mode not in ("L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B", "I;16L") or transparency:
        # dask-image would drop a transparent colour, and reads 1 bit as booleans.
        what = f"{mode} pixels" + (" with a transparent colour" if transparency else "")
        sys.exit(f"{path}: {what}; convert it to grey, grey + alpha, RGB or RGBA first")
    pixels = imread(path)[0]
    turn = ORIENTATIONS.get(orientation)
    if turn is not None:
        pixels = turn(pixels)
    return pixels.rechunk({0: chunk, 1: chunk})
'''
)

_WRITE_WITH_DASK = '''
def write_image(path, pixels8):
    """Compute the 8-bit pixels and write them; the extension picks the format."""
    Image.fromarray(np.asarray(pixels8)).save(path)
'''


_DASK_MAIN = '''
def output_names(sources, output):
    """Where each source goes: `output` itself, or its name in folder `output`."""
    if len(sources) == 1 and not (output.endswith(("/", os.sep)) or os.path.isdir(output)):
        return [output]
    os.makedirs(output, exist_ok=True)
    names = []
    for source in sources:
        stem, extension = os.path.splitext(os.path.basename(source))
        extension = extension.lower()
        if extension not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"):
            extension = ".png"
        names.append(os.path.join(output, stem + extension))
    return names


def main():
    parser = argparse.ArgumentParser(description="Apply a Kernel Studio recipe with dask.")
    parser.add_argument(
        "input", nargs="?", default=INPUT, help="an image file or a glob: 'in/*.png'"
    )
    parser.add_argument(
        "output", nargs="?", default=OUTPUT, help="an image file, or a folder for several"
    )
    parser.add_argument(
        "--scheduler",
        default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
        help="a dask.distributed scheduler's address, such as tcp://10.0.0.5:8786 "
        "(default: $DASK_SCHEDULER_ADDRESS; without one, the threads of this machine)",
    )
    parser.add_argument(
        "--chunk", type=int, default=1024, help="chunk side in pixels (default: 1024)"
    )
    options = parser.parse_args()
    if any(character in options.input for character in "*?["):
        sources = sorted(glob.glob(options.input))
    else:
        sources = [options.input]
    if not sources:
        sys.exit(f"no file matches {options.input}")
    if options.scheduler:
        from dask.distributed import Client

        Client(options.scheduler)  # becomes the default scheduler of every compute
    names = output_names(sources, options.output)
    for source, destination in zip(sources, names, strict=True):
        pixels = read_image(source, options.chunk)
        white = float(np.iinfo(pixels.dtype).max)  # 255 for 8-bit, 65535 for 16-bit
        colour, alpha = apply_recipe(pixels, white)
        write_image(destination, to_8bit(colour, alpha, white))
'''


_NUMPY = _Target(
    name="numpy",
    title="NumPy",
    install="pip install numpy pillow",
    imports="import sys\n\nimport numpy as np\nfrom PIL import Image, ImageOps",
    correlate=_numpy_correlate,
    read=_READ_WITH_PILLOW.strip("\n"),
    write=_WRITE_WITH_PILLOW.strip("\n"),
    main=_MAIN.strip("\n"),
    usage="python this_script.py [INPUT [OUTPUT]]",
    notes=("Pillow reads 16-bit colour PNGs as 8 bits only; this script refuses them.",),
)

_SCIPY = _Target(
    name="scipy",
    title="SciPy (scipy.ndimage)",
    install="pip install numpy scipy pillow",
    imports=(
        "import sys\n\nimport numpy as np\nfrom PIL import Image, ImageOps\n"
        "from scipy import ndimage"
    ),
    correlate=_scipy_correlate,
    read=_READ_WITH_PILLOW.strip("\n"),
    write=_WRITE_WITH_PILLOW.strip("\n"),
    main=_MAIN.strip("\n"),
    usage="python this_script.py [INPUT [OUTPUT]]",
    notes=(
        "Files are read and written with Pillow, which reads 16-bit colour PNGs as 8",
        "bits only; this script refuses them.",
    ),
)

_OPENCV = _Target(
    name="opencv",
    title="OpenCV (cv2.filter2D)",
    install="pip install numpy opencv-python-headless  (OpenCV 4.12 or later)",
    imports="import struct\nimport sys\n\nimport cv2\nimport numpy as np",
    correlate=_opencv_correlate,
    read=_READ_WITH_OPENCV.strip("\n"),
    write=_WRITE_WITH_OPENCV.strip("\n"),
    main=_MAIN.strip("\n"),
    usage="python this_script.py [INPUT [OUTPUT]]",
    notes=("Grey + alpha results are written as RGBA: OpenCV writes no grey + alpha PNG.",),
    needs_crop=lambda recipe: recipe.border in ("valid", "wrap"),
)

_DASK = _Target(
    name="dask",
    title="dask-image",
    install='pip install "dask[array]" dask-image pillow  (and "dask[distributed]" for a cluster)',
    imports=(
        "import argparse\nimport glob\nimport os\nimport sys\n\nimport numpy as np\n"
        "from dask_image import ndfilters\nfrom dask_image.imread import imread\n"
        "from PIL import Image"
    ),
    correlate=_dask_correlate,
    read=_READ_WITH_DASK.strip("\n"),
    write=_WRITE_WITH_DASK.strip("\n"),
    main=_DASK_MAIN.strip("\n"),
    usage="python this_script.py [--scheduler ADDRESS] [--chunk N] [INPUT [OUTPUT]]",
    notes=(
        "INPUT may be a glob ('photos/*.png'): every match goes into folder OUTPUT under",
        "its own name. With --scheduler (or $DASK_SCHEDULER_ADDRESS) the work runs on",
        "that dask.distributed cluster, whose workers must see the input files; without,",
        "on this machine's threads. dask-image reads 16-bit colour PNGs as 8 bits only,",
        "drops a transparent colour (tRNS) and reads 1-bit pixels as booleans; this",
        "script refuses such files.",
    ),
)


def numpy_script(recipe: Recipe, source: str, destination: str) -> str:
    """Return a script that applies `recipe` with NumPy alone (Pillow reads and writes).

    Each kernel slides as a sum of shifted views of the padded plane
    (``np.pad`` with the border's mode), one per non-zero weight.

    Examples
    --------
    >>> script = numpy_script(Recipe.single([[1, 2, 1]], divisor=4), "in.png", "out.png")
    >>> 'np.pad(plane, margins, mode="reflect")' in script  # the default border, mirror
    True
    """
    return _script(recipe, _NUMPY, source, destination)


def scipy_script(recipe: Recipe, source: str, destination: str) -> str:
    """Return a script that applies `recipe` with ``scipy.ndimage.correlate`` (or ``convolve``).

    Examples
    --------
    >>> script = scipy_script(Recipe.single([[1, 2, 1]], flip=True), "in.png", "out.png")
    >>> 'ndimage.convolve(plane, weights, mode="mirror", cval=0.0)' in script
    True
    """
    return _script(recipe, _SCIPY, source, destination)


def opencv_script(recipe: Recipe, source: str, destination: str) -> str:
    """Return a script that applies `recipe` with ``cv2.filter2D``, reading with OpenCV too.

    ``wrap``, which filter2D lacks, pads with ``cv2.copyMakeBorder`` and crops.

    Examples
    --------
    >>> script = opencv_script(Recipe.single([[1, 2, 1]], border="wrap"), "in.png", "out.png")
    >>> "cv2.BORDER_WRAP" in script
    True
    """
    return _script(recipe, _OPENCV, source, destination)


def dask_script(recipe: Recipe, source: str, destination: str) -> str:
    """Return a dask-image script: chunked, for a file or a glob, local or on a cluster.

    Examples
    --------
    >>> script = dask_script(Recipe.single([[1, 2, 1]]), "in.png", "out.png")
    >>> "ndfilters.correlate(plane, weights" in script and "--scheduler" in script
    True
    """
    return _script(recipe, _DASK, source, destination)


PYTHON_TARGETS: dict[str, Callable[[Recipe, str, str], str]] = {
    "numpy": numpy_script,
    "scipy": scipy_script,
    "opencv": opencv_script,
    "dask": dask_script,
}
"""Each Python target's writer: ``(recipe, input_path, output_path) -> script text``."""
