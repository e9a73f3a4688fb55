"""Saved presets: renaming moves the file with the name, deleting removes it; the CLI sees both."""

import os

import cv2
import numpy as np
import pytest

from kernelstudio.app import custom_presets as module
from kernelstudio.app.custom_presets import CustomPresets, checked_name, preset_slug
from kernelstudio.kernels import Kernel, KernelFileError, read_kernel_file, user_presets_folder

SOFT = Kernel("Soft edge", np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]), divisor=16, offset=3)
LINE = Kernel("Line", np.array([[0.0, 0, 0], [-1, 2, -1], [0, 0, 0]]))


@pytest.fixture
def presets(tmp_path):
    store = CustomPresets(tmp_path / "presets")
    store.save(SOFT)
    store.save(LINE)
    return store


def files(store):
    return sorted(path.name for path in store.folder.iterdir())


def names(store):
    kernels, problems = store.load_all()
    assert problems == []
    return [kernel.name for kernel in kernels]


def test_renaming_moves_the_file_and_keeps_the_kernel(presets):
    moved = presets.rename("Soft edge", "Gentle blur")
    assert moved == presets.folder / "gentle-blur.json"
    assert files(presets) == ["gentle-blur.json", "line.json"]
    kernel = read_kernel_file(moved)
    assert kernel.name == "Gentle blur"
    np.testing.assert_array_equal(kernel.weights, SOFT.weights)
    assert (kernel.divisor, kernel.offset) == (16, 3)
    assert names(presets) == ["Gentle blur", "Line"]


def test_renaming_to_the_same_slug_rewrites_the_one_file(presets):
    presets.rename("Soft edge", "SOFT EDGE")
    assert files(presets) == ["line.json", "soft-edge.json"]
    assert names(presets) == ["Line", "SOFT EDGE"]


def test_a_preset_in_a_hand_named_file_is_found_and_moved_to_its_slug(presets):
    os.rename(presets.folder / "line.json", presets.folder / "my own file.json")
    presets.rename("Line", "Ridge")
    assert files(presets) == ["ridge.json", "soft-edge.json"]


@pytest.mark.parametrize("taken", ["Line", "line", "  LINE ", "line!"])
def test_renaming_to_a_name_or_file_already_used_is_refused(presets, taken):
    before = {name: (presets.folder / name).read_bytes() for name in files(presets)}
    with pytest.raises(KernelFileError, match="already a preset called 'Line'"):
        presets.rename("Soft edge", taken)
    assert {name: (presets.folder / name).read_bytes() for name in files(presets)} == before


def test_a_stray_file_in_the_way_is_not_overwritten(presets):
    (presets.folder / "ridge.json").write_text("not a kernel")
    with pytest.raises(KernelFileError, match=r"'ridge\.json' is in the way"):
        presets.rename("Line", "Ridge")
    assert (presets.folder / "ridge.json").read_text() == "not a kernel"
    assert files(presets) == ["line.json", "ridge.json", "soft-edge.json"]


BAD_NAMES = [
    ("", "''"),
    ("   ", "'   '"),
    ("x" * 81, "'xxxx"),
    ("two\nlines", "'two\\\\nlines'"),
    ("tab\there", "'tab\\\\there'"),
    ("★ ☆", "'★ ☆'"),
    ("---", "'---'"),
    (5, "5"),
    (None, "None"),
]


@pytest.mark.parametrize(("bad", "quoted"), BAD_NAMES)
def test_bad_new_names_are_refused_by_value(presets, bad, quoted):
    with pytest.raises(KernelFileError, match=quoted):
        presets.rename("Line", bad)
    assert names(presets) == ["Line", "Soft edge"]


@pytest.mark.parametrize(("bad", "quoted"), BAD_NAMES)
def test_bad_names_cannot_be_saved_either(tmp_path, bad, quoted):
    store = CustomPresets(tmp_path / "presets")
    with pytest.raises(KernelFileError, match=quoted):
        store.save(Kernel(bad, np.ones((1, 1))))
    assert not store.folder.exists() or files(store) == []


