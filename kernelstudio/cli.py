"""The ``kernelstudio`` command: ``apply`` kernels to image files from a terminal.

Every failure ends with one readable line on stderr and a non-zero exit status,
never a traceback, and never a partial output file. The status says whose
move it is: 2 when the command or its only input is wrong (nothing is
written), 1 when the work failed on the way (a write, memory, or some of
several inputs); see :data:`EXIT_STATUS_HELP`.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import numpy as np

from kernelstudio import __version__
from kernelstudio.atomic import check_replaceable, describe_os_error, publish
from kernelstudio.behave_like import CONVENTION_OPTIONS, CONVENTIONS, behave_like
from kernelstudio.code_export import TARGETS, CodeExportError, export_code
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, ROUNDING_MODES, white_level
from kernelstudio.generators import GENERATORS, generate, looks_like_spec, parse_spec
from kernelstudio.imageio import (
    WRITE_EXTENSIONS,
    ImageLoadError,
    ImageSaveError,
    image_size,
    load_image,
    save_image,
)
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_GENERATORS,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    check_result_fits,
    format_weight,
    parse_kernel,
    parse_weight,
    read_kernel_file,
    user_presets_folder,
)
from kernelstudio.pipeline import (
    ALPHA_MODES,
    BETWEEN_STAGES,
    Recipe,
    Stage,
    check_channels,
    render,
    split_alpha,
    to_display,
)
from kernelstudio.recipe_files import read_kernel_or_recipe_file
from kernelstudio.samples import sample_image_path
from kernelstudio.streaming import render_uint8, streams

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

PROG = "kernelstudio"
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_STATUS_HELP = (
    "exit status: 0 when every result was saved; 2 when the command or its input "
    "is wrong (a kernel, an option value, the output name, the only input unreadable, "
    "a result that would overflow) and nothing was written; 1 when the work failed on "
    "the way (a write failed, memory ran out, or some of several inputs could not be "
    "processed while the others were saved)"
)
_FLOAT_EXTENSIONS = (".tif", ".tiff")
_ALPHA_EXTENSIONS = (".png", ".tif", ".tiff", ".webp")
_FLOAT32_LIMIT = float(np.finfo(np.float32).max)
_SLUG = re.compile(r"[A-Za-z0-9][\w-]*")
_STAGE_OPTIONS = ("-k", "--kernel", "--divisor", "--offset")
_QUOTE_LIMIT = 60
_DETAIL_LIMIT = 240
# What argparse would take for an option: '-1/8', '-.5', '-inf 0 1'.
_WEIGHT_START = re.compile(r"-(?:[0-9.]|inf|nan)", re.IGNORECASE)
_LONG_QUOTE = re.compile(rf"'[^'\n]{{{_QUOTE_LIMIT + 1},}}'|\"[^\"\n]{{{_QUOTE_LIMIT + 1},}}\"")
_CONTROL_CHARACTERS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}
_NO_DISPLAY_ADVICE = (
    "set DISPLAY (or WAYLAND_DISPLAY), or use 'kernelstudio apply' on the command line"
)
_X_DISPLAY = re.compile(r"(?:unix)?:(\d+)(?:\.\d+)?")
_UNCHECKED_CONVENTIONS_HELP = (
    "; photoshop follows Photoshop's documentation and could not be checked against it"
)


class CommandError(Exception):
    """A failure to report as one line on stderr, with the exit status it means."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def printable(text: str, encoding: str | None = "utf-8") -> str:
    r"""Return `text` fit for one line of a terminal in `encoding`, whatever it holds.

    Bytes of file names that are not UTF-8 (surrogate-escaped by Python) come
    out as ``\xff``, and control characters such as a newline in a file name as
    ``\x0a``, so a message stays one line and never fails to print.

    Examples
    --------
    >>> printable("caf\udce9\n.png")
    'caf\\xe9\\x0a.png'
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace").translate(_CONTROL_CHARACTERS)
    encoding = encoding or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _report(stream: TextIO, message: str) -> None:
    stream.write(printable(message, getattr(stream, "encoding", None)) + "\n")
    stream.flush()


def _quoted(text: str) -> str:
    shown = text if len(text) <= _QUOTE_LIMIT else f"{text[: _QUOTE_LIMIT - 1]}…"
    return repr(shown)


def _brief_detail(message: str) -> str:
    message = _LONG_QUOTE.sub(lambda match: _quoted(match.group(0)[1:-1]), message)
    return message if len(message) <= _DETAIL_LIMIT else f"{message[: _DETAIL_LIMIT - 1]}…"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        if "-k/--kernel: expected one argument" in message:
            message += " (a kernel starting with '-' must be written -k=-1/8 or --kernel='-1/8 …')"
        _report(sys.stderr, f"{self.prog}: error: {_brief_detail(message)} (see --help)")
        self.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kernelstudio`` command."""
    parser = _Parser(
        prog=PROG,
        usage="%(prog)s [IMAGE] | %(prog)s COMMAND ...",
        description=(
            "Kernel Studio: play with image convolution kernels. Without a command, "
            "open the window on IMAGE (the built-in sample when omitted)."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    apply = commands.add_parser(
        "apply",
        prog=f"{PROG} apply",
        help="convolve image files with a kernel or a stack of kernels and save the results",
        description=(
            "Convolve each INPUT (the built-in sample image when none is given) "
            "with the kernels given by -k, in order, and save the result. Everything "
            "but the input is checked before any work: the kernels and options, the "
            "output's extension, its folder, and that it does not exist yet. A recipe "
            "file given to -k brings its stages and its options; an option given on "
            "the command line overrides the file's."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    apply.add_argument("inputs", nargs="*", metavar="INPUT", help="image files to process")
    _add_recipe_options(apply)
    apply.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help=(
            "output file (its extension picks the format); an existing folder, or "
            "a folder created when there are several inputs"
        ),
    )
    apply.add_argument(
        "--float",
        action="store_true",
        help="write the exact float32 values (TIFF output only)",
    )
    apply.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing outputs (regular files only; their mode is kept)",
    )
    apply.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help=(
            "process up to N inputs at once, each in a process of its own (default: "
            "the number of cores); 1 processes them one after another"
        ),
    )

    export = commands.add_parser(
        "export-code",
        prog=f"{PROG} export-code",
        help="print a program for another tool that makes what 'apply' makes",
        description=(
            "Print a self-contained program that reads --input and writes --output as "
            "8-bit, reproducing 'kernelstudio apply' with the same kernels and options "
            "to within ±1 per value: a Python script (numpy, scipy, opencv, dask) or a "
            "shell command line (imagemagick, vips, gmic). A recipe a target cannot "
            "reproduce is refused, naming what it lacks."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    _add_recipe_options(export)
    export.add_argument(
        "--target", required=True, choices=TARGETS, help="the program to write for"
    )
    export.add_argument(
        "--input",
        default="input.png",
        metavar="IN",
        help="the image the program reads (dask: also a glob); default: input.png",
    )
    export.add_argument(
        "--output",
        default="output.png",
        metavar="OUT",
        help="the image the program writes (dask: also a folder); default: output.png",
    )

    commands.add_parser(
        "presets",
        prog=f"{PROG} presets",
        help="list the built-in presets and the ones saved in the window",
        description=f"List the built-in presets, then yours, kept in {user_presets_folder()}.",
    )
    return parser


def _add_recipe_options(parser: argparse.ArgumentParser) -> None:
    # The kernels and options a recipe is made of, the same for apply and export-code.
    parser.add_argument(
        "-k",
        "--kernel",
        action=_StagePart,
        const="kernel",
        dest="stage_parts",
        required=True,
        metavar="SPEC",
        help=(
            "a preset slug, built-in or saved in the window, a generator with its "
            "parameters such as 'gaussian:sigma=2.5' or "
            "'gabor:sigma=3,theta=45,wavelength=8' (angles in degrees; see "
            "'kernelstudio presets'), a kernel or recipe JSON file, or rows such as "
            "'1/16 1/8 1/16; 1/8 1/4 1/8; 1/16 1/8 1/16'; repeat -k to stack "
            "kernels, each applied to the result of the one before (at most 16)"
        ),
    )
    parser.add_argument(
        "--divisor",
        action=_StagePart,
        const="divisor",
        dest="stage_parts",
        type=_divisor,
        metavar="D",
        help=(
            "divide the weighted sum by D (not 0; default: the kernel file's, else 1). "
            "It belongs to the -k before it: with several -k, write each one's "
            "--divisor and --offset after it; with one -k they may stand anywhere"
        ),
    )
    parser.add_argument(
        "--offset",
        action=_StagePart,
        const="offset",
        dest="stage_parts",
        type=_offset,
        metavar="O",
        help=(
            "add O after dividing, in pixel values: 128 is mid-grey for 8-bit images, "
            "32768 for 16-bit (default: the kernel file's, else 0); paired with -k "
            "as --divisor is"
        ),
    )
    parser.add_argument("--border", choices=BORDERS, help="default: mirror")
    parser.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        help="rotate the kernels 180° (true convolution); default: no",
    )
    parser.add_argument(
        "--gray",
        "--grey",
        action=argparse.BooleanOptionalAction,
        help="convert to greyscale first (alpha is kept); default: no",
    )
    parser.add_argument(
        "--channels",
        type=_channels,
        metavar="CHANNELS",
        help=(
            "the channels the kernels act on, some of r, g, b, a such as rgb, r, gb "
            "or rgba; the others pass through (default: rgb; 'a' counts only with "
            "--alpha process or weighted)"
        ),
    )
    parser.add_argument(
        "--alpha",
        choices=ALPHA_MODES,
        help=(
            "transparency: keep (alpha passes through, colour filtered as stored; the "
            "default), weighted (colour weighted by alpha, so hidden colours of "
            "transparent pixels never bleed in), process (alpha filtered like a colour "
            "when 'a' is in --channels)"
        ),
    )
    parser.add_argument(
        "--display",
        choices=DISPLAY_MODES,
        help=(
            "mapping to 8-bit pixels; signed shows 0 as mid-grey (default: the last "
            "preset's, else clip)"
        ),
    )
    parser.add_argument(
        "--rounding",
        choices=ROUNDING_MODES,
        help=(
            "how values become whole 8-bit numbers: half-up (2.5 → 3; the default), "
            "half-even (2.5 → 2, as OpenCV) or truncate (towards zero, as a C cast)"
        ),
    )
    parser.add_argument(
        "--between-stages",
        choices=BETWEEN_STAGES,
        help=(
            "what each kernel's result becomes before the next: float (exact; the "
            "default), clip (to the image's range) or round (clipped and rounded, as "
            "when a program runs one filter after another on an 8-bit image)"
        ),
    )
    parser.add_argument(
        "--like",
        choices=tuple(CONVENTIONS),
        metavar="PROGRAM",
        help=(
            "behave like PROGRAM (" + ", ".join(CONVENTIONS) + "): its border, flip, "
            "rounding, clamping between filters and the divisor and offset it picks by "
            "itself, so that the 8-bit result equals what it writes; an option or a "
            "--divisor/--offset given here still wins. See docs/conventions.md"
            + _UNCHECKED_CONVENTIONS_HELP
        ),
    )


class _StagePart(argparse.Action):
    """Record -k, --divisor and --offset in the order given: each -k starts a stage."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parts = getattr(namespace, self.dest, None) or []
        setattr(namespace, self.dest, [*parts, (self.const, option_string, values)])


def _divisor(text: str) -> float:
    value = _number(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"{_quoted(text)} is 0; the divisor must be a finite number other than 0"
        )
    return value


def _offset(text: str) -> float:
    return _number(text)


def _number(text: str) -> float:
    try:
        return parse_weight(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_brief_detail(str(error))) from None


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is not a whole number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is not a number of jobs (1 or more)")
    return jobs


def _channels(text: str) -> str:
    try:
        return check_channels(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_brief_detail(str(error))) from None


def _attach_negative_kernels(arguments: list[str]) -> list[str]:
    # argparse takes '-1/8' after -k for an option; '--kernel=-1/8' it reads as meant.
    attached: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        following = arguments[index + 1] if index + 1 < len(arguments) else ""
        if argument == "--":
            attached.extend(arguments[index:])
            break
        if argument in _STAGE_OPTIONS and _WEIGHT_START.match(following):
            name = "--kernel" if argument == "-k" else argument
            attached.append(f"{name}={following}")
            index += 2
        else:
            attached.append(argument)
            index += 1
    return attached


@dataclass
class _StageRequest:
    """One -k as typed, with the --divisor and --offset that belong to it."""

    spec: str
    divisor: float | None = None
    offset: float | None = None


def _stage_requests(parts: list[tuple[str, str, object]]) -> list[_StageRequest]:
    # Each --divisor / --offset belongs to the -k before it; with one -k, to that one.
    kernel_count = sum(kind == "kernel" for kind, _, _ in parts)
    requests: list[_StageRequest] = []
    if kernel_count == 1:
        parts = sorted(parts, key=lambda part: part[0] != "kernel")
    for kind, option, value in parts:
        if kind == "kernel":
            requests.append(_StageRequest(str(value)))
            continue
        if not requests:
            raise CommandError(
                f"{option} {format_weight(float(value))} comes before any -k; with several "
                f"-k, write each kernel's --divisor and --offset after its -k"
            )
        request = requests[-1]
        if getattr(request, kind) is not None:
            raise CommandError(f"two {option} for the kernel {_quoted(request.spec)}")
        setattr(request, kind, float(value))
    return requests


@dataclass(frozen=True)
class _Resolved:
    """What one -k SPEC gave: its stages, the display that suits it, the recipe it came from."""

    stages: tuple[Stage, ...]
    display: str | None = None
    recipe: Recipe | None = None


def _resolve_kernel(spec: str) -> _Resolved:
    # A built-in slug, a generator with parameters, a file, a saved preset's slug,
    # a bare generator name, inline rows: in that order.
    if spec in PRESETS:
        return _Resolved(
            (Stage(PRESETS[spec], name=spec, generator=PRESET_GENERATORS[spec]),),
            PRESET_DISPLAY[spec],
        )
    if ":" in spec and looks_like_spec(spec):
        return _generated(spec)
    folder = user_presets_folder()
    path = Path(spec)
    # os.path answers False for text that cannot be a file name (too long, NUL…).
    if path.suffix.lower() == ".json" or os.path.isfile(spec):
        return _from_file(path)
    saved = folder / f"{spec}.json"
    if _SLUG.fullmatch(spec) and os.path.lexists(saved):
        return _from_file(saved, what=f"your preset {_quoted(spec)} ({saved}) cannot be used: ")
    if looks_like_spec(spec):
        return _generated(spec)
    unknown = _GENERATOR_LIKE.fullmatch(spec)
    if unknown:
        nearest = difflib.get_close_matches(unknown.group(1), list(GENERATORS), n=1)
        hint = f"did you mean {nearest[0]}? " if nearest else ""
        raise CommandError(
            f"no generator {_quoted(unknown.group(1))}; {hint}"
            f"'{PROG} presets' lists the generators and their parameters"
        )
    try:
        return _Resolved((Stage(parse_kernel(spec), name="custom"),))
    except ValueError as error:
        nearest = _nearest_presets(spec, folder)
        if nearest:
            raise CommandError(f"no preset {_quoted(spec)}; did you mean {nearest}?") from None
        raise CommandError(
            f"kernel {_quoted(spec)} is not a preset, a kernel file or rows of weights: "
            f"{_brief_detail(str(error))}"
        ) from None


_GENERATOR_LIKE = re.compile(r"([A-Za-z][A-Za-z0-9-]*):.*", re.DOTALL)


def _generated(spec: str) -> _Resolved:
    try:
        settings = parse_spec(spec)
        stage = Stage.generated(settings, name=settings.spec)
    except ValueError as error:
        raise CommandError(_brief_detail(str(error))) from None
    for note in generate(settings).notes:  # cached: the weights above were made once
        _report(sys.stderr, f"{PROG}: note: {note}")
    return _Resolved((stage,), GENERATORS[settings.slug].display)


def _from_file(path: Path, what: str = "") -> _Resolved:
    try:
        loaded = read_kernel_or_recipe_file(path)
        if isinstance(loaded, Recipe):
            return _Resolved(loaded.stages, loaded.display, loaded)
        return _Resolved((_stage_of(loaded),))
    except (KernelFileError, ValueError) as error:
        raise CommandError(what + _brief_detail(str(error))) from None


def _stage_of(kernel: Kernel) -> Stage:
    return Stage(kernel.weights, kernel.divisor, kernel.offset, name=kernel.name)


def _saved_slugs(folder: Path) -> list[str]:
    try:
        return sorted(path.stem for path in folder.glob("*.json"))
    except OSError:
        return []


def _nearest_presets(spec: str, folder: Path) -> str:
    if not _SLUG.fullmatch(spec):
        return ""
    names = list(dict.fromkeys([*PRESETS, *_saved_slugs(folder)]))
    typed = spec.lower()
    starting = [name for name in names if name.startswith(typed)]
    nearest = (starting or difflib.get_close_matches(typed, names, n=3, cutoff=0.6))[:3]
    if len(nearest) > 1:
        return f"{', '.join(nearest[:-1])} or {nearest[-1]}"
    return "".join(nearest)


_RECIPE_OPTIONS = {
    "border": "--border",
    "flip": "--flip",
    "grey": "--gray",
    "channels": "--channels",
    "alpha": "--alpha",
    "display": "--display",
    "rounding": "--rounding",
    "between_stages": "--between-stages",
}


def build_recipe(options: argparse.Namespace, *, white: float = 255.0) -> Recipe:
    """Make the recipe that ``kernelstudio apply`` `options` describe, before any image is read.

    The stages are those of every ``-k``, in order, with the ``--divisor`` and
    ``--offset`` that follow each. Options on the command line win; an option
    left out takes the value of the recipe files given (when they agree) or
    the default; the display defaults to what suits the last built-in preset.
    ``--like`` then sets what that program does (see
    :func:`kernelstudio.behave_like.behave_like`), except the options and the
    stages' divisors and offsets given on the command line; `white` is the
    full scale of the images it is for, for offsets a program picks as a
    fraction of it.

    Raises
    ------
    CommandError
        For an unusable kernel, divisor, offset or combination of them.
    """
    requests = _stage_requests(options.stage_parts)
    resolved = [_resolve_kernel(request.spec) for request in requests]
    stages: list[Stage] = []
    typed_scale: list[bool] = []  # a stage whose --divisor or --offset was given
    for found, request in zip(resolved, requests, strict=True):
        made = _with_overrides(found.stages, request)
        stages.extend(made)
        typed_scale.extend([request.divisor is not None or request.offset is not None] * len(made))
    recipes = [
        (found.recipe, request.spec)
        for found, request in zip(resolved, requests, strict=True)
        if found.recipe is not None
    ]
    chosen: dict[str, object] = {}
    given = {
        "border": options.border,
        "flip": options.flip,
        "grey": options.gray,
        "channels": options.channels,
        "alpha": options.alpha,
        "display": options.display,
        "rounding": options.rounding,
        "between_stages": options.between_stages,
    }
    for name, option in _RECIPE_OPTIONS.items():
        if given[name] is not None:
            chosen[name] = given[name]
            continue
        values = {getattr(recipe, name): spec for recipe, spec in recipes}
        if len(values) > 1:
            shown = " and ".join(
                f"{_quoted(spec)} has {value!r}" for value, spec in values.items()
            )
            raise CommandError(
                f"the recipe files disagree on {name} ({shown}); choose with {option}"
            )
        if values:
            chosen[name] = next(iter(values))
    if "display" not in chosen:
        chosen["display"] = resolved[-1].display or "clip"
    try:
        recipe = Recipe(tuple(stages), **chosen)
        if options.like is None:
            return recipe
        liked = behave_like(recipe, options.like, white=white)
        kept = [
            original if typed else made
            for original, made, typed in zip(recipe.stages, liked.stages, typed_scale, strict=True)
        ]
        typed_options = {
            name: chosen[name] for name in CONVENTION_OPTIONS if given[name] is not None
        }
        return replace(liked, stages=tuple(kept), **typed_options)
    except ValueError as error:
        raise CommandError(_brief_detail(str(error))) from None


def _with_overrides(stages: tuple[Stage, ...], request: _StageRequest) -> tuple[Stage, ...]:
    if request.divisor is None and request.offset is None:
        return stages
    if len(stages) > 1:
        raise CommandError(
            f"--divisor and --offset apply to one kernel, but {_quoted(request.spec)} holds "
            f"{len(stages)} stages; set them in the recipe file"
        )
    (stage,) = stages
    try:
        changed = Stage(
            stage.weights,
            stage.divisor if request.divisor is None else request.divisor,
            stage.offset if request.offset is None else request.offset,
            stage.enabled,
            stage.name,
        )
    except ValueError as error:  # e.g. a divisor so small that the weights overflow
        raise CommandError(f"{_quoted(request.spec)}: {_brief_detail(str(error))}") from None
    return (changed,)


def _plan_outputs(inputs: list[Path], output: str, *, as_float: bool) -> list[Path]:
    if not output:
        raise CommandError("the output name is empty")
    folder = Path(output)
    names_folder = output.endswith(("/", os.sep)) or os.path.isdir(output)
    if len(inputs) == 1 and not names_folder:
        return [folder]
    if len(inputs) == 1 and not os.path.isdir(output):
        raise CommandError(f"the output folder '{output}' does not exist")
    if os.path.exists(output) and not os.path.isdir(output):
        raise CommandError(f"with several inputs, the output '{output}' must be a folder")
    if not os.path.exists(output) and folder.suffix.lower() in (*WRITE_EXTENSIONS, ".tif"):
        raise CommandError(
            f"with several inputs, the output must be a folder; '{output}' names an image "
            "file (write a folder name, such as 'results/')"
        )
    targets = []
    for source in inputs:
        suffix = source.suffix.lower()
        if as_float:
            suffix = suffix if suffix in _FLOAT_EXTENSIONS else ".tif"
        elif suffix not in WRITE_EXTENSIONS:
            suffix = ".png"
        targets.append(folder / f"{source.stem}{suffix}")
    clashes = {target for target in targets if targets.count(target) > 1}
    if clashes:
        raise CommandError(f"several inputs would be saved as '{sorted(clashes)[0].name}'")
    return targets


def _check_format(target: Path, *, as_float: bool) -> None:
    suffix = target.suffix.lower()
    if suffix not in WRITE_EXTENSIONS:
        what = f"the extension '{target.suffix}'" if suffix else "a name without extension"
        raise CommandError(
            f"cannot save '{target.name}': {what} names no supported format; "
            f"use one of {', '.join(WRITE_EXTENSIONS)}"
        )
    if as_float and suffix not in _FLOAT_EXTENSIONS:
        raise CommandError(f"--float needs a .tif output; got '{target.name}'")


def _check_folder(target: Path) -> None:
    folder = target.parent
    if not os.path.exists(folder):
        raise CommandError(f"cannot save '{target.name}': the folder '{folder}' does not exist")
    if not os.path.isdir(folder):
        raise CommandError(f"cannot save '{target.name}': '{folder}' is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"cannot save '{target.name}': the folder '{folder}' is read-only")
    if len(os.fsencode(target.name)) > _longest_name(folder):
        raise CommandError(f"cannot save '{_quoted(target.name)[1:-1]}': the name is too long")


def _longest_name(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or it does not say
        return 255


def _check_target(target: Path, *, force: bool) -> None:
    try:
        check_replaceable(target, overwrite=force)
    except FileExistsError:
        raise CommandError(f"'{target}' exists; use --force to overwrite it") from None
    except OSError as error:
        reason = describe_os_error(error, saving=True)
        raise CommandError(f"cannot overwrite '{target}': {reason}") from None


def _prepare_outputs(
    inputs: list[Path], targets: list[Path], output: str, options: argparse.Namespace
) -> None:
    for target in targets:
        _check_format(target, as_float=options.float)
    if len(inputs) > 1:
        try:
            os.makedirs(output, exist_ok=True)
        except OSError as error:
            reason = describe_os_error(error, saving=True)
            raise CommandError(f"cannot create the folder '{output}': {reason}") from None
    for target in targets:
        _check_folder(target)
        _check_target(target, force=options.force)


class _Progress:
    """A progress bar: in place with rate and time left on a terminal, else a line per file."""

    def __init__(
        self, total: int, stream: TextIO, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._total = total
        self._stream = stream
        self._live = stream.isatty()
        self._clock = clock
        self._started = clock()

    def show(self, done: int, label: str) -> None:
        width = 24
        filled = width * done // self._total
        bar = "#" * filled + "-" * (width - filled)
        if not self._live:
            _report(self._stream, f"[{bar}] {done}/{self._total} {label}")
            return
        line = printable(f"[{bar}] {done}/{self._total}{self._pace(done)} {label}")
        columns = shutil.get_terminal_size().columns
        self._stream.write(f"\r\x1b[K{line[: max(1, columns - 1)]}")
        if done == self._total:
            self._stream.write("\n")
        self._stream.flush()

    def _pace(self, done: int) -> str:
        elapsed = self._clock() - self._started
        if done == self._total:
            return f" in {_duration(elapsed)}"
        if elapsed <= 0:
            return ""
        rate = done / elapsed
        return f" {rate:.2g} files/s, {_duration((self._total - done) / rate)} left"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _largest_pixel(image: np.ndarray) -> float:
    if image.dtype.kind in "biu":
        return white_level(image.dtype)
    return float(np.max(np.abs(image), initial=0.0, where=np.isfinite(image)))


def check_recipe_fits(recipe: Recipe, largest_pixel: float) -> None:
    """Refuse a recipe whose results could leave float32 on pixels up to `largest_pixel`.

    Each stage's result is bounded by ``sum(|weights|) / |divisor| × bound + |offset|``,
    the bound being the largest pixel for the first stage and the bound of the
    stage before for the others; each must fit. This also bounds the stack's
    :func:`kernelstudio.pipeline.equivalent_kernel`, whose magnitudes add up
    to at most the product of the stages'.

    Raises
    ------
    ValueError
        Naming the stage (when there are several) whose result would overflow.

    Examples
    --------
    >>> check_recipe_fits(Recipe.single([[1, 2, 1]], divisor=4, offset=128), 65535.0)
    >>> check_recipe_fits(Recipe((Stage([[1e20]]), Stage([[1e20]]))), 255.0)
    Traceback (most recent call last):
    ...
    ValueError: stage 2: the result would overflow: weights whose magnitudes add up to
    1e+20 times pixel values up to 2.55e+22 exceed the float32 limit of 3.4e38
    """
    stages = recipe.active_stages
    bound = largest_pixel
    for number, stage in enumerate(stages, start=1):
        where = f"stage {number}: " if len(stages) > 1 else ""
        try:
            check_result_fits(stage.scaled_weights, bound)
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None
        bound = float(np.abs(stage.scaled_weights).sum()) * abs(bound) + abs(stage.offset)
        if not bound < _FLOAT32_LIMIT:
            raise ValueError(
                f"{where}the result would overflow: an offset of {stage.offset:.3g} added to "
                f"values up to {bound - abs(stage.offset):.3g} exceeds the float32 limit of 3.4e38"
            )


def _memory_needed(shape: tuple[int, ...], recipe: Recipe) -> str:
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    stages = recipe.active_stages
    rows = max(stage.weights.shape[0] for stage in stages)
    columns = max(stage.weights.shape[1] for stage in stages)
    padded = (height + rows - 1) * (width + columns - 1)
    # The image, its float32 planes with their border, the float32 result, 8-bit pixels.
    needed = channels * (2 * height * width + 4 * padded + 4 * height * width + height * width)
    kernels = (
        f"a {rows} × {columns} kernel"
        if len(stages) == 1
        else f"{len(stages)} kernels up to {rows} × {columns}"
    )
    return (
        f"not enough memory for a {width} × {height} image with {kernels}: "
        f"about {needed / 1e9:.2g} GB needed"
    )


def _out_of_memory(source: Path, shape: tuple[int, ...] | None, recipe: Recipe) -> CommandError:
    if shape is not None:
        return CommandError(_memory_needed(shape, recipe), EXIT_FAILURE)
    try:
        width, height = image_size(source)
    except (ImageLoadError, OSError):
        return CommandError(f"not enough memory to load '{source.name}'", EXIT_FAILURE)
    return CommandError(_memory_needed((height, width, 3), recipe), EXIT_FAILURE)


def _apply_one(
    source: Path,
    target: Path,
    recipe: Recipe,
    options: argparse.Namespace,
    *,
    threads: int | None = None,
) -> None:
    shape = None
    try:
        image = load_image(source, alpha=True)
        shape = image.shape
        _check_alpha_fits(source, target, image)
        white = white_level(image.dtype)
        if options.like is not None and white != 255.0:  # offsets --like picks scale with it
            recipe = build_recipe(options, white=white)
        pixels = _result_pixels(source, image, recipe, options, threads=threads)
        del image  # encoding the result takes copies of it: the input's memory helps
        _save(target, pixels, overwrite=options.force)
    except MemoryError:
        raise _out_of_memory(source, shape, recipe) from None
    except ImageLoadError as error:
        raise CommandError(str(error)) from None


def _check_alpha_fits(source: Path, target: Path, image: np.ndarray) -> None:
    # Known only once the image is loaded, but still before any work.
    suffix = target.suffix.lower()
    if split_alpha(image)[1] is not None and suffix not in _ALPHA_EXTENSIONS:
        raise CommandError(
            f"cannot save '{target.name}': '{source.name}' has an alpha channel and {suffix} "
            f"cannot keep it; save as .png, .tif or .webp"
        )


def _result_pixels(
    source: Path,
    image: np.ndarray,
    recipe: Recipe,
    options: argparse.Namespace,
    *,
    threads: int | None = None,
) -> np.ndarray:
    # 8-bit output of large images is made band by band, so their float32 result
    # never exists whole.
    # Infinite pixels of float images meet as inf - inf, a NaN by definition;
    # results far above white overflow when scaled, then saturate at 255 as meant.
    try:
        check_recipe_fits(recipe, _largest_pixel(image))
        with np.errstate(over="ignore", invalid="ignore"):
            if options.float:
                return np.ascontiguousarray(render(image, recipe))
            white = white_level(image.dtype)
            if streams(image, recipe):
                return render_uint8(image, recipe, white=white, threads=threads)
            return to_display(render(image, recipe), recipe, white=white)
    except ValueError as error:
        raise CommandError(f"cannot process '{source.name}': {error}") from None


def _save(target: Path, pixels: np.ndarray, *, overwrite: bool) -> None:
    # save_image writes a complete file under a hidden name beside the target;
    # publish then moves it there, without replacing a file that appeared
    # meanwhile unless overwrite (--force) allows it.
    try:
        descriptor, staged = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.stem[:40]}.", suffix=target.suffix
        )
    except OSError as error:
        reason = describe_os_error(error, saving=True)
        raise CommandError(f"cannot save '{target.name}': {reason}", EXIT_FAILURE) from None
    os.close(descriptor)
    try:
        save_image(staged, pixels)
        publish(staged, target, overwrite=overwrite)
    except FileExistsError:
        raise CommandError(
            f"'{target}' appeared while processing; use --force to overwrite it"
        ) from None
    except ImageSaveError as error:
        message = str(error).replace(os.path.basename(staged), target.name)
        raise CommandError(message, EXIT_FAILURE) from None
    except OSError as error:
        reason = describe_os_error(error, saving=True)
        raise CommandError(f"cannot save '{target.name}': {reason}", EXIT_FAILURE) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)


def run_apply(options: argparse.Namespace, stderr: TextIO) -> int:
    """Carry out ``kernelstudio apply``; return the exit status.

    Everything that can be checked without loading an image (the kernels and
    options, the output names, formats and folders, files in the way) is
    checked first.

    Raises
    ------
    CommandError
        For a bad kernel, option or output, and for the failure of a single input.
    """
    recipe = build_recipe(options)
    inputs = [Path(name) for name in options.inputs] or [sample_image_path()]
    targets = _plan_outputs(inputs, options.output, as_float=options.float)
    _prepare_outputs(inputs, targets, options.output, options)
    if len(inputs) == 1:
        _apply_one(inputs[0], targets[0], recipe, options)
        return 0
    jobs = min(len(inputs), options.jobs or os.cpu_count() or 1)
    pairs = list(zip(inputs, targets, strict=True))
    # A frozen bundle would start itself as each worker, not a worker.
    if jobs > 1 and not getattr(sys, "frozen", False):
        return _apply_in_workers(pairs, recipe, options, jobs, stderr)
    progress = _Progress(len(inputs), stderr)
    failures = 0
    for done, (source, target) in enumerate(pairs, start=1):
        try:
            _apply_one(source, target, recipe, options)
        except CommandError as error:
            failures += 1
            _report(stderr, f"{PROG}: error: {error}")
        progress.show(done, source.name)
    return EXIT_FAILURE if failures else 0


def _apply_in_workers(
    pairs: list[tuple[Path, Path]],
    recipe: Recipe,
    options: argparse.Namespace,
    jobs: int,
    stderr: TextIO,
) -> int:
    # Each worker loads, computes and saves one input at a time; the bands of
    # each share the cores with the other jobs', so jobs × threads ≈ cores.
    # Imported here: a single input, the common case, starts 20 ms sooner without them.
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = _worker_context()
    progress = _Progress(len(pairs), stderr)
    failures = 0
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_interrupts) as pool:
        try:
            sources = {
                pool.submit(_apply_in_worker, source, target, recipe, options, threads): source
                for source, target in pairs
            }
            for done, finished in enumerate(as_completed(sources), start=1):
                problem = _worker_problem(finished, sources[finished])
                if problem is not None:
                    failures += 1
                    _report(stderr, f"{PROG}: error: {problem}")
                progress.show(done, sources[finished].name)
        except KeyboardInterrupt:
            # Ctrl+C reached the workers too: each removes the file it was staging.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return EXIT_FAILURE if failures else 0


def _worker_context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # Forking this process starts workers quickest, and is safe on Linux while it
    # runs no other thread (the command line, before any work). A fork would not
    # copy the band threads of, say, a test run: then workers fork from a fresh
    # server that imported this module, or where there is none (Windows) start afresh.
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _ignore_interrupts() -> None:
    # Between inputs a worker would die of Ctrl+C with a traceback; during one,
    # _apply_in_worker lets it stop the input cleanly instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _apply_in_worker(
    source: Path, target: Path, recipe: Recipe, options: argparse.Namespace, threads: int
) -> str | None:
    # Returns the error line (an exception would lose its exit status on the way back).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _apply_one(source, target, recipe, options, threads=threads)
    except CommandError as error:
        return str(error)
    except KeyboardInterrupt:
        return f"interrupted while processing '{source.name}'"
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return None


def _worker_problem(finished: Future, source: Path) -> str | None:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return finished.result()
    except BrokenProcessPool:  # the system ended a worker, out of memory most likely
        return f"cannot process '{source.name}': its worker process ended unexpectedly"


def run_export_code(options: argparse.Namespace, stdout: TextIO) -> int:
    """Carry out ``kernelstudio export-code``: print the program; return the exit status.

    Raises
    ------
    CommandError
        For a bad kernel or option, or a recipe the target cannot reproduce.
    """
    recipe = build_recipe(options)
    try:
        program = export_code(
            recipe, options.target, source=options.input, destination=options.output
        )
    except CodeExportError as error:
        raise CommandError(f"cannot write for {options.target}: {error}") from None
    stdout.write(program if program.endswith("\n") else program + "\n")
    return 0


def _read_saved_presets(folder: Path) -> tuple[list[tuple[str, Kernel]], list[str]]:
    # Only reads: a bad file is the window's to move aside, not the command line's.
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError as error:
        reason = describe_os_error(error, saving=False)
        return [], [f"cannot read the presets folder '{folder}': {reason}"]
    presets, problems = [], []
    for path in paths:
        try:
            presets.append((path.stem, read_kernel_file(path)))
        except KernelFileError as error:
            problems.append(f"skipped the preset file '{path.name}': {_brief_detail(str(error))}")
    return presets, problems


def _list_presets(stdout: TextIO, stderr: TextIO) -> int:
    folder = user_presets_folder()
    saved, problems = _read_saved_presets(folder)
    for problem in problems:
        _report(stderr, f"{PROG}: warning: {problem}")
    width = max(len(slug) for slug in [*PRESETS, *(slug for slug, _ in saved)])
    lines = ["Built-in presets:"]
    for slug, weights in PRESETS.items():
        height, columns = weights.shape
        name = f"{PRESET_NAMES[slug]:<27}"
        lines.append(
            f"  {slug:<{width}}  {height}×{columns}  {name}  = {PRESET_GENERATORS[slug].spec}"
        )
    lines.extend(["", f"Your presets, saved in the window ({folder}):"])
    for slug, kernel in saved:
        height, columns = kernel.weights.shape
        scaling = "".join(
            [
                f" ÷{format_weight(kernel.divisor)}" if kernel.divisor != 1 else "",
                f" {'+' * (kernel.offset > 0)}{format_weight(kernel.offset)}"
                if kernel.offset
                else "",
            ]
        )
        hidden = " (the built-in preset of this slug wins)" if slug in PRESETS else ""
        lines.append(f"  {slug:<{width}}  {height}×{columns}{scaling}  {kernel.name}{hidden}")
    if not saved:
        lines.append("  none yet (save one in the window: Save Kernel as Preset…)")
    lines.extend(["", "Generators: -k NAME:PARAMETER=VALUE,… (angles in degrees):"])
    for entry in GENERATORS.values():
        lines.append(f"  {entry.slug} — {entry.title}, such as -k {entry.example()}")
        names = max(len(parameter.name) for parameter in entry.parameters)
        lines.extend(
            f"      {parameter.name:<{names}}  {parameter.describe()}"
            for parameter in entry.parameters
        )
    for line in lines:
        _report(stdout, line)
    return 0


def missing_display(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Say why a window cannot open under `environ`, or return None when it may.

    Only X11 and Wayland systems are judged, and only when ``QT_QPA_PLATFORM``
    does not choose a platform: no ``DISPLAY`` nor ``WAYLAND_DISPLAY``, or a
    local X display (``:0``) with no server listening, means no screen.
    """
    unix_like = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))
    if not unix_like or environ.get("QT_QPA_PLATFORM") or environ.get("WAYLAND_DISPLAY"):
        return None
    display = environ.get("DISPLAY", "")
    if not display:
        return f"no display found; {_NO_DISPLAY_ADVICE}"
    local = _X_DISPLAY.fullmatch(display)
    if local and not _x_server_listens(int(local.group(1))):
        return f"no display found: no X server listens on DISPLAY={display}; {_NO_DISPLAY_ADVICE}"
    return None


