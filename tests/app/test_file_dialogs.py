"""Where the file dialogs open, what they suggest and what they remember (no real dialogs)."""

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from kernelstudio.app.file_dialogs import (
    MAX_RECENT_FILES,
    OPEN_FOLDER_KEY,
    RECENT_KEY,
    SAVE_FOLDER_KEY,
    FileDialogs,
    pictures_folder,
    suggested_path,
)
from kernelstudio.samples import RESOURCES_DIR, sample_image_path

NAMES = [
    ("result", "coffee.png", "sharpen", "coffee-sharpen.png"),
    ("float", "coffee.png", "sharpen", "coffee-sharpen.tif"),
    ("views", "coffee.png", "sharpen", "coffee-sharpen-views.png"),
    ("kernel", "coffee.png", "sharpen", "sharpen.json"),
    ("recipe", "coffee.png", "sharpen", "coffee-recipe.json"),
    ("result", "coffee.png", "", "coffee-kernel.png"),
    ("float", "coffee.png", "", "coffee-kernel.tif"),
    ("views", "coffee.png", "", "coffee-kernel-views.png"),
    ("kernel", "coffee.png", "", "kernel.json"),
    ("recipe", "coffee.png", "", "coffee-recipe.json"),
    ("result", "coffee.png", "My kernel", "coffee-my-kernel.png"),
    ("kernel", "coffee.png", "My kernel", "my-kernel.json"),
    ("kernel", "coffee.png", "★ three", "three.json"),
    ("result", "", "sharpen", "result-sharpen.png"),
    ("views", "", "", "result-kernel-views.png"),
    ("kernel", "", "sharpen", "sharpen.json"),
    ("recipe", "", "sharpen", "sharpen-recipe.json"),
    ("recipe", "", "", "recipe.json"),
    ("result", "holiday.photo.JPG", "box-blur", "holiday.photo-box-blur.png"),
    ("result", "sample, grey, 100×100", "emboss", "sample, grey, 100×100-emboss.png"),
    ("result", 'a:b?"c".png', "emboss", "a-b-c-emboss.png"),
    ("result", ".hidden.png", "emboss", "hidden-emboss.png"),
    ("result", "../../up.png", "emboss", "up-emboss.png"),
]


@pytest.fixture
def places(tmp_path):
    """Folders: photos (an image's), saved (last saved to), samples (the install's), pictures."""
    folders = {name: tmp_path / name for name in ("photos", "saved", "samples", "pictures")}
    for folder in folders.values():
        folder.mkdir()
    return folders


@pytest.mark.parametrize(("kind", "image_name", "label", "expected"), NAMES)
def test_each_kind_suggests_its_own_name(places, kind, image_name, label, expected):
    suggestion = suggested_path(
        kind,
        image_name=image_name,
        image_path=places["photos"] / "photo.png",
        stage_label=label,
        folder=None,
        sample_folder=places["samples"],
        fallback_folder=places["pictures"],
    )
    assert suggestion == places["photos"] / expected


def test_the_five_kinds_never_suggest_the_same_file(places):
    suggestions = {
        suggested_path(
            kind,
            image_name="coffee.png",
            image_path=places["photos"] / "coffee.png",
            stage_label="sharpen",
            folder=places["saved"],
            sample_folder=places["samples"],
            fallback_folder=places["pictures"],
        )
        for kind in ("result", "float", "views", "kernel", "recipe")
    }
    assert len(suggestions) == 5


# (last saved folder, image's folder) -> the folder offered; names index `places`.
FOLDERS = [
    ("saved", "photos", "saved"),
    ("saved", "samples", "saved"),
    ("saved", None, "saved"),
    (None, "photos", "photos"),
    (None, "samples", "pictures"),
    (None, "samples/inner", "pictures"),
    (None, None, "pictures"),
    ("samples", "photos", "photos"),
    ("samples", "samples", "pictures"),
    ("gone", "photos", "photos"),
    ("gone", "gone", "pictures"),
    (None, "gone", "pictures"),
]


