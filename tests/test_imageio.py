"""Tests for kernelstudio.imageio: files are written by OpenCV or Pillow as oracles."""

from __future__ import annotations

import builtins
import errno
import os
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from kernelstudio import atomic, imageio
from kernelstudio.imageio import (
    DEFAULT_MAX_PIXELS,
    READ_EXTENSIONS,
    WRITE_EXTENSIONS,
    ImageLoadError,
    ImageMemoryError,
    ImageSaveError,
    encode_image,
    image_size,
    load_image,
    save_image,
)

LOSSLESS = (".png", ".tif", ".tiff", ".bmp")
LOSSY = (".jpg", ".jpeg", ".webp")


def rgb_gradient(height=24, width=32):
    """Smooth colour image whose three channels all differ (so swaps show)."""
    y, x = np.mgrid[0:height, 0:width]
    red = x * 255 // (width - 1)
    green = y * 255 // (height - 1)
    blue = 255 - (x + y) * 255 // (width + height - 2)
    return np.dstack([red, green, blue]).astype(np.uint8)


def grey_gradient(height=24, width=32):
    return rgb_gradient(height, width)[..., 0].copy()


def random_pixels(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 1000).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def handmade_png(width, height, *, bit_depth=8, colour_type=2, raw_rows=b""):
    """A PNG built byte by byte; IHDR may claim more pixels than IDAT holds."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw_rows))
        + png_chunk(b"IEND", b"")
    )


def pillow_pixels(path, mode):
    """The file's pixels as Pillow decodes them, converted to `mode`."""
    with Image.open(path) as opened:
        return np.asarray(opened.convert(mode))


def pillow_info(path):
    with Image.open(path) as opened:
        return opened.format, opened.mode, opened.size


def with_orientation(orientation):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return exif


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def assert_sentence_naming(error, name):
    message = str(error.value)
    assert message.startswith(f"Cannot {'open' if error.type is ImageLoadError else 'save'} ")
    assert f"'{name}'" in message
    assert message.endswith(".")
    assert "\n" not in message
    assert "Traceback" not in message


def temp_files(folder):
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("extension", WRITE_EXTENSIONS)
@pytest.mark.parametrize("colour", [True, False], ids=["rgb", "grey"])
def test_uint8_round_trip_through_every_write_format(tmp_path, extension, colour):
    image = rgb_gradient() if colour else grey_gradient()
    path = tmp_path / f"picture{extension}"
    save_image(path, image)
    loaded = load_image(path)

    assert loaded.dtype == np.uint8
    assert loaded.flags.c_contiguous
    assert loaded.flags.writeable
    if extension == ".webp" and not colour:
        # WebP has no grey mode: three equal channels come back.
        assert loaded.shape == (*image.shape, 3)
        loaded = loaded[..., 1]
    assert loaded.shape == image.shape
    difference = np.abs(loaded.astype(int) - image.astype(int))
    if extension in LOSSLESS:
        assert difference.max() == 0
    else:
        assert difference.mean() < 2.5
        assert difference.max() < 40


@pytest.mark.parametrize("extension", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 3)], ids=["grey", "rgb"])
def test_uint16_round_trip_is_exact(tmp_path, extension, shape):
    image = random_pixels(shape, np.uint16)
    path = tmp_path / f"deep{extension}"
    save_image(path, image)
    loaded = load_image(path)
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, image)


@pytest.mark.parametrize("extension", [".tif", ".tiff"])
@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 3)], ids=["grey", "rgb"])
def test_float32_tiff_round_trip_is_exact(tmp_path, extension, shape):
    image = random_pixels(shape, np.float32)
    image.flat[0] = -1e-30
    image.flat[1] = 3.4e38
    path = tmp_path / f"float{extension}"
    save_image(path, image)
    loaded = load_image(path)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, image)


def test_uint16_png_written_by_opencv_keeps_its_depth(tmp_path):
    image = random_pixels((5, 7), np.uint16)
    path = tmp_path / "opencv16.png"
    cv2.imwrite(str(path), image)
    np.testing.assert_array_equal(load_image(path), image)


def test_upper_case_extension_picks_the_format(tmp_path):
    path = tmp_path / "SHOUT.JPG"
    save_image(path, rgb_gradient())
    assert path.read_bytes().startswith(b"\xff\xd8\xff")
    assert pillow_info(path) == ("JPEG", "RGB", (32, 24))


def test_returned_array_is_owned_by_the_caller(tmp_path):
    path = tmp_path / "mine.png"
    save_image(path, rgb_gradient())
    first = load_image(path)
    first[:] = 0
    assert load_image(path).max() == 255


def test_save_does_not_modify_the_input_and_accepts_views(tmp_path):
    image = rgb_gradient()
    original = image.copy()
    flipped = image[:, ::-1]
    path = tmp_path / "view.png"
    save_image(path, flipped)
    np.testing.assert_array_equal(image, original)
    np.testing.assert_array_equal(load_image(path), original[:, ::-1])


@pytest.mark.parametrize("extension", [".jpg", ".webp"])
def test_quality_changes_the_lossy_encoding(tmp_path, extension):
    image = random_pixels((64, 64, 3), np.uint8)
    low, high = tmp_path / f"low{extension}", tmp_path / f"high{extension}"
    save_image(low, image, quality=10)
    save_image(high, image, quality=95)
    assert low.stat().st_size < high.stat().st_size / 2


# --- channel order, alpha, palette, CMYK ---------------------------------------------------


@pytest.mark.parametrize("extension", [".png", ".jpg", ".bmp", ".tif", ".webp"])
def test_pure_red_written_by_opencv_loads_as_red(tmp_path, extension):
    bgr_red = np.zeros((8, 8, 3), np.uint8)
    bgr_red[..., 2] = 255
    path = tmp_path / f"red{extension}"
    ok, encoded = cv2.imencode(extension, bgr_red)
    assert ok
    path.write_bytes(encoded.tobytes())
    loaded = load_image(path).astype(int)
    assert loaded.shape == (8, 8, 3)
    assert (loaded[..., 0] >= 250).all()
    assert (loaded[..., 1:] <= 5).all()


