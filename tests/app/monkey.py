"""A seeded monkey for the main window: random actions, every control checked after each.

`Monkey` drives a real ``MainWindow`` as a person would (typing into cells, presets,
options, undo, the walkthrough, images good and bad, exports, kernel files) and after
every action waits until the controller has nothing in flight, then checks that

* nothing reached ``sys.excepthook``, ``threading.excepthook``, Qt's message handler at
  warning level or above, or the ``kernelstudio`` log at error level (:class:`Trap`);
* every control shows the controller's state (:meth:`Monkey.check`);
* the result is the oracle's (scipy.ndimage) for the settings shown.

Adding an action is one method decorated with :func:`action`; it returns a short text
saying what it did, for the failure report. A failure names the seed, the step and the
last actions, so ``KERNELSTUDIO_MONKEY_SEED=<seed>`` replays it.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import threading
import traceback
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt, QtMsgType, qInstallMessageHandler, qWarning
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.imageio import load_image
from kernelstudio.kernels import PRESET_DISPLAY, PRESETS, Kernel, format_weight, parse_weight
from kernelstudio.walkthrough import STEPS
from tests.app.conftest import assert_close, oracle_recipe, state_of
from tests.app.test_fuzz_gui import type_keys
from tests.app.test_main_window import drop, files_mime, write_png

WAIT_MS = 20_000
FLOAT32_MAX = float(np.finfo(np.float32).max)

IGNORED_QT_MESSAGES = {
    # The offscreen platform has no window manager to pass size hints to; every
    # dock or window shown offscreen says so. Nothing is wrong with the window.
    "This plugin does not support propagateSizeHints()": "offscreen platform only",
}

# Text typed into a cell and the weight it means, or None when it must be refused.
GOOD_TEXT = {
    "1/16": 1 / 16,
    "-1/8": -1 / 8,
    "0.25": 0.25,
    "\u22122": -2.0,
    "1e-3": 1e-3,
    " 2 ": 2.0,
    "0": 0.0,
    "3.5e1": 35.0,
    "1/3": 1 / 3,
    ".5": 0.5,
    "7": 7.0,
    "-1": -1.0,
}
HUGE_TEXT = {"1e308": None, "3.5e38": None, "-1e39": None, "2e38": 2e38, "1e38": 1e38}
BAD_TEXT = dict.fromkeys(
    ["", "abc", "1/0", "nan", "inf", "2*3", "__import__('os')", "0x10", "1e", "--1", "1//2", "½"]
)


def action(weight: float = 1.0):
    """Mark a `Monkey` method as an action chosen with relative `weight`."""

    def mark(method):
        method.monkey_weight = weight
        return method

    return mark


class Trap:
    """Collects what must never happen: uncaught exceptions, Qt warnings, logged errors."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        self._previous_qt = qInstallMessageHandler(self._on_qt_message)
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception
        self._log_handler = _ListHandler(self._add)
        logging.getLogger("kernelstudio").addHandler(self._log_handler)
        self._installed = True
        # The canary proves the handler is the one Qt calls (pytest-qt installs its own).
        qWarning("monkey canary")
        canary = [p for p in self.problems if "monkey canary" in p]
        assert canary, "the Qt message handler is not receiving messages"
        self.problems = [p for p in self.problems if "monkey canary" not in p]

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        qInstallMessageHandler(self._previous_qt)
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook
        logging.getLogger("kernelstudio").removeHandler(self._log_handler)

    def take(self) -> list[str]:
        with self._lock:
            problems, self.problems = self.problems, []
        return problems

    def _add(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def _on_qt_message(self, kind, context, message) -> None:
        if kind not in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg) and (
            message not in IGNORED_QT_MESSAGES
        ):
            self._add(f"Qt {kind.name}: {message}")
        if kind == QtMsgType.QtFatalMsg:  # Qt aborts next: say why while there is time
            print(f"Qt fatal: {message}", file=sys.__stderr__, flush=True)
        if callable(self._previous_qt):
            self._previous_qt(kind, context, message)

    def _on_exception(self, kind, value, trace) -> None:
        self._add("uncaught: " + "".join(traceback.format_exception(kind, value, trace)))

    def _on_thread_exception(self, arguments) -> None:
        text = traceback.format_exception(
            arguments.exc_type, arguments.exc_value, arguments.exc_traceback
        )
        self._add(f"uncaught in thread {arguments.thread}: " + "".join(text))


