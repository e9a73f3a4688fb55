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
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from kernelstudio import __version__
from kernelstudio.atomic import check_replaceable, describe_os_error, publish
from kernelstudio.colour import to_grey
from kernelstudio.convolution import BORDERS, convolve
from kernelstudio.display import DISPLAY_MODES, to_uint8, white_level
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
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    check_result_fits,
    parse_kernel,
    preset_kernel,
    read_kernel_file,
)
from kernelstudio.samples import sample_image_path

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
        help="convolve image files with a kernel and save the results",
        description=(
            "Convolve each INPUT (the built-in sample image when none is given) "
            "with the kernel SPEC and save the result. The output is checked before "
            "any work: its extension, its folder, and that it does not exist yet."
        ),
        epilog=EXIT_STATUS_HELP,
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
        help=(
            "output file (its extension picks the format); an existing folder, or "
            "a folder created when there are several inputs"
        ),
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
    apply.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing outputs (regular files only; their mode is kept)",
    )

    commands.add_parser("presets", help="list the preset kernels")
    return parser


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
        if argument in ("-k", "--kernel") and _WEIGHT_START.match(following):
            attached.append(f"--kernel={following}")
            index += 2
        else:
            attached.append(argument)
            index += 1
    return attached


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
        If SPEC is none of the three, naming what went wrong (long text cut short).
    """
    if spec in PRESETS:
        return preset_kernel(spec), PRESET_DISPLAY[spec]
    path = Path(spec)
    # os.path answers False for text that cannot be a file name (too long, NUL…).
    if path.suffix.lower() == ".json" or os.path.isfile(spec):
        try:
            return read_kernel_file(path), "clip"
        except KernelFileError as error:
            raise CommandError(_brief_detail(str(error))) from None
    try:
        return Kernel("custom", parse_kernel(spec)), "clip"
    except ValueError as error:
        raise CommandError(
            f"kernel {_quoted(spec)} is not a preset, a kernel file or rows of weights: "
            f"{_brief_detail(str(error))}"
        ) from None


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


def _memory_needed(shape: tuple[int, ...], kernel_shape: tuple[int, int]) -> str:
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    padded = (height + kernel_shape[0] - 1) * (width + kernel_shape[1] - 1)
    # The image, its float32 planes with their border, the float32 result, 8-bit pixels.
    needed = channels * (2 * height * width + 4 * padded + 4 * height * width + height * width)
    return (
        f"not enough memory for a {width} × {height} image with a "
        f"{kernel_shape[0]} × {kernel_shape[1]} kernel: about {needed / 1e9:.2g} GB needed"
    )


def _out_of_memory(source: Path, image: np.ndarray | None, kernel: Kernel) -> CommandError:
    if image is not None:
        return CommandError(_memory_needed(image.shape, kernel.weights.shape), EXIT_FAILURE)
    try:
        width, height = image_size(source)
    except (ImageLoadError, OSError):
        return CommandError(f"not enough memory to load '{source.name}'", EXIT_FAILURE)
    return CommandError(_memory_needed((height, width, 3), kernel.weights.shape), EXIT_FAILURE)


def _apply_one(
    source: Path, target: Path, kernel: Kernel, display: str, options: argparse.Namespace
) -> None:
    image = None
    try:
        image = load_image(source)
        if options.gray:
            image = to_grey(image)
        pixels = _result_pixels(source, image, kernel, display, options)
        _save(target, pixels, overwrite=options.force)
    except MemoryError:
        raise _out_of_memory(source, image, kernel) from None
    except ImageLoadError as error:
        raise CommandError(str(error)) from None


def _result_pixels(
    source: Path, image: np.ndarray, kernel: Kernel, display: str, options: argparse.Namespace
) -> np.ndarray:
    try:
        check_result_fits(kernel.weights, _largest_pixel(image))
        # Infinite pixels of float images meet as inf - inf, a NaN by definition.
        with np.errstate(invalid="ignore"):
            result = convolve(image, kernel.weights, border=options.border, flip=options.flip)
    except ValueError as error:
        raise CommandError(f"cannot process '{source.name}': {error}") from None
    if options.float:
        pixels = result
    else:
        # Results far above white overflow when scaled, and then saturate at 255 as meant.
        with np.errstate(over="ignore"):
            pixels = to_uint8(result, display, white=white_level(image.dtype))
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    return np.ascontiguousarray(pixels)


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

    Everything that can be checked without loading an image (the kernel, the
    output names, formats and folders, files in the way) is checked first.

    Raises
    ------
    CommandError
        For a bad kernel or output, and for the failure of a single input.
    """
    kernel, preset_display = resolve_kernel(options.kernel)
    display = options.display or preset_display
    inputs = [Path(name) for name in options.inputs] or [sample_image_path()]
    targets = _plan_outputs(inputs, options.output, as_float=options.float)
    _prepare_outputs(inputs, targets, options.output, options)
    if len(inputs) == 1:
        _apply_one(inputs[0], targets[0], kernel, display, options)
        return 0
    progress = _Progress(len(inputs), stderr)
    failures = 0
    for done, (source, target) in enumerate(zip(inputs, targets, strict=True), start=1):
        try:
            _apply_one(source, target, kernel, display, options)
        except CommandError as error:
            failures += 1
            _report(stderr, f"{PROG}: error: {error}")
        progress.show(done, source.name)
    return EXIT_FAILURE if failures else 0


def _list_presets(stdout: TextIO) -> int:
    width = max(len(slug) for slug in PRESETS)
    for slug, weights in PRESETS.items():
        height, columns = weights.shape
        stdout.write(f"{slug:<{width}}  {height}×{columns}  {PRESET_NAMES[slug]}\n")
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
    if not arguments or arguments[0] not in ("apply", "presets", "-h", "--help", "--version"):
        # Anything else (nothing, an image, window options) is for the window.
        return _launch_window(arguments)
    try:
        options = parser.parse_args(_attach_negative_kernels(arguments))
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        if options.command == "presets":
            return _list_presets(sys.stdout)
        return run_apply(options, sys.stderr)
    except CommandError as error:
        _report(sys.stderr, f"{PROG}: error: {error}")
        return error.status
    except KeyboardInterrupt:
        _report(sys.stderr, f"{PROG}: interrupted")
        return 130
