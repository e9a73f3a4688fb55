"""The ``kernelstudio`` command: ``apply`` kernels to image files from a terminal.

Every failure ends with one readable line on stderr and a non-zero exit status
(2 for usage mistakes), never a traceback, and never a partial output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from kernelstudio import __version__
from kernelstudio.colour import to_grey
from kernelstudio.convolution import BORDERS, convolve
from kernelstudio.display import DISPLAY_MODES, to_uint8, white_level
from kernelstudio.imageio import (
    WRITE_EXTENSIONS,
    ImageLoadError,
    ImageSaveError,
    load_image,
    save_image,
)
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    parse_kernel,
    preset_kernel,
    read_kernel_file,
)
from kernelstudio.samples import sample_image_path

PROG = "kernelstudio"
EXIT_FAILURE = 1
EXIT_USAGE = 2
_FLOAT_EXTENSIONS = (".tif", ".tiff")


class CommandError(Exception):
    """A failure to report as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kernelstudio`` command."""
    parser = _Parser(
        prog=PROG,
        usage="%(prog)s [IMAGE] | %(prog)s COMMAND ...",
        description=(
            "Kernel Studio: play with image convolution kernels. Without a command, "
            "open the window on IMAGE (the built-in sample when omitted)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    apply = commands.add_parser(
        "apply",
        help="convolve image files with a kernel and save the results",
        description=(
            "Convolve each INPUT (the built-in sample image when none is given) "
            "with the kernel SPEC and save the result."
        ),
    )
    apply.add_argument("inputs", nargs="*", metavar="INPUT", help="image files to process")
    apply.add_argument(
        "-k",
        "--kernel",
        required=True,
        metavar="SPEC",
        help=(
            "a preset slug (see 'kernelstudio presets'), a kernel JSON file, or rows "
            "such as '1/16 1/8 1/16; 1/8 1/4 1/8; 1/16 1/8 1/16'"
        ),
    )
    apply.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="output file; a folder when there are several inputs",
    )
    apply.add_argument("--border", choices=BORDERS, default="mirror", help="default: mirror")
    apply.add_argument(
        "--flip", action="store_true", help="rotate the kernel 180° (true convolution)"
    )
    apply.add_argument("--gray", action="store_true", help="convert to greyscale first")
    apply.add_argument(
        "--display",
        choices=DISPLAY_MODES,
        help="mapping to 8-bit pixels (default: the preset's, else clip)",
    )
    apply.add_argument(
        "--float",
        action="store_true",
        help="write the exact float32 values (TIFF output only)",
    )
    apply.add_argument("--force", action="store_true", help="overwrite existing outputs")

    commands.add_parser("presets", help="list the preset kernels")
    return parser


def resolve_kernel(spec: str) -> tuple[Kernel, str]:
    """Turn a ``-k`` SPEC into a kernel and its default display mode.

    Parameters
    ----------
    spec : str
        A preset slug, the path of a kernel JSON file, or inline rows.

    Returns
    -------
    tuple of (Kernel, str)
        The kernel and the display mode that suits it.

    Raises
    ------
    CommandError
        If SPEC is none of the three, naming what went wrong.
    """
    if spec in PRESETS:
        return preset_kernel(spec), PRESET_DISPLAY[spec]
    path = Path(spec)
    # os.path answers False for text that cannot be a file name (too long, NUL…).
    if path.suffix.lower() == ".json" or os.path.isfile(spec):
        try:
            return read_kernel_file(path), "clip"
        except KernelFileError as error:
            raise CommandError(str(error)) from None
    try:
        return Kernel("custom", parse_kernel(spec)), "clip"
    except ValueError as error:
        raise CommandError(
            f"kernel {spec!r} is not a preset, a kernel file or rows of weights: {error}"
        ) from None


def _plan_outputs(inputs: list[Path], output: Path, *, as_float: bool) -> list[Path]:
    if len(inputs) == 1 and not os.path.isdir(output):
        return [output]
    if os.path.exists(output) and not os.path.isdir(output):
        raise CommandError(f"with several inputs, the output '{output}' must be a folder")
    suffix_for_float = ".tif"
    targets = []
    for source in inputs:
        suffix = source.suffix.lower()
        if as_float:
            suffix = suffix if suffix in _FLOAT_EXTENSIONS else suffix_for_float
        elif suffix not in WRITE_EXTENSIONS:
            suffix = ".png"
        targets.append(output / f"{source.stem}{suffix}")
    clashes = {target for target in targets if targets.count(target) > 1}
    if clashes:
        raise CommandError(f"several inputs would be saved as '{sorted(clashes)[0].name}'")
    return targets


class _Progress:
    """A one-line progress bar on stderr, redrawn in place on a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._live = stream.isatty()

    def show(self, done: int, label: str) -> None:
        width = 24
        filled = width * done // self._total
        bar = "#" * filled + "-" * (width - filled)
        line = f"[{bar}] {done}/{self._total} {label}"
        if self._live:
            self._stream.write(f"\r\x1b[K{line}")
            if done == self._total:
                self._stream.write("\n")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


