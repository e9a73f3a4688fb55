"""The bad-input corpus dropped on the window, and exports that fail on the way to disk.

A good file becomes the current image with the pixels that were written and its
identity result; a bad one leaves the current image in place, says why, and the
window keeps working. A failed export leaves its folder exactly as it was.
"""

import errno
import json
import os

import cv2
import numpy as np
import pytest

from kernelstudio import atomic
from kernelstudio.kernels import PRESETS
from tests.app.conftest import assert_close, oracle
from tests.app.test_main_window import drop, files_mime, wait_for_result
from tests.corpus import (
    BAD_NAMES,
    GOOD_NAMES,
    TINY_NAMES,
    identity_output8,
    largest_error,
)

IDENTITY = PRESETS["identity"]
BLUR = PRESETS["gaussian-blur"]
# Pillow's stray warning on this file is the bug marked in tests/test_bad_inputs.py.
BAD_DROPS = [
    pytest.param(name, marks=pytest.mark.filterwarnings("ignore:Corrupt EXIF data"))
    if name == "truncated-tiff"
    else name
    for name in BAD_NAMES
]


def choose_border(qtbot, window, border):
    combo = window.options.border_combo
    combo.setCurrentIndex(combo.findData(border))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.controller.recipe.border == border, timeout=10_000)


def assert_still_works(qtbot, window, image):
    """A preset chosen after the failure is computed on `image`, correctly."""
    window.choose_preset("gaussian-blur")
    rendering = wait_for_result(qtbot, window, BLUR)
    assert window.controller.image is image
    assert_close(rendering.result, oracle(image.pixels, BLUR), BLUR, image.pixels)


# --- dropping the corpus --------------------------------------------------------------------


def with_alpha(pixels, alpha):
    """The pixels the window keeps: the colour, and the file's alpha when it has one."""
    if alpha is None:
        return pixels
    return np.concatenate([np.atleast_3d(pixels), alpha[..., None]], axis=-1)


@pytest.mark.parametrize("case", GOOD_NAMES, indirect=True)
def test_dropping_a_good_file_shows_it_and_its_result(qtbot, window, case):
    np.testing.assert_array_equal(window.controller.stage.weights, IDENTITY)
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000) as loaded:
        drop(window, files_mime(case.path))
    image = loaded.args[0]
    assert image is window.controller.image
    assert image.name == case.path.name
    assert image.pixels.dtype == case.pixels.dtype
    assert largest_error(image.pixels, with_alpha(case.pixels, case.alpha)) <= case.tolerance
    rendering = wait_for_result(qtbot, window, IDENTITY)
    assert_close(rendering.result, oracle(image.pixels, IDENTITY), IDENTITY, image.pixels)
    expected8, tolerance = identity_output8(case)
    if expected8.ndim == 3 and expected8.shape[2] == 2:  # grey+alpha is shown as RGBA
        grey, alpha = expected8[..., 0], expected8[..., 1]
        expected8 = np.stack([grey, grey, grey, alpha], axis=-1)
    assert largest_error(rendering.result8, expected8) <= tolerance
    assert window.views.shown("result") is rendering.result8
    assert window.message_bar.text == ""


@pytest.mark.parametrize("case", BAD_DROPS, indirect=True)
def test_dropping_a_bad_file_keeps_the_image_and_says_why(qtbot, window, case):
    before = window.controller.image
    drop(window, files_mime(case.path))
    qtbot.waitUntil(lambda: window.message_bar.text != "", timeout=10_000)
    message = window.message_bar.text
    assert case.path.name in message
    assert case.reason in message
    assert window.controller.image is before
    assert window.views.shown("original") is before.pixels8
    assert_still_works(qtbot, window, before)


@pytest.mark.parametrize("case", TINY_NAMES, indirect=True)
def test_valid_border_on_an_image_smaller_than_the_kernel_says_so(qtbot, window, case):
    choose_border(qtbot, window, "valid")
    qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
    with qtbot.waitSignal(window.controller.failed, timeout=10_000) as failed:
        drop(window, files_mime(case.path))
    assert "smaller than the 3×3 kernel" in failed.args[0]
    assert window.message_bar.text == failed.args[0]
    image = window.controller.image
    np.testing.assert_array_equal(image.pixels, case.pixels)
    assert window.views.shown("result") is None
    choose_border(qtbot, window, "mirror")
    rendering = wait_for_result(qtbot, window, IDENTITY)
    assert_close(rendering.result, oracle(image.pixels, IDENTITY), IDENTITY, image.pixels)