@pytest.mark.parametrize("extension", WRITE_EXTENSIONS)
def test_saved_red_reads_as_red_in_pillow(tmp_path, extension):
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    path = tmp_path / f"red{extension}"
    save_image(path, red)
    seen = pillow_pixels(path, "RGB").astype(int)
    assert (seen[..., 0] >= 250).all()
    assert (seen[..., 1:] <= 5).all()


@pytest.mark.parametrize(
    ("fmt", "options"), [("PNG", {}), ("WEBP", {"lossless": True, "exact": True})]
)
def test_rgba_drops_alpha(tmp_path, fmt, options):
    rgba = random_pixels((6, 9, 4), np.uint8)
    path = tmp_path / f"rgba.{fmt.lower()}"
    Image.fromarray(rgba, "RGBA").save(path, fmt, **options)
    loaded = load_image(path)
    assert loaded.shape == (6, 9, 3)
    np.testing.assert_array_equal(loaded, rgba[..., :3])


def test_rgba_tiff_comes_back_composited_on_black(tmp_path):
    # libtiff's RGBA reader, which OpenCV uses here, premultiplies unassociated alpha.
    rgba = random_pixels((6, 9, 4), np.uint8)
    path = tmp_path / "rgba.tif"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image(path)
    assert loaded.shape == (6, 9, 3)
    premultiplied = rgba[..., :3] * (rgba[..., 3:] / 255)
    assert np.abs(loaded - premultiplied).max() <= 1


def test_grey_with_alpha_png_loads_as_grey(tmp_path):
    grey_alpha = random_pixels((6, 9, 2), np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(grey_alpha, "LA").save(path)
    loaded = load_image(path)
    assert loaded.shape == (6, 9)
    np.testing.assert_array_equal(loaded, grey_alpha[..., 0])


def test_16_bit_grey_with_alpha_png_loads_as_16_bit_grey(tmp_path):
    # Pillow calls this file "RGBA", so the header's own colour type must decide.
    grey_alpha = random_pixels((5, 7, 2), np.uint16)
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in grey_alpha)
    path = write(
        tmp_path / "la16.png", handmade_png(7, 5, bit_depth=16, colour_type=4, raw_rows=rows)
    )
    loaded = load_image(path)
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, grey_alpha[..., 0])


@pytest.mark.parametrize("transparent", [False, True], ids=["opaque", "with-trns"])
def test_palette_png_loads_as_rgb(tmp_path, transparent):
    source = Image.fromarray(random_pixels((6, 9, 4 if transparent else 3), np.uint8))
    palette_image = source.convert("P")
    path = tmp_path / "palette.png"
    palette_image.save(path)
    assert pillow_info(path)[1] == "P"
    loaded = load_image(path)
    assert loaded.shape == (6, 9, 3)
    np.testing.assert_array_equal(loaded, pillow_pixels(path, "RGBA")[..., :3])


def test_grey_palette_png_still_loads_as_rgb(tmp_path):
    path = tmp_path / "greys.png"
    Image.fromarray(grey_gradient()).convert("P").save(path)
    assert load_image(path).shape == (24, 32, 3)


def test_cmyk_jpeg_loads_as_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb_gradient()).convert("CMYK").save(path, quality=95)
    assert pillow_info(path)[1] == "CMYK"
    loaded = load_image(path)
    assert loaded.shape == (24, 32, 3)
    expected = pillow_pixels(path, "RGB").astype(int)
    assert np.abs(loaded.astype(int) - expected).mean() < 3


def test_greyscale_jpeg_loads_as_grey(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.fromarray(grey_gradient()).save(path, quality=95)
    loaded = load_image(path)
    assert loaded.shape == (24, 32)
    assert np.abs(loaded.astype(int) - grey_gradient().astype(int)).max() < 8


# --- every read format, against Pillow as the oracle ----------------------------------------


def pillow_sample(extension):
    """(Pillow image, save options, mode to compare in) for one read extension."""
    colour = Image.fromarray(rgb_gradient())
    grey = Image.fromarray(grey_gradient())
    samples = {
        ".png": (colour, {}, "RGB"),
        ".jpg": (colour, {"quality": 95}, "RGB"),
        ".jpeg": (grey, {"quality": 95}, "L"),
        ".tif": (colour, {"compression": "tiff_lzw"}, "RGB"),
        ".tiff": (grey, {"compression": "tiff_adobe_deflate"}, "L"),
        ".bmp": (colour, {}, "RGB"),
        ".webp": (colour, {"lossless": True}, "RGB"),
        ".gif": (colour.convert("P"), {}, "RGB"),
        ".pbm": (grey.point(lambda value: 255 * (value > 128)).convert("1"), {}, "L"),
        ".pgm": (grey, {}, "L"),
        ".ppm": (colour, {}, "RGB"),
        ".pnm": (colour, {}, "RGB"),
        ".jp2": (colour, {}, "RGB"),
        ".j2k": (grey, {}, "L"),
    }
    return samples[extension]


def test_every_read_extension_has_a_sample():
    for extension in READ_EXTENSIONS:
        assert pillow_sample(extension)
    assert set(WRITE_EXTENSIONS) <= set(READ_EXTENSIONS)
    assert all(extension == extension.lower() for extension in READ_EXTENSIONS)


@pytest.mark.parametrize("extension", READ_EXTENSIONS)
def test_every_read_format_loads_like_pillow_reads_it(tmp_path, extension):
    image, options, mode = pillow_sample(extension)
    path = tmp_path / f"sample{extension}"
    image.save(path, **options)
    expected = pillow_pixels(path, mode).astype(int)

    loaded = load_image(path)
    assert loaded.dtype == np.uint8
    assert loaded.shape == expected.shape
    tolerance = 3 if extension in (".jpg", ".jpeg") else 0
    assert np.abs(loaded.astype(int) - expected).max() <= tolerance
    assert image_size(path) == (32, 24)


def test_16_bit_pgm_keeps_its_depth(tmp_path):
    image = random_pixels((5, 7), np.uint16)
    path = tmp_path / "deep.pgm"
    Image.fromarray(image).save(path)
    np.testing.assert_array_equal(load_image(path), image)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float64])
