"""The window's file dialogs: where they open, what name they suggest, what they remember.

Each export suggests its own name (``coffee-sharpen.png``, ``coffee-sharpen.tif``,
``coffee-sharpen-views.png``, ``sharpen.json``, ``coffee-recipe.json``) in the
folder last saved to, else the image's own folder. The sample images live inside
the installed program and a restored copy has no folder at all, so those go to
the person's Pictures folder instead: nothing is ever offered inside the install.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from kernelstudio.app.custom_presets import preset_slug
from kernelstudio.app.stored_state import StoredState
from kernelstudio.imageio import READ_EXTENSIONS
from kernelstudio.samples import RESOURCES_DIR

log = logging.getLogger(__name__)

MAX_RECENT_FILES = 10
"""How many opened files the Open Recent menu lists."""
RECENT_KEY = "files/recent"
OPEN_FOLDER_KEY = "files/lastFolder"
"""Setting: the folder of the file last opened or saved, where open dialogs start."""
SAVE_FOLDER_KEY = "files/saveFolder"
"""Setting: the folder last saved to, where save dialogs start."""

IMAGE_FILTER = "Images ({})".format(" ".join(f"*{ext}" for ext in READ_EXTENSIONS))
EXPORT_FILTERS = {
    ".png": "PNG image (*.png)",
    ".jpg": "JPEG image (*.jpg *.jpeg)",
    ".tif": "TIFF image (*.tif *.tiff)",
    ".bmp": "BMP image (*.bmp)",
    ".webp": "WebP image (*.webp)",
}
KERNEL_FILTER = "Kernel files (*.json)"
RECIPE_FILTER = "Recipe files (*.json)"
ALL_FILES = "All files (*)"

SAVE_KINDS: dict[str, tuple[str, str, list[str]]] = {
    "result": ("Export Result", ".png", list(EXPORT_FILTERS.values())),
    "float": ("Export Exact Result", ".tif", [EXPORT_FILTERS[".tif"]]),
    "views": ("Export All Views", ".png", list(EXPORT_FILTERS.values())),
    "kernel": ("Export Kernel", ".json", [KERNEL_FILTER]),
    "recipe": ("Export Recipe", ".json", [RECIPE_FILTER]),
    "script": ("Save Code", ".py", ["Python scripts (*.py)"]),
    "command": ("Save Code", ".sh", ["Shell scripts (*.sh)"]),
}
"""What can be saved: its dialog's title, the suffix added when none is typed, its filters."""

Chooser = Callable[[str, str, str, str], str]
"""``chooser(mode, title, start, filters) -> path``: ``mode`` is ``"open"`` or ``"save"``,
``start`` the suggested file or folder, ``filters`` Qt's ``;;``-joined list; ``""`` is cancel."""