class _ListHandler(logging.Handler):
    def __init__(self, add) -> None:
        super().__init__(logging.ERROR)
        self._add = add

    def emit(self, record: logging.LogRecord) -> None:
        self._add(f"logged {record.levelname}: {self.format(record)}")


class MonkeyError(AssertionError):
    """An invariant broke; the message holds the seed and the actions that led there."""


class Monkey:
    """Random actions on `window`, chosen by `seed`, each followed by :meth:`check`.

    Parameters
    ----------
    window : MainWindow
        Shown, with its first result in.
    qtbot : pytestqt.qtbot.QtBot
    seed : int
    folder : pathlib.Path
        An empty folder for generated files and exports.
    corpus : dict of tests.corpus.Case
        Good and bad image files.
    trap : Trap
        Installed.
    main_path : pathlib.Path
        The small image opened most often.
    """

    def __init__(self, window, qtbot, seed, folder, corpus, trap, main_path) -> None:
        self.window = window
        self.controller = window.controller
        self.qtbot = qtbot
        self.seed = seed
        self.random = random.Random(seed)
        self.pixels = np.random.default_rng(seed)
        self.folder = folder
        self.trap = trap
        self.history: deque[str] = deque(maxlen=25)
        self.counts: dict[str, int] = {}
        self.step = 0
        self.failures: list[str] = []
        self.saves: list[str] = []
        self.controller.failed.connect(self.failures.append)
        self.render_failed = False
        self.controller.failed.connect(self._on_failed)
        self.controller.renderingReady.connect(self._on_rendering)
        self.controller.saved.connect(self.saves.append)
        self.first_kernel = np.array(self.controller.stage.weights)
        self.first_stage = self.controller.stage  # weights, divisor and offset are undoable
        self.images = [(case.name, case.path, case.good) for case in corpus.values()]
        self.images.append(("main", main_path, True))
        self.kernel_files = _write_kernel_files(folder / "kernels")
        self.plain_file = folder / "plain.txt"
        self.plain_file.write_text("a file, not a folder")
        self.exports = folder / "exports"
        self.exports.mkdir()
        self._actions = [
            (name, getattr(self, name), getattr(type(self), name).monkey_weight)
            for name in dir(type(self))
            if hasattr(getattr(type(self), name), "monkey_weight")
        ]

    def _on_failed(self, message: str) -> None:
        if message.startswith("Could not compute the result"):
            self.render_failed = True

    def _on_rendering(self, rendering) -> None:
        # Counts added to an older result (the histogram panel opening) change nothing.
        if differences(state_of(rendering), state_of(self.controller)) in ([], ["histogram"]):
            self.render_failed = False

    # Driving -----------------------------------------------------------------------

    def run(self, count: int) -> None:
        """Do `count` random actions, checking everything after each."""
        names = [name for name, _, _ in self._actions]
        weights = [weight for _, _, weight in self._actions]
        methods = dict((name, method) for name, method, _ in self._actions)
        for _ in range(count):
            name = self.random.choices(names, weights)[0]
            self.step += 1
            self.counts[name] = self.counts.get(name, 0) + 1
            with self._reporting(name):
                detail = methods[name]()
                self.history.append(f"{self.step}: {name} {detail}")
                self.settle()
                self.check()

    def finish(self) -> None:
        """Compare the result with the oracle, then undo everything back to the first kernel."""
        with self._reporting("finish"):
            self.settle()
            if self.controller.rendering is None:
                # A result is needed for the oracle: the current image is too small.
                self.window.open_path(self.images_by_name("main"))
                self.settle()
            rendering = self.controller.rendering
            assert rendering is not None, "no result at the end"
            assert same_settings(state_of(rendering), state_of(self.controller))
            self.check_result()
            stack = self.window.undo_stack
            while stack.canUndo():
                stack.undo()
            self.settle()
            self.check()
            np.testing.assert_array_equal(self.controller.stage.weights, self.first_kernel)
            np.testing.assert_array_equal(self.window.editor.weights, self.first_kernel)
            assert self.controller.stage == self.first_stage, "undo left divisor or offset"

    def images_by_name(self, name: str) -> Path:
        return next(path for label, path, _ in self.images if label == name)

    def settle(self) -> None:
        """Wait until no render, load, export or histogram job is running or waiting."""
        controller = self.controller
        # is_idle covers renders only; loads and exports are in _background too.
        self.qtbot.waitUntil(
            lambda: controller.is_idle and not controller._background, timeout=WAIT_MS
        )

    def _reporting(self, name: str):
        monkey = self

        class Reporter:
            def __enter__(self):
                return self

            def __exit__(self, kind, error, trace):
                if error is None or isinstance(error, MonkeyError):
                    return False
                raise MonkeyError(
                    f"monkey seed {monkey.seed} failed at step {monkey.step} ({name}): "
                    f"{kind.__name__}: {error}\n"
                    f"replay with KERNELSTUDIO_MONKEY_SEED={monkey.seed}; last actions:\n  "
                    + "\n  ".join(monkey.history)
                ) from error

        return Reporter()

    # Invariants ------------------------------------------------------------------

    def check(self) -> None:
        """Everything the window shows is the controller's state; nothing went wrong."""
        problems = self.trap.take()
        assert not problems, "\n".join(problems)
        window, settings = self.window, state_of(self.controller)
        self._check_grid(settings)
        options = window.options
        assert options.flip_check.isChecked() == settings.flip, "flip check"
        assert options.channels_check.isChecked() == settings.channels_of_result, "channels"
        assert options.border_combo.currentData() == settings.border, "border combo"
        assert options.colour_combo.currentData() == settings.grey, "colour combo"
        assert options.display_combo.currentData() == settings.display, "display combo"
        assert options.alpha_combo.currentData() == settings.alpha, "alpha combo"
        checked = "".join(c for c, box in options.channel_checks.items() if box.isChecked())
        assert checked == "".join(c for c in "rgba" if c in settings.channels), "channel checks"
        numbers = (
            (options.divisor_edit, settings.divisor),
            (options.offset_edit, settings.offset),
        )
        for edit, value in numbers:
            if not edit.property("invalid"):
                assert parse_weight(edit.text()) == value, f"{edit.objectName()} text"
        self._check_preset_combo(settings.weights)
        self._check_views()
        if window.walkthrough_dock.isVisible():
            index = window.walkthrough.index
            assert window.walkthrough.title.text() == STEPS[index].title
        if self.controller.rendering is not None:
            self.check_result()

    def _check_grid(self, settings) -> None:
        editor = self.window.editor
        grid = editor.grid
        height, width = settings.weights.shape
        assert grid.weights.shape == (height, width), "grid shape"
        assert editor.size_combo.currentText() == f"{height}×{width}", "size combo"
        if not grid.is_valid:
            marked = [
                grid.cell(r, c).property("invalid") for r in range(height) for c in range(width)
            ]
            assert any(marked), "a cell is invalid but none is marked"
            return
        np.testing.assert_array_equal(grid.weights, settings.weights, err_msg="grid weights")
        for (row, column), value in np.ndenumerate(settings.weights):
            cell = grid.cell(row, column)
            assert cell.property("invalid") is not True, f"cell {row},{column} marked"
            text = cell.text()
            shown = GOOD_TEXT.get(text, HUGE_TEXT.get(text))
            assert text == format_weight(value) or shown == value, (
                f"cell {row},{column} shows {text!r} for {value!r}"
            )
        assert editor.flipped_grid.isVisibleTo(editor) == settings.flip, "flipped grid"
        if settings.flip:
            np.testing.assert_array_equal(
                editor.flipped_grid.weights, settings.weights[::-1, ::-1]
            )

    def _check_preset_combo(self, weights: np.ndarray) -> None:
        combo = self.window.preset_combo
        choice = combo.currentData()
        if isinstance(choice, str):
            assert np.array_equal(PRESETS[choice], weights), f"combo names {choice}"
        elif isinstance(choice, Kernel):
            assert np.array_equal(choice.weights, weights), f"combo names {choice.name}"
        else:
            named = [s for s, w in PRESETS.items() if np.array_equal(w, weights)]
            assert not named, f"combo says custom but the kernel is preset {named}"

    def _check_views(self) -> None:
        window, controller = self.window, self.controller
        views, image, rendering = window.views, controller.image, controller.rendering
        assert views.shown("original") is image.pixels8, "original view"
        assert image.name in window.windowTitle()
        if rendering is None:
            assert views.shown("result") is None, "a result is shown but there is none"
        else:
            assert views.shown("result") is rendering.result8, "result view"
            for name, channel in zip(("red", "green", "blue"), rendering.channels8, strict=True):
                assert views.shown(name) is channel, f"{name} view"
            # The histogram field only says whether counts come along; a hidden
            # panel's counts are extra work, not a wrong picture.
            stale = differences(state_of(rendering), state_of(controller))
            stale = [f for f in stale if f != "histogram"]
            if stale:
                # The latest request failed (e.g. 'valid' with a kernel larger than the
                # image): the previous result stays, and the person was told why.
                assert self.render_failed, f"an older result ({stale}) is shown, no word why"
            if controller.view.histogram and not stale:
                assert rendering.histogram is not None, "the histogram panel has no counts"
                assert window.histogram.counts is rendering.histogram, (
                    "histogram of another result"
                )
        pinned = controller.pinned
        compare_pinned = window.compare.items["pinned"].image
        if pinned is None:
            assert compare_pinned is None, "the compare view shows a pin the controller dropped"
        elif rendering is not None and rendering.comparison is not None:
            assert np.array_equal(compare_pinned, pinned.result8), "compare shows another pin"

    def check_result(self) -> None:
        """The latest result is scipy's for its settings and the current image."""
        rendering = self.controller.rendering
        settings = state_of(rendering)
        source = self.controller.image.pixels
        with np.errstate(over="ignore", invalid="ignore"):
            expected = oracle_recipe(source, rendering.recipe)
        assert rendering.result.shape == expected.shape, "result shape"
        # The engine computes in float32: where the exact value is beyond its range
        # only "not finite" is comparable.
        representable = np.abs(expected) < FLOAT32_MAX / 4
        assert_close(
            np.where(representable, rendering.result, 0),
            np.where(representable, expected, 0),
            settings.weights,
            source,
        )

    # Helpers -----------------------------------------------------------------------

    def _cell(self) -> tuple[int, int]:
        height, width = self.controller.stage.weights.shape
        return self.random.randrange(height), self.random.randrange(width)

    def _type(self, text: str, value: float | None, cell: tuple[int, int] | None = None) -> str:
        row, column = cell or self._cell()
        grid = self.window.editor.grid
        others_valid = not (grid._invalid - {(row, column)})
        candidate = grid.weights
        if value is not None:
            candidate[row, column] = value
        # The weights, and what one pass applies (them over the divisor), must fit float32.
        magnitude = float(np.abs(candidate).sum())
        divided = magnitude / abs(self.controller.stage.divisor)
        accepted = value is not None and max(magnitude, divided) < FLOAT32_MAX
        target = grid.cell(row, column)
        assert target.objectName() == f"cell_{row}_{column}"
        target.setFocus()
        target.selectAll()
        self.qtbot.keyClick(target, Qt.Key.Key_Backspace)
        type_keys(self.qtbot, target, text)  # QTest.keyClicks aborts on non-ASCII text
        assert target.text() == text
        assert target.property("invalid") is (not accepted), (
            f"{text!r} into {row},{column} of {candidate.tolist()} is "
            f"{'refused' if target.property('invalid') else 'accepted'}: {target.toolTip()}"
        )
        if accepted and others_valid:
            assert self.controller.stage.weights[row, column] == value
        return f"{text!r} into {row},{column} ({'accepted' if accepted else 'refused'})"

    def _choose(self, combo, index: int) -> None:
        combo.setCurrentIndex(index)
        combo.activated.emit(index)

    # Actions: the kernel ------------------------------------------------------------

    @action(6)
    def type_good_weight(self) -> str:
        text = self.random.choice(list(GOOD_TEXT))
        return self._type(text, GOOD_TEXT[text])

    @action(2)
    def type_huge_weight(self) -> str:
        text = self.random.choice(list(HUGE_TEXT))
        return self._type(text, HUGE_TEXT[text])

    @action(1)
    def type_2e38_into_two_cells(self) -> str:
        height, width = self.controller.stage.weights.shape
        if height * width < 2:
            return "skipped: one cell"
        first, second = self.random.sample(
            [(r, c) for r in range(height) for c in range(width)], 2
        )
        done = self._type("2e38", 2e38, first)
        return done + "; " + self._type("2e38", 2e38, second)

    @action(3)
    def type_garbage(self) -> str:
        text = self.random.choice(list(BAD_TEXT))
        return self._type(text, None)

    @action(2)
    def change_size(self) -> str:
        combo = self.window.editor.size_combo
        size = self.random.choice((3, 5, 7))
        before = self.controller.stage.weights
        self._choose(combo, combo.findText(f"{size}×{size}"))
        weights = self.controller.stage.weights
        assert weights.shape == (size, size)
        if before.shape == (size, size):
            assert weights is before
        return f"{size}×{size}"

    @action(3)
    def choose_preset_in_combo(self) -> str:
        combo = self.window.preset_combo
        index = self.random.randrange(combo.count())
        choice = combo.itemData(index)
        before = (self.controller.recipe, self.controller.view)
        self._choose(combo, index)
        self._expect_preset(choice, before)
        return f"{combo.itemText(index)!r}"

    @action(2)
    def choose_preset_in_menu(self) -> str:
        actions = [
            a
            for a in self.window.presets_menu.actions()
            if not a.isSeparator() and a is not self.window.save_preset_action
        ]
        chosen = self.random.choice(actions)
        chosen.trigger()
        slug = next((s for s, n in _names().items() if n == chosen.text()), None)
        if slug is not None:
            self._expect_preset(slug, None)
        return repr(chosen.text())

    def _expect_preset(self, choice, before) -> None:
        settings = state_of(self.controller)
        if isinstance(choice, str):
            np.testing.assert_array_equal(settings.weights, PRESETS[choice])
            assert settings.display == PRESET_DISPLAY[choice]
        elif isinstance(choice, Kernel):
            np.testing.assert_array_equal(settings.weights, choice.weights)
        elif before is not None:  # "Custom kernel" is a label, not a kernel
            assert (self.controller.recipe, self.controller.view) == before

    @action(1)
    def save_custom_preset(self) -> str:
        name = self.random.choice(("Monkey one", "monkey/two", "★ three"))
        self.window.save_custom_preset(name)
        return repr(name)

    @action(2)
    def undo(self) -> str:
        text = self.window.undo_stack.undoText()
        if self.random.random() < 0.3:  # Ctrl+Z in a cell undoes the kernel, not the text
            cell = self.window.editor.grid.cell(*self._cell())
            cell.setFocus()
            self.qtbot.keyClick(cell, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            return f"Ctrl+Z in {cell.objectName()}: {text}"
        self.window.undo_action.trigger()
        return text

    @action(1)
    def redo(self) -> str:
        text = self.window.undo_stack.redoText()
        self.window.redo_action.trigger()
        return text

    @action(1)
    def normalise(self) -> str:
        before = np.array(self.controller.stage.weights)
        total, scale = before.sum(), np.abs(before).sum()
        if self.random.random() < 0.5:
            self.window.normalise_button.click()
        else:
            self.window.normalise_action.trigger()
        after = self.controller.stage.weights
        if abs(total) <= 1e-9 * max(scale, 1.0):
            np.testing.assert_array_equal(after, before)
        else:
            np.testing.assert_allclose(after, before / total, rtol=1e-12)
        return f"sum was {total:.4g}"

    @action(2)
    def import_kernel(self) -> str:
        name = self.random.choice(list(self.kernel_files))
        path, weights = self.kernel_files[name]
        before = (self.controller.recipe, self.controller.view)
        self.window.message_bar.hide()
        self.window.import_kernel(path)
        if weights is None:
            assert "Could not import the kernel" in self.window.message_bar.text
            assert (self.controller.recipe, self.controller.view) == before
        else:
            np.testing.assert_array_equal(self.controller.stage.weights, weights)
        return name

    # Actions: options ------------------------------------------------------------

    @action(2)
    def choose_border(self) -> str:
        border = self.random.choice(BORDERS)
        combo = self.window.options.border_combo
        self._choose(combo, combo.findData(border))
        assert self.controller.recipe.border == border
        return border

    @action(2)
    def type_divisor_or_offset(self) -> str:
        options = self.window.options
        field = self.random.choice(["divisor", "offset"])
        edit = options.divisor_edit if field == "divisor" else options.offset_edit
        text = self.random.choice(["2", "1/16", "-3", "9", "128", "0", "0.5", "", "abc", "1e39"])
        before = getattr(self.controller.stage, field)
        edit.setFocus()
        edit.selectAll()
        self.qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        type_keys(self.qtbot, edit, text)
        # Each keystroke that leaves a usable number applies it, as in the grid.
        expected = before
        weights = self.controller.stage.weights
        for end in range(1, len(text) + 1):
            value = _usable_number(text[:end], field, weights)
            if value is not None:
                expected = value
        assert getattr(self.controller.stage, field) == expected, f"{field} not as typed"
        final = _usable_number(text, field, weights)
        assert (edit.property("invalid") is True) == (final is None), f"{field} {text!r} mark"
        return f"{field} {text!r}"

    @action(2)
    def toggle_channel(self) -> str:
        letter = self.random.choice("rgba")
        box = self.window.options.channel_checks[letter]
        before = self.controller.recipe.channels
        box.click()
        after = self.controller.recipe.channels
        if before == letter:  # the last one cannot go
            assert after == before, "the last channel was unticked"
            assert box.isChecked(), "the last channel's box was unticked"
        else:
            assert (letter in after) != (letter in before), f"channel {letter} not toggled"
        return f"{letter} -> {after}"

    @action(1)
    def choose_alpha(self) -> str:
        alpha = self.random.choice(["keep", "weighted", "process"])
        combo = self.window.options.alpha_combo
        self._choose(combo, combo.findData(alpha))
        assert self.controller.recipe.alpha == alpha
        return alpha

    @action(1)
    def export_and_import_recipe(self) -> str:
        target = self.folder / "monkey-recipe.json"
        recipe = self.controller.recipe
        saves = len(self.saves)
        self.window.export_recipe(target)
        self.qtbot.waitUntil(lambda: len(self.saves) > saves, timeout=WAIT_MS)
        self.window.choose_preset("identity")
        self.window.import_recipe(target)
        assert self.controller.recipe == recipe, "the recipe did not come back whole"
        target.unlink()
        return f"{len(recipe.stages)} stage(s)"

    @action(1)
    def toggle_flip(self) -> str:
        flip = not self.controller.recipe.flip
        self.window.options.flip_check.click()
        assert self.controller.recipe.flip == flip
        return str(flip)

    @action(1)
    def choose_colour(self) -> str:
        grey = self.random.random() < 0.5
        combo = self.window.options.colour_combo
        self._choose(combo, combo.findData(grey))
        assert self.controller.recipe.grey == grey
        return "grey" if grey else "colour"

    @action(1)
    def choose_display(self) -> str:
        display = self.random.choice(DISPLAY_MODES)
        combo = self.window.options.display_combo
        self._choose(combo, combo.findData(display))
        assert self.controller.recipe.display == display
        return display

    @action(1)
    def toggle_channels(self) -> str:
        channels = not self.controller.view.channels_of_result
        self.window.options.channels_check.click()
        assert self.controller.view.channels_of_result == channels
        return str(channels)

    # Actions: the walkthrough ----------------------------------------------------

    @action(1)
    def walkthrough_f1(self) -> str:
        focused = QApplication.focusWidget() or self.window
        self.qtbot.keyClick(focused, Qt.Key.Key_F1)
        assert self.window.walkthrough_dock.isVisible(), f"F1 in {focused.objectName()!r}"
        self._expect_step(0)
        return f"in {focused.objectName() or type(focused).__name__}"

    @action(1)
    def walkthrough_step(self) -> str:
        index = self.random.randrange(-1, len(STEPS) + 1)  # one beyond each end
        self.window.show_walkthrough_step(index)
        if 0 <= index < len(STEPS):
            self._expect_step(index)
        return str(index)

    @action(1)
    def walkthrough_next_or_back(self) -> str:
        panel = self.window.walkthrough
        if not self.window.walkthrough_dock.isVisible():
            return "skipped: closed"
        button = self.random.choice((panel.back_button, panel.next_button))
        index = panel.index + (1 if button is panel.next_button else -1)
        enabled = button.isEnabled()
        button.click()
        if enabled:
            self._expect_step(index)
        return f"{button.text()} ({'enabled' if enabled else 'disabled'})"

    def _expect_step(self, index: int) -> None:
        step, settings = STEPS[index], state_of(self.controller)
        np.testing.assert_array_equal(settings.weights, PRESETS[step.preset])
        assert (settings.border, settings.display, settings.flip) == (
            step.border,
            step.display,
            False,
        )
        assert self.window.walkthrough.index == index

    @action(1)
    def walkthrough_close(self) -> str:
        self.window.walkthrough_dock.close()
        assert not self.window.walkthrough_dock.isVisible()
        return ""

    # Actions: images -------------------------------------------------------------

    @action(4)
    def open_image(self) -> str:
        return self._open(self.window.open_path)

    @action(2)
    def drop_image(self) -> str:
        return self._open(lambda path: drop(self.window, files_mime(path)))

    def _open(self, opening) -> str:
        # The small main image most often, so most actions work on a real result.
        label, path, good = self.random.choice(
            self.images + [("main", self.images_by_name("main"), True)] * 6
        )
        before = self.controller.image
        self.window.message_bar.hide()
        opening(path)
        self.settle()
        if good:
            assert self.controller.image is not before, (
                f"{label} did not open: {self.window.message_bar.text}"
            )
            assert self.controller.image.path == path
        else:
            assert self.controller.image is before, f"{label} replaced the image"
            assert self.window.message_bar.text, f"{label} failed without a word"
        return label

    @action(1)
    def paste_image(self) -> str:
        height, width = self.pixels.integers(3, 40, size=2)
        rgb = self.pixels.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        QGuiApplication.clipboard().setImage(image)
        self.window.paste_action.trigger()
        self.settle()
        np.testing.assert_array_equal(self.controller.image.pixels, rgb)
        return f"{width}×{height}"

    # Actions: comparing, looking -------------------------------------------------

    @action(1)
    def pin(self) -> str:
        self.window.pin_action.trigger()
        return "pinned" if self.controller.pinned is not None else "nothing to pin"

    @action(1)
    def unpin(self) -> str:
        self.window.unpin_action.trigger()
        assert self.controller.pinned is None
        return ""

    @action(2)
    def look_at_a_pixel(self) -> str:
        height, width = self.controller.image.pixels.shape[:2]
        row, column = self.random.randrange(height), self.random.randrange(width)
        views = self.window.views
        how = self.random.choice(("hover", "click", "step", "leave", "channel"))
        if how == "hover":
            views.hovered.emit("result", row, column)
        elif how == "click":
            views.clicked.emit("original", row, column)
        elif how == "step":
            views.stepped.emit(self.random.choice((-1, 1)), self.random.choice((-1, 0, 1)))
        elif how == "leave":
            views.left.emit()
        else:
            combo = self.window.explainer.channel_combo
            self._choose(combo, self.random.randrange(combo.count()))
        return f"{how} {row},{column}"

    @action(1)
    def zoom_or_panel(self) -> str:
        window = self.window
        choice = self.random.choice(
            (window.fit_action, window.one_to_one_action, window.histogram_action)
        )
        if self.random.random() < 0.2:
            window.histogram_dock.close()
            return "close histogram"
        choice.trigger()
        return choice.text()

    @action(1)
    def dismiss_message(self) -> str:
        self.window.message_bar.hide()
        return ""

    # Actions: exports ------------------------------------------------------------

    @action(3)
    def export(self) -> str:
        kind = self.random.choice(("result", "float", "views", "kernel"))
        suffix = {"result": ".png", "float": ".tif", "views": ".png", "kernel": ".json"}[kind]
        where = self.random.choice(("good", "good", "missing folder", "under a file"))
        folder = {
            "good": self.exports,
            "missing folder": self.folder / "no such folder",
            "under a file": self.plain_file,
        }[where]
        target = folder / f"{kind}-{self.step}{suffix}"
        rendering, saves, failures = self.controller.rendering, len(self.saves), len(self.failures)
        window = self.window
        if kind == "result":
            window.export_result(target)
        elif kind == "float":
            window.export_result(target, exact=True)
        elif kind == "views":
            window.export_views(target)
        else:
            window.export_kernel(target)
        self.settle()
        expect_file = where == "good" and (kind == "kernel" or rendering is not None)
        if not expect_file:
            assert len(self.failures) == failures + 1, "a failed export was not reported"
            assert self.window.message_bar.text
            assert not target.exists()
            return f"{kind} to {where}: refused"
        assert len(self.saves) == saves + 1, f"{kind} export not reported as saved"
        if kind == "kernel":
            saved = json.loads(target.read_text())["weights"]
            np.testing.assert_array_equal(saved, self.controller.stage.weights)
        elif kind == "result":
            np.testing.assert_array_equal(_read_rgb(target), rendering.result8)
        elif kind == "float":
            np.testing.assert_array_equal(_read_rgb(target), rendering.result)
        target.unlink()
        return f"{kind} to {where}"


def same_settings(first, second) -> bool:
    """Whether two controller Settings hold the same values (weights compared exactly)."""
    return not differences(first, second)


def _read_rgb(path: Path) -> np.ndarray:
    """Decode `path` with OpenCV, in R, G, B (, A) order; our loader where OpenCV cannot.

    OpenCV reads no float TIFF of grey+alpha; that format's round trip is tested
    in tests/test_imageio.py.
    """
    written = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if written is None:
        return load_image(path, alpha=True)
    if written.ndim == 3 and written.shape[2] in (3, 4):
        order = [2, 1, 0, 3][: written.shape[2]]  # BGR(A) to RGB(A)
        written = written[..., order]
    return written


def _usable_number(text: str, field: str, weights: np.ndarray) -> float | None:
    """The number `text` sets `field` to, or None when the window must refuse it."""
    try:
        value = parse_weight(text)
    except ValueError:
        return None
    if field != "divisor":
        return value
    if value == 0 or float(np.abs(weights).sum()) / abs(value) >= FLOAT32_MAX:
        return None  # the weights over the divisor must fit float32
    return value


def differences(first, second) -> list[str]:
    """The fields in which two states (see state_of) differ."""
    return [f for f in vars(first) if not np.array_equal(getattr(first, f), getattr(second, f))]


def _names() -> dict[str, str]:
    from kernelstudio.kernels import PRESET_NAMES

    return dict(PRESET_NAMES)


def _write_kernel_files(folder: Path) -> dict[str, tuple[Path, np.ndarray | None]]:
    """Good kernel files with their weights, bad ones with None."""
    folder.mkdir()
    rng = np.random.default_rng(3)
    good = {
        "row.json": [[1.0, 0.0, -1.0]],
        "five.json": rng.integers(-3, 4, (5, 5)).astype(float).tolist(),
        "seven.json": (np.ones((7, 7)) / 49).tolist(),
        "nine.json": rng.normal(size=(9, 9)).tolist(),
    }
    files: dict[str, tuple[Path, np.ndarray | None]] = {}
    for name, weights in good.items():
        path = folder / name
        path.write_text(json.dumps({"name": name, "weights": weights}))
        files[name] = (path, np.array(weights))
    bom = folder / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"weights": [[0, 1, 0]]}).encode())
    files["bom.json"] = (bom, np.array([[0.0, 1.0, 0.0]]))
    bad = {
        "broken.json": b"{",
        "huge.json": json.dumps({"weights": [[1e39, 0, 0]]}).encode(),
        "sum-too-big.json": json.dumps({"weights": [[2e38, 0, 2e38]]}).encode(),
        "even.json": json.dumps({"weights": [[1, 1], [1, 1]]}).encode(),
        "words.json": json.dumps({"weights": [["a", "b", "c"]]}).encode(),
        "nested.json": json.dumps({"weights": [[[1]]]}).encode(),
        "empty.json": b"",
        "binary.json": b"\xff\xfe\x00\x01",
        "too-wide.json": json.dumps({"weights": [[0] * 65]}).encode(),
    }
    for name, data in bad.items():
        path = folder / name
        path.write_bytes(data)
        files[name] = (path, None)
    files["missing.json"] = (folder / "missing.json", None)
    (folder / "a folder.json").mkdir()
    files["a folder.json"] = (folder / "a folder.json", None)
    return files


def main_image(folder: Path, seed: int) -> tuple[Path, np.ndarray]:
    """A 64×48 RGB image to open the window on."""
    rgb = np.random.default_rng(seed).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    return write_png(folder / "main.png", rgb), rgb