def test_other_tiff_sample_types_come_back_as_float32(tmp_path, dtype):
    image = np.arange(-10, 25, dtype=dtype).reshape(5, 7) * 1000
    path = tmp_path / "unusual.tif"
    assert cv2.imwrite(str(path), image)
    loaded = load_image(path)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, image.astype(np.float32))


def test_format_comes_from_content_not_extension(tmp_path):
    path = tmp_path / "actually-a-png.jpg"
    Image.fromarray(rgb_gradient()).save(path, "PNG")
    np.testing.assert_array_equal(load_image(path), rgb_gradient())


def test_jpeg_with_data_after_the_end_marker_loads(tmp_path):
    # Phone "motion photos" append a video after the JPEG's end-of-image marker.
    path = tmp_path / "motion.jpg"
    Image.fromarray(rgb_gradient()).save(path, quality=95)
    reference = load_image(path)
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    np.testing.assert_array_equal(load_image(path), reference)


def test_progressive_jpeg_loads(tmp_path):
    path = tmp_path / "progressive.jpg"
    Image.fromarray(rgb_gradient()).save(path, quality=95, progressive=True)
    loaded = load_image(path)
    assert np.abs(loaded.astype(int) - rgb_gradient().astype(int)).mean() < 2.5


# --- EXIF orientation ----------------------------------------------------------------------


def marked_image():
    """20×40 black image with a red block in its top-left quarter."""
    image = np.zeros((20, 40, 3), np.uint8)
    image[:10, :20] = (255, 0, 0)
    return image


def quarter_means(image):
    """Mean red value of the top-left, top-right, bottom-left, bottom-right quarters."""
    height, width = image.shape[0] // 2, image.shape[1] // 2
    red = image[..., 0].astype(float)
    return [
        red[:height, :width].mean(),
        red[:height, width:].mean(),
        red[height:, :width].mean(),
        red[height:, width:].mean(),
    ]


@pytest.mark.parametrize(
    ("orientation", "shape", "red_quarter"),
    [(1, (20, 40, 3), 0), (3, (20, 40, 3), 3), (6, (40, 20, 3), 1), (8, (40, 20, 3), 2)],
)
def test_exif_orientation_of_jpeg_is_applied(tmp_path, orientation, shape, red_quarter):
    path = tmp_path / f"oriented{orientation}.jpg"
    Image.fromarray(marked_image()).save(path, quality=95, exif=with_orientation(orientation))
    loaded = load_image(path)
    assert loaded.shape == shape
    means = quarter_means(loaded)
    assert means[red_quarter] > 200
    assert sum(means) - means[red_quarter] < 30


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_orientations_match_pillow_exif_transpose(tmp_path, orientation):
    path = tmp_path / f"o{orientation}.jpg"
    Image.fromarray(rgb_gradient()).save(path, quality=95, exif=with_orientation(orientation))
    with Image.open(path) as opened:
        expected = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
    loaded = load_image(path)
    assert loaded.shape == expected.shape
    assert np.abs(loaded.astype(int) - expected.astype(int)).max() <= 3
    assert image_size(path) == (32, 24)


@pytest.mark.parametrize(
    ("fmt", "options"), [("PNG", {}), ("TIFF", {}), ("WEBP", {"lossless": True})]
)
def test_exif_orientation_of_other_formats_is_applied(tmp_path, fmt, options):
    path = tmp_path / f"oriented.{fmt.lower()}"
    Image.fromarray(marked_image()).save(path, fmt, exif=with_orientation(6), **options)
    loaded = load_image(path)
    assert loaded.shape == (40, 20, 3)
    assert quarter_means(loaded)[1] == 255


def test_orientation_applies_to_grey_images(tmp_path):
    path = tmp_path / "grey-rotated.jpg"
    Image.fromarray(grey_gradient()).save(path, exif=with_orientation(6))
    assert load_image(path).shape == (32, 24)


# --- paths -----------------------------------------------------------------------------------


def test_non_ascii_and_space_paths_load_and_save(tmp_path):
    folder = tmp_path / "ñandú café"
    folder.mkdir()
    written_by_pillow = folder / "图像 1.png"
    Image.fromarray(rgb_gradient()).save(written_by_pillow)
    np.testing.assert_array_equal(load_image(written_by_pillow), rgb_gradient())
    assert image_size(str(written_by_pillow)) == (32, 24)

    saved = folder / "résultat 2.jpg"
    save_image(str(saved), rgb_gradient())
    assert pillow_info(saved) == ("JPEG", "RGB", (32, 24))
    assert load_image(saved).shape == (24, 32, 3)


# --- load failures ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "nowhere.png")
    assert_sentence_naming(error, "nowhere.png")
    assert str(error.value) == "Cannot open 'nowhere.png': the file does not exist."


def test_directory(tmp_path):
    folder = tmp_path / "photos.png"
    folder.mkdir()
    with pytest.raises(ImageLoadError) as error:
        load_image(folder)
    assert_sentence_naming(error, "photos.png")
    assert "folder" in str(error.value)


def test_empty_file(tmp_path):
    path = write(tmp_path / "x.png", b"")
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert str(error.value) == "Cannot open 'x.png': the file is empty."


def test_permission_denied(tmp_path, monkeypatch):
    # chmod 000 does not stop root, so the denial is simulated where the file is opened.
    path = tmp_path / "secret.png"
    Image.fromarray(rgb_gradient()).save(path)
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    for read in (load_image, image_size):
        with pytest.raises(ImageLoadError) as error:
            read(path)
        assert str(error.value) == "Cannot open 'secret.png': permission denied."


def truncated(data, fraction=0.6):
    return data[: int(len(data) * fraction)]


def pillow_bytes(tmp_path, fmt, **options):
    path = tmp_path / f"whole.{fmt.lower()}"
    Image.fromarray(random_pixels((48, 64, 3), np.uint8)).save(path, fmt, **options)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("TIFF", {}),
        ("WEBP", {}),
        ("BMP", {}),
    ],
)
@pytest.mark.parametrize("fraction", [0.6, 0.995])
def test_truncated_files_are_refused_as_truncated(tmp_path, fmt, options, fraction):
    path = write(
        tmp_path / f"cut.{fmt.lower()}",
        truncated(pillow_bytes(tmp_path, fmt, **options), fraction),
    )
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert str(error.value) == f"Cannot open '{path.name}': the file is incomplete (truncated)."