def test_names_are_tidied_and_slugged_as_the_cli_finds_them():
    assert checked_name("  Soft edge  ") == "Soft edge"
    assert checked_name("x" * 80) == "x" * 80
    assert preset_slug("★ three") == "three"


@pytest.mark.parametrize("missing", ["Nothing", "soft edge", "", 7])
def test_renaming_or_deleting_a_preset_that_is_not_there_is_refused(presets, missing):
    with pytest.raises(KernelFileError, match="no preset called"):
        presets.rename(missing, "New")
    with pytest.raises(KernelFileError, match="no preset called"):
        presets.delete(missing)
    assert names(presets) == ["Line", "Soft edge"]


def test_deleting_removes_only_that_preset(presets):
    presets.delete("Soft edge")
    assert files(presets) == ["line.json"]
    assert names(presets) == ["Line"]


def test_a_failed_write_leaves_the_preset_as_it_was(presets, monkeypatch):
    def refuse(path, kernel):
        raise KernelFileError(f"Cannot save '{path.name}': the disk is full.")

    monkeypatch.setattr(module, "write_kernel_file", refuse)
    with pytest.raises(KernelFileError, match="disk is full"):
        presets.rename("Soft edge", "Gentle blur")
    assert files(presets) == ["line.json", "soft-edge.json"]


def test_an_old_file_that_cannot_be_removed_leaves_one_preset_not_two(presets, monkeypatch):
    old = presets.folder / "soft-edge.json"
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(old):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(module.os, "unlink", unlink)
    with pytest.raises(KernelFileError, match="cannot rename the preset 'Soft edge'"):
        presets.rename("Soft edge", "Gentle blur")
    assert files(presets) == ["line.json", "soft-edge.json"]
    with pytest.raises(KernelFileError, match="cannot delete the preset 'Soft edge'"):
        presets.delete("Soft edge")
    assert names(presets) == ["Line", "Soft edge"]


def listed_slugs(out):
    """The slugs under 'Your presets' in ``kernelstudio presets``."""
    mine = out.split("Your presets", 1)[1].split("Generators:", 1)[0].splitlines()[1:]
    return [line.split()[0] for line in mine if line.strip() and "none yet" not in line]


@pytest.fixture
def window_presets():
    """The presets folder the window and the command line share (fresh per test)."""
    store = CustomPresets(user_presets_folder())
    store.save(SOFT)
    return store


def test_the_command_line_sees_a_renamed_preset(cli, tmp_path, window_presets):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (9, 11, 3), np.uint8))
    window_presets.rename("Soft edge", "Gentle blur")

    code, out, err = cli("presets")
    assert (code, err) == (0, "")
    assert listed_slugs(out) == ["gentle-blur"]
    assert "Gentle blur" in out

    code, _, err = cli("apply", photo, "-k", "gentle-blur", "-o", tmp_path / "saved.png")
    assert (code, err) == (0, "")
    rows = "1 2 1; 2 4 2; 1 2 1"
    code, _, _ = cli(
        "apply",
        photo,
        "-k",
        rows,
        "--divisor",
        "16",
        "--offset",
        "3",
        "-o",
        tmp_path / "inline.png",
    )
    assert code == 0
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / "saved.png")), cv2.imread(str(tmp_path / "inline.png"))
    )

    code, _, err = cli("apply", photo, "-k", "soft-edge", "-o", tmp_path / "old.png")
    assert code != 0
    assert "soft-edge" in err


def test_the_command_line_no_longer_lists_a_deleted_preset(cli, window_presets):
    window_presets.delete("Soft edge")
    code, out, _ = cli("presets")
    assert code == 0
    assert listed_slugs(out) == []
    assert "none yet" in out
