"""A corpus of good and bad image files, generated on demand for the bad-input tests.

Every file is written with OpenCV, Pillow or by hand (struct and zlib), never
with kernelstudio. Each good case carries the pixels `load_image` must return,
worked out from what was written: R, G, B order, alpha dropped, palette looked
up, EXIF orientation applied. Each bad case carries words its message must hold.
"""

from __future__ import annotations

import builtins
import errno
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image
from scipy import ndimage

IDENTITY = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
NOT_AN_IMAGE = "it is not a PNG, JPEG, TIFF, BMP, WebP, GIF, PNM or JPEG 2000 image"
HUGE_SIDE = 30_000
TOO_LARGE = f"{HUGE_SIDE} × {HUGE_SIDE} = 900,000,000 pixels is more than the limit of 200,000,000"

GOOD_NAMES = (
    "rgb-1x1",
    "rgb-2x2",
    "rgb16-png",
    "grey16-tiff",
    "float-tiff",
    "grey",
    "grey-alpha",
    "rgba",
    "palette",
    "cmyk-jpeg",
    "exif-rotated-jpeg",
    "non-ascii-path",
    "space-path",
)
BAD_NAMES = (
    "empty",
    "truncated-png",
    "truncated-jpeg",
    "truncated-tiff",
    "truncated-tiff-data",
    "random-bytes",
    "text-file",
    "folder",
    "missing",
    "unreadable",
    "huge-png",
)
CASE_NAMES = GOOD_NAMES + BAD_NAMES
TINY_NAMES = ("rgb-1x1", "rgb-2x2")  # smaller than the 3×3 identity kernel


@dataclass(frozen=True)
class Case:
    """One corpus file: `pixels` when it must load, else `reason` for its message."""

    name: str
    path: Path
    pixels: np.ndarray | None = None
    alpha: np.ndarray | None = None  # the stored alpha, which load_image(alpha=True) keeps
    tolerance: int = 0  # lossy JPEG only
    reason: str = ""
    unreadable: bool = False

    @property
    def good(self) -> bool:
        return self.pixels is not None

    @property
    def smaller_than_kernel(self) -> bool:
        return self.good and min(self.pixels.shape[:2]) < IDENTITY.shape[0]


def build_corpus(folder: Path) -> dict[str, Case]:
    """Write every case into `folder` and return the cases by name."""
    non_ascii = folder / "dossier été" / "фото 写真.png"
    cases = [
        _good_with_cv2("rgb-1x1", folder / "tiny-1x1.png", _random((1, 1, 3), np.uint8, 1)),
        _good_with_cv2("rgb-2x2", folder / "tiny-2x2.png", _random((2, 2, 3), np.uint8, 2)),
        _good_with_cv2("rgb16-png", folder / "deep.png", _random((9, 13, 3), np.uint16, 3)),
        _good_with_cv2("grey16-tiff", folder / "deep-grey.tif", _random((9, 13), np.uint16, 4)),
        _good_with_cv2("float-tiff", folder / "float.tif", _random((9, 13, 3), np.float32, 5)),
        _good_with_cv2("grey", folder / "grey.png", _random((9, 13), np.uint8, 6)),
        _good_with_cv2("non-ascii-path", non_ascii, _random((7, 5, 3), np.uint8, 7)),
        _good_with_cv2("space-path", folder / "two words.png", _random((6, 8, 3), np.uint8, 8)),
        _grey_alpha(folder / "grey-alpha.png"),
        _rgba(folder / "rgba.png"),
        _palette(folder / "palette.png"),
        _cmyk_jpeg(folder / "cmyk.jpg"),
        _exif_rotated_jpeg(folder / "rotated.jpg"),
        *_bad_cases(folder),
    ]
    assert sorted(case.name for case in cases) == sorted(CASE_NAMES)
    by_name = {case.name: case for case in cases}
    return {name: by_name[name] for name in CASE_NAMES}


def _random(shape: tuple[int, ...], dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape, dtype=np.float32)  # 0..1: what float files hold by convention
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def _blocky(height: int, width: int, seed: int) -> np.ndarray:
    """Colours constant over 8×8 blocks, so a quality-100 JPEG is within ±1 of them."""
    blocks = _random((height // 8, width // 8, 3), np.uint8, seed)
    return np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _cv2_bytes(suffix: str, pixels: np.ndarray) -> bytes:
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    encoded, data = cv2.imencode(suffix, bgr)
    assert encoded, f"OpenCV could not encode {suffix}"
    return data.tobytes()


def _good_with_cv2(name: str, path: Path, pixels: np.ndarray) -> Case:
    _write_bytes(path, _cv2_bytes(path.suffix, pixels))
    return Case(name, path, pixels)


def _saved_with_pillow(path: Path, image: Image.Image, mode: str, **options: object) -> Path:
    image.save(path, **options)
    with Image.open(path) as written:
        assert written.mode == mode, f"{path.name} is {written.mode}, not {mode}"
    return path


def _grey_alpha(path: Path) -> Case:
    grey_alpha = _random((6, 9, 2), np.uint8, 9)
    _saved_with_pillow(path, Image.fromarray(grey_alpha, "LA"), "LA")
    return Case("grey-alpha", path, grey_alpha[..., 0].copy(), alpha=grey_alpha[..., 1].copy())


def _rgba(path: Path) -> Case:
    rgba = _random((6, 9, 4), np.uint8, 10)
    rgba[0, :, 3] = 0  # fully transparent pixels keep their stored colour
    _saved_with_pillow(path, Image.fromarray(rgba, "RGBA"), "RGBA")
    return Case("rgba", path, rgba[..., :3].copy(), alpha=rgba[..., 3].copy())


def _palette(path: Path) -> Case:
    palette = _random((16, 3), np.uint8, 11)
    indices = _random((7, 10), np.uint8, 12) % 16
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.ravel().tolist())
    _saved_with_pillow(path, image, "P")
    return Case("palette", path, palette[indices])


def _cmyk_jpeg(path: Path) -> Case:
    rgb = _blocky(16, 24, 13)
    # Pillow's RGB→CMYK keeps K = 0 and C = 255 − R, so any CMYK reader gets rgb back.
    _saved_with_pillow(path, Image.fromarray(rgb).convert("CMYK"), "CMYK", quality=100)
    return Case("cmyk-jpeg", path, rgb, tolerance=1)


def _exif_rotated_jpeg(path: Path) -> Case:
    stored = _blocky(16, 32, 14)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown rotated 90° clockwise
    _saved_with_pillow(path, Image.fromarray(stored), "RGB", quality=100, subsampling=0, exif=exif)
    return Case("exif-rotated-jpeg", path, np.rot90(stored, k=-1).copy(), tolerance=1)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A valid-looking 8-bit RGB PNG whose header claims `width` × `height` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    one_row = bytes(1 + 3 * width)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(one_row))
        + _png_chunk(b"IEND", b"")
    )