@pytest.mark.parametrize(("fmt", "cut"), [("PNG", 12), ("JPEG", 2)])
def test_missing_end_marker_is_reported_as_truncation(tmp_path, fmt, cut):
    path = write(tmp_path / f"almost.{fmt.lower()}", pillow_bytes(tmp_path, fmt)[:-cut])
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert str(error.value) == f"Cannot open '{path.name}': the file is incomplete (truncated)."


def test_truncated_jpeg_with_an_embedded_thumbnail_is_refused(tmp_path):
    # The thumbnail's own end marker sits inside a segment and must not count.
    thumbnail = pillow_bytes(tmp_path, "JPEG")[:600] + b"\xff\xd9"
    segment = b"\xff\xe2" + struct.pack(">H", len(thumbnail) + 2) + thumbnail
    whole = pillow_bytes(tmp_path, "JPEG")
    with_thumbnail = whole[:2] + segment + whole[2:]
    path = write(tmp_path / "thumb.jpg", with_thumbnail)
    assert load_image(path).shape == (48, 64, 3)
    write(path, truncated(with_thumbnail))
    with pytest.raises(ImageLoadError, match="truncated"):
        load_image(path)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("random.png", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        ("notes.png", b"These are my notes, not a picture.\n" * 20),
        ("tiny.jpg", b"\xff"),
    ],
)
def test_files_that_are_not_images(tmp_path, name, data):
    path = write(tmp_path / name, data)
    for read in (load_image, image_size):
        with pytest.raises(ImageLoadError) as error:
            read(path)
        assert_sentence_naming(error, name)
        assert "it is not a PNG, JPEG, TIFF" in str(error.value)


@pytest.mark.parametrize(("fmt", "extension"), [("TGA", ".tga"), ("ICO", ".ico"), ("PCX", ".pcx")])
def test_unsupported_formats(tmp_path, fmt, extension):
    path = tmp_path / f"other{extension}"
    Image.fromarray(rgb_gradient(16, 16)).save(path, fmt)
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert str(error.value) == (
        f"Cannot open '{path.name}': it is not a PNG, JPEG, TIFF, BMP, WebP, GIF, PNM "
        "or JPEG 2000 image."
    )


def test_damaged_png_header(tmp_path):
    data = bytearray(handmade_png(4, 4, raw_rows=bytes(4 * 13)))
    data[12:16] = b"XXXX"
    path = write(tmp_path / "broken.png", bytes(data))
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert str(error.value) == "Cannot open 'broken.png': the PNG header is damaged or incomplete."


def test_damaged_png_data(tmp_path):
    rows = b"".join(b"\x00" + bytes(range(12)) for _ in range(4))
    data = bytearray(handmade_png(4, 4, raw_rows=rows))
    data[45:50] = b"\xff\xff\xff\xff\xff"  # inside the compressed IDAT stream
    path = write(tmp_path / "garbled.png", bytes(data))
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert_sentence_naming(error, "garbled.png")
    assert "damaged" in str(error.value)


def test_png_claiming_zero_width(tmp_path):
    # Pillow refuses the IHDR chunk itself.
    path = write(tmp_path / "flat.png", handmade_png(0, 5))
    with pytest.raises(ImageLoadError, match="the PNG header is damaged or incomplete"):
        image_size(path)


def test_failed_decode_leaves_opencv_logging_as_it_was(tmp_path):
    path = write(tmp_path / "cut.tif", truncated(pillow_bytes(tmp_path, "TIFF")))
    before = cv2.utils.logging.getLogLevel()
    with pytest.raises(ImageLoadError):
        load_image(path)
    assert cv2.utils.logging.getLogLevel() == before


def test_concurrent_loads_restore_opencv_logging(tmp_path):
    good = tmp_path / "good.png"
    save_image(good, rgb_gradient())
    bad = write(tmp_path / "cut.tif", truncated(pillow_bytes(tmp_path, "TIFF")))
    before = cv2.utils.logging.getLogLevel()

    def attempt(path):
        try:
            return load_image(path).shape
        except ImageLoadError:
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        shapes = list(pool.map(attempt, [good, bad] * 16))
    assert shapes == [(24, 32, 3), None] * 16
    assert cv2.utils.logging.getLogLevel() == before


# --- the pixel cap ---------------------------------------------------------------------------