@pytest.mark.parametrize(("saved", "image_folder", "offered"), FOLDERS)
def test_the_folder_offered(places, saved, image_folder, offered):
    (places["samples"] / "inner").mkdir()
    root = places["photos"].parent
    suggestion = suggested_path(
        "result",
        image_name="coffee.png",
        image_path=root / image_folder / "coffee.png" if image_folder else None,
        stage_label="sharpen",
        folder=root / saved if saved else None,
        sample_folder=places["samples"],
        fallback_folder=places["pictures"],
    )
    assert suggestion == root / offered / "coffee-sharpen.png"


def test_the_installed_sample_is_never_saved_beside(tmp_path):
    suggestion = suggested_path(
        "views",
        image_name="coffee.png",
        image_path=sample_image_path(),
        stage_label="sharpen",
        folder=RESOURCES_DIR,
        fallback_folder=tmp_path,
    )
    assert suggestion == tmp_path / "coffee-sharpen-views.png"


def test_an_unknown_kind_is_refused_by_name(places):
    with pytest.raises(ValueError, match="'poster'"):
        suggested_path("poster", image_name="", image_path=None, stage_label="", folder=None)


def test_pictures_or_home_when_there_is_no_pictures_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pictures_folder() == tmp_path
    (tmp_path / "Pictures").mkdir()
    assert pictures_folder() == tmp_path / "Pictures"