def _cut(data: bytes) -> bytes:
    return data[: len(data) * 6 // 10]


def _bad_cases(folder: Path) -> list[Case]:
    rgb = _random((48, 64, 3), np.uint8, 15)
    pillow_tiff = folder / "whole.tif"
    Image.fromarray(rgb).save(pillow_tiff)  # Pillow puts the TIFF directory first
    truncated = "the file is incomplete (truncated)"
    files = {
        "empty": ("empty.png", b"", "the file is empty"),
        "truncated-png": ("cut.png", _cut(_cv2_bytes(".png", rgb)), truncated),
        "truncated-jpeg": ("cut.jpg", _cut(_cv2_bytes(".jpg", rgb)), truncated),
        # OpenCV puts the TIFF directory last, so the cut takes it away.
        "truncated-tiff": (
            "cut.tif",
            _cut(_cv2_bytes(".tif", rgb)),
            "the TIFF header is damaged or incomplete",
        ),
        "truncated-tiff-data": (
            "cut-data.tif",
            _cut(pillow_tiff.read_bytes()),
            truncated,
        ),
        "random-bytes": ("noise.jpg", np.random.default_rng(16).bytes(4096), NOT_AN_IMAGE),
        "text-file": ("notes.txt", b"Not an image.\n", NOT_AN_IMAGE),
        "huge-png": ("huge.png", _png_claiming(HUGE_SIDE, HUGE_SIDE), TOO_LARGE),
    }
    pillow_tiff.unlink()
    locked = _write_bytes(folder / "locked.png", _cv2_bytes(".png", rgb))
    locked.chmod(0)
    a_folder = folder / "a folder.png"
    a_folder.mkdir()
    return [
        *(
            Case(name, _write_bytes(folder / file_name, data), reason=reason)
            for name, (file_name, data, reason) in files.items()
        ),
        Case("unreadable", locked, reason="permission denied", unreadable=True),
        Case("folder", a_folder, reason="is a folder"),
        Case("missing", folder / "gone.png", reason="the file does not exist"),
    ]


def reading_is_simulated(case: Case) -> bool:
    """Whether `case` is the chmod-000 file and this process may read it anyway (root)."""
    return case.unreadable and os.access(case.path, os.R_OK)


def deny_reading(monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    """Make the chmod-000 case unreadable to this process even when it runs as root.

    Root (or any holder of CAP_DAC_OVERRIDE) reads a mode-000 file, so for that
    one path `open` is patched to fail as the kernel would for anyone else.
    Every other case and every other path is left alone.
    """
    if not reading_is_simulated(case):
        return
    locked = os.fspath(case.path)
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, str | bytes | os.PathLike) and os.fsdecode(file) == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), locked)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)


def white_level(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if np.dtype(dtype).kind in "iu" else 1.0


def identity_oracle(pixels: np.ndarray) -> np.ndarray:
    """scipy's identity correlation per channel (mirror border), in float64."""
    values = np.asarray(pixels, dtype=np.float64)
    if values.ndim == 2:
        return ndimage.correlate(values, IDENTITY, mode="mirror")
    return np.dstack([identity_oracle(values[..., c]) for c in range(values.shape[2])])


def identity_output8(case: Case) -> tuple[np.ndarray, int]:
    """The 8-bit result of the identity kernel, alpha kept, and the error allowed against it."""
    white = white_level(case.pixels.dtype)
    expected = np.clip(np.rint(identity_oracle(case.pixels) * (255 / white)), 0, 255)
    if case.alpha is not None:
        alpha = np.clip(np.rint(case.alpha * (255 / white)), 0, 255)
        expected = np.concatenate([np.atleast_3d(expected), alpha[..., None]], axis=-1)
    # For uint16 and float the product scales in float32 and rounds half up, rint half to
    # even, so a value near a tie may land one step away.
    rounding = 0 if case.pixels.dtype == np.uint8 else 1
    return expected.astype(np.uint8), case.tolerance + rounding


def largest_error(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape, f"shape {actual.shape}, expected {expected.shape}"
    return float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
