"""Read and write image files: OpenCV decodes and encodes, Pillow reads headers.

`load_image` turns a file into a NumPy array (RGB or grey, with alpha if asked,
EXIF orientation applied) after checking its pixel count against a cap read from the
header alone, so a small file that claims a huge canvas is refused before any
pixel memory is allocated. `save_image` encodes in memory and replaces the
target atomically, so a failed save never leaves a partial file behind.

Every failure surfaces as `ImageLoadError` or `ImageSaveError`, whose message
is one sentence naming the file, fit to show a user as it is. Running out of
memory while loading raises `ImageMemoryError`, an `ImageLoadError` that is also
a `MemoryError`, so a caller can tell a large image from a damaged file.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import struct
import threading
import zlib
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

import cv2
import numpy as np
from PIL import (
    BmpImagePlugin,
    ExifTags,
    GifImagePlugin,
    Image,
    ImageFile,
    Jpeg2KImagePlugin,
    JpegImagePlugin,
    PngImagePlugin,
    PpmImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from kernelstudio.atomic import describe_os_error, write_atomically

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "READ_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "ImageLoadError",
    "ImageMemoryError",
    "ImageSaveError",
    "encode_image",
    "image_size",
    "load_image",
    "save_image",
]

DEFAULT_MAX_PIXELS: int = 200_000_000
"""Largest width × height `load_image` decodes unless told otherwise."""

READ_EXTENSIONS: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".bmp",
    ".webp",
    ".gif",
    ".pbm",
    ".pgm",
    ".ppm",
    ".pnm",
    ".jp2",
    ".j2k",
)
"""File name extensions `load_image` reads (for file dialogs; content decides)."""

WRITE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
"""File name extensions `save_image` writes; the extension picks the format."""

_READABLE_FORMATS = "PNG, JPEG, TIFF, BMP, WebP, GIF, PNM or JPEG 2000"

# Pillow's readers, by format. The plugin classes are used rather than
# `Image.open`, which applies Pillow's global decompression-bomb limit (an error
# above 179 MP, below our 200 MP default, and a warning above half that) where
# `load_image` applies its own `max_pixels`. Pillow reads every header but the
# WebP and TIFF ones (see _read_header), and tells why OpenCV refused a file.
_PILLOW_READERS: dict[str, type[ImageFile.ImageFile]] = {
    "PNG": PngImagePlugin.PngImageFile,
    "JPEG": JpegImagePlugin.JpegImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
    "WebP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
    "GIF": GifImagePlugin.GifImageFile,
    "PNM": PpmImagePlugin.PpmImageFile,
    "JPEG 2000": Jpeg2KImagePlugin.Jpeg2KImageFile,
}
# Bytes per sample of Pillow modes wider than 8 bits.
_MODE_SAMPLE_BYTES = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
)
_PNM_SIGNATURE = re.compile(rb"P[1-6]\s")

# A JPEG marker: 0xFF then a code that is neither a stuffed 0x00 nor fill 0xFF.
_JPEG_MARKER = re.compile(rb"\xff([\x01-\xfe])")
_JPEG_EOI = 0xD9
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})

_OPENCV_OUT_OF_MEMORY = re.compile(r"insufficient memory|failed to allocate|out of memory", re.I)

# Format name and the dtypes it can hold, by extension.
_WRITERS: dict[str, tuple[str, tuple[type[np.generic], ...]]] = {
    ".png": ("PNG", (np.uint8, np.uint16)),
    ".jpg": ("JPEG", (np.uint8,)),
    ".jpeg": ("JPEG", (np.uint8,)),
    ".tif": ("TIFF", (np.uint8, np.uint16, np.float32)),
    ".tiff": ("TIFF", (np.uint8, np.uint16, np.float32)),
    ".bmp": ("BMP", (np.uint8,)),
    ".webp": ("WebP", (np.uint8,)),
}
_ALPHA_WRITERS = ("PNG", "TIFF", "WebP")
_QUALITY_FLAGS = {"JPEG": cv2.IMWRITE_JPEG_QUALITY, "WebP": cv2.IMWRITE_WEBP_QUALITY}


class ImageLoadError(Exception):
    """An image file could not be loaded; ``str(error)`` is a sentence naming the file."""


class ImageMemoryError(ImageLoadError, MemoryError):
    """There was not enough memory to load an image; the file itself may be sound."""


class ImageSaveError(Exception):
    """An image could not be saved; ``str(error)`` is a sentence naming the file."""


class _Header(NamedTuple):
    kind: str
    width: int
    height: int
    grey: bool
    sample_bytes: int = 1  # of the decoded array, to say how much memory it takes
    alpha: bool = False  # the file stores transparency (an alpha channel or a tRNS chunk)
    grey_transparent: int | None = None  # the grey PNG value its tRNS chunk makes transparent


def load_image(
    path: str | os.PathLike[str], *, alpha: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Read an image file into a new RGB or greyscale array, with alpha if asked.

    The format is recognised from the file's content, not its extension; see
    `READ_EXTENSIONS`. The width and height are read from the header first, and
    the file is refused before decoding if it has more than `max_pixels` pixels.

    Parameters
    ----------
    path : str or os.PathLike
        The image file. Any file name works, including spaces and non-ASCII
        characters.
    alpha : bool, optional
        False (the default) drops an alpha channel (see Notes). True keeps it:
        a file with transparency (alpha, or a PNG tRNS chunk) comes back with
        alpha as its last channel, in the dtype and scale of the colour; a
        file without comes back exactly as with False.
    max_pixels : int, optional
        Largest accepted ``width * height``; `DEFAULT_MAX_PIXELS` (200 MP) by
        default. It bounds memory: decoding needs about ``3 * max_pixels``
        bytes for 8-bit colour, twice that for 16-bit. OpenCV itself refuses
        images over 2**30 pixels whatever this says.

    Returns
    -------
    numpy.ndarray
        A C-contiguous, writeable array that the caller owns: ``H×W×3`` with
        channels in R, G, B order for colour files (palette, CMYK and YCbCr
        files included), ``H×W`` for greyscale files; with `alpha` and a
        transparent file, ``H×W×4`` (R, G, B, alpha; palette PNGs with tRNS
        too) or ``H×W×2`` (grey, alpha). The dtype is ``uint8``
        for 8-bit (and 1-bit) files, ``uint16`` for 16-bit files and
        ``float32`` for floating-point files; the rare signed or 32-bit integer
        TIFFs also come back as ``float32``.

    Raises
    ------
    ImageLoadError
        If the file is missing, a folder or other non-regular file (a FIFO, a
        device), empty, unreadable, not an image in a readable format,
        truncated, damaged, or larger than `max_pixels`.
    ImageMemoryError
        If memory ran out while reading or decoding; a subclass of both
        `ImageLoadError` and `MemoryError`, whose message gives the image's
        size and about how much memory it needs.
    ValueError
        If `max_pixels` is not a positive integer.

    Notes
    -----
    Without `alpha`, an alpha channel is dropped, not composited: RGBA becomes
    RGB and grey with alpha becomes grey, keeping the stored colour of
    transparent pixels. The exception is 8-bit TIFF with unassociated alpha,
    which libtiff (through OpenCV) hands over premultiplied, that is composited
    on black. With `alpha`, every value comes back as stored, TIFF included.
    Alpha is read from PNG, TIFF, WebP and JPEG 2000; the transparency of GIF
    and BMP files is not, and they load as without `alpha`. The
    EXIF orientation (JPEG, PNG, TIFF, WebP) is applied, so a portrait photo
    stored sideways comes back upright. An animated GIF or multi-page TIFF
    gives its first image.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "tiny.png"
    >>> save_image(path, np.array([[0, 64], [128, 255]], dtype=np.uint8))
    >>> load_image(path)
    array([[  0,  64],
           [128, 255]], dtype=uint8)
    >>> folder.cleanup()
    """
    if not _is_integer(max_pixels) or max_pixels <= 0:
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    path, name = _path_and_name(path)
    with _opened(path, name) as stream:
        header = _read_header(stream, name)
        if header.width * header.height > max_pixels:
            raise _load_error(name, _too_large(header.width, header.height, max_pixels))
        with _memory_guard(header, name):
            stream.seek(0)
            data = stream.read()
    with _memory_guard(header, name):
        _check_complete(header.kind, data, name)
        return _decode(data, header, name, alpha)


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Return the ``(width, height)`` of an image file, reading its header only.

    This is how `load_image` checks its pixel cap, and it is cheap whatever the
    file claims: no pixel data is read or decoded.

    Parameters
    ----------
    path : str or os.PathLike
        The image file.

    Returns
    -------
    tuple of int
        Width and height as stored, before any EXIF orientation: a photo with
        orientation 6 or 8 loads with the two swapped.

    Raises
    ------
    ImageLoadError
        If the file is missing, a folder, empty, unreadable, or its header is
        not that of an image in a readable format.
    """
    path, name = _path_and_name(path)
    with _opened(path, name) as stream:
        header = _read_header(stream, name)
    return header.width, header.height


def save_image(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    quality: int = 95,
    overwrite: bool = True,
) -> None:
    """Write `image` to `path` in the format named by the path's extension.

    The file is encoded in memory (see `encode_image`), written to a hidden
    temporary file in the same folder, flushed to disk and then renamed over
    `path`; if anything fails, the temporary file is removed and an existing
    `path` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its extension (any case) is one of `WRITE_EXTENSIONS`.
    image : numpy.ndarray
        ``H×W`` (grey), ``H×W×2`` (grey, alpha), ``H×W×3`` (R, G, B) or
        ``H×W×4`` (R, G, B, alpha) pixels. ``uint8`` suits every format,
        ``uint16`` also PNG and TIFF, ``float32`` TIFF only (stored as
        floating-point TIFF, so values read back exactly). Only PNG, TIFF and
        WebP keep alpha.
    quality : int, optional
        JPEG and WebP quality from 1 (smallest file) to 100 (best); ignored by
        the lossless formats.
    overwrite : bool, optional
        True (the default) replaces an existing file. False never replaces
        one, not even a file that appears while this one is written.

    Raises
    ------
    ImageSaveError
        If the extension is not supported, the array's shape or dtype does not
        suit the format (alpha for JPEG or BMP), encoding fails, the file
        exists and `overwrite` is False, or the file cannot be written
        (missing folder, permission denied, disk full, ...). Nothing is
        written then.
    ValueError
        If `quality` is not an integer from 1 to 100.

    Notes
    -----
    WebP has no greyscale mode: a grey image is stored as three equal channels
    and loads back as ``H×W×3``, grey with alpha as ``H×W×4``. WebP is lossy
    at every `quality`, alpha included in principle, though libwebp codes alpha
    losslessly by default; the colour of fully transparent pixels may change.
    PNG and TIFF keep every value, alpha included, exactly.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "red.png"
    >>> red = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> red[..., 0] = 255
    >>> save_image(path, red)
    >>> load_image(path)[0, 0]
    array([255,   0,   0], dtype=uint8)
    >>> half_seen = np.dstack([red, np.full((2, 3), 128, np.uint8)])
    >>> save_image(path, half_seen)
    >>> load_image(path, alpha=True)[0, 0]
    array([255,   0,   0, 128], dtype=uint8)
    >>> folder.cleanup()
    """
    _check_quality(quality)
    path, name = _path_and_name(path)
    extension = os.path.splitext(path)[1].lower()
    subject = f"save '{name}'"
    encoded = _encode_checked(image, extension, quality, subject)
    _write_atomically(path, encoded, name, overwrite)


def encode_image(image: np.ndarray, extension: str, *, quality: int = 95) -> bytes:
    """Return the bytes of the file `save_image` would write for `image`.

    Parameters
    ----------
    image : numpy.ndarray
        Pixels as `save_image` takes them.
    extension : str
        One of `WRITE_EXTENSIONS` (any case), naming the format; the leading
        dot may be left out.
    quality : int, optional
        JPEG and WebP quality from 1 to 100.

    Returns
    -------
    bytes
        The complete file.

    Raises
    ------
    ImageSaveError
        If the extension is not supported, the array does not suit the format,
        or encoding fails.
    ValueError
        If `quality` is not an integer from 1 to 100.

    Examples
    --------
    >>> encode_image(np.zeros((2, 2), np.uint8), "png")[1:4]
    b'PNG'
    """
    _check_quality(quality)
    extension = extension.lower()
    if extension and not extension.startswith("."):
        extension = "." + extension
    subject = f"encode a '{extension}' image" if extension else "encode an image"
    return bytes(_encode_checked(image, extension, quality, subject))


def _check_quality(quality: object) -> None:
    if not _is_integer(quality) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an integer from 1 to 100, got {quality!r}")


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _path_and_name(path: str | os.PathLike[str]) -> tuple[str, str]:
    text = os.fsdecode(path)
    return text, os.path.basename(os.path.normpath(text)) or text


def _load_error(name: str, reason: str) -> ImageLoadError:
    return ImageLoadError(f"Cannot open '{name}': {reason}.")


def _save_error(name: str, reason: str) -> ImageSaveError:
    return ImageSaveError(f"Cannot save '{name}': {reason}.")


def _too_large(width: int, height: int, max_pixels: int) -> str:
    pixels = f"{width} × {height} = {width * height:,} pixels"
    return f"{pixels} is more than the limit of {int(max_pixels):,}"


def _truncated(name: str) -> ImageLoadError:
    return _load_error(name, "the file is incomplete (truncated)")


def _damaged(name: str) -> ImageLoadError:
    return _load_error(name, "the image data is damaged or in a variant OpenCV cannot decode")


@contextlib.contextmanager
def _memory_guard(header: _Header, name: str) -> Iterator[None]:
    """Turn a `MemoryError` into an `ImageMemoryError` giving the size and the need."""
    try:
        yield
    except ImageMemoryError:
        raise
    except MemoryError as error:
        channels = 1 if header.grey else 3
        needed = header.width * header.height * channels * header.sample_bytes
        amount = f"{needed / 1e9:.1f} GB" if needed >= 1e8 else f"{max(needed / 1e6, 1):.0f} MB"
        reason = (
            f"not enough memory to open a {header.width} × {header.height} image "
            f"(about {amount} needed)"
        )
        raise ImageMemoryError(f"Cannot open '{name}': {reason}.") from error


def _open_without_blocking(path: str, flags: int) -> int:
    # Opening a FIFO for reading would otherwise wait for a writer forever.
    return os.open(path, flags | os.O_NONBLOCK)


def _not_a_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "it is a named pipe (FIFO), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a file"
    return "it is not a regular file"


@contextlib.contextmanager
def _opened(path: str, name: str) -> Iterator[BinaryIO]:
    """Open a regular, non-empty file for reading; anything else is an `ImageLoadError`.

    The check is made with ``fstat`` on the open descriptor, so a FIFO never
    blocks and a link to ``/dev/zero`` is refused before a byte is read.
    """
    try:
        with open(path, "rb", opener=_open_without_blocking) as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise _load_error(name, _not_a_file(status.st_mode))
            if status.st_size == 0:
                raise _load_error(name, "the file is empty")
            yield stream
    except OSError as error:
        raise _load_error(name, describe_os_error(error, saving=False)) from error


def _read_header(stream: BinaryIO, name: str) -> _Header:
    """Identify the format and read size and colour kind, leaving pixel data unread.

    Pillow reads the header of every format but two, where Pillow 13.0 was
    measured to fall short. WebP: from a header alone its reader raises "could
    not create decoder object", and above its global 179 MP bomb limit it
    raises `DecompressionBombError` whatever our cap. TIFF: it calls the
    float32 RGB files `save_image` writes, float64 files and big-endian BigTIFF
    unidentified. Those two headers are read below, in a few lines each.
    """
    head = stream.read(32)
    stream.seek(0)
    kind = _sniff(head)
    if kind is None:
        raise _load_error(name, f"it is not a {_READABLE_FORMATS} image")
    try:
        if kind == "WebP":
            header = _webp_header(head)
        elif kind == "TIFF":
            header = _tiff_header(stream, head)
        else:
            header = _pillow_header(kind, stream, head)
    except MemoryError as error:
        raise ImageMemoryError(f"Cannot open '{name}': not enough memory to read it.") from error
    # Malformed headers make Pillow and struct raise many exception types.
    except Exception as error:
        raise _load_error(name, f"the {kind} header is damaged or incomplete") from error
    if header.width <= 0 or header.height <= 0:
        raise _load_error(name, f"the {kind} header gives no valid size")
    return header


def _sniff(head: bytes) -> str | None:
    """Name the format from the first bytes, or None."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if _PNM_SIGNATURE.match(head):
        return "PNM"
    return next((kind for signature, kind in _SIGNATURES if head.startswith(signature)), None)