def _apply_one(
    source: Path, target: Path, kernel: Kernel, display: str, options: argparse.Namespace
) -> None:
    image = load_image(source)
    if options.gray:
        image = to_grey(image)
    try:
        result = convolve(image, kernel.weights, border=options.border, flip=options.flip)
    except ValueError as error:
        raise CommandError(f"cannot process '{source.name}': {error}") from None
    pixels = result if options.float else to_uint8(result, display, white=white_level(image.dtype))
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    save_image(target, np.ascontiguousarray(pixels))


def run_apply(options: argparse.Namespace, stderr: TextIO) -> int:
    """Carry out ``kernelstudio apply``; return the exit status."""
    kernel, preset_display = resolve_kernel(options.kernel)
    display = options.display or preset_display
    inputs = [Path(name) for name in options.inputs] or [sample_image_path()]
    output = Path(options.output)
    targets = _plan_outputs(inputs, output, as_float=options.float)
    if options.float:
        bad = [target for target in targets if target.suffix.lower() not in _FLOAT_EXTENSIONS]
        if bad:
            raise CommandError(f"--float needs a .tif output; got '{bad[0].name}'")
    if not options.force:
        existing = [target for target in targets if os.path.exists(target)]
        if existing:
            raise CommandError(f"'{existing[0]}' exists; use --force to overwrite it")
    if len(inputs) > 1:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(
                f"cannot create the folder '{output}': {error.strerror or error}"
            ) from None

    progress = _Progress(len(inputs), stderr) if len(inputs) > 1 else None
    failures = 0
    for done, (source, target) in enumerate(zip(inputs, targets, strict=True), start=1):
        try:
            _apply_one(source, target, kernel, display, options)
        except (ImageLoadError, ImageSaveError, CommandError) as error:
            failures += 1
            stderr.write(f"{PROG}: error: {error}\n")
        if progress is not None:
            progress.show(done, source.name)
    return EXIT_FAILURE if failures else 0


def _list_presets(stdout: TextIO) -> int:
    width = max(len(slug) for slug in PRESETS)
    for slug, weights in PRESETS.items():
        height, columns = weights.shape
        stdout.write(f"{slug:<{width}}  {height}×{columns}  {PRESET_NAMES[slug]}\n")
    return 0


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
        0 on success, 1 on failure, 2 for a usage mistake.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not arguments or arguments[0] not in ("apply", "presets", "-h", "--help", "--version"):
        # Anything else (nothing, an image, window options) is for the window.
        return _launch_window(arguments)
    try:
        options = parser.parse_args(arguments)
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        if options.command == "presets":
            return _list_presets(sys.stdout)
        return run_apply(options, sys.stderr)
    except CommandError as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except MemoryError:
        sys.stderr.write(f"{PROG}: error: not enough memory for this image and kernel\n")
        return EXIT_FAILURE