def jpeg_claiming(tmp_path, width, height):
    data = bytearray(pillow_bytes(tmp_path, "JPEG"))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_claiming(width, height):
    chunk = b"VP8X" + struct.pack("<I", 10) + bytes(4)
    chunk += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize(
    ("name", "make", "width", "height"),
    [
        ("big.png", lambda _: handmade_png(30000, 30000, raw_rows=bytes(90001)), 30000, 30000),
        ("big.jpg", lambda tmp: jpeg_claiming(tmp, 60000, 60000), 60000, 60000),
        ("big.webp", lambda _: webp_claiming(16384, 16384), 16384, 16384),
    ],
)
def test_huge_canvas_is_refused_from_the_header(tmp_path, monkeypatch, name, make, width, height):
    path = write(tmp_path / name, make(tmp_path))
    assert path.stat().st_size < 10_000

    def no_decoding(*args, **kwargs):
        raise AssertionError("the pixels must not be decoded")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImageLoadError) as error:
            load_image(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    rss_growth_bytes = rss_growth if sys.platform == "darwin" else rss_growth * 1024

    assert str(error.value) == (
        f"Cannot open '{name}': {width} × {height} = {width * height:,} pixels "
        "is more than the limit of 200,000,000."
    )
    assert image_size(path) == (width, height)
    assert elapsed < 1.0
    assert peak < 5_000_000
    assert rss_growth_bytes < 200_000_000


def test_size_above_pillows_bomb_limit_but_under_ours_is_read_quietly(tmp_path):
    limit_before = Image.MAX_IMAGE_PIXELS
    width, height = 15000, 13000  # 195 MP: over Pillow's 179 MP error, under our 200 MP
    assert limit_before is not None
    assert 2 * limit_before < width * height <= DEFAULT_MAX_PIXELS
    paths = [
        write(tmp_path / "wide.png", handmade_png(width, height)),
        write(tmp_path / "wide.jpg", jpeg_claiming(tmp_path, width, height)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in paths:
            assert image_size(path) == (width, height)
    assert limit_before == Image.MAX_IMAGE_PIXELS


def test_max_pixels_is_configurable(tmp_path):
    path = tmp_path / "ten.png"
    Image.fromarray(rgb_gradient(10, 10)).save(path)
    with pytest.raises(ImageLoadError) as error:
        load_image(path, max_pixels=50)
    assert (
        str(error.value)
        == "Cannot open 'ten.png': 10 × 10 = 100 pixels is more than the limit of 50."
    )
    assert load_image(path, max_pixels=100).shape == (10, 10, 3)
    assert load_image(path, max_pixels=np.int64(100)).shape == (10, 10, 3)


@pytest.mark.parametrize(
    ("width", "height", "max_pixels", "counts"),
    [
        (20001, 10000, DEFAULT_MAX_PIXELS, "20001 × 10000 = 200,010,000 pixels"),
        (1, 200_000_001, DEFAULT_MAX_PIXELS, "1 × 200000001 = 200,000,001 pixels"),
        (101, 1, 100, "101 × 1 = 101 pixels"),
    ],
)
def test_cap_message_gives_exact_pixel_counts(tmp_path, width, height, max_pixels, counts):
    # Rounded to megapixels, 200,000,001 pixels read "200.0 MP exceeds the limit of 200 MP".
    path = write(tmp_path / "over.png", handmade_png(width, height))
    with pytest.raises(ImageLoadError) as error:
        load_image(path, max_pixels=max_pixels)
    limit = f"{max_pixels:,}"
    assert (
        str(error.value) == f"Cannot open 'over.png': {counts} is more than the limit of {limit}."
    )


@pytest.mark.parametrize("bad", [0, -1, 1.5, 1e9, True, "100", None])
def test_invalid_max_pixels(tmp_path, bad):
    path = tmp_path / "fine.png"
    Image.fromarray(rgb_gradient()).save(path)
    with pytest.raises(ValueError, match="max_pixels must be a positive integer"):
        load_image(path, max_pixels=bad)


# --- running out of memory ------------------------------------------------------------------

NO_MEMORY_FOR_PNG = (
    "Cannot open 'wide.png': not enough memory to open a 20000 × 10000 image "
    "(about 0.6 GB needed)."
)


@pytest.fixture
def wide_png(tmp_path):
    """A PNG whose header claims 20000 × 10000 RGB pixels, which it does not hold."""
    return write(tmp_path / "wide.png", handmade_png(20000, 10000))


@pytest.mark.parametrize(
    "failure",
    [
        MemoryError(),
        cv2.error(
            "OpenCV(5.1.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate"
        ),
        cv2.error("OutOfMemoryError: failed to allocate 600000000 bytes"),
    ],
    ids=["MemoryError", "insufficient-memory", "failed-to-allocate"],
)
def test_memory_failure_while_decoding_is_not_called_damage(wide_png, monkeypatch, failure):
    def out_of_memory(*args, **kwargs):
        raise failure

    monkeypatch.setattr(cv2, "imdecode", out_of_memory)
    with pytest.raises(ImageMemoryError) as error:
        load_image(wide_png)
    assert isinstance(error.value, MemoryError)
    assert isinstance(error.value, ImageLoadError)
    assert str(error.value) == NO_MEMORY_FOR_PNG


def test_memory_failure_in_pillow_is_not_called_damage(wide_png, monkeypatch):
    def out_of_memory(self):
        raise MemoryError

    monkeypatch.setattr(imageio.PngImagePlugin.PngImageFile, "verify", out_of_memory)
    with pytest.raises(ImageMemoryError) as error:
        load_image(wide_png)
    assert str(error.value) == NO_MEMORY_FOR_PNG


def test_memory_estimate_counts_channels_and_depth(tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cv2, "imdecode", out_of_memory)
    grey16 = write(tmp_path / "g.png", handmade_png(30000, 5000, bit_depth=16, colour_type=0))
    with pytest.raises(ImageMemoryError, match=r"30000 × 5000 image \(about 0\.3 GB needed\)"):
        load_image(grey16)
    tiff = tmp_path / "rgb16.tif"
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tiff)  # 8 bits: 60 bytes
    with pytest.raises(ImageMemoryError, match=r"5 × 4 image \(about 1 MB needed\)"):
        load_image(tiff)


def test_other_decoder_errors_are_still_damage(tmp_path, monkeypatch):
    path = tmp_path / "whole.png"
    Image.fromarray(rgb_gradient()).save(path)

    def broken(*args, **kwargs):
        raise cv2.error("OpenCV(5.1.0) error: (-215:Assertion failed) in function 'imdecode_'")

    monkeypatch.setattr(cv2, "imdecode", broken)
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert not isinstance(error.value, MemoryError)
    assert str(error.value) == (
        "Cannot open 'whole.png': the image data is damaged or in a variant OpenCV cannot decode."
    )


LOAD_IN_A_CHILD = """
import resource, sys
from kernelstudio.imageio import ImageLoadError, load_image
if len(sys.argv) > 2:
    status = open("/proc/self/status").read().split("VmSize:")[1]
    in_use = int(status.split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (in_use + int(sys.argv[2]), resource.RLIM_INFINITY))
try:
    print(load_image(sys.argv[1]).shape)
except ImageLoadError as error:
    print(type(error).__name__, error)
"""


def load_in_a_child(path, *, extra_address_space=None, timeout=10):
    """Load `path` in a new interpreter; a hang fails the test instead of stalling it."""
    arguments = [os.fspath(path)] + ([str(extra_address_space)] if extra_address_space else [])
    finished = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_CHILD, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.strip()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmSize from /proc")
def test_real_allocation_failure_under_an_address_space_limit(tmp_path):
    path = tmp_path / "plain.png"
    cv2.imwrite(str(path), np.zeros((6000, 8000, 3), np.uint8))  # 144 MB decoded, 150 kB stored
    assert path.stat().st_size < 1_000_000
    shown = load_in_a_child(path, extra_address_space=64 << 20)
    assert shown == (
        "ImageMemoryError Cannot open 'plain.png': not enough memory to open a "
        "8000 × 6000 image (about 0.1 GB needed)."
    )
    assert load_in_a_child(path) == "(6000, 8000, 3)"


# --- only regular files ----------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    assert load_in_a_child(fifo) == (
        "ImageLoadError Cannot open 'x.png': it is a named pipe (FIFO), not a file."
    )
    with pytest.raises(ImageLoadError, match="named pipe"):
        image_size(fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_link_to_dev_zero_is_refused_without_reading_it(tmp_path):
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError) as error:
            load_image(link)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(error.value) == "Cannot open 'zero.png': it is a device, not a file."
    assert peak < 1_000_000
    assert load_in_a_child(link).endswith("it is a device, not a file.")


def test_folder_is_named_a_folder(tmp_path):
    folder = tmp_path / "album.png"
    folder.mkdir()
    for read in (load_image, image_size):
        with pytest.raises(ImageLoadError) as error:
            read(folder)
        assert str(error.value) == "Cannot open 'album.png': it is a folder, not a file."


# --- save failures and atomicity -------------------------------------------------------------


@pytest.mark.parametrize(("name", "shown"), [("out.gif", "'.gif'"), ("out", "without extension")])
def test_unknown_extension(tmp_path, name, shown):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / name, rgb_gradient())
    assert_sentence_naming(error, name)
    assert shown in str(error.value)
    assert ".png, .jpg, .jpeg, .tif, .tiff, .bmp, .webp" in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extension", "dtype"),
    [
        (".jpg", np.uint16),
        (".webp", np.uint16),
        (".bmp", np.uint16),
        (".png", np.float32),
        (".jpg", np.float32),
        (".tif", np.float64),
        (".tif", np.int32),
        (".png", np.int8),
        (".png", np.bool_),
    ],
)
def test_dtype_the_format_cannot_hold(tmp_path, extension, dtype):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / f"out{extension}", np.zeros((4, 4), dtype))
    assert_sentence_naming(error, f"out{extension}")
    assert np.dtype(dtype).name in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((4, 4, 1), np.uint8),
        np.zeros(16, np.uint8),
        np.zeros((2, 4, 4, 3), np.uint8),
        np.zeros((0, 4), np.uint8),
        [[0, 1], [2, 3]],
    ],
    ids=["five-channels", "one-channel", "1d", "4d", "empty", "list"],
)
def test_shape_or_type_that_is_not_an_image(tmp_path, image):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "out.png", image)
    assert_sentence_naming(error, "out.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [0, 101, 9.5, True, None])
def test_invalid_quality(tmp_path, bad):
    with pytest.raises(ValueError, match="quality must be an integer from 1 to 100"):
        save_image(tmp_path / "out.jpg", rgb_gradient(), quality=bad)


def test_image_too_large_for_the_format(tmp_path):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "wide.webp", np.zeros((1, 20000), np.uint8))
    assert (
        str(error.value)
        == "Cannot save 'wide.webp': OpenCV could not encode the 20000 × 1 image as WebP."
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "no such folder" / "out.png", rgb_gradient())
    assert str(error.value) == "Cannot save 'out.png': the folder does not exist."


