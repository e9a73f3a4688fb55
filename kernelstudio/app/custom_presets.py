"""Kernels a person saved under a name, kept as kernel files in their config folder."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from kernelstudio.kernels import Kernel, KernelFileError, read_kernel_file, write_kernel_file

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

    def load_all(self) -> list[Kernel]:
        """Return every readable preset, sorted by name; unreadable files are skipped."""
        kernels = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                kernels.append(read_kernel_file(path))
            except KernelFileError as error:  # a bad file must not stop the app starting
                log.warning("skipping custom preset %s: %s", path, error)
        return sorted(kernels, key=lambda kernel: kernel.name.lower())

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