class Chooser:
    """Stands in for the dialogs: records each question, answers with the next reply."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.asked = []

    def __call__(self, mode, title, start, filters):
        self.asked.append((mode, title, start, filters))
        return self.replies.pop(0)


@pytest.fixture
def store(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home with a Pictures folder, where dialogs go when nothing better is known."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    pictures = tmp_path / "home" / "Pictures"
    pictures.mkdir(parents=True)
    return pictures


def test_saving_suggests_the_kind_and_remembers_the_folder(tmp_path, store, home):
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    chooser = Chooser(str(elsewhere / "first.png"), str(elsewhere / "second"))
    dialogs = FileDialogs(None, store, chooser=chooser)
    photo = tmp_path / "coffee.png"
    asked = {"image_name": "coffee.png", "image_path": photo, "stage_label": "sharpen"}

    assert dialogs.ask_save("result", **asked) == elsewhere / "first.png"
    mode, title, start, filters = chooser.asked[0]
    assert (mode, title, start) == ("save", "Export Result", str(tmp_path / "coffee-sharpen.png"))
    assert "PNG image (*.png)" in filters.split(";;")

    assert dialogs.ask_save("kernel", **asked) == elsewhere / "second.json"
    mode, title, start, filters = chooser.asked[1]
    assert (title, start, filters) == (
        "Export Kernel",
        str(elsewhere / "sharpen.json"),
        "Kernel files (*.json)",
    )
    assert dialogs.save_folder == elsewhere
    assert dialogs.last_folder == elsewhere


@pytest.mark.parametrize(
    ("kind", "title", "typed", "saved"),
    [
        ("float", "Export Exact Result", "exact", "exact.tif"),
        ("views", "Export All Views", "all", "all.png"),
        ("recipe", "Export Recipe", "steps", "steps.json"),
        ("result", "Export Result", "photo.jpg", "photo.jpg"),
    ],
)
def test_a_name_typed_without_a_suffix_gets_the_kind_s(
    tmp_path, store, home, kind, title, typed, saved
):
    chooser = Chooser(str(tmp_path / typed))
    dialogs = FileDialogs(None, store, chooser=chooser)
    target = dialogs.ask_save(kind, image_name="", image_path=None, stage_label="")
    assert target == tmp_path / saved
    assert chooser.asked[0][1] == title


def test_cancelling_a_save_remembers_nothing(store, home):
    dialogs = FileDialogs(None, store, chooser=Chooser(""))
    assert dialogs.ask_save("views", image_name="", image_path=None, stage_label="") is None
    assert dialogs.save_folder is None
    assert not store.contains(SAVE_FOLDER_KEY)


def test_opening_the_sample_never_offers_the_install(store, home, tmp_path):
    chooser = Chooser(str(home / "coffee-sharpen.png"), "")
    dialogs = FileDialogs(None, store, chooser=chooser)
    dialogs.remember(sample_image_path())
    assert dialogs.recent_files() == [str(sample_image_path().resolve())]
    assert dialogs.last_folder == home
    dialogs.ask_save(
        "result", image_name="coffee.png", image_path=sample_image_path(), stage_label="sharpen"
    )
    assert chooser.asked[0][2] == str(home / "coffee-sharpen.png")
    dialogs.ask_open_image()
    assert chooser.asked[1][2] == str(home)


def test_open_dialogs_start_by_the_last_file_and_say_what_they_open(tmp_path, store, home):
    photos = tmp_path / "photos"
    photos.mkdir()
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    chooser = Chooser(str(kernels / "edge.json"), "", str(photos / "r.json"))
    dialogs = FileDialogs(None, store, chooser=chooser)
    dialogs.remember(photos / "cat.png")

    assert dialogs.ask_open_kernel() == kernels / "edge.json"
    assert dialogs.ask_open_image() is None
    assert dialogs.ask_open_recipe() == photos / "r.json"
    (_, kernel_title, kernel_start, kernel_filters) = chooser.asked[0]
    (_, image_title, image_start, image_filters) = chooser.asked[1]
    (_, recipe_title, _, recipe_filters) = chooser.asked[2]
    assert {mode for mode, *_ in chooser.asked} == {"open"}
    assert (kernel_title, kernel_start) == ("Import Kernel", str(photos))
    assert (image_title, image_start) == ("Open Image", str(kernels))
    assert recipe_title == "Import Recipe"
    assert kernel_filters == "Kernel files (*.json);;All files (*)"
    assert recipe_filters == "Recipe files (*.json);;All files (*)"
    assert "*.png" in image_filters
    assert "*.tif" in image_filters


def test_recent_files_are_newest_first_without_repeats_and_at_most_ten(tmp_path, store, home):
    dialogs = FileDialogs(None, store, chooser=Chooser())
    for number in range(12):
        dialogs.remember(tmp_path / f"{number}.png")
    dialogs.remember(tmp_path / "5.png")
    recent = dialogs.recent_files()
    assert len(recent) == MAX_RECENT_FILES
    assert recent[:3] == [str(tmp_path / name) for name in ("5.png", "11.png", "10.png")]
    assert recent.count(str(tmp_path / "5.png")) == 1
    assert str(tmp_path / "0.png") not in recent
    assert dialogs.last_folder == tmp_path


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (OPEN_FOLDER_KEY, ["a", "b"], "not text"),
        (SAVE_FOLDER_KEY, ["a", "b"], "not text"),
        (SAVE_FOLDER_KEY, "x" * 5000, "5,000 characters"),
        (RECENT_KEY, [str(n) for n in range(50)], "more than it ever should"),
    ],
)
def test_bad_stored_values_are_reset_and_said(store, home, key, value, reason):
    store.setValue(key, value)
    store.sync()
    dialogs = FileDialogs(None, store, chooser=Chooser())
    assert len(dialogs.problems) == 1
    assert key in dialogs.problems[0]
    assert reason in dialogs.problems[0]
    assert not store.contains(key)
    assert dialogs.last_folder == home
    assert dialogs.save_folder is None
    assert dialogs.recent_files() == []


@pytest.mark.parametrize("stored", [str(RESOURCES_DIR), "relative/folder", "/no/such/folder"])
def test_a_stored_folder_that_cannot_be_offered_is_passed_over(store, home, stored):
    store.setValue(SAVE_FOLDER_KEY, stored)
    store.setValue(OPEN_FOLDER_KEY, stored)
    dialogs = FileDialogs(None, store, chooser=Chooser())
    assert dialogs.problems == []
    assert dialogs.save_folder is None
    assert dialogs.last_folder == home


def test_the_real_dialogs_are_qt_s(qtbot, tmp_path, store, home, monkeypatch):
    asked = []

    def save_file_name(parent, title, start, filters):
        asked.append((parent, title, start, filters))
        return str(tmp_path / "out.png"), filters

    def open_file_name(parent, title, start, filters):
        asked.append((parent, title, start, filters))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_file_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_file_name)
    parent = QWidget()
    qtbot.addWidget(parent)
    dialogs = FileDialogs(parent, store)
    assert dialogs.ask_save("result", image_name="", image_path=None, stage_label="") == Path(
        tmp_path / "out.png"
    )
    assert dialogs.ask_open_image() is None
    assert [(who, title) for who, title, *_ in asked] == [
        (parent, "Export Result"),
        (parent, "Open Image"),
    ]