def test_folder_in_the_way(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "out.png", rgb_gradient())
    assert_sentence_naming(error, "out.png")
    assert "folder" in str(error.value)
    assert temp_files(tmp_path) == []


@pytest.fixture
def existing(tmp_path):
    """An image file already at the target path, and its bytes."""
    path = tmp_path / "out.png"
    save_image(path, grey_gradient())
    return path, path.read_bytes()


def test_read_only_folder_refuses_the_temporary_file(existing, monkeypatch):
    path, before = existing

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(ImageSaveError) as error:
        save_image(path, rgb_gradient())
    assert str(error.value) == "Cannot save 'out.png': permission denied."
    assert path.read_bytes() == before


def test_failed_rename_removes_the_temporary_file(existing, monkeypatch):
    path, before = existing

    def denied(source, target):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(imageio.os, "replace", denied)
    with pytest.raises(ImageSaveError, match="permission denied"):
        save_image(path, rgb_gradient())
    assert path.read_bytes() == before
    assert temp_files(path.parent) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]


def test_disk_full_mid_write_leaves_the_old_file_intact(existing, monkeypatch):
    path, before = existing
    real_write = os.write
    calls = []

    def fill_up(descriptor, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(descriptor, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(imageio.os, "write", fill_up)
    with pytest.raises(ImageSaveError) as error:
        save_image(path, random_pixels((64, 64, 3), np.uint8))
    assert str(error.value) == "Cannot save 'out.png': the disk is full."
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]


def test_interrupted_save_cleans_up_too(existing, monkeypatch):
    path, before = existing

    def interrupt(descriptor):
        raise KeyboardInterrupt

    monkeypatch.setattr(imageio.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_image(path, rgb_gradient())
    assert path.read_bytes() == before
    assert temp_files(path.parent) == []


def test_overwrite_replaces_the_content(existing):
    path, before = existing
    save_image(path, rgb_gradient())
    assert path.read_bytes() != before
    np.testing.assert_array_equal(load_image(path), rgb_gradient())
    assert temp_files(path.parent) == []


def test_new_file_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "fresh.png"
    save_image(path, rgb_gradient())
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_other_os_errors_keep_their_own_words(existing, monkeypatch):
    path, _ = existing

    def broken(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(imageio.os, "fsync", broken)
    with pytest.raises(ImageSaveError) as error:
        save_image(path, rgb_gradient())
    assert str(error.value) == "Cannot save 'out.png': input/output error."


def _bigtiff(order: bytes) -> bytes:
    """A 4×3 8-bit grey BigTIFF, built by hand (no writer here makes BigTIFF)."""
    endian = "<" if order == b"II" else ">"
    pixels = bytes(range(0, 120, 10))
    entries = [  # tag, type (3 SHORT, 16 LONG8), count, value
        (256, 3, 1, 4),
        (257, 3, 1, 3),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 16, 1, 16 + 8 + 20 * 9 + 8),
        (277, 3, 1, 1),
        (278, 3, 1, 3),
        (279, 16, 1, len(pixels)),
    ]
    data = order + struct.pack(endian + "HHHQ", 43, 8, 0, 16)
    data += struct.pack(endian + "Q", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack(endian + ("H" if kind == 3 else "Q"), value)
        data += struct.pack(endian + "HHQ", tag, kind, count) + packed.ljust(8, b"\0")
    return data + struct.pack(endian + "Q", 0) + pixels


@pytest.mark.parametrize("order", [b"II", b"MM"])
def test_bigtiff_in_either_byte_order(tmp_path, order):
    path = tmp_path / f"big-{order.decode()}.tif"
    path.write_bytes(_bigtiff(order))
    expected = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert expected is not None
    np.testing.assert_array_equal(load_image(path), expected)


# --- alpha -----------------------------------------------------------------------------------

ALPHA_MODES = {2: "LA", 4: "RGBA"}


@pytest.mark.parametrize("extension", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("channels", [2, 4], ids=["grey-alpha", "rgba"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_alpha_round_trip_is_exact(tmp_path, extension, channels, dtype):
    pixels = random_pixels((7, 11, channels), dtype)
    pixels[0, :, -1] = 0  # fully transparent pixels keep their stored colour too
    path = tmp_path / f"alpha{extension}"
    save_image(path, pixels)
    loaded = load_image(path, alpha=True)
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, pixels)
    if dtype == np.uint8:  # an independent reader sees the last channel as alpha
        assert pillow_info(path)[1] == ALPHA_MODES[channels]
        np.testing.assert_array_equal(pillow_pixels(path, ALPHA_MODES[channels]), pixels)


@pytest.mark.parametrize("channels", [2, 4], ids=["grey-alpha", "rgba"])
def test_float32_alpha_tiff_round_trip_is_exact(tmp_path, channels):
    pixels = random_pixels((5, 8, channels), np.float32)
    pixels[1, 2] = [np.inf, -0.0, np.nan, 1e-40][:channels]
    path = tmp_path / "alpha.tif"
    save_image(path, pixels)
    loaded = load_image(path, alpha=True)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.view(np.uint32), pixels.view(np.uint32))


def test_16_bit_grey_alpha_png_written_elsewhere_keeps_its_alpha(tmp_path):
    grey_alpha = random_pixels((5, 7, 2), np.uint16)
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in grey_alpha)
    path = write(
        tmp_path / "la16.png", handmade_png(7, 5, bit_depth=16, colour_type=4, raw_rows=rows)
    )
    loaded = load_image(path, alpha=True)
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, grey_alpha)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}), ("JPEG2000", {})],
    ids=["png", "tiff", "tiff-lzw", "jpeg2000"],
)
@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_alpha_written_by_pillow_loads_exactly(tmp_path, fmt, options, mode):
    if fmt == "JPEG2000":
        options = {"irreversible": False}  # lossless
    pixels = random_pixels((6, 9, len(mode)), np.uint8)
    path = tmp_path / f"pillow.{fmt.lower()}"
    Image.fromarray(pixels, mode).save(path, fmt, **options)
    np.testing.assert_array_equal(load_image(path, alpha=True), pixels)