def _x_server_listens(number: int) -> bool:
    socket_path = f"/tmp/.X11-unix/X{number}"
    if os.path.exists(socket_path):
        return True
    # Linux X servers also listen on an abstract socket, which has no file.
    try:
        with open("/proc/net/unix", encoding="ascii", errors="replace") as sockets:
            return any(line.rstrip().endswith(f"@{socket_path}") for line in sockets)
    except OSError:
        return True  # cannot tell: let Qt try


def _launch_window(arguments: Sequence[str]) -> int:
    parser = _Parser(prog=PROG, description="Open the Kernel Studio window.")
    parser.add_argument("image", nargs="?", metavar="IMAGE", help="image to open")
    parser.add_argument(
        "--quit-after-first-result",
        action="store_true",
        help="quit once the first result is painted (smoke tests, start-up timing)",
    )
    try:
        options = parser.parse_args(arguments)
    except SystemExit as stop:
        return int(stop.code or 0)
    problem = missing_display(os.environ)
    if problem is not None:  # Qt would abort with several lines of plug-in text
        _report(sys.stderr, f"{PROG}: {problem}")
        return EXIT_USAGE
    from kernelstudio.app.launch import run_app  # Qt loads only when a window is wanted

    return run_app(options.image, quit_after_first_result=options.quit_after_first_result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kernelstudio`` command and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success; 2 when the command or its only input is wrong and nothing
        was written; 1 when the work failed on the way (see
        :data:`EXIT_STATUS_HELP`); 130 when interrupted.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = ("apply", "export-code", "presets", "-h", "--help", "--version")
    if not arguments or arguments[0] not in commands:
        # Anything else (nothing, an image, window options) is for the window.
        return _launch_window(arguments)
    try:
        options = parser.parse_args(_attach_negative_kernels(arguments))
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        if options.command == "presets":
            return _list_presets(sys.stdout, sys.stderr)
        if options.command == "export-code":
            return run_export_code(options, sys.stdout)
        return run_apply(options, sys.stderr)
    except CommandError as error:
        _report(sys.stderr, f"{PROG}: error: {error}")
        return error.status
    except KeyboardInterrupt:
        _report(sys.stderr, f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        # The reader left (`kernelstudio presets | head`): what it read was the point.
        # Python's own flush at exit would fail again, so stdout goes nowhere now.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
