"""Stored state is checked on the way in: poisoned settings, sessions and preset files."""

import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from kernelstudio.app.autosave import load_session
from kernelstudio.app.session import (
    SESSION_FILE_NAME,
    HistoryStep,
    Session,
    SessionError,
    session_from_document,
    session_to_json,
)
from kernelstudio.app.stored_state import (
    StoredFileError,
    StoredState,
    depth_exceeds,
    move_aside,
    read_json_document,
)
from kernelstudio.kernels import PRESETS, Kernel, write_kernel_file
from kernelstudio.pipeline import Recipe, Stage

DEEP = "[" * 100_000 + "]" * 100_000
POISONS = {
    "a string": "garbage",
    "1e308": 1e308,
    "deep nesting": DEEP,
    "a wrong type": {"not": "this"},
}


def settings_file() -> Path:
    return Path(QSettings().fileName())


def state_folder() -> Path:
    location = QStandardPaths.StandardLocation.StateLocation
    return Path(QStandardPaths.writableLocation(location))


def write_raw_setting(key: str, raw: str) -> None:
    """Write `raw` as the INI text of `key`, as a hand edit or another version would."""
    QSettings().sync()
    group, name = key.split("/")
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[{group}]\n{name}={raw}\n", encoding="utf-8")


# StoredState, key by key -------------------------------------------------------------------


READERS = {
    "choice": (
        "options/border",
        lambda s: s.text("options/border", "mirror", choices=("mirror",)),
    ),
    "flag": ("options/flip", lambda s: s.flag("options/flip", False)),
    "bytes": ("window/geometry", lambda s: s.byte_array("window/geometry")),
    "list": ("files/recent", lambda s: s.text_list("files/recent", max_items=10)),
}
DEFAULTS = {"choice": "mirror", "flag": False, "bytes": None, "list": []}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
@pytest.mark.parametrize("reader", READERS)
def test_a_poisoned_setting_is_reset_and_named(reader, poison):
    key, read = READERS[reader]
    store = QSettings()
    store.setValue("other/key", 1)
    store.setValue(key, poison)
    stored = StoredState(store)
    if reader == "list" and poison == "garbage":
        assert read(stored) == ["garbage"]  # QSettings gives a one-item list back so
        return
    assert read(stored) == DEFAULTS[reader]
    assert len(stored.problems) == 1
    assert key in stored.problems[0]
    assert not store.contains(key)
    assert store.value("other/key") is not None


def test_good_settings_read_back_as_they_were():
    store = QSettings()
    store.setValue("options/border", "wrap")
    store.setValue("options/flip", True)
    store.setValue("window/geometry", QByteArray(b"\x01\x02"))
    store.setValue("files/recent", ["/a.png", "/b.png"])
    store.sync()
    stored = StoredState(QSettings())
    assert stored.text("options/border", "mirror", choices=("mirror", "wrap")) == "wrap"
    assert stored.flag("options/flip", False) is True
    assert bytes(stored.byte_array("window/geometry")) == b"\x01\x02"
    assert stored.text_list("files/recent", max_items=10) == ["/a.png", "/b.png"]
    assert stored.problems == []


def test_depth_check_is_iterative_and_exact():
    deep = current = []
    for _ in range(100_000):
        current.append([])
        current = current[0]
    assert depth_exceeds(deep, 8)
    assert not depth_exceeds({"a": [[1]]}, 3)
    assert depth_exceeds({"a": [[1]]}, 2)


# Stored files -------------------------------------------------------------------------------