def test_webp_keeps_alpha_exactly_and_colour_closely(tmp_path):
    rgba = np.dstack([rgb_gradient(), grey_gradient()[::-1]])
    rgba[:4, :, 3] = 0
    for quality in (80, 95, 100):
        path = tmp_path / f"q{quality}.webp"
        save_image(path, rgba, quality=quality)
        loaded = load_image(path, alpha=True)
        assert loaded.shape == rgba.shape
        np.testing.assert_array_equal(loaded[..., 3], rgba[..., 3])  # libwebp: lossless alpha
        seen = rgba[..., 3] > 0
        error = np.abs(loaded[..., :3].astype(int) - rgba[..., :3])[seen]
        assert error.mean() < 3, quality


def test_grey_alpha_webp_comes_back_as_rgba_with_equal_colours(tmp_path):
    grey_alpha = np.dstack([grey_gradient(), grey_gradient()[::-1]])
    path = tmp_path / "la.webp"
    save_image(path, grey_alpha)
    loaded = load_image(path, alpha=True)
    assert loaded.shape == (24, 32, 4)
    np.testing.assert_array_equal(loaded[..., 3], grey_alpha[..., 1])
    assert np.abs(loaded[..., :3].astype(int) - grey_alpha[..., :1]).mean() < 3


def test_palette_png_with_trns_loads_as_rgba(tmp_path):
    path = tmp_path / "palette.png"
    Image.fromarray(random_pixels((6, 9, 4), np.uint8)).convert("P").save(path)
    assert pillow_info(path)[1] == "P"
    loaded = load_image(path, alpha=True)
    assert loaded.shape == (6, 9, 4)
    np.testing.assert_array_equal(loaded, pillow_pixels(path, "RGBA"))


@pytest.mark.parametrize("bits", [8, 2, 16])
def test_grey_png_with_trns_gets_an_alpha_channel(tmp_path, bits):
    dtype = np.uint16 if bits == 16 else np.uint8
    grey = random_pixels((6, 9), dtype) >> (8 - bits if bits < 8 else 0)
    transparent = int(grey[2, 3])
    path = tmp_path / "grey-trns.png"
    Image.fromarray(grey).save(path, transparency=transparent, bits=bits)
    loaded = load_image(path, alpha=True)
    assert loaded.shape == (6, 9, 2)
    assert loaded.dtype == dtype
    opaque = np.iinfo(dtype).max
    np.testing.assert_array_equal(loaded[..., 1], np.where(grey == transparent, 0, opaque))
    np.testing.assert_array_equal(loaded[..., 0], load_image(path))


