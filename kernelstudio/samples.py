"""The sample images shipped in ``resources/``, used when no image is given."""

from __future__ import annotations

from pathlib import Path


def _resources_dir() -> Path:
    # Installed wheels and bundles carry resources/ inside the package; a source
    # checkout (and an editable install) keeps it at the top of the repository.
    package = Path(__file__).resolve().parent
    packaged = package / "resources"
    return packaged if packaged.is_dir() else package.parent / "resources"


RESOURCES_DIR = _resources_dir()
"""Folder holding the sample images and the application icon."""

SAMPLE_IMAGES: dict[str, str] = {
    "coffee": "coffee.png",
    "astronaut": "astronaut.png",
}
"""File names of the sample images, by short name; the first is the default."""

DEFAULT_SAMPLE = next(iter(SAMPLE_IMAGES))
ICON_PATH = RESOURCES_DIR / "icon.svg"


def sample_image_path(name: str = DEFAULT_SAMPLE) -> Path:
    """Return the path of the sample image called `name`.

    Raises
    ------
    KeyError
        If there is no sample of that name.
    """
    if name not in SAMPLE_IMAGES:
        raise KeyError(f"no sample image {name!r}; choose one of: {', '.join(SAMPLE_IMAGES)}")
    return RESOURCES_DIR / SAMPLE_IMAGES[name]
