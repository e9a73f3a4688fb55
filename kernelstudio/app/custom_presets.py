"""Kernels a person saved under a name, kept as kernel files in their config folder.

Each preset is one ``SLUG.json`` kernel file, its slug made from its name, so
the command line finds it as ``kernelstudio apply -k SLUG``; renaming a preset
moves its file to the new slug.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from pathlib import Path

from kernelstudio.app.stored_state import move_aside
from kernelstudio.atomic import describe_os_error
from kernelstudio.kernels import (
    MAX_KERNEL_FILE_BYTES,
    Kernel,
    KernelFileError,
    brief,
    read_kernel_file,
    write_kernel_file,
)

log = logging.getLogger(__name__)

MAX_PRESET_NAME = 80
"""The longest preset name accepted, in characters."""


def checked_name(name: object) -> str:
    """Return `name` without surrounding spaces if it can name a preset.

    A name is text of 1 to :data:`MAX_PRESET_NAME` printable characters
    holding at least one letter or digit (its file is named after those).

    Raises
    ------
    KernelFileError
        If it cannot, naming the value.

    Examples
    --------
    >>> checked_name("  Soft edge ")
    'Soft edge'
    >>> checked_name("★")
    Traceback (most recent call last):
    ...
    kernelstudio.kernels.KernelFileError: a preset's name needs a letter or digit; got '★'
    """
    if not isinstance(name, str):
        raise KernelFileError(f"a preset's name is text; got {brief(name)}")
    tidy = name.strip()
    if not tidy:
        raise KernelFileError(f"a preset needs a name; got {brief(name)}")
    if len(tidy) > MAX_PRESET_NAME:
        raise KernelFileError(
            f"a preset's name has at most {MAX_PRESET_NAME} characters; got {brief(name)}"
        )
    if not tidy.isprintable():
        raise KernelFileError(
            f"a preset's name cannot hold line breaks or control characters; got {brief(name)}"
        )
    if not re.search(r"[^\W_]", tidy):
        raise KernelFileError(f"a preset's name needs a letter or digit; got {brief(name)}")
    return tidy


def preset_slug(name: str) -> str:
    """Return the slug a preset called `name` is saved and found under.

    Examples
    --------
    >>> preset_slug("Soft edge!"), preset_slug("monkey/two"), preset_slug("★")
    ('soft-edge', 'monkey-two', 'kernel')
    """
    stem = re.sub(r"[^\w-]+", "-", name.strip().lower()).strip("-")
    return stem or "kernel"


class CustomPresets:
    """The custom presets stored as ``*.json`` kernel files in `folder`.

    Parameters
    ----------
    folder : pathlib.Path
        Where the files live; created on the first save.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_all(self) -> tuple[list[Kernel], list[str]]:
        """Read every preset file.

        Returns
        -------
        tuple of (list of Kernel, list of str)
            The presets, sorted by name, and a sentence for each file that could
            not be used. A regular file that does not parse is moved aside as
            ``NAME.bad``; anything else (a FIFO, a link to a device, a file over
            the size cap) is left alone and skipped without being opened for long.
        """
        kernels, problems = [], []
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError as error:
            return [], [f"the presets folder {self.folder} cannot be read ({error.strerror})"]
        for path in paths:
            try:
                kernels.append(read_kernel_file(path))
            except KernelFileError as error:  # a bad file must not stop the app starting
                log.warning("skipping custom preset %s: %s", path, error)
                moved = move_aside(path) if _parseable_size(path) else None
                kept = f"; it was kept as {moved.name}" if moved is not None else ""
                problems.append(f"the preset file '{path.name}' was skipped: {error}{kept}")
        return sorted(kernels, key=lambda kernel: kernel.name.lower()), problems

    def save(self, kernel: Kernel) -> Path:
        """Store `kernel`, replacing a preset of the same name; return its file.

        Raises
        ------
        KernelFileError
            If the name is not usable (see :func:`checked_name`), the folder
            cannot be created or the file cannot be written.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise KernelFileError(f"cannot create '{self.folder}': {error.strerror}") from None
        path = self.folder / f"{preset_slug(checked_name(kernel.name))}.json"
        write_kernel_file(path, kernel)
        return path

    def rename(self, old_name: str, new_name: str) -> Path:
        """Give the preset `old_name` the name `new_name`; its file moves to the new slug.

        The new file is complete before the old one goes, so a failure leaves
        the preset as it was.

        Returns
        -------
        pathlib.Path
            The preset's file now.

        Raises
        ------
        KernelFileError
            If there is no preset `old_name`, `new_name` is not a usable name
            (see :func:`checked_name`), another preset already has that name or
            its file name, or the files cannot be written or removed.
        """
        old_path, kernel = self._find(old_name)
        name = checked_name(new_name)
        new_path = self.folder / f"{preset_slug(name)}.json"
        moves = os.path.normcase(new_path) != os.path.normcase(old_path)
        for path, other in self._readable():
            if path != old_path and (
                other.name.strip().casefold() == name.casefold()
                or os.path.normcase(path) == os.path.normcase(new_path)
            ):
                raise KernelFileError(
                    f"there is already a preset called {brief(other.name)} ({path.name}); "
                    f"choose another name than {brief(new_name)}"
                )
        if moves and os.path.lexists(new_path):
            raise KernelFileError(
                f"the file '{new_path.name}' is in the way of renaming to {brief(new_name)}"
            )
        renamed = Kernel(name, kernel.weights, kernel.divisor, kernel.offset)
        write_kernel_file(new_path, renamed)
        if moves:
            try:
                os.unlink(old_path)
            except OSError as error:  # keep one preset, not two
                with contextlib.suppress(OSError):
                    os.unlink(new_path)
                reason = describe_os_error(error, saving=True)
                raise KernelFileError(
                    f"cannot rename the preset {brief(old_name)}: {reason}"
                ) from None
        return new_path

    def delete(self, name: str) -> None:
        """Remove the preset called `name` and its file.

        Raises
        ------
        KernelFileError
            If there is no such preset or its file cannot be removed.
        """
        path, _ = self._find(name)
        try:
            os.unlink(path)
        except OSError as error:
            reason = describe_os_error(error, saving=True)
            raise KernelFileError(f"cannot delete the preset {brief(name)}: {reason}") from None

    def _find(self, name: object) -> tuple[Path, Kernel]:
        # The file the window would have saved it in first, then any file of that name.
        if isinstance(name, str):
            usual = self.folder / f"{preset_slug(name)}.json"
            found = sorted(self._readable(), key=lambda item: item[0] != usual)
            for path, kernel in found:
                if kernel.name == name:
                    return path, kernel
        raise KernelFileError(f"there is no preset called {brief(name)}")

    def _readable(self) -> list[tuple[Path, Kernel]]:
        # Every preset file that parses now; bad ones are load_all's to report.
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return []
        presets = []
        for path in paths:
            with contextlib.suppress(KernelFileError):
                presets.append((path, read_kernel_file(path)))
        return presets


def _parseable_size(path: Path) -> bool:
    # Only a regular file small enough to read was parsed and found bad.
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size <= MAX_KERNEL_FILE_BYTES