def test_rgb_png_with_trns_loads_as_rgba(tmp_path):
    rgb = rgb_gradient()
    path = tmp_path / "rgb-trns.png"
    Image.fromarray(rgb).save(path, transparency=tuple(int(v) for v in rgb[5, 7]))
    np.testing.assert_array_equal(load_image(path, alpha=True), pillow_pixels(path, "RGBA"))


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("rgb.png", lambda path: Image.fromarray(rgb_gradient()).save(path)),
        ("grey.png", lambda path: Image.fromarray(grey_gradient()).save(path)),
        ("rgb.webp", lambda path: Image.fromarray(rgb_gradient()).save(path, lossless=True)),
        ("rgb.tif", lambda path: Image.fromarray(rgb_gradient()).save(path)),
        ("grey.jpg", lambda path: Image.fromarray(grey_gradient()).save(path)),
        ("palette.png", lambda path: Image.fromarray(rgb_gradient()).convert("P").save(path)),
        ("cmyk.jpg", lambda path: Image.fromarray(rgb_gradient()).convert("CMYK").save(path)),
    ],
)
def test_alpha_true_without_alpha_in_the_file_changes_nothing(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    flattened = load_image(path)
    with_alpha = load_image(path, alpha=True)
    assert with_alpha.dtype == flattened.dtype
    np.testing.assert_array_equal(with_alpha, flattened)


@pytest.mark.parametrize(
    ("fmt", "options"), [("PNG", {}), ("WEBP", {"lossless": True, "exact": True})]
)
def test_alpha_false_flattens_as_opencv_and_pillow_do(tmp_path, fmt, options):
    rgba = random_pixels((6, 9, 4), np.uint8)
    rgba[0, :, 3] = 0
    path = tmp_path / f"rgba.{fmt.lower()}"
    Image.fromarray(rgba, "RGBA").save(path, fmt, **options)
    loaded = load_image(path)
    opencv = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(loaded, opencv)
    np.testing.assert_array_equal(
        loaded, pillow_pixels(path, "RGB")
    )  # stored colour, not composited


def test_float32_rgba_tiff_loads_without_alpha_too(tmp_path):
    # OpenCV's colour reader refuses it; before alpha could be saved, no file had it.
    rgba = random_pixels((5, 8, 4), np.float32)
    path = tmp_path / "rgba.tif"
    save_image(path, rgba)
    np.testing.assert_array_equal(load_image(path), rgba[..., :3])


def test_saved_rgba_tiff_loads_flattened_as_pillows_rgba_tiff_does(tmp_path):
    rgba = random_pixels((6, 9, 4), np.uint8)
    ours, pillows = tmp_path / "ours.tif", tmp_path / "pillows.tif"
    save_image(ours, rgba)
    Image.fromarray(rgba, "RGBA").save(pillows)
    np.testing.assert_array_equal(load_image(ours), load_image(pillows))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_alpha_keeps_the_exif_orientation(tmp_path, orientation):
    rgba = random_pixels((6, 9, 4), np.uint8)
    png, webp, tiff = tmp_path / "o.png", tmp_path / "o.webp", tmp_path / "o.tif"
    source = Image.fromarray(rgba, "RGBA")
    source.save(png, exif=with_orientation(orientation))
    source.save(webp, lossless=True, exact=True, exif=with_orientation(orientation))
    source.save(tiff, exif=with_orientation(orientation))
    with Image.open(png) as opened:
        upright = np.asarray(ImageOps.exif_transpose(opened))
    np.testing.assert_array_equal(load_image(png, alpha=True), upright)
    np.testing.assert_array_equal(load_image(webp, alpha=True), upright)
    # Pillow's exif_transpose skips TIFF's orientations 5 to 8; the PNG stands in for it.
    np.testing.assert_array_equal(load_image(tiff, alpha=True), upright)
    assert load_image(tiff).shape[:2] == upright.shape[:2]


@pytest.mark.parametrize("extension", [".jpg", ".jpeg", ".bmp", ".JPG"])
@pytest.mark.parametrize("channels", [2, 4], ids=["grey-alpha", "rgba"])
def test_formats_without_alpha_refuse_a_transparent_image(tmp_path, extension, channels):
    name = f"x{extension}"
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / name, np.zeros((4, 4, channels), np.uint8))
    assert_sentence_naming(error, name)
    assert "cannot keep transparency; save as .png, .tif or .webp" in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extension", "dtype"), [(".webp", np.uint16), (".png", np.float32), (".tif", np.float64)]
)
def test_alpha_in_a_dtype_the_format_cannot_hold(tmp_path, extension, dtype):
    with pytest.raises(ImageSaveError, match=np.dtype(dtype).name):
        save_image(tmp_path / f"out{extension}", np.zeros((4, 4, 4), dtype))
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_keeps_an_existing_file(tmp_path):
    path = tmp_path / "kept.png"
    path.write_bytes(b"precious")
    with pytest.raises(ImageSaveError) as error:
        save_image(path, rgb_gradient(), overwrite=False)
    assert str(error.value) == "Cannot save 'kept.png': a file of that name exists."
    assert path.read_bytes() == b"precious"
    assert temp_files(tmp_path) == []


def test_overwrite_false_writes_a_new_file(tmp_path):
    path = tmp_path / "new.png"
    save_image(path, rgb_gradient(), overwrite=False)
    np.testing.assert_array_equal(load_image(path), rgb_gradient())


def test_overwrite_false_never_clobbers_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    path = tmp_path / "raced.png"
    real_fsync = os.fsync

    def someone_else_writes(descriptor):
        real_fsync(descriptor)
        path.write_bytes(b"theirs")

    monkeypatch.setattr(atomic.os, "fsync", someone_else_writes)
    with pytest.raises(ImageSaveError, match="a file of that name exists"):
        save_image(path, rgb_gradient(), overwrite=False)
    assert path.read_bytes() == b"theirs"
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("extension", [".png", "png", ".TIF", "webp", ".jpg"])
def test_encode_image_gives_the_bytes_save_image_writes(tmp_path, extension):
    image = rgb_gradient()
    path = tmp_path / f"out.{extension.lstrip('.')}"
    save_image(path, image, quality=80)
    assert encode_image(image, extension, quality=80) == path.read_bytes()


def test_encode_image_errors(tmp_path):
    with pytest.raises(ImageSaveError, match=r"^Cannot encode a '\.gif' image: .*\.$"):
        encode_image(rgb_gradient(), ".gif")
    with pytest.raises(ImageSaveError, match="cannot keep transparency"):
        encode_image(np.zeros((2, 2, 4), np.uint8), "jpg")
    with pytest.raises(ValueError, match="quality must be an integer"):
        encode_image(rgb_gradient(), ".jpg", quality=0)