def _pillow_header(kind: str, stream: BinaryIO, head: bytes) -> _Header:
    opened = _PILLOW_READERS[kind](stream)
    width, height = opened.size
    if kind == "PNG":
        # Pillow calls 16-bit grey+alpha "RGBA" and 16-bit RGB "RGB", so the
        # IHDR chunk it has just checked (first, by the standard) says instead.
        bit_depth, colour_type = head[24], head[25]
        transparency = opened.info.get("transparency")
        grey_transparent = None
        if colour_type == 0 and isinstance(transparency, int):
            # OpenCV scales 1-, 2- and 4-bit grey to 0..255; tRNS gives the stored value.
            scale = 255 // (2**bit_depth - 1) if bit_depth < 8 else 1
            grey_transparent = transparency * scale
        return _Header(
            kind,
            width,
            height,
            colour_type in (0, 4),
            2 if bit_depth == 16 else 1,
            alpha=colour_type in (4, 6) or transparency is not None,
            grey_transparent=grey_transparent,
        )
    grey = Image.getmodebase(opened.mode) == "L"
    sample_bytes = _MODE_SAMPLE_BYTES.get(opened.mode, 1)
    alpha = kind == "JPEG 2000" and opened.mode in ("RGBA", "LA")
    return _Header(kind, width, height, grey, sample_bytes, alpha=alpha)