_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def pictures_folder() -> Path:
    """Return the person's Pictures folder, or their home folder when there is none."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    pictures = Path(location) if location else None
    return pictures if pictures is not None and pictures.is_dir() else Path.home()


def suggested_path(
    kind: str,
    *,
    image_name: str,
    image_path: Path | None,
    stage_label: str,
    folder: Path | None,
    sample_folder: Path = RESOURCES_DIR,
    fallback_folder: Path | None = None,
) -> Path:
    """Return the file a save dialog for `kind` suggests.

    Parameters
    ----------
    kind : {"result", "float", "views", "kernel", "recipe", "script", "command"}
        What is saved: the result as shown, the exact float result, all the
        views in one picture, the selected stage's kernel, the whole recipe,
        or the recipe as a Python script or a shell command (Copy as Code).
    image_name : str
        The open image's name (``"coffee.png"``), or ``""`` when there is none.
    image_path : pathlib.Path or None
        Where the image was read from; ``None`` for a copy with no file of its
        own (a restored session's, the tutorial's).
    stage_label : str
        What the selected stage is called: a preset's slug (``"sharpen"``), a
        saved preset's name, or ``""`` for a kernel of one's own.
    folder : pathlib.Path or None
        The folder last saved to, if any.
    sample_folder : pathlib.Path
        The installed sample images' folder, never offered.
    fallback_folder : pathlib.Path, optional
        Where to save when neither `folder` nor the image's folder will do;
        by default :func:`pictures_folder`.

    Returns
    -------
    pathlib.Path
        ``IMAGE-LABEL.png`` (result), ``IMAGE-LABEL.tif`` (float),
        ``IMAGE-LABEL-views.png`` (views), ``LABEL.json`` (kernel),
        ``IMAGE-recipe.json`` (recipe), ``IMAGE-LABEL.py`` (script) or
        ``IMAGE-LABEL.sh`` (command), where a missing label reads ``kernel``
        and a missing image ``result`` (a recipe without an image is named
        after the label, else ``recipe.json``); labels are written as saved
        presets' slugs (:func:`~kernelstudio.app.custom_presets.preset_slug`).
        The folder is the first of `folder`, the image's folder and
        `fallback_folder` that is an existing folder outside `sample_folder`.

    Raises
    ------
    ValueError
        If `kind` is not one of the kinds above.
    """
    if kind not in SAVE_KINDS:
        raise ValueError(f"cannot suggest a name to save {kind!r}; kinds: {', '.join(SAVE_KINDS)}")
    image = _safe_stem(Path(image_name).stem) if image_name else ""
    label = preset_slug(stage_label)  # "kernel" for a kernel of one's own
    recipe = image or (label if stage_label.strip() else "")
    names = {
        "result": f"{image or 'result'}-{label}.png",
        "float": f"{image or 'result'}-{label}.tif",
        "views": f"{image or 'result'}-{label}-views.png",
        "kernel": f"{label}.json",
        "recipe": f"{recipe}-recipe.json" if recipe else "recipe.json",
        "script": f"{image or 'result'}-{label}.py",
        "command": f"{image or 'result'}-{label}.sh",
    }
    image_folder = image_path.parent if image_path is not None else None
    for candidate in (folder, image_folder):
        if candidate is not None and _usable(candidate, sample_folder):
            return candidate / names[kind]
    return (fallback_folder or pictures_folder()) / names[kind]


class FileDialogs:
    """The open and save dialogs of a window, and the folders and files they remember.

    Parameters
    ----------
    parent : QWidget or None
        The window the dialogs belong to.
    store : QSettings
        Where the recent files and folders are kept; bad stored values are
        reset as they are read, and said in :attr:`problems`.
    chooser : Chooser, optional
        Asks for a file; by default Qt's file dialogs. Tests pass their own.
    sample_folder : pathlib.Path
        The installed sample images' folder, never offered or remembered.
    """

    def __init__(
        self,
        parent: QWidget | None,
        store: QSettings,
        *,
        chooser: Chooser | None = None,
        sample_folder: Path = RESOURCES_DIR,
    ) -> None:
        self._parent = parent
        self._store = store
        self._chooser = chooser or self._ask_qt
        self._sample_folder = sample_folder
        self.problems: list[str] = []
        """Sentences for stored values that were unusable and reset, for the window to say."""
        # Read everything now, so a bad stored value is reset and said at start.
        self.recent_files()
        self._stored_folder(OPEN_FOLDER_KEY)
        self._stored_folder(SAVE_FOLDER_KEY)

    @property
    def last_folder(self) -> Path:
        """Where open dialogs start: the folder last opened from or saved to, else Pictures."""
        return self._stored_folder(OPEN_FOLDER_KEY) or pictures_folder()

    @property
    def save_folder(self) -> Path | None:
        """The folder last saved to, if it still exists."""
        return self._stored_folder(SAVE_FOLDER_KEY)

    def remember(self, path: str | os.PathLike[str]) -> None:
        """Put the opened file `path` first in the recent files; open dialogs start by it.

        A sample image joins the recent files, but its folder inside the
        install is never where a dialog starts.
        """
        opened = Path(path).resolve()
        recent = [str(opened)]
        recent += [name for name in self.recent_files() if name != recent[0]]
        self._store.setValue(RECENT_KEY, recent[:MAX_RECENT_FILES])
        if _usable(opened.parent, self._sample_folder):
            self._store.setValue(OPEN_FOLDER_KEY, str(opened.parent))

    def recent_files(self) -> list[str]:
        """Return the files opened last, newest first, at most :data:`MAX_RECENT_FILES`."""
        stored = StoredState(self._store)
        recent = stored.text_list(RECENT_KEY, max_items=MAX_RECENT_FILES)
        self.problems += stored.problems
        return recent

    def ask_open_image(self) -> Path | None:
        """Ask for an image to open; ``None`` if the person cancels."""
        return self._ask_open("Open Image", IMAGE_FILTER)

    def ask_open_kernel(self) -> Path | None:
        """Ask for a kernel file to import; ``None`` if the person cancels."""
        return self._ask_open("Import Kernel", KERNEL_FILTER)

    def ask_open_recipe(self) -> Path | None:
        """Ask for a recipe file to import; ``None`` if the person cancels."""
        return self._ask_open("Import Recipe", RECIPE_FILTER)

    def ask_save(
        self, kind: str, image_name: str, image_path: Path | None, stage_label: str
    ) -> Path | None:
        """Ask where to save `kind`, suggesting :func:`suggested_path`'s file.

        A name typed without a suffix gets the kind's (``.png``, ``.tif``,
        ``.json``); the chosen folder is where the next save and open start.

        Parameters
        ----------
        kind, image_name, image_path, stage_label
            As for :func:`suggested_path`.

        Returns
        -------
        pathlib.Path or None
            The file to write, or ``None`` if the person cancels.

        Raises
        ------
        ValueError
            If `kind` is not one of :data:`SAVE_KINDS`.
        """
        suggestion = suggested_path(
            kind,
            image_name=image_name,
            image_path=image_path,
            stage_label=stage_label,
            folder=self.save_folder,
            sample_folder=self._sample_folder,
        )
        title, suffix, filters = SAVE_KINDS[kind]
        chosen = self._chooser("save", title, str(suggestion), ";;".join(filters))
        if not chosen:
            return None
        target = Path(chosen)
        if not target.suffix:
            target = target.with_name(target.name + suffix)
        self._store.setValue(SAVE_FOLDER_KEY, str(target.parent))
        self._store.setValue(OPEN_FOLDER_KEY, str(target.parent))
        return target

    def _ask_open(self, title: str, file_filter: str) -> Path | None:
        chosen = self._chooser("open", title, str(self.last_folder), f"{file_filter};;{ALL_FILES}")
        if not chosen:
            return None
        path = Path(chosen)
        if _usable(path.parent, self._sample_folder):
            self._store.setValue(OPEN_FOLDER_KEY, str(path.parent))
        return path

    def _ask_qt(self, mode: str, title: str, start: str, filters: str) -> str:
        ask = QFileDialog.getSaveFileName if mode == "save" else QFileDialog.getOpenFileName
        chosen, _ = ask(self._parent, title, start, filters)
        return chosen

    def _stored_folder(self, key: str) -> Path | None:
        stored = StoredState(self._store)
        text = stored.text(key, "")
        self.problems += stored.problems
        if not text:
            return None
        folder = Path(text)
        if not folder.is_absolute() or _inside(folder, self._sample_folder):
            # Older versions remembered the samples' folder inside the install.
            log.info("forgetting the setting %s: %s is not a place to save to", key, folder)
            self._store.remove(key)
            return None
        return folder if folder.is_dir() else None


def _usable(folder: Path, sample_folder: Path) -> bool:
    return folder.is_absolute() and folder.is_dir() and not _inside(folder, sample_folder)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(os.path.normcase(path.resolve())).is_relative_to(
            os.path.normcase(folder.resolve())
        )
    except (OSError, RuntimeError, ValueError):  # a loop of links, a bad name: not inside
        return False


def _safe_stem(stem: str) -> str:
    # A file name people can keep: no separators or characters Windows refuses.
    return _UNSAFE_IN_NAMES.sub("-", stem).strip(" .-")
