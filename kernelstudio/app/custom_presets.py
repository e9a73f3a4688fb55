"""Kernels a person saved under a name, kept as kernel files in their config folder."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from kernelstudio.app.stored_state import move_aside
from kernelstudio.kernels import (
    MAX_KERNEL_FILE_BYTES,
    Kernel,
    KernelFileError,
    read_kernel_file,
    write_kernel_file,
)

log = logging.getLogger(__name__)


def _file_stem(name: str) -> str:
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
            If the folder cannot be created or the file cannot be written.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise KernelFileError(f"cannot create '{self.folder}': {error.strerror}") from None
        path = self.folder / f"{_file_stem(kernel.name)}.json"
        write_kernel_file(path, kernel)
        return path


def _parseable_size(path: Path) -> bool:
    # Only a regular file small enough to read was parsed and found bad.
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size <= MAX_KERNEL_FILE_BYTES