def _webp_header(head: bytes) -> _Header:
    """Read the canvas size from the first chunk (VP8, VP8L or VP8X)."""
    chunk = head[12:16]
    alpha = False
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = (value & 0x3FFF for value in struct.unpack("<HH", head[26:30]))
    elif chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        alpha = bool(bits >> 28 & 1)  # the alpha_is_used hint
    elif chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        alpha = bool(head[20] & 0x10)  # the alpha flag
    else:
        raise ValueError(f"unknown first chunk {chunk!r}")
    return _Header("WebP", width, height, grey=False, alpha=alpha)


_TIFF_VALUE_FORMATS = {3: "H", 4: "I", 16: "Q"}  # SHORT, LONG, LONG8
# Width, height, bits per sample, colour model, samples per pixel, extra samples.
_TIFF_TAGS = (256, 257, 258, 262, 277, 338)


def _tiff_header(stream: BinaryIO, head: bytes) -> _Header:
    """Read width, height, depth and colour model from the first image file directory."""
    endian = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")  # BigTIFF, in either byte order
    first = struct.unpack(endian + ("Q" if big else "I"), head[8:16] if big else head[4:8])[0]
    count_format, entry_size = ("Q", 20) if big else ("H", 12)
    size = os.fstat(stream.fileno()).st_size
    count_size = struct.calcsize(count_format)
    if first + count_size > size:
        raise ValueError("the first image directory lies past the end of the file")
    stream.seek(first)
    count = struct.unpack(endian + count_format, stream.read(count_size))[0]
    if first + count_size + count * entry_size > size:
        raise ValueError("the first image directory is cut short")
    table = stream.read(count * entry_size)
    values = {}
    for start in range(0, len(table), entry_size):
        tag, kind, value_count = struct.unpack_from(
            endian + ("HHQ" if big else "HHI"), table, start
        )
        if tag in _TIFF_TAGS and kind in _TIFF_VALUE_FORMATS:
            field = table[start + (12 if big else 8) : start + entry_size]
            value_format = endian + _TIFF_VALUE_FORMATS[kind]
            if value_count * struct.calcsize(value_format) > len(field):
                # Too many values to fit (bits per sample of RGB): the field is an offset.
                offset = struct.unpack(endian + ("Q" if big else "I"), field)[0]
                stream.seek(offset)
                field = stream.read(struct.calcsize(value_format))
            values[tag] = struct.unpack(value_format, field[: struct.calcsize(value_format)])[0]
    if 256 not in values or 257 not in values:
        raise ValueError("the first image directory gives no width and height")
    photometric = values.get(262, 1)  # 0 and 1: greyscale, with or without extra samples
    sample_bytes = max(1, values.get(258, 8) // 8)
    grey = photometric in (0, 1)
    colour_samples = 1 if grey else 3 if photometric == 2 else None
    samples = values.get(277, 1)
    alpha = 338 in values or (colour_samples is not None and samples > colour_samples)
    return _Header("TIFF", values[256], values[257], grey, sample_bytes, alpha=alpha)


def _check_complete(kind: str, data: bytes, name: str) -> None:
    """Refuse a cut PNG, JPEG or WebP before OpenCV sees it; other formats are left to it.

    PNG: libpng prints "PNG input buffer is incomplete" on stderr whatever
    OpenCV's log level, and Pillow's decoder accepts a PNG without its end
    chunk, so Pillow's ``verify`` walks the chunks and their checksums instead
    (13.5 ms for a 26 MB 12 MP PNG whose decode takes 244 ms). JPEG: OpenCV 4
    decodes a cut JPEG with grey rows and only a warning, and Pillow tells only
    by decoding (33 ms at 1/8 scale, 71 ms in full for a 12 MP photo that OpenCV
    decodes in 86 ms), so the markers are walked here instead, in 1.4 ms. WebP:
    Pillow cannot tell a cut file from a damaged one, and the RIFF header gives
    the length.
    """
    if kind == "PNG":
        try:
            PngImagePlugin.PngImageFile(io.BytesIO(data)).verify()
        except (OSError, EOFError) as error:
            raise _truncated(name) from error
        except MemoryError:
            raise
        # A bad checksum is a SyntaxError; other damage raises other types.
        except Exception as error:
            raise _damaged(name) from error
    elif not _reaches_its_end(kind, data):
        raise _truncated(name)


def _reaches_its_end(kind: str, data: bytes) -> bool:
    if kind == "JPEG":
        return _jpeg_reaches_eoi(data)
    if kind == "WebP":
        return len(data) >= 8 + int.from_bytes(data[4:8], "little")
    return True


def _jpeg_reaches_eoi(data: bytes) -> bool:
    """Walk the markers, skipping segments by their length and scans by searching."""
    position = 2
    while match := _JPEG_MARKER.search(data, position):
        code = match.group(1)[0]
        position = match.end()
        if code == _JPEG_EOI:
            return True
        if code not in _JPEG_STANDALONE:
            if position + 2 > len(data):
                return False
            position += int.from_bytes(data[position : position + 2], "big")
    return False


class _QuietOpenCV:
    """Silence OpenCV's log while decoding or encoding; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved_level = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._saved_level = cv2.utils.logging.getLogLevel()
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
            self._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                cv2.utils.logging.setLogLevel(self._saved_level)


_quiet_opencv = _QuietOpenCV()


def _decode(data: bytes, header: _Header, name: str, alpha: bool) -> np.ndarray:
    pixels = _decode_keeping_alpha(data, header) if alpha and header.alpha else None
    if pixels is None:
        pixels = _decode_flattened(data, header)
    if pixels is None:
        raise _undecodable(header.kind, data, name)
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        pixels = pixels.astype(np.float32)
    return np.require(pixels, requirements=("C", "W"))


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    with _quiet_opencv:
        try:
            pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error as error:
            if _out_of_memory(error):
                raise MemoryError(str(error)) from error
            return None
    return None if pixels is None or pixels.size == 0 else pixels


def _decode_flattened(data: bytes, header: _Header) -> np.ndarray | None:
    """Decode to RGB or grey, dropping alpha; None if OpenCV cannot."""
    # Not IMREAD_UNCHANGED: it would keep alpha and skip the EXIF orientation.
    flags = cv2.IMREAD_ANYDEPTH if header.grey else cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR
    pixels = _imdecode(data, flags)
    if pixels is None and header.kind == "TIFF" and header.alpha:
        # OpenCV's colour path refuses floating-point RGBA TIFF; take its colour samples.
        unchanged = _imdecode(data, cv2.IMREAD_UNCHANGED)
        if unchanged is not None and unchanged.ndim == 3 and unchanged.shape[2] == 4:
            pixels = np.ascontiguousarray(unchanged[..., :3])
    if pixels is not None and pixels.ndim == 3:
        cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels)
    return pixels


def _decode_keeping_alpha(data: bytes, header: _Header) -> np.ndarray | None:
    """Decode to RGBA or grey + alpha, upright; None where no alpha comes out."""
    if header.kind == "TIFF":
        # OpenCV premultiplies 8-bit unassociated alpha and drops grey's alpha.
        pixels = _tiff_with_alpha(data)
        if pixels is None and header.sample_bytes == 1:
            pixels = _pillow_with_alpha(header.kind, data)
        if pixels is not None:
            return pixels
    if header.kind in ("PNG", "WebP"):
        # IMREAD_UNCHANGED skips the EXIF orientation there, so it is applied below.
        pixels, exif = _imdecode_with_exif(data)
        if pixels is not None:
            pixels = _oriented(pixels, _exif_orientation(exif))
    else:
        pixels = _imdecode(data, cv2.IMREAD_UNCHANGED)
    if header.kind == "JPEG 2000" and (pixels is None or pixels.ndim == 2):
        return _pillow_with_alpha(header.kind, data)  # OpenCV refuses grey + alpha there
    if pixels is None:
        return None
    if pixels.ndim == 2:
        if header.grey_transparent is None:
            return None
        opaque = np.iinfo(pixels.dtype).max
        coverage = np.where(pixels == header.grey_transparent, 0, opaque).astype(pixels.dtype)
        return np.dstack([pixels, coverage])
    channels = pixels.shape[2]
    if channels == 2:
        return pixels
    if channels != 4:
        return None
    if header.grey:
        return pixels[..., [0, 3]]  # OpenCV widens grey + alpha to four channels
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)


def _imdecode_with_exif(data: bytes) -> tuple[np.ndarray | None, bytes]:
    with _quiet_opencv:
        try:
            pixels, kinds, blobs = cv2.imdecodeWithMetadata(
                np.frombuffer(data, dtype=np.uint8), flags=cv2.IMREAD_UNCHANGED
            )
        except cv2.error as error:
            if _out_of_memory(error):
                raise MemoryError(str(error)) from error
            return None, b""
    if pixels is None or pixels.size == 0:
        return None, b""
    exif = [
        np.asarray(blob).tobytes()
        for kind, blob in zip(np.ravel(kinds), blobs, strict=False)
        if kind == cv2.IMAGE_METADATA_EXIF
    ]
    return pixels, exif[0] if exif else b""


def _exif_orientation(exif: bytes) -> int:
    if not exif:
        return 1
    try:
        tags = Image.Exif()
        tags.load(exif)
        return int(tags.get(ExifTags.Base.Orientation, 1))
    # A damaged EXIF block leaves the image as stored, as OpenCV's own reader does.
    except Exception:
        return 1


# The EXIF orientations as NumPy views, matching Pillow's `ImageOps.exif_transpose`.
_ORIENTATIONS = {
    2: lambda pixels: pixels[:, ::-1],
    3: lambda pixels: pixels[::-1, ::-1],
    4: lambda pixels: pixels[::-1],
    5: lambda pixels: pixels.swapaxes(0, 1),
    6: lambda pixels: np.rot90(pixels, -1),
    7: lambda pixels: pixels.swapaxes(0, 1)[::-1, ::-1],
    8: lambda pixels: np.rot90(pixels, 1),
}


def _oriented(pixels: np.ndarray, orientation: int) -> np.ndarray:
    turn = _ORIENTATIONS.get(orientation)
    return pixels if turn is None else np.ascontiguousarray(turn(pixels))


_TIFF_TYPES = {1: "B", 3: "H", 4: "I", 16: "Q"}  # BYTE, SHORT, LONG, LONG8
_TIFF_DTYPES = {(8, 1): "u1", (16, 1): "u2", (32, 3): "f4"}  # by bits and sample format
_TIFF_DEFLATE = (8, 32946)


def _tiff_fields(data: bytes) -> dict[int, tuple[int, ...]]:
    """Return the integer fields of the first image file directory, by tag."""
    endian = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")
    offset_format, count_format, entry_size = ("Q", "Q", 20) if big else ("I", "H", 12)
    first = struct.unpack_from(endian + offset_format, data, 8 if big else 4)[0]
    count = struct.unpack_from(endian + count_format, data, first)[0]
    start = first + struct.calcsize(count_format)
    fields = {}
    for entry in range(start, start + count * entry_size, entry_size):
        tag, kind, value_count = struct.unpack_from(endian + "HH" + offset_format, data, entry)
        if kind not in _TIFF_TYPES:
            continue
        value_format = f"{endian}{value_count}{_TIFF_TYPES[kind]}"
        where = entry + entry_size - struct.calcsize(offset_format)
        if struct.calcsize(value_format) > struct.calcsize(offset_format):
            where = struct.unpack_from(endian + offset_format, data, where)[0]
        fields[tag] = struct.unpack_from(value_format, data, where)
    return fields


def _tiff_with_alpha(data: bytes) -> np.ndarray | None:
    """Read an RGBA or grey + alpha TIFF in strips, raw or Deflate; None for other variants."""
    try:
        fields = _tiff_fields(data)
        layout = (fields.get(262, (1,))[0], fields.get(277, (1,))[0])
        compression = fields.get(259, (1,))[0]
        plain = fields.get(284, (1,)) == (1,) and fields.get(317, (1,)) == (1,)
        if layout not in ((1, 2), (2, 4)) or compression not in (1, *_TIFF_DEFLATE) or not plain:
            return None
        depths = {(bits, form) for bits in fields[258] for form in fields.get(339, (1,))}
        if len(depths) != 1 or next(iter(depths)) not in _TIFF_DTYPES:
            return None
        byte_order = "<" if data[:2] == b"II" else ">"
        dtype = np.dtype(_TIFF_DTYPES[next(iter(depths))]).newbyteorder(byte_order)
        strips = (
            data[start : start + length]
            for start, length in zip(fields[273], fields[279], strict=True)
        )
        stored = b"".join(
            zlib.decompress(strip) if compression != 1 else strip for strip in strips
        )
        width, height, samples = fields[256][0], fields[257][0], layout[1]
        pixels = np.frombuffer(stored, dtype=dtype, count=width * height * samples)
    except (KeyError, ValueError, struct.error, zlib.error):
        return None
    pixels = pixels.reshape(height, width, samples).astype(dtype.newbyteorder("="))
    return _oriented(pixels, fields.get(274, (1,))[0])


def _pillow_with_alpha(kind: str, data: bytes) -> np.ndarray | None:
    """Read an 8-bit RGBA or grey + alpha image with Pillow, upright; None if it cannot."""
    try:
        with _PILLOW_READERS[kind](io.BytesIO(data)) as opened:
            if opened.mode not in ("RGBA", "LA"):
                return None
            pixels = np.array(opened)
            if kind != "TIFF":
                return pixels
            # Not ImageOps.exif_transpose: with TIFF it skipped orientations 5 to 8 (Pillow 13.0).
            return _oriented(pixels, int(opened.tag_v2.get(274, 1)))
    except MemoryError:
        raise
    # Pillow raises many types for variants it cannot read; OpenCV then tries.
    except Exception:
        return None


def _out_of_memory(error: cv2.error) -> bool:
    return getattr(error, "code", None) == cv2.Error.StsNoMem or bool(
        _OPENCV_OUT_OF_MEMORY.search(str(error))
    )


def _undecodable(kind: str, data: bytes, name: str) -> ImageLoadError:
    """Say why OpenCV refused `data`: Pillow, loading it, names a cut file as such."""
    try:
        _PILLOW_READERS[kind](io.BytesIO(data)).load()
    except OSError as error:
        # Pillow raises a plain OSError for truncation; only its words tell.
        if "truncated" in str(error):
            return _truncated(name)
    except MemoryError:
        raise
    # Whatever else Pillow makes of it, OpenCV could not decode it.
    except Exception:
        pass
    return _damaged(name)


def _encode_checked(
    image: object, extension: str, quality: int, subject: str
) -> bytes | memoryview:
    def failure(reason: str) -> ImageSaveError:
        return ImageSaveError(f"Cannot {subject}: {reason}.")

    if extension not in _WRITERS:
        supported = ", ".join(WRITE_EXTENSIONS)
        what = f"the extension '{extension}'" if extension else "a file name without extension"
        raise failure(f"{what} names no supported format; use one of {supported}")
    kind, dtypes = _WRITERS[extension]
    if not isinstance(image, np.ndarray):
        raise failure(f"expected a NumPy array, got {type(image).__name__}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (2, 3, 4))):
        raise failure(
            "expected an H×W (grey), H×W×2 (grey, alpha), H×W×3 (RGB) or H×W×4 (RGBA) "
            f"array, got shape {image.shape}"
        )
    if image.size == 0:
        raise failure(f"the image is empty (shape {image.shape})")
    has_alpha = image.ndim == 3 and image.shape[2] in (2, 4)
    if has_alpha and kind not in _ALPHA_WRITERS:
        raise failure(f"{kind} files cannot keep transparency; save as .png, .tif or .webp")
    if image.dtype not in dtypes:
        allowed = ", ".join(np.dtype(dtype).name for dtype in dtypes)
        raise failure(f"{kind} files cannot hold {image.dtype} pixels (they hold {allowed})")
    encoded = _encode(np.ascontiguousarray(image), extension, kind, quality)
    if encoded is None:
        height, width = image.shape[:2]
        raise failure(f"OpenCV could not encode the {width} × {height} image as {kind}")
    return encoded


def _encode(
    pixels: np.ndarray, extension: str, kind: str, quality: int
) -> bytes | memoryview | None:
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if channels == 2 or (channels == 4 and kind == "TIFF"):
        # OpenCV writes no two-channel image, and its RGBA TIFF does not mark the
        # fourth sample as alpha, so other programs would not see transparency.
        if kind == "PNG":
            return _grey_alpha_png(pixels)
        if kind == "TIFF":
            return _tiff_with_alpha_bytes(pixels)
        pixels = pixels[..., [0, 0, 0, 1]]  # WebP has no grey: R = G = B
        channels = 4
    if channels == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    elif channels == 4:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
    params = [_QUALITY_FLAGS[kind], int(quality)] if kind in _QUALITY_FLAGS else []
    with _quiet_opencv:
        try:
            encoded_ok, encoded = cv2.imencode(extension, pixels, params)
        except cv2.error:
            encoded_ok = False
    # OpenCV's own buffer, not a copy of it: for a 12 MP BMP, 36 MB less at the peak.
    return memoryview(encoded) if encoded_ok else None


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    checksum = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)


def _grey_alpha_png(pixels: np.ndarray) -> bytes:
    """Encode grey + alpha as PNG colour type 4, each row with the Sub filter."""
    height, width = pixels.shape[:2]
    depth = pixels.dtype.itemsize * 8
    pixel_bytes = 2 * pixels.dtype.itemsize
    rows = pixels.astype(pixels.dtype.newbyteorder(">")).view(np.uint8).reshape(height, -1)
    filtered = rows.copy()
    filtered[:, pixel_bytes:] -= rows[:, :-pixel_bytes]  # modulo 256, as the filter wants
    stream = np.hstack([np.ones((height, 1), np.uint8), filtered])  # 1: the Sub filter
    header = struct.pack(">IIBBBBB", width, height, depth, 4, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(stream.tobytes(), 6))
        + _png_chunk(b"IEND", b"")
    )


_TIFF_SAMPLE_FORMATS = {"u": 1, "f": 3}  # unsigned integer, floating point


def _tiff_with_alpha_bytes(pixels: np.ndarray) -> bytes | None:
    """Encode RGBA or grey + alpha as a Deflate TIFF whose last sample is unassociated alpha."""
    height, width, samples = pixels.shape
    strip = zlib.compress(pixels.astype(pixels.dtype.newbyteorder("<")).tobytes(), 6)
    bits = pixels.dtype.itemsize * 8
    form = _TIFF_SAMPLE_FORMATS[pixels.dtype.kind]
    fields = [  # tag, type (3 SHORT, 4 LONG), values; sorted by tag as TIFF requires
        (256, 4, (width,)),
        (257, 4, (height,)),
        (258, 3, (bits,) * samples),
        (259, 3, (8,)),  # Deflate
        (262, 3, (1 if samples == 2 else 2,)),  # grey (black is zero) or RGB
        (273, 4, (8,)),  # the strip follows the 8-byte file header
        (277, 3, (samples,)),
        (278, 4, (height,)),
        (279, 4, (len(strip),)),
        (284, 3, (1,)),  # samples interleaved
        (338, 3, (2,)),  # the extra sample is unassociated alpha
        (339, 3, (form,) * samples),
    ]
    directory_at = 8 + len(strip) + len(strip) % 2  # word-aligned
    overflow_at = directory_at + 2 + 12 * len(fields) + 4
    if overflow_at + 64 >= 2**32:
        return None  # classic TIFF addresses 4 GB
    entries, overflow = [], b""
    for tag, kind, values in fields:
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(packed) <= 4:
            entries.append(struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0"))
        else:
            offset = overflow_at + len(overflow)
            entries.append(struct.pack("<HHII", tag, kind, len(values), offset))
            overflow += packed
    return b"".join(
        [
            b"II*\x00" + struct.pack("<I", directory_at),
            strip,
            b"\0" * (len(strip) % 2),
            struct.pack("<H", len(fields)),
            *entries,
            struct.pack("<I", 0),  # no further image
            overflow,
        ]
    )


def _write_atomically(path: str, payload: bytes | memoryview, name: str, overwrite: bool) -> None:
    try:
        write_atomically(path, payload, overwrite=overwrite)
    except OSError as error:
        raise _save_error(name, describe_os_error(error, saving=True)) from error
