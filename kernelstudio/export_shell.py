"""Shell command lines (ImageMagick, libvips, G'MIC) that reproduce a recipe.

Each writer takes a :class:`~kernelstudio.pipeline.Recipe`, an input and an
output path, and returns shell text that reads the input and writes the 8-bit
result ``kernelstudio apply`` writes, to within ±1 per value. What each
program does by itself was measured here (ImageMagick 6.9.11 Q16, libvips
8.14, G'MIC 2.9.4); the writers bridge the rest:

- ImageMagick: ``-morphology Correlate`` with the kernel turned for flip,
  borders by ``-virtual-pixel`` (black, edge, mirror = our reflect, tile),
  padding by hand for ``mirror`` and ``-shave`` for ``valid``, the offset as
  ``convolve:bias`` in percent, half a level added because the 8-bit write
  truncates. Q16 clamps every operator's result to 0…1, so a result that may
  leave it is held shrunk about ½ and the next kernel undoes that;
  ``normalize`` and ``signed`` stretch with ``-auto-level``.
- libvips: ``vips conv`` (a correlation with edge copying) on float images, a
  matrix file whose ``scale`` is the divisor and ``offset`` the offset,
  ``vips embed`` or flipped strips for the other borders, ``vips cast``
  (which clamps and truncates) last.
- G'MIC: ``correlate``/``convolve`` with boundary 0, 1, 2, 3 (constant,
  nearest, wrap, reflect), a padded copy for ``mirror``; float images
  throughout, ``cut 0,255`` before the (truncating) PNG write.

Offsets and the ``clip`` display assume an 8-bit input (white = 255). With
ImageMagick a channel subset assumes a colour input: on a grey file it filters
one of the three equal channels and writes colour.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kernelstudio.export_common import CodeExportError, apply_command, recipe_summary
from kernelstudio.pipeline import Recipe, Stage

IMAGEMAGICK_6 = "convert"
"""The program the ImageMagick command line starts with: IM 6's ``convert``
(ImageMagick 7 takes the same arguments after ``magick``)."""

WHITE = 255.0
"""The full-scale value the exported commands assume: 8-bit input."""

_GREY_WEIGHTS = "0.299 0.587 0.114"

_IM_HALF_LEVEL = 128 / 65535
"""Half an 8-bit level for ImageMagick Q16, which rounds every result to
1/65535 before the 8-bit write truncates it (floor(q / 257)): 128 steps, not
128.5, put the threshold of rounding half up at .5 itself, not 1/514 below."""

_IM_VIRTUAL_PIXELS = {"constant": "black", "nearest": "edge", "reflect": "mirror", "wrap": "tile"}
_VIPS_EXTENDS = {"constant": "black", "reflect": "mirror", "wrap": "repeat"}
_GMIC_BOUNDARIES = {"constant": 0, "nearest": 1, "wrap": 2, "reflect": 3}


def _number(value: float) -> str:
    # repr keeps every bit of the float; programs read it back exactly.
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _applied_weights(stage: Stage, recipe: Recipe) -> np.ndarray:
    # The weights a correlating program needs: ours, turned 180° for flip.
    weights = stage.scaled_weights
    return np.rot90(weights, 2) if recipe.flip else weights


def _half_level(recipe: Recipe) -> float:
    # The programs truncate when they make whole numbers; half a level first rounds half up.
    return 0.0 if recipe.rounding == "truncate" else 0.5


def _check_supported(recipe: Recipe, target: str) -> None:
    # What every shell target refuses: C-cast wrap-around and alpha weighting.
    if "wrap" in (recipe.display, recipe.between_stages):
        raise CodeExportError(
            f"{target} clips where a C cast wraps around, so display or between stages "
            "'wrap' cannot be written for it; use 'clip' or 'round'"
        )
    if recipe.alpha == "weighted":
        raise CodeExportError(
            f"{target} has no alpha-weighted convolution like alpha='weighted'; "
            "use alpha 'keep' or 'process'"
        )


def _processes_alpha(recipe: Recipe) -> bool:
    return recipe.alpha == "process" and "a" in recipe.channels


def _header(recipe: Recipe, source: str, destination: str, program: str) -> list[str]:
    # Shell comments: what the lines below reproduce, for a reader.
    return [
        f"# Made by Kernel Studio for {program}; it writes, within ±1 per 8-bit value,",
        f"# what this writes (for an 8-bit input): {apply_command(recipe, source, destination)}",
        *(f"#   {line}" for line in recipe_summary(recipe)),
    ]


# ImageMagick ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Storage:
    # How a real value x (8-bit units) is held in ImageMagick's 0…1 range:
    # p = gain·x + base. Q16 clamps p to 0…1, so a result that may leave 0…255
    # is held shrunk around ½ and the next kernel undoes it.
    gain: float = 1 / WHITE
    base: float = 0.0

    @classmethod
    def around_half(cls, low: float, high: float) -> _Storage:
        reach = max(abs(low), abs(high)) or WHITE
        return cls(gain=0.5 / reach, base=0.5)


def _result_range(weights: np.ndarray, offset: float, low: float, high: float) -> tuple:
    # The smallest and largest value a correlation can make of inputs in low…high.
    positive = float(weights[weights > 0].sum())
    negative = float(weights[weights < 0].sum())
    return (
        positive * low + negative * high + offset,
        positive * high + negative * low + offset,
    )


def imagemagick_command(recipe: Recipe, source: str, destination: str) -> str:
    """Return an ImageMagick 6 ``convert`` command line that applies `recipe`.

    The same arguments work after ``magick`` (ImageMagick 7); ``-clamp`` after
    each stage makes an HDRI build clamp as Q16 does.

    Raises
    ------
    CodeExportError
        For alpha='weighted', the normalize and signed displays of a subset of
        the channels or with alpha filtered, and the abs display with alpha
        filtered.

    Notes
    -----
    Q16 clamps every operator's result to 0…1 (0…255 here). A float result
    that may leave that range (from the weights' signs, for 0…255 inputs) is
    held as ``p = x / 2r + ½``, ``r`` its largest possible magnitude, and the
    next kernel is scaled back; ``normalize`` and ``signed`` stretch such a
    result with ``-auto-level``, which an affine change does not alter.

    Examples
    --------
    >>> recipe = Recipe.single([[1, 2, 1]], divisor=4, border="reflect")
    >>> print(imagemagick_command(recipe, "in.png", "out.png").splitlines()[-1])
    ... # doctest: +NORMALIZE_WHITESPACE
    convert in.png -channel RGB -virtual-pixel mirror
    -define convolve:bias=0.1953154802777142% -morphology Correlate '3x1: 0.25,0.5,0.25'
    -clamp +channel -depth 8 out.png
    """
    _check_supported(recipe, "ImageMagick")
    stretches = recipe.display in ("normalize", "signed")
    if stretches and (_processes_alpha(recipe) or not set("rgb") <= set(recipe.channels)):
        raise CodeExportError(
            f"the ImageMagick export stretches every channel it filters together, so the "
            f"{recipe.display!r} display needs all colour channels filtered and alpha kept"
        )
    if recipe.display == "abs" and _processes_alpha(recipe):
        raise CodeExportError(
            "the ImageMagick export makes the abs display as the lighter of the result and "
            "its negative, which would make a negative filtered alpha positive; keep alpha"
        )
    parts = [IMAGEMAGICK_6, shlex.quote(source)]
    if recipe.grey:
        parts += [
            f"-color-matrix '{' '.join([_GREY_WEIGHTS] * 3)}'",
            f"-evaluate add {_number(_IM_HALF_LEVEL * 100)}%",  # the grey is rounded
            "-depth 8",
        ]
    channels = recipe.channels if _processes_alpha(recipe) else recipe.channels.replace("a", "")
    if not channels:
        raise CodeExportError(
            f"channels={recipe.channels!r} with alpha={recipe.alpha!r} filters no channel; "
            "ImageMagick's -channel needs at least one"
        )
    parts.append(f"-channel {channels.upper()}")  # with Sync, alpha would weigh the colour
    border = recipe.border
    stages = recipe.active_stages
    held = _Storage()
    low, high = 0.0, WHITE
    for number, stage in enumerate(stages, 1):
        last = number == len(stages)
        weights = _applied_weights(stage, recipe)
        low, high = _result_range(weights, stage.offset, low, high)
        if not last and recipe.between_stages != "float":
            low, high = max(low, 0.0), min(high, WHITE)
        # Signed needs 0 held at ½, where the negated copy mirrors it.
        fits = low >= 0 and high <= WHITE and not (last and recipe.display == "signed")
        result = (
            _Storage() if fits or (last and not stretches) else _Storage.around_half(low, high)
        )
        rounds_here = (last and not stretches) or recipe.between_stages == "round"
        half = _im_half(recipe) if rounds_here else 0.0
        virtual = _IM_VIRTUAL_PIXELS.get(border, "edge")
        parts.append(f"-virtual-pixel {'gray' if virtual == 'black' and held.base else virtual}")
        rows, columns = (side // 2 for side in stage.weights.shape)
        if border == "mirror":
            parts.append(_im_mirror_padding(rows, columns))
        # p' = (gain'/gain)·Σ w·p + gain'·offset + base' − (gain'/gain)·base·Σ w
        ratio = result.gain / held.gain
        bias = result.gain * stage.offset + result.base - ratio * held.base * float(weights.sum())
        if last and recipe.display == "abs":
            parts.append(_im_absolute(weights * ratio, bias, half))
        else:
            parts.append(_im_stage(weights * ratio, bias + half))
        parts.append("-clamp")
        if border in ("mirror", "valid") and (rows or columns):
            parts.append(f"-shave {columns}x{rows} +repage")
        if not last and recipe.between_stages == "round":
            parts.append("-depth 8")
        held = result
    if stretches:
        parts.append(
            f"-channel {channels.upper()},Sync {_im_stretch(recipe.display, _im_half(recipe))}"
        )
    parts.append("+channel")
    if recipe.grey:
        parts.append("-colorspace Gray")
    parts += ["-depth 8", shlex.quote(destination)]
    header = _header(recipe, source, destination, "ImageMagick 6 (Q16)")
    note = f"# ImageMagick 7: run the same arguments with magick instead of {IMAGEMAGICK_6}."
    return "\n".join([*header, note, " ".join(parts)]) + "\n"


def _im_half(recipe: Recipe) -> float:
    return _IM_HALF_LEVEL if _half_level(recipe) else 0.0


def _im_stage(weights: np.ndarray, bias: float) -> str:
    # The bias is in 0…1 units, given as a percentage so that any quantum depth reads it.
    height, width = weights.shape
    values = ",".join(_number(value) for value in weights.ravel())
    return (
        f"-define convolve:bias={_number(bias * 100)}% "
        f"-morphology Correlate '{width}x{height}: {values}'"
    )


def _im_absolute(weights: np.ndarray, bias: float, half: float) -> str:
    # |x| + ½ = max(x + ½, −x + ½), and both halves survive Q16's clamp at 0.
    positive = _im_stage(weights, bias + half)
    negative = _im_stage(-weights, -bias + half)
    return (
        f"\\( -clone 0 {positive} \\) \\( -clone 0 {negative} \\) -delete 0 "
        "-compose Lighten -composite"
    )


def _im_stretch(display: str, half: float) -> str:
    # -auto-level maps the smallest value to 0 and the largest to 1 (over all
    # channels, with Sync); for signed, a negated copy below makes them
    # symmetric about ½, so 0 stays mid-grey.
    stretch = "-auto-level"
    if display == "signed":
        stretch = (
            "\\( +clone -negate \\) -append -auto-level "
            "-gravity North -crop 100%x50%+0+0 +repage +gravity"
        )
    return f"{stretch} -evaluate add {_number(half * 100)}%"


def _im_mirror_padding(rows: int, columns: int) -> str:
    # ImageMagick's 'mirror' repeats the edge (our reflect): copy the flipped
    # pixels beyond the edge (c b | a b c) by hand; gravity keeps it size-free.
    pieces = []
    if columns:
        pieces += [
            f"\\( +clone -gravity West -crop {columns}x0+1+0 +repage -flop \\) +swap +append",
            f"\\( +clone -gravity East -crop {columns}x0+1+0 +repage -flop \\) +append",
        ]
    if rows:
        pieces += [
            f"\\( +clone -gravity North -crop 0x{rows}+0+1 +repage -flip \\) +swap -append",
            f"\\( +clone -gravity South -crop 0x{rows}+0+1 +repage -flip \\) -append",
        ]
    return " ".join([*pieces, "+gravity"])


# libvips -------------------------------------------------------------------------------------


def vips_script(recipe: Recipe, source: str, destination: str) -> str:
    """Return a POSIX sh script of ``vips`` commands that applies `recipe`.

    Each band is filtered on its own (the ones `recipe` names, chosen when
    the file's band count is known); intermediate results are float ``.v``
    files in a temporary folder, so the stages meet unclipped unless `recipe`
    says otherwise. Colour is mapped by the display, alpha only clipped.

    Raises
    ------
    CodeExportError
        For alpha='weighted'.
    """
    _check_supported(recipe, "libvips")
    lines = [
        "#!/bin/sh",
        *_header(recipe, source, destination, "libvips 8 (vips, vipsheader)"),
        "set -eu",
        f"in={shlex.quote(source)}",
        f"out={shlex.quote(destination)}",
        "tmp=$(mktemp -d)",
        "trap 'rm -rf \"$tmp\"' EXIT",
        'vips copy "$in" "$tmp/image.v"',
        'bands=$(vipsheader -f bands "$tmp/image.v")',
    ]
    if recipe.grey:
        lines += [
            'if [ "$bands" -ge 3 ]; then  # BT.601 luma, rounded; alpha is kept',
            f"  printf '3 1\\n{_GREY_WEIGHTS}\\n' > \"$tmp/grey.mat\"",
            '  vips extract_band "$tmp/image.v" "$tmp/rgb.v" 0 --n 3',
            '  vips recomb "$tmp/rgb.v" "$tmp/luma.v" "$tmp/grey.mat"',
            '  vips linear "$tmp/luma.v" "$tmp/half.v" 1 0.5',
            '  vips cast "$tmp/half.v" "$tmp/grey.v" uchar',
            '  if [ "$bands" -eq 4 ]; then',
            '    vips extract_band "$tmp/image.v" "$tmp/alpha.v" 3',
            '    vips bandjoin "$tmp/grey.v $tmp/alpha.v" "$tmp/image.v"',
            "  else",
            '    vips copy "$tmp/grey.v" "$tmp/image.v"',
            "  fi",
            "  bands=$((bands - 2))",
            "fi",
        ]
    lines += [
        "filter() {  # $1: some bands; $2: where their result goes",
        'width=$(vipsheader -f width "$1")',
        'height=$(vipsheader -f height "$1")',
    ]
    current = '"$1"'
    stages = recipe.active_stages
    for number, stage in enumerate(stages, 1):
        steps = _VipsSteps(lines, f"stage{number}")
        current = steps.stage(current, stage, recipe)
        if number < len(stages) and recipe.between_stages != "float":
            current = steps.between(current, recipe)
    lines += [f'vips copy {current} "$2"', "}"]
    lines.append("case $bands in  # the bands the stages act on, as Kernel Studio picks them")
    for count in (1, 2, 3, 4):
        lines += [f"{count})", *(f"  {line}" for line in _vips_band_plan(recipe, count)), "  ;;"]
    lines += [
        "esac",
        'if [ "$bands" -ge 3 ]; then',
        '  vips extract_band "$tmp/result.v" "$tmp/colour.v" 0 --n 3',
        "else",
        '  vips extract_band "$tmp/result.v" "$tmp/colour.v" 0',
        "fi",
    ]
    _VipsSteps(lines, "display").display('"$tmp/colour.v"', recipe)
    return "\n".join(lines) + "\n"


def _vips_band_plan(recipe: Recipe, count: int) -> list[str]:
    # Commands that filter the chosen bands of a `count`-band image.v into
    # result.v, a run of neighbouring bands at a time (the others only cropped).
    chosen = _filtered_channels(recipe, count)
    rows, columns = recipe.shrink
    crop = (
        f'{columns} {rows} $(($(vipsheader -f width "$in") - {2 * columns})) '
        f'$(($(vipsheader -f height "$in") - {2 * rows}))'
    )
    lines, parts = [], []
    start = 0
    while start < count:
        stop = start + 1
        while stop < count and (stop in chosen) == (start in chosen):
            stop += 1
        run = f'"$tmp/run{start}.v"'
        part = f'"$tmp/part{start}.v"'
        lines.append(f'vips extract_band "$tmp/image.v" {run} {start} --n {stop - start}')
        if start in chosen:
            lines.append(f"filter {run} {part}")
        elif rows or columns:
            lines.append(f"vips crop {run} {part} {crop}")
        else:
            lines.append(f"vips copy {run} {part}")
        parts.append(part.strip('"'))
        start = stop
    if len(parts) == 1:
        return [*lines, f'vips copy "{parts[0]}" "$tmp/result.v"']
    return [*lines, f'vips bandjoin "{" ".join(parts)}" "$tmp/result.v"']


class _VipsSteps:
    # Appends one stage's (or the display's) commands to `lines`; each
    # command writes a new file named after `prefix`, so none overwrites another.
    def __init__(self, lines: list[str], prefix: str) -> None:
        self.lines, self.prefix, self.count = lines, prefix, 0

    def run(self, command: str) -> str:
        """Append `command` with its ``{target}`` named, and return that name."""
        self.count += 1
        target = f'"$tmp/{self.prefix}_{self.count}.v"'
        self.lines.append(command.replace("{target}", target))
        return target

    def stage(self, current: str, stage: Stage, recipe: Recipe) -> str:
        # conv correlates and divides by the matrix's scale, then adds its offset.
        weights = np.rot90(stage.weights, 2) if recipe.flip else stage.weights
        height, width = weights.shape
        rows, columns = height // 2, width // 2
        matrix = f'"$tmp/{self.prefix}.mat"'
        header = f"{width} {height} {_number(stage.divisor)} {_number(stage.offset)}"
        body = "\n".join(" ".join(_number(value) for value in row) for row in weights)
        self.lines += [f"cat > {matrix} <<'MATRIX'", header, body, "MATRIX"]
        border = recipe.border
        if border in ("nearest", "valid") or not (rows or columns):
            result = self.run(f"vips conv {current} {{target}} {matrix}")
            if border == "valid" and (rows or columns):
                result = self.run(
                    f"vips crop {result} {{target}} {columns} {rows} "
                    f"$((width - {2 * columns})) $((height - {2 * rows}))"
                )
                self.lines += [
                    f"width=$((width - {2 * columns}))",
                    f"height=$((height - {2 * rows}))",
                ]
            return result
        if border == "mirror":
            padded = self.mirror_padding(current, rows, columns)
        else:
            padded = self.run(
                f"vips embed {current} {{target}} {columns} {rows} "
                f"$((width + {2 * columns})) $((height + {2 * rows})) "
                f"--extend {_VIPS_EXTENDS[border]}"
            )
        filtered = self.run(f"vips conv {padded} {{target}} {matrix}")
        return self.run(f'vips crop {filtered} {{target}} {columns} {rows} "$width" "$height"')

    def mirror_padding(self, current: str, rows: int, columns: int) -> str:
        # vips's 'mirror' extend repeats the edge (our reflect): flip the pixels beside it.
        if columns:
            left = self.run(f'vips crop {current} {{target}} 1 0 {columns} "$height"')
            left = self.run(f"vips flip {left} {{target}} horizontal")
            right = self.run(
                f'vips crop {current} {{target}} $((width - {columns + 1})) 0 {columns} "$height"'
            )
            right = self.run(f"vips flip {right} {{target}} horizontal")
            current = self.run(f"vips join {left} {current} {{target}} horizontal")
            current = self.run(f"vips join {current} {right} {{target}} horizontal")
        if rows:
            wide = f"$((width + {2 * columns}))"
            top = self.run(f"vips crop {current} {{target}} 0 1 {wide} {rows}")
            top = self.run(f"vips flip {top} {{target}} vertical")
            bottom = self.run(
                f"vips crop {current} {{target}} 0 $((height - {rows + 1})) {wide} {rows}"
            )
            bottom = self.run(f"vips flip {bottom} {{target}} vertical")
            current = self.run(f"vips join {top} {current} {{target}} vertical")
            current = self.run(f"vips join {current} {bottom} {{target}} vertical")
        return current

    def between(self, current: str, recipe: Recipe) -> str:
        if recipe.between_stages == "round":
            half = self.run(f"vips linear {current} {{target}} 1 {_half_level(recipe)}")
            return self.run(f"vips cast {half} {{target}} uchar")
        # vips 8.14 has no clamp; a ushort cast clamps, and 257 steps a level keep the precision.
        scaled = self.run(f"vips linear {current} {{target}} 257 0.5")
        clamped = self.run(f"vips cast {scaled} {{target}} ushort")
        return self.run(f"vips linear {clamped} {{target}} {_number(1 / 257)} 0")

    def display(self, current: str, recipe: Recipe) -> None:
        # cast to uchar clamps and truncates: half a level first rounds half up.
        half = _number(_half_level(recipe))
        if recipe.display == "abs":
            current = self.run(f"vips abs {current} {{target}}")
        if recipe.display in ("normalize", "signed"):
            self.lines += [
                f"low=$(vips min {current})",
                f"high=$(vips max {current})",
                f'gain=$(awk -v low="$low" -v high="$high" '
                f"'BEGIN {{ {_STRETCHES[recipe.display]}; printf \"%.17g\", gain }}')",
                f'shift=$(awk -v low="$low" -v high="$high" -v gain="$gain" '
                f"'BEGIN {{ {_SHIFTS[recipe.display]}; printf \"%.17g\", shift + {half} }}')",
            ]
            # "--": the shift may be negative, which vips would read as an option.
            current = self.run(f'vips linear {current} {{target}} -- "$gain" "$shift"')
        else:
            current = self.run(f"vips linear {current} {{target}} 1 {half}")
        colour = self.run(f"vips cast {current} {{target}} uchar")
        self.lines += [
            "if [ $((bands % 2)) -eq 0 ]; then  # alpha, the last band: rounded and clipped",
            '  vips extract_band "$tmp/result.v" "$tmp/alpha.v" $((bands - 1))',
            f'  vips linear "$tmp/alpha.v" "$tmp/alpha_half.v" 1 {half}',
            '  vips cast "$tmp/alpha_half.v" "$tmp/alpha8.v" uchar',
            f'  vips bandjoin "{colour.strip(chr(34))} $tmp/alpha8.v" "$out"',
            "else",
            f'  vips copy {colour} "$out"',
            "fi",
        ]


_STRETCHES = {
    # awk programs for the gain of a stretch from the result's `low` and `high`.
    "normalize": "gain = high > low ? 255 / (high - low) : 0",
    "signed": "m = high > -low ? high : -low; gain = m > 0 ? 127.5 / m : 0",
}
_SHIFTS = {
    "normalize": "shift = -low * gain",
    "signed": "shift = gain > 0 ? 127.5 : 128",
}


# G'MIC ---------------------------------------------------------------------------------------


def gmic_command(recipe: Recipe, source: str, destination: str) -> str:
    """Return a ``gmic`` command line that applies `recipe`.

    The image is split into one image per channel, so that the stages act on
    the channels `recipe` names (chosen when the file's channel count is
    known) and alpha is clipped, not mapped, at the end.

    Raises
    ------
    CodeExportError
        For alpha='weighted'.

    Examples
    --------
    >>> recipe = Recipe.single([[1, 2, 1]], border="nearest")
    >>> print(gmic_command(recipe, "in.png", "out.png").splitlines()[-1])
    ... # doctest: +NORMALIZE_WHITESPACE
    gmic -v -1 in.png -split c '-if' '{$!<=2}' k=0 f=0 -else k=0-2 f=0,1,2 -fi
    '(1,2,1)' '-correlate[$f]' [-1],1 -remove[-1] '-append[$k]' c -add[0] 0.5
    '-if' '{$!==2}' -add[1] 0.5 -fi -append c -cut 0,255 -output out.png
    """
    _check_supported(recipe, "G'MIC")
    parts = ["gmic", "-v", "-1", shlex.quote(source), "-split c"]
    if recipe.grey:
        parts.append(
            "'-if' '{$!>=3}' -fill[0] '0.299*i#0+0.587*i#1+0.114*i#2' -round[0] 1 -remove[1,2] -fi"
        )
    parts.append(_gmic_selections(recipe))
    stages = recipe.active_stages
    for number, stage in enumerate(stages, 1):
        parts.append(_gmic_stage(stage, recipe))
        if number < len(stages) and recipe.between_stages != "float":
            parts.append("'-cut[$f]' 0,255")
            if recipe.between_stages == "round":
                parts.append(f"'-add[$f]' {_half_level(recipe)} '-round[$f]' 1,-1")
    half = _number(_half_level(recipe))
    display = {
        "clip": "",
        "abs": "-abs[0] ",
        "normalize": "-fill[0] 'iM>im?(i-im)*255/(iM-im):0' ",
        "signed": "-fill[0] 'm=max(abs(im),abs(iM));m>0?127.5+127.5*i/m:128' ",
    }[recipe.display]
    # Colour [0] is mapped by the display; alpha [1], if any, is only rounded and clipped.
    parts.append(f"'-append[$k]' c {display}-add[0] {half} '-if' '{{$!==2}}' -add[1] {half} -fi")
    parts += ["-append c -cut 0,255 -output", shlex.quote(destination)]
    header = _header(recipe, source, destination, "G'MIC 2.9")
    return "\n".join([*header, " ".join(parts)]) + "\n"


def _filtered_channels(recipe: Recipe, count: int) -> list[int]:
    # The channels the stages act on in an image of `count` channels, as render() picks them.
    wanted = set(recipe.channels)
    colour = [bool(wanted & set("rgb"))] if count <= 2 else [c in wanted for c in "rgb"]
    alpha = [_processes_alpha(recipe)] if count % 2 == 0 else []
    return [index for index, chosen in enumerate(colour + alpha) if chosen]


def _gmic_selections(recipe: Recipe) -> str:
    # $k: the colour images; $f: the images the stages act on (empty: none).
    def filtered(count: int) -> str:
        return "f=" + ",".join(map(str, _filtered_channels(recipe, count)))

    grey = f"'-if' '{{$!==1}}' {filtered(1)} -else {filtered(2)} -fi"
    colour = f"'-if' '{{$!==3}}' {filtered(3)} -else {filtered(4)} -fi"
    if filtered(1) == filtered(2) and filtered(3) == filtered(4):
        grey, colour = filtered(1), filtered(3)
    return f"'-if' '{{$!<=2}}' k=0 {grey} -else k=0-2 {colour} -fi"


def _gmic_stage(stage: Stage, recipe: Recipe) -> str:
    weights = stage.scaled_weights
    rows, columns = (side // 2 for side in weights.shape)
    kernel = ";".join(",".join(_number(value) for value in row) for row in weights)
    operation = "convolve" if recipe.flip else "correlate"
    border = recipe.border
    steps = []
    if border == "mirror" and (rows or columns):
        # Boundary 3 repeats the edge (our reflect): give every channel a c b | a b c margin.
        index = (
            f"X=x-{columns};Y=y-{rows};X=X<0?-X:X>=w#0?2*w#0-2-X:X;"
            f"Y=Y<0?-Y:Y>=h#0?2*h#0-2-Y:Y;i(#0,X,Y,0,c)"
        )
        steps.append(
            f"'-repeat' '$!' '-local[$>]' -input {{0,w+{2 * columns}}},{{0,h+{2 * rows}}},1,1 "
            f"-fill[-1] '{index}' -remove[0] -endlocal -done"
        )
    steps.append(
        f"'({kernel})' '-{operation}[$f]' [-1],{_GMIC_BOUNDARIES.get(border, 1)} -remove[-1]"
    )
    if border in ("mirror", "valid") and (rows or columns):
        steps.append(f"-crop {columns},{rows},{{0,w-{columns + 1}}},{{0,h-{rows + 1}}}")
    if stage.offset:
        steps.append(f"'-add[$f]' {_number(stage.offset)}")
    return " ".join(steps)


SHELL_TARGETS: dict[str, Callable[[Recipe, str, str], str]] = {
    "imagemagick": imagemagick_command,
    "vips": vips_script,
    "gmic": gmic_command,
}
"""The shell writers by target name: ``(recipe, input_path, output_path) -> text``."""