def run_with_timeout(function, seconds=10):
    """Run `function` on a thread; fail (instead of hanging the suite) if it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the read blocked"
    return outcome


def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "session.json"
    os.mkfifo(fifo)
    outcome = run_with_timeout(lambda: read_json_document(fifo, max_bytes=100, max_depth=4))
    assert isinstance(outcome["error"], StoredFileError)
    assert "not a regular file" in str(outcome["error"])
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    outcome = run_with_timeout(lambda: read_json_document(zero, max_bytes=100, max_depth=4))
    assert "not a regular file" in str(outcome["error"])


def test_an_oversized_or_deep_document_is_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 1000 + "0]")
    with pytest.raises(StoredFileError, match="more than the 100 accepted"):
        read_json_document(big, max_bytes=100, max_depth=4)
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    with pytest.raises(StoredFileError, match=r"deep|valid JSON"):
        read_json_document(deep, max_bytes=10**6, max_depth=8)


def test_move_aside_keeps_every_bad_file(tmp_path):
    names = []
    for content in ("one", "two", "three"):
        path = tmp_path / "session.json"
        path.write_text(content)
        names.append(move_aside(path).name)
    assert names == ["session.json.bad", "session.json.1.bad", "session.json.2.bad"]
    assert [(tmp_path / name).read_text() for name in names] == ["one", "two", "three"]


# The session document -----------------------------------------------------------------------


SHARPEN_THEN_EMBOSS = Recipe(
    (
        Stage(np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)),
        Stage(np.array([[-1, 0, 1]], dtype=float), divisor=2, offset=128, name="emboss"),
    ),
    border="wrap",
    flip=True,
    grey=True,
    display="abs",
    channels="rg",
    alpha="weighted",
)


def a_session(**changes):
    fields = dict(
        recipe=SHARPEN_THEN_EMBOSS,
        channels_of_result=True,
        image_path="/photos/a b é.png",
        image_name="a b é.png",
        history=(
            HistoryStep(
                "Preset Sharpen",
                replace(SHARPEN_THEN_EMBOSS, border="wrap"),
                SHARPEN_THEN_EMBOSS,
            ),
        ),
        history_index=1,
        selected=1,
        region=(-1.5, 2.0, 30.0, 20.0),
    )
    return Session(**(fields | changes))


def test_a_session_round_trips():
    session = a_session()
    loaded = session_from_document(json.loads(session_to_json(session)))
    assert loaded.recipe == session.recipe
    for name in ("channels_of_result", "image_path", "image_name"):
        assert getattr(loaded, name) == getattr(session, name)
    assert loaded.region == session.region
    assert loaded.history_index == 1
    assert loaded.history[0].after == SHARPEN_THEN_EMBOSS
    assert loaded.history[0].before.border == "wrap"  # options are undone too
    assert loaded.selected == 1
    assert loaded.saved_at.replace(microsecond=0) == session.saved_at.replace(microsecond=0)


def test_a_version_1_session_still_loads():
    document = {
        "format": "kernelstudio-session",
        "version": 1,
        "saved_at": "2026-11-30T09:15:00+01:00",
        "closed_normally": False,
        "image": {"path": "/photos/cat.png", "name": "cat.png"},
        "kernel": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "options": {
            "border": "nearest",
            "flip": True,
            "display": "abs",
            "channels_of_result": True,
        },
        "history": {"steps": [], "index": 0},
        "view": None,
    }
    session = session_from_document(document)
    expected = Recipe.single(PRESETS["laplacian"], border="nearest", flip=True, display="abs")
    assert session.recipe == expected
    assert session.channels_of_result
    assert session.image_path == "/photos/cat.png"
    assert session.saved_at.strftime("%H:%M") == "09:15"


def test_a_version_2_sessions_history_of_the_first_stage_becomes_recipes():
    document = json.loads(session_to_json(a_session(history=())))
    document["version"] = 2
    del document["view_options"]["selected_stage"]
    identity = {"weights": [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "divisor": 1, "offset": 0}
    sharpen = {"weights": PRESETS["sharpen"].tolist(), "divisor": 1, "offset": 0}
    document["history"] = {
        "steps": [{"text": "Preset Sharpen", "before": identity, "after": sharpen}],
        "index": 1,
    }
    step = session_from_document(document).history[0]
    assert step.before == replace(
        SHARPEN_THEN_EMBOSS, stages=(Stage(PRESETS["identity"]), *SHARPEN_THEN_EMBOSS.stages[1:])
    )
    assert step.after.stages[0] == Stage(PRESETS["sharpen"])
    assert step.after.stages[1:] == SHARPEN_THEN_EMBOSS.stages[1:]


def test_a_long_history_is_trimmed_oldest_first():
    big = np.ones((31, 31))
    steps = tuple(
        HistoryStep(f"step {n}", Recipe.single(big * n), Recipe.single(big * (n + 1), divisor=2))
        for n in range(1500)
    )
    recipe = Recipe.single(big * 1500)
    document = json.loads(
        session_to_json(a_session(recipe=recipe, history=steps, history_index=1500))
    )
    kept = document["history"]["steps"]
    assert 0 < len(kept) < 1500
    assert kept[-1]["text"] == "step 1499"
    assert document["history"]["index"] == len(kept)
    assert len(json.dumps(document["history"])) < 8 << 20


FIELD_POISONS = [
    ("recipe", "garbage"),
    ("recipe", {"stages": [{"weights": [[1e308, 0, 1e308]]}]}),
    ("recipe", {"stages": [{"weights": [[[1]]]}]}),
    ("recipe", {"stages": [{"weights": [[1, 2]]}]}),
    ("recipe", {"stages": [{"weights": [[1]], "divisor": 0}]}),
    ("recipe", {"stages": [{"weights": [[1]]}] * 17}),
    ("recipe", {"stages": [{"weights": [[1]]}], "border": "sideways"}),
    ("recipe", {"stages": [{"weights": [[1]]}], "flip": "yes"}),
    ("recipe", {"stages": [{"weights": [[1]]}], "display": 1e308}),
    ("recipe", {"stages": [{"weights": [[1]]}], "channels": "x"}),
    ("view_options", {"channels_of_result": "yes"}),
    ("image", {"path": 42}),
    ("image", {"copy": "../../etc/passwd"}),
    ("history", {"steps": [{"text": "x", "before": [[1]], "after": "no"}]}),
    ("history", {"steps": [], "index": 5}),
    ("history", {"steps": [{"text": "x", "before": {"stages": []}, "after": {}}]}),
    ("view_options", {"selected_stage": 2}),
    ("view_options", {"selected_stage": "1"}),
    ("view", [0, 0, -1, 1]),
    ("view", "garbage"),
    ("saved_at", "yesterday"),
    ("version", 99),
    ("format", "something-else"),
]


@pytest.mark.parametrize(("field", "value"), FIELD_POISONS)
def test_a_poisoned_session_field_is_named(field, value):
    document = json.loads(session_to_json(a_session()))
    document[field] = value
    with pytest.raises(SessionError, match=f"'{field}") as refused:
        session_from_document(document)
    assert "\n" not in str(refused.value)


def test_an_unusable_session_file_is_moved_aside_and_reported(tmp_path):
    (tmp_path / SESSION_FILE_NAME).write_text('{"format": "kernelstudio-session"')
    session, problem = load_session(tmp_path)
    assert session is None
    assert "could not be restored" in problem
    assert "session.json.bad" in problem
    assert not (tmp_path / SESSION_FILE_NAME).exists()
    assert (tmp_path / "session.json.bad").read_text() == '{"format": "kernelstudio-session"'


# The window, started on poisoned state ------------------------------------------------------


SETTING_KEYS = ["window/geometry", "window/state", "files/recent", "files/lastFolder"]


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
@pytest.mark.parametrize("key", SETTING_KEYS)
def test_the_window_starts_on_any_poisoned_setting(make_window, key, poison):
    store = QSettings()
    store.setValue(key, poison)
    store.sync()
    window = make_window()
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["identity"])
    stored_now = QSettings().value(key)
    if key == "files/recent" and isinstance(poison, str) and len(poison) < 4096:
        assert stored_now is not None  # a one-item list of text is a fine list
    elif key == "files/lastFolder" and isinstance(poison, str) and len(poison) < 4096:
        # Any text may name a folder: one that is not there is never offered.
        offered = window.file_dialogs.last_folder
        assert offered.is_absolute()
        assert offered.is_dir()
    else:
        assert key in window.message_bar.text
        assert not QSettings().contains(key) or QSettings().value(key) != poison


@pytest.mark.parametrize(
    "raw",
    ["@ByteArray(\\0\\xff)", "@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x1fjunk)", "@Rect(1 2)", DEEP],
    ids=["short-bytes", "garbage-variant", "wrong-type", "deep"],
)
@pytest.mark.parametrize("key", ["window/geometry", "window/state", "files/recent"])
def test_the_window_starts_on_raw_poisoned_settings_text(make_window, key, raw):
    write_raw_setting(key, raw)
    window = make_window()
    assert window.isVisible()
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["identity"])


@pytest.mark.parametrize(("field", "value"), [*FIELD_POISONS, ("recipe", DEEP)])
def test_the_window_starts_on_a_poisoned_session(make_window, field, value):
    document = json.loads(session_to_json(a_session(image_path=None)))
    document[field] = value
    folder = state_folder()
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document)
    if value is DEEP:
        text = text.replace(json.dumps(DEEP), DEEP)
    (folder / SESSION_FILE_NAME).write_text(text)
    window = make_window()
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["identity"])
    assert "could not be restored" in window.message_bar.text
    assert (folder / "session.json.bad").read_text() == text


def test_the_window_restores_a_good_session_quietly(make_window):
    folder = state_folder()
    folder.mkdir(parents=True, exist_ok=True)
    session = a_session(image_path=None, closed_normally=True)
    (folder / SESSION_FILE_NAME).write_text(session_to_json(session))
    window = make_window()
    assert window.controller.recipe == session.recipe  # both stages and every option
    assert window.controller.selected == session.selected == 1
    np.testing.assert_array_equal(window.editor.weights, session.recipe.stages[1].weights)
    options = window.options
    assert options.flip_check.isChecked()
    assert options.border_combo.currentData() == "wrap"
    assert options.display_combo.currentData() == "abs"
    assert window.controller.view.channels_of_result
    assert window.message_bar.text == ""
    # The restored history undoes to where it started.
    window.undo_stack.undo()
    assert window.controller.recipe == session.history[0].before
    assert options.border_combo.currentData() == "wrap"  # options are undone too
    window.undo_stack.redo()
    assert window.controller.recipe == session.recipe


def test_kernel_and_options_of_version_0_1_settings_still_load(make_window):
    store = QSettings()
    store.setValue("kernel/weights", json.dumps(PRESETS["outline"].tolist()))
    store.setValue("options/border", "nearest")
    store.setValue("options/flip", True)
    store.sync()
    window = make_window()
    np.testing.assert_array_equal(window.controller.stage.weights, PRESETS["outline"])
    assert window.controller.recipe.border == "nearest"
    assert window.controller.recipe.flip
    assert not QSettings().contains("kernel/weights")


def test_a_pasted_image_comes_back_from_its_copy(qtbot, make_window):
    window = make_window()
    pixels = np.random.default_rng(8).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    with qtbot.waitSignal(window.controller.renderingReady, timeout=10_000):
        window.controller.load_pixels(pixels, "Pasted image")
    window.close()
    again = make_window()
    assert again.controller.image.name == "Pasted image"
    np.testing.assert_array_equal(again.controller.image.pixels, pixels)


# Preset files -------------------------------------------------------------------------------


def presets_folder(config: Path) -> Path:
    folder = config / "KernelStudio" / "Kernel Studio" / "presets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_fifos_devices_and_bad_preset_files_never_stop_the_start(make_window, isolated_settings):
    folder = presets_folder(isolated_settings)
    write_kernel_file(folder / "good.json", Kernel("Good", PRESETS["sharpen"]))
    os.mkfifo(folder / "fifo.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "broken.json").write_text('{"weights": [[1, 2')
    window = make_window()
    names = [window.preset_combo.itemText(i) for i in range(window.preset_combo.count())]
    assert "★ Good" in names
    message = window.message_bar.text
    for name in ("fifo.json", "zero.json", "broken.json"):
        assert name in message
    assert (folder / "broken.json.bad").exists()
    assert (folder / "fifo.json").exists()  # not a file it parsed: left where it is


def test_a_pasted_transparent_image_keeps_its_alpha_across_a_restart(qtbot, make_window):
    window = make_window()
    pixels = np.random.default_rng(9).integers(0, 256, (7, 8, 4), dtype=np.uint8)
    with qtbot.waitSignal(window.controller.renderingReady, timeout=10_000):
        window.controller.load_pixels(pixels, "Pasted image")
    window.close()
    again = make_window()
    np.testing.assert_array_equal(again.controller.image.pixels, pixels)


def test_view_options_are_autosaved_too(qtbot, window):
    session_file = state_folder() / SESSION_FILE_NAME
    window.options.channels_check.click()
    assert window.controller.view.channels_of_result

    def saved():
        try:
            document = json.loads(session_file.read_text())
        except (OSError, ValueError):
            return False
        return document["view_options"]["channels_of_result"] is True

    qtbot.waitUntil(saved, timeout=5_000)