# --- export faults ----------------------------------------------------------------------------

EXPORTS = {
    "result": (lambda window, path: window.export_result(path), ".png"),
    "views": (lambda window, path: window.export_views(path), ".png"),
    "kernel": (lambda window, path: window.export_kernel(path), ".json"),
}
# The reason each fault must give: image exports, kernel export (same words for both;
# a kernel file is JSON whatever its extension, so that fault does not apply to it).
FAULTS = {
    "missing-folder": ("the folder does not exist", "the folder does not exist"),
    "unknown-extension": ("names no supported format", None),
    "read-only-folder": ("permission denied", "permission denied"),
    "disk-full": ("the disk is full", "the disk is full"),
}
FAULT_CASES = [
    pytest.param(what, fault, overwrite, id=f"{what}-{fault}{'-overwrite' * overwrite}")
    for what in EXPORTS
    for fault, reasons in FAULTS.items()
    for overwrite in (False, True)
    if reasons[what == "kernel"] is not None and not (overwrite and fault == "missing-folder")
]
OLD_BYTES = b"the previous export \x00\xff, which must survive"


class DiskFillsUp:
    """Stands in for `os` inside kernelstudio.atomic: half the first write lands, then ENOSPC."""

    def __init__(self):
        self.writes = 0

    def write(self, descriptor, data):
        self.writes += 1
        if self.writes == 1:
            return os.write(descriptor, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(os, name)


def folder_contents(folder):
    return {
        path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()
    }


def check_written(window, what, path):
    if what == "kernel":
        assert json.loads(path.read_text(encoding="utf-8"))["weights"] == IDENTITY.tolist()
        return
    written = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    result8 = window.controller.rendering.result8
    if what == "result":
        np.testing.assert_array_equal(written, result8)
    else:  # original, result and three channels side by side
        assert written.shape[0] >= result8.shape[0]
        assert written.shape[1] > 5 * result8.shape[1]


@pytest.mark.parametrize(("what", "fault", "overwrite"), FAULT_CASES)
def test_failed_export_says_why_and_leaves_the_folder_as_it_was(
    qtbot, window, tmp_path, monkeypatch, what, fault, overwrite
):
    export, suffix = EXPORTS[what]
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / f"out{'.xyz' if fault == 'unknown-extension' else suffix}"
    if fault == "missing-folder":
        target = folder / "missing" / target.name
    if overwrite:
        target.write_bytes(OLD_BYTES)
    before = folder_contents(folder)
    real_mkstemp = atomic.tempfile.mkstemp
    disk = DiskFillsUp()

    def read_only_mkstemp(*args, **kwargs):
        if os.fspath(kwargs.get("dir", "")) == os.fspath(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(folder))
        return real_mkstemp(*args, **kwargs)

    if fault == "read-only-folder":  # simulated: root ignores a folder's mode
        monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only_mkstemp)
    if fault == "disk-full":
        monkeypatch.setattr(atomic, "os", disk)

    with qtbot.waitSignal(window.controller.failed, timeout=10_000) as failed:
        export(window, target)
    message = failed.args[0]
    assert f"'{target.name}'" in message
    assert FAULTS[fault][what == "kernel"] in message
    assert window.message_bar.text == message
    assert folder_contents(folder) == before
    assert disk.writes == (2 if fault == "disk-full" else 0)


@pytest.mark.parametrize("overwrite", [False, True], ids=["new-file", "overwrite"])
@pytest.mark.parametrize("what", EXPORTS)
def test_export_replaces_the_file_and_leaves_nothing_else(
    qtbot, window, tmp_path, what, overwrite
):
    export, suffix = EXPORTS[what]
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / f"out{suffix}"
    if overwrite:
        target.write_bytes(OLD_BYTES)
    with qtbot.waitSignal(window.controller.saved, timeout=10_000) as saved:
        export(window, target)
    assert target.name in saved.args[0]
    check_written(window, what, target)
    assert sorted(path.name for path in folder.iterdir()) == [target.name]
    assert window.message_bar.text == ""
