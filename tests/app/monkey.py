"""A seeded monkey for the main window: random actions, every control checked after each.

`Monkey` drives a real ``MainWindow`` as a person would: typing into cells, turning
the wheel over them, resizing the kernel with its spin boxes, adding, copying,
removing, moving, switching off and renaming stages, presets (built-in and saved,
renamed, deleted), options, undo, the tutorial, images good and bad, view modes,
the split line, the channel strip, zooming in until numbers show, side tabs,
exports and kernel files. After every action it waits until the controller has
nothing in flight, then checks that

* nothing reached ``sys.excepthook``, ``threading.excepthook``, Qt's message handler at
  warning level or above, or the ``kernelstudio`` log at error level (:class:`Trap`);
* every control shows the controller's state (:meth:`Monkey.check`);
* the result is the oracle's (scipy.ndimage, stage by stage) for the recipe shown;
* every undo and redo brings back the recipe the person had at that step (:class:`UndoRecord`),
  and undoing everything at the end reaches the recipe before the oldest step kept;
* when the tutorial ends, the person's image, recipe, view and stage are back.

Adding an action is one method decorated with :func:`action`; it returns a short text
saying what it did, for the failure report. A failure names the seed, the step and the
last actions, so ``KERNELSTUDIO_MONKEY_SEED=<seed>`` replays it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import sys
import threading
import traceback
from collections import deque
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QtMsgType, qInstallMessageHandler, qWarning
from PySide6.QtGui import QGuiApplication, QImage, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QSlider,
    QWidget,
)
from scipy import ndimage
from shiboken6 import isValid

from kernelstudio.app.kernel_editor import means, resize_centred
from kernelstudio.app.magnifier import format_value
from kernelstudio.app.main_window import SIDE_TABS
from kernelstudio.app.recipe_panel import MAX_NAME_LENGTH, identity_stage, stage_title
from kernelstudio.behave_like import CONVENTIONS, behave_like
from kernelstudio.code_export import TARGET_NAMES, CodeExportError, export_code
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, ROUNDING_MODES, white_level
from kernelstudio.generators import GENERATORS, generate
from kernelstudio.imageio import load_image
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    format_weight,
    kernel_sum,
    parse_weight,
)
from kernelstudio.pipeline import BETWEEN_STAGES, MAX_STAGES, Recipe, Stage
from kernelstudio.recipe_files import read_recipe_file
from kernelstudio.walkthrough import STEPS
from tests.app.conftest import oracle_recipe
from tests.app.test_fuzz_gui import type_keys
from tests.app.test_main_window import drop, files_mime, write_png

WAIT_MS = 20_000
FLOAT32_MAX = float(np.finfo(np.float32).max)
OVERFLOW = FLOAT32_MAX / 4
"""Beyond this magnitude a float32 sum may overflow: only "not finite" is comparable there."""

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
STAGE_NAMES = ("Blur", "", "  spaced  ", "★ étoile", "x" * (MAX_NAME_LENGTH + 5), "1. 3×3")
PRESET_NAMES_SAVED = ("Monkey one", "monkey/two", "★ three", "", "  ")
SIZES = (1, 3, 3, 3, 5, 5, 7, 9, 15)  # small ones mostly: every check runs the oracle


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


class UndoRecord:
    """The recipe at each index of the person's undo history, as the monkey saw it.

    A new step records the controller's recipe at the index the stack moves to,
    and so does :meth:`note` after every action (an edit merged into the last
    step changes the recipe there); an undo or redo must bring back the recipe
    recorded at the index it reaches. Where the stack has a limit and drops its
    oldest step, the record drops that recipe too: it holds at most one recipe
    more than the stack holds steps (the same objects), so a long run keeps no
    more than the window does.

    Parameters
    ----------
    window : MainWindow
        Whose person's history (``undo_stack``, empty) is followed.
    """

    def __init__(self, window) -> None:
        stack = window.undo_stack
        assert stack.count() == 0, "the person's undo history is not empty at the start"
        self._stack = stack
        self._group = window.undo_group
        self._controller = controller = window.controller
        self._steps: list = []  # the stack's commands, oldest first, as last seen
        self._recipes: list[Recipe] = [controller.recipe]  # the recipe at each index
        self._index = 0
        self._problems: list[str] = []
        stack.indexChanged.connect(self._on_index_changed)

    @property
    def oldest(self) -> Recipe:
        """The recipe before the oldest step kept: where undoing everything ends."""
        return self._recipes[0]

    def take(self) -> list[str]:
        problems, self._problems = self._problems, []
        return problems

    def note(self) -> None:
        """Record the recipe shown as the one at the stack's index (between actions)."""
        stack = self._stack
        if self._group.activeStack() is not stack:  # the tutorial's edits go elsewhere
            return
        if stack.index() == self._index and stack.count() == len(self._steps):
            self._recipes[self._index] = self._controller.recipe

    def _on_index_changed(self, index: int) -> None:
        stack = self._stack
        if not isValid(stack):  # the window is being deleted: Qt clears the stack first
            return
        recipe = self._controller.recipe
        steps = [stack.command(i) for i in range(stack.count())]
        before, self._index = self._index, index
        old, self._steps = self._steps, steps
        if len(steps) == len(old) and all(a is b for a, b in zip(steps, old, strict=True)):
            if index == before:  # Qt merged an edit of the same thing into the last step
                self._recipes[index] = recipe
            elif recipe != self._recipes[index]:  # an undo or a redo
                self._problems.append(
                    f"the undo history at step {index} gives {recipe}, "
                    f"not {self._recipes[index]} as when it was there"
                )
                self._recipes[index] = recipe
            return
        # A push: the steps after the old index go, then the new step is added (or
        # the last one takes it in), then the oldest go while the stack is over its limit.
        recipes = self._recipes[: before + 1]
        if steps and any(steps[-1] is step for step in old[:before]):
            recipes[-1] = recipe
        else:
            recipes.append(recipe)
        dropped = len(recipes) - (len(steps) + 1)
        if dropped < 0 or index != len(steps):
            self._problems.append(
                f"the undo history went from {len(old)} steps at {before} to "
                f"{len(steps)} at {index}, not as one push"
            )
            recipes = [recipe] * (len(steps) + 1)  # start over; later checks stay meaningful
            dropped = 0
        self._recipes = recipes[dropped:]


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
        self.panel = window.recipe_panel
        self.qtbot = qtbot
        self.seed = seed
        self.random = random.Random(seed)
        self.pixels = np.random.default_rng(seed)
        self.folder = folder
        self.trap = trap
        self.history: deque[str] = deque(maxlen=25)
        self.counts: dict[str, int] = {}
        self.step = 0
        # Messages are counted, not kept: a long run keeps nothing it does not need.
        self.failures = 0
        self.saves = 0
        self.render_failed = False
        self.controller.failed.connect(self._on_failed)
        self.controller.renderingReady.connect(self._on_rendering)
        self.controller.saved.connect(self._on_saved)
        self.first_recipe = self.controller.recipe  # every recipe change is undoable
        self.undo_record = UndoRecord(window)
        # The tutorial keeps the person's work and must give back exactly this.
        self.kept: tuple | None = None
        self.restore_problems: list[str] = []
        window.tutorial.started.connect(self._on_tutorial_started)
        window.tutorial.ended.connect(self._on_tutorial_ended)
        self.histogram_out_of_step = False
        window.side_tabs.currentChanged.connect(self._on_side_changed)
        window.actions.side_panel.triggered.connect(self._on_side_changed)
        # The panel's question before weights are dropped, answered at random.
        self.questions = 0
        self.panel.confirm = self._answer
        # The save dialog's seam: the next export goes where the action says.
        self.save_target: Path | None = None
        window.file_dialogs.ask_save = lambda kind, **_: self.save_target
        self._checked: tuple | None = None  # the rendering and image the oracle last passed
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
        self.failures += 1
        if message.startswith("Could not compute the result"):
            self.render_failed = True

    def _on_rendering(self, rendering) -> None:
        if _same_request(rendering, self.controller):
            self.render_failed = False

    def _on_saved(self, _message: str) -> None:
        self.saves += 1

    def _answer(self, _question: str) -> bool:
        self.questions += 1
        return self.random.random() < 0.5

    def _on_side_changed(self) -> None:
        self.histogram_out_of_step = False  # the window has matched the flag to the tab

    def _on_tutorial_started(self) -> None:
        controller = self.controller
        self.kept = (controller.image, controller.recipe, controller.view, controller.selected)

    def _on_tutorial_ended(self) -> None:
        # Checked here, at once: the next action may change the state again.
        controller = self.controller
        image, recipe, view, selected = self.kept
        self.kept = None
        if controller.image is not image:
            self.restore_problems.append("the tutorial did not give the person's image back")
        if controller.recipe != recipe:
            self.restore_problems.append(f"the tutorial left {controller.recipe}, not {recipe}")
        if controller.view != view:
            self.restore_problems.append(f"the tutorial left {controller.view}, not {view}")
        if controller.selected != selected:
            self.restore_problems.append(
                f"the tutorial left stage {controller.selected} selected, not {selected}"
            )
        if self.window.undo_group.activeStack() is not self.window.undo_stack:
            self.restore_problems.append("the person's undo history is not active again")
        tabs = self.window.side_tabs
        shown = not tabs.isHidden() and tabs.currentIndex() == SIDE_TABS.index("histogram")
        # Known: the tutorial gives back the histogram flag of its start, whatever tab
        # shows now (reported); it holds until the side column changes again.
        self.histogram_out_of_step = controller.view.histogram != shown

    # Driving -----------------------------------------------------------------------

    def run(self, count: int) -> None:
        """Do `count` random actions, checking everything after each.

        The first run begins with every action once, in a seeded order, so each
        is tried whatever the seed.
        """
        names = [name for name, _, _ in self._actions]
        weights = [weight for _, _, weight in self._actions]
        methods = dict((name, method) for name, method, _ in self._actions)
        tour = []
        if self.step == 0:
            tour = list(names)
            self.random.shuffle(tour)
        for index in range(count):
            chosen = tour[index] if index < len(tour) else None
            name = chosen or self.random.choices(names, weights)[0]
            self.step += 1
            self.counts[name] = self.counts.get(name, 0) + 1
            with self._reporting(name):
                detail = methods[name]()
                self.history.append(f"{self.step}: {name} {detail}")
                self.settle()
                self.check()

    def finish(self) -> None:
        """End the tutorial, check the result, then undo everything back to the first recipe."""
        with self._reporting("finish"):
            if self.window.tutorial.running:
                self.window.walkthrough_dock.close()
            self.settle()
            self.check()
            if self.controller.rendering is None:
                # A result is needed for the oracle: the current image is too small.
                self.window.open_path(self.images_by_name("main"))
                self.settle()
            rendering = self.controller.rendering
            assert rendering is not None, "no result at the end"
            assert _same_request(rendering, self.controller) or self.render_failed
            self.check_result()
            stack = self.window.undo_stack
            while stack.canUndo():
                stack.undo()
            self.settle()
            self.check()
            assert self.controller.recipe == self.undo_record.oldest, (
                "undo did not reach the recipe before the oldest step kept"
            )
            if stack.undoLimit() == 0:  # nothing was dropped: back to the very start
                assert self.controller.recipe == self.first_recipe, "undo did not reach the start"
            np.testing.assert_array_equal(
                self.window.editor.weights, self.controller.stage.weights
            )

    def images_by_name(self, name: str) -> Path:
        return next(path for label, path, _ in self.images if label == name)

    def settle(self) -> None:
        """Wait until no render, load, export or histogram job is running or waiting."""
        controller = self.controller
        # is_idle covers renders only; loads and exports are in _background too.
        panel = self.window.generator_panel
        # A slider's value waits for the result being computed, then becomes a recipe.
        self.qtbot.waitUntil(
            lambda: controller.is_idle and not controller._background and not panel.has_pending,
            timeout=WAIT_MS,
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
        problems = self.trap.take() + self.restore_problems + self.undo_record.take()
        self.restore_problems = []
        assert not problems, "\n".join(problems)
        self.undo_record.note()
        window, controller = self.window, self.controller
        recipe, view, stage = controller.recipe, controller.view, controller.stage
        assert self.panel.recipe == recipe, "the panel shows another recipe"
        assert self.panel.selected == controller.selected, "the panel selects another stage"
        self._check_stage_list(recipe, controller.selected)
        self._check_grid(stage, recipe.flip)
        options = window.options
        assert options.flip_check.isChecked() == recipe.flip, "flip check"
        assert options.channels_check.isChecked() == view.channels_of_result, "channels"
        assert options.border_combo.currentData() == recipe.border, "border combo"
        assert options.colour_combo.currentData() == recipe.grey, "colour combo"
        assert options.display_combo.currentData() == recipe.display, "display combo"
        assert options.alpha_combo.currentData() == recipe.alpha, "alpha combo"
        assert options.rounding_combo.currentData() == recipe.rounding, "rounding combo"
        assert options.between_combo.currentData() == recipe.between_stages, "between combo"
        like = options.like_combo.currentData()
        if like:
            convention = CONVENTIONS[like]
            for name in ("border", "flip", "rounding", "between_stages", "display"):
                assert getattr(recipe, name) == getattr(convention, name), f"like combo {name}"
            for name in ("alpha", "channels"):
                assert getattr(convention, name) in (None, getattr(recipe, name)), f"like {name}"
        checked = "".join(c for c, box in options.channel_checks.items() if box.isChecked())
        assert checked == "".join(c for c in "rgba" if c in recipe.channels), "channel checks"
        for field, edit in (("divisor", options.divisor_edit), ("offset", options.offset_edit)):
            value = getattr(stage, field)
            if not options.is_invalid(field):
                shown = means(edit.text(), value) or edit.text() == format_weight(value)
                assert shown, f"{field} shows {edit.text()!r} for {value!r}"
        self._check_preset_combo(stage)
        self._check_generator(stage)
        self._check_presets_menu()
        self._check_side(view)
        self._check_views()
        self._check_tutorial()
        if controller.rendering is not None:
            self.check_result()

    def _check_stage_list(self, recipe: Recipe, selected: int) -> None:
        panel = self.panel
        listed = panel.stage_list
        count = len(recipe.stages)
        assert listed.count() == count, f"{listed.count()} lines for {count} stages"
        for index, stage in enumerate(recipe.stages):
            item = listed.item(index)
            assert item.text() == stage_title(stage, index), f"line {index}: {item.text()!r}"
            ticked = item.checkState() == Qt.CheckState.Checked
            assert ticked == stage.enabled, f"stage {index} tick"
        assert listed.currentRow() == selected, "the list highlights another stage"
        assert panel.add_button.isEnabled() == (count < MAX_STAGES), "add button"
        assert panel.duplicate_button.isEnabled() == (count < MAX_STAGES), "copy button"
        assert panel.remove_button.isEnabled() == (count > 1), "remove button"
        assert panel.up_button.isEnabled() == (selected > 0), "up button"
        assert panel.down_button.isEnabled() == (selected < count - 1), "down button"

    def _check_grid(self, stage: Stage, flip: bool) -> None:
        editor = self.window.editor
        grid = editor.grid
        height, width = stage.weights.shape
        assert grid.shape == (height, width), "grid shape"
        assert (editor.rows_spin.value(), editor.columns_spin.value()) == (height, width), (
            "size spin boxes"
        )
        applied = self.panel.applied
        assert applied.isVisibleTo(self.panel) == flip, "applied kernel"
        if flip:
            np.testing.assert_array_equal(applied.weights, stage.weights[::-1, ::-1])
        if not grid.is_valid:
            marked = [grid.is_invalid(r, c) for r in range(height) for c in range(width)]
            assert any(marked), "a cell is invalid but none is marked"
            for (row, column), value in np.ndenumerate(stage.weights):
                if not grid.is_invalid(row, column):
                    assert grid.weights[row, column] == value, f"cell {row},{column} weight"
            return
        np.testing.assert_array_equal(grid.weights, stage.weights, err_msg="grid weights")
        for (row, column), value in np.ndenumerate(stage.weights):
            cell = grid.cell(row, column)
            # The grid's own record, not the cell's "invalid" property: a cell kept
            # for another shape keeps that property (reported); its colour follows the record.
            assert not grid.is_invalid(row, column), f"cell {row},{column} marked"
            # Typed text that means the weight, or the weight written short.
            shown = means(cell.text(), value) or cell.text() == format_weight(value)
            assert shown, f"cell {row},{column} shows {cell.text()!r} for {value!r}"
        assert editor.sum_label.text().startswith("Sum: "), "sum label"

    def _check_preset_combo(self, stage: Stage) -> None:
        combo = self.window.preset_combo
        choice = combo.currentData()
        plain = (stage.divisor, stage.offset) == (1, 0)
        builtin = [s for s, w in PRESETS.items() if plain and np.array_equal(w, stage.weights)]
        if isinstance(choice, str):
            assert choice in builtin, f"combo names {choice}"
        elif isinstance(choice, Kernel):
            assert not builtin, f"combo names {choice.name}, not the preset {builtin}"
            assert np.array_equal(choice.weights, stage.weights), f"combo names {choice.name}"
            assert (choice.divisor, choice.offset) == (stage.divisor, stage.offset)
        else:
            assert combo.currentIndex() == 0, "the combo shows neither a preset nor Custom"
            assert not builtin, f"combo says custom but the kernel is preset {builtin}"
            saved = [
                combo.itemData(i)
                for i in range(combo.count())
                if isinstance(combo.itemData(i), Kernel)
            ]
            for kernel in saved:
                assert not (
                    np.array_equal(kernel.weights, stage.weights)
                    and (kernel.divisor, kernel.offset) == (stage.divisor, stage.offset)
                ), f"combo says custom but the kernel is the saved {kernel.name}"

    def _check_generator(self, stage: Stage) -> None:
        panel = self.window.generator_panel
        settings = stage.generator
        if settings is not None:  # the invariant of Stage, seen from outside
            made = generate(settings).weights
            np.testing.assert_array_equal(made, stage.weights, err_msg="generated weights")
        assert panel.combo.currentData() == (settings and settings.slug), "generator combo"
        if settings is None:
            assert panel.form is None, "parameter rows for typed weights"
            return
        for parameter in GENERATORS[settings.slug].parameters:
            value = settings.values[parameter.name]
            if parameter.kind == "choice":
                box = panel.findChild(QComboBox, f"choice_{parameter.name}")
                shown = box.currentText()
                assert shown == str(value), f"{parameter.name} shows {shown} for {value}"
                continue
            spin = panel.findChild(QAbstractSpinBox, f"spin_{parameter.name}")
            slider = panel.findChild(QSlider, f"slider_{parameter.name}")
            row = panel.form.rows[parameter.name]
            shown = None if value is None else spin.value()
            if value is None:
                assert spin.value() == spin.minimum(), f"{parameter.name} is not shown as auto"
            else:
                # A spin box shows its decimals (a preset's 7√2 reads 9.899).
                decimals = spin.decimals() if hasattr(spin, "decimals") else 0
                assert abs(shown - value) <= 0.5 * 10.0**-decimals + 1e-12, (
                    f"{parameter.name} shows {shown} for {value}"
                )
            assert slider.value() == row.position_of(value), f"{parameter.name} slider"

    def _check_presets_menu(self) -> None:
        window = self.window
        combo = window.preset_combo
        in_combo = [
            combo.itemText(i)
            for i in range(combo.count())
            if isinstance(combo.itemData(i), Kernel)
        ]
        in_menu = [a.text() for a in window.presets_menu.actions() if a.text().startswith("★ ")]
        assert in_combo == in_menu, f"saved presets: combo {in_combo}, menu {in_menu}"
        actions = window.actions
        assert actions.rename_preset.isEnabled() == bool(in_menu), "rename preset action"
        assert actions.delete_preset.isEnabled() == bool(in_menu), "delete preset action"

    def _check_side(self, view) -> None:
        window = self.window
        tabs = window.side_tabs
        assert window.actions.side_panel.isChecked() == (not tabs.isHidden()), "side action"
        histogram_shown = not tabs.isHidden() and tabs.currentIndex() == SIDE_TABS.index(
            "histogram"
        )
        assert view.histogram == histogram_shown or self.histogram_out_of_step, (
            f"histogram counts {'made' if view.histogram else 'not made'} while the tab is "
            f"{'shown' if histogram_shown else 'hidden'}"
        )

    def _check_views(self) -> None:
        window, controller = self.window, self.controller
        views, image, rendering = window.views, controller.image, controller.rendering
        assert window.actions.mode[views.mode].isChecked(), f"{views.mode} action unchecked"
        assert views.channels_toggle.isChecked() == views.channels_visible
        strip = views.findChild(QWidget, "channelStrip")
        assert strip.isVisibleTo(views) == views.channels_visible, "channel strip"
        assert 0 <= views.split_position <= image.pixels.shape[1], "split line off the image"
        assert image.name in window.windowTitle()
        if rendering is None:
            assert views.shown("original") is image.pixels8, "original view"
            assert views.shown("result") is None, "a result is shown but there is none"
        else:
            assert views.shown("original") is rendering.original8, "original view"
            assert views.shown("result") is rendering.result8, "result view"
            names = ("grey",) if len(rendering.channels8) == 1 else ("red", "green", "blue")
            for name, channel in zip(names, rendering.channels8, strict=True):
                assert views.shown(name) is channel, f"{name} view"
            if not _same_request(rendering, controller):
                # The latest request failed (e.g. 'valid' with a kernel larger than the
                # image): the previous result stays, and the person was told why.
                assert self.render_failed, "an older result is shown, no word why"
            elif controller.view.histogram:
                assert rendering.histogram is not None, "the histogram panel has no counts"
                assert window.histogram.counts is rendering.histogram, "histogram of another"
            self._check_numbers(rendering)
        pinned = controller.pinned
        shown_pin = views.shown("pinned")
        if pinned is None:
            assert shown_pin is None, "the compare view shows a pin the controller dropped"
        elif rendering is not None and rendering.comparison is not None:
            assert np.array_equal(shown_pin, pinned.result8), "compare shows another pin"

    def _check_numbers(self, rendering) -> None:
        # Magnified pixels print the result's values, first channel first.
        views = self.window.views
        top, left = rendering.offset
        result = rendering.result
        for (row, column), text in views.numbers("result").items():
            value = result[row - top, column - left]
            first = np.atleast_1d(value)[0]
            assert text.split("\n")[0] == format_value(first), (
                f"pixel {row},{column} prints {text!r} for {value}"
            )

    def _check_tutorial(self) -> None:
        window = self.window
        running = window.tutorial.running
        assert window.walkthrough_dock.isVisible() == running, "tutorial dock"
        if running:
            index = window.walkthrough.index
            assert window.walkthrough.title.text() == STEPS[index].title
            assert window.undo_group.activeStack() is not window.undo_stack, (
                "the tutorial's edits go into the person's history"
            )
        else:
            assert window.undo_group.activeStack() is window.undo_stack

    def check_result(self) -> None:
        """The latest result is scipy's for its recipe and the current image."""
        rendering, image = self.controller.rendering, self.controller.image
        if self._checked is not None and all(
            a is b for a, b in zip(self._checked, (rendering, image), strict=True)
        ):
            return  # the same arrays passed already
        source = image.pixels
        recipe = rendering.recipe
        with np.errstate(over="ignore", invalid="ignore"):
            expected = oracle_recipe(source, recipe)
        assert rendering.result.shape == expected.shape, "result shape"
        tolerance, comparable = _tolerance(source, recipe)
        if comparable is not None:
            if expected.ndim == 3:
                comparable = comparable[..., None]
            expected = np.where(comparable, expected, 0)
            result = np.where(comparable, rendering.result, 0)
        else:
            result = rendering.result
        error = np.abs(result.astype(np.float64) - expected)
        worst = float(np.max(error)) if error.size else 0.0
        assert worst <= tolerance, (
            f"result differs from the oracle by {worst:.3g} (allowed {tolerance:.3g}) for {recipe}"
        )
        self._checked = (rendering, image)

    # Helpers -----------------------------------------------------------------------

    def _cell(self) -> tuple[int, int]:
        height, width = self.controller.stage.weights.shape
        return self.random.randrange(height), self.random.randrange(width)

    def _show_recipe(self) -> None:
        """Bring the Recipe tab forward, as a person must before editing the kernel."""
        if not self.panel.isVisible():
            self.window.show_side_tab("recipe")

    def _accepts(self, weights: np.ndarray, divisor: float) -> bool:
        # The weights, and what one pass applies (them over the divisor), must fit float32.
        magnitude = float(np.abs(weights).sum())
        return bool(np.isfinite(weights).all()) and max(magnitude, magnitude / abs(divisor)) < (
            FLOAT32_MAX
        )

    def _type(self, text: str, value: float | None, cell: tuple[int, int] | None = None) -> str:
        self._show_recipe()
        row, column = cell or self._cell()
        grid = self.window.editor.grid
        height, width = grid.shape
        others_valid = not any(
            grid.is_invalid(r, c)
            for r in range(height)
            for c in range(width)
            if (r, c) != (row, column)
        )
        candidate = grid.weights
        if value is not None:
            candidate[row, column] = value
        accepted = value is not None and self._accepts(candidate, self.controller.stage.divisor)
        target = grid.cell(row, column)
        assert target.objectName() == f"cell_{row}_{column}"
        target.setFocus()
        target.selectAll()
        self.qtbot.keyClick(target, Qt.Key.Key_Backspace)
        type_keys(self.qtbot, target, text)  # QTest.keyClicks aborts on non-ASCII text
        assert target.text() == text
        assert grid.is_invalid(row, column) == (not accepted), (
            f"{text!r} into {row},{column} of {candidate.tolist()} is "
            f"{'refused' if grid.is_invalid(row, column) else 'accepted'}: {target.toolTip()}"
        )
        if accepted and others_valid:
            assert self.controller.stage.weights[row, column] == value
        return f"{text!r} into {row},{column} ({'accepted' if accepted else 'refused'})"

    def _choose(self, combo, index: int) -> None:
        combo.setCurrentIndex(index)
        combo.activated.emit(index)

    def _expect_unchanged_or(self, before: Recipe, expected: Recipe | None) -> None:
        recipe = self.controller.recipe
        if expected is None:
            assert recipe == before, "a refused change changed the recipe"
        else:
            assert recipe == expected, f"the recipe is {recipe}, not {expected}"

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

    @action(3)
    def nudge_cell(self) -> str:
        """The wheel over a cell (a real wheel event, or the grid's nudge), ±1 or ±0.1."""
        self._show_recipe()
        row, column = self._cell()
        grid = self.window.editor.grid
        shift = self.random.random() < 0.3
        notches = self.random.choice((-2, -1, 1, 1, 3))
        step = notches * (0.1 if shift else 1.0)
        unit = math.copysign(0.1 if shift else 1.0, notches)
        old = total = float(grid.weights[row, column])
        for _ in range(abs(notches)):  # added in decimal, as typed: 0.2 + 0.1 is 0.3
            total = float(Decimal(repr(total)) + Decimal(repr(unit)))
        height, width = grid.shape
        others_valid = not any(
            grid.is_invalid(r, c)
            for r in range(height)
            for c in range(width)
            if (r, c) != (row, column)
        )
        how = self.random.choice(("wheel", "wheel", "nudge"))
        if how == "wheel":
            cell = grid.cell(row, column)
            modifiers = (
                Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
            )
            centre = QPointF(cell.width() / 2, cell.height() / 2)
            for _ in range(abs(notches)):  # one event per notch, as a mouse wheel sends them
                event = QWheelEvent(
                    centre,
                    QPointF(cell.mapToGlobal(centre.toPoint())),
                    QPoint(0, 0),
                    QPoint(0, 120 if notches > 0 else -120),
                    Qt.MouseButton.NoButton,
                    modifiers,
                    Qt.ScrollPhase.NoScrollPhase,
                    False,
                )
                QApplication.sendEvent(cell, event)
        else:
            for _ in range(abs(notches)):
                grid.nudge(row, column, unit)
        candidate = grid.weights
        candidate[row, column] = total
        accepted = self._accepts(candidate, self.controller.stage.divisor)
        if accepted and others_valid:
            assert self.controller.stage.weights[row, column] == total, (
                f"{old} nudged by {step} is {self.controller.stage.weights[row, column]}"
            )
        elif not accepted:
            assert grid.is_invalid(row, column), f"{old} + {step} accepted"
        return f"{how} {row},{column} by {step:+g} from {old:g}"

    @action(2)
    def change_size(self) -> str:
        """Rows or columns in their spin box: set, stepped, or typed (even ones round up)."""
        self._show_recipe()
        editor = self.window.editor
        spin = self.random.choice((editor.rows_spin, editor.columns_spin))
        before = self.controller.recipe
        stage = self.controller.stage
        height, width = stage.weights.shape
        asked = self.questions
        how = self.random.choice(("set", "set", "step", "type"))
        if how == "set":
            size = self.random.choice(SIZES)
            spin.setValue(size)
        elif how == "step":
            # Up from 31 or down from 1 stays put, as the spin box does.
            step = self.random.choice((-2, 2))
            size = min(max(spin.value() + step, 1), 31)
            spin.stepUp() if step > 0 else spin.stepDown()
        else:
            # An even number is taken as the odd one above; letters are not taken.
            typed = self.random.choice(("4", "7", "1", "2", "x", "15"))
            size = {"4": 5, "2": 3, "x": spin.value()}.get(typed) or int(typed)
            spin.setFocus()
            spin.selectAll()
            self.qtbot.keyClicks(spin, typed)
            self.qtbot.keyClick(spin, Qt.Key.Key_Return)
            how = f"type {typed!r}"
        new_shape = (size, width) if spin is editor.rows_spin else (height, size)
        resized = resize_centred(stage.weights, *new_shape)
        dropping = np.count_nonzero(stage.weights) > np.count_nonzero(resized)
        if dropping:
            assert self.questions == asked + 1, "weights dropped without asking"
        else:
            assert self.questions == asked, "asked though nothing is dropped"
        if new_shape == (height, width):
            assert self.controller.recipe == before
        elif self.controller.stage.weights.shape == new_shape:
            np.testing.assert_array_equal(self.controller.stage.weights, resized)
        else:
            assert dropping, f"{new_shape} refused without a question"
            assert self.controller.recipe == before
            assert spin.value() == (height if spin is editor.rows_spin else width)
        return f"{how} {spin.objectName()} -> {new_shape}"

    @action(2)
    def choose_generator(self) -> str:
        self._show_recipe()
        combo = self.window.generator_panel.combo
        index = self.random.randrange(combo.count())
        combo.setCurrentIndex(index)
        return f"generator {combo.itemText(index)!r}"

    @action(4)
    def move_generator_parameter(self) -> str:
        """Drag a slider, type into a spin box or pick a choice, a few steps at once."""
        settings = self.controller.stage.generator
        if settings is None:
            return self.choose_generator()
        self._show_recipe()
        panel = self.window.generator_panel
        parameter = self.random.choice(GENERATORS[settings.slug].parameters)
        name, steps = parameter.name, self.random.randint(1, 6)
        if parameter.kind == "choice":
            box = panel.findChild(QComboBox, f"choice_{name}")
            index = self.random.randrange(box.count())
            box.setCurrentIndex(index)
            return f"{settings.slug} {name} = {box.itemText(index)}"
        if self.random.random() < 0.5:
            slider = panel.findChild(QSlider, f"slider_{name}")
            positions = [
                self.random.randint(slider.minimum(), slider.maximum()) for _ in range(steps)
            ]
            for position in positions:
                slider.setValue(position)  # as a drag does, step by step
                QApplication.processEvents()
            return f"{settings.slug} slider {name} through {positions}"
        spin = panel.findChild(QAbstractSpinBox, f"spin_{name}")
        low, high = spin.minimum(), spin.maximum()
        numbers = [
            self.random.choice([low, high, self.random.uniform(low, high)]) for _ in range(steps)
        ]
        for number in numbers:
            spin.setValue(number)
            QApplication.processEvents()
        return f"{settings.slug} spin {name} through {[round(n, 3) for n in numbers]}"

    @action(3)
    def choose_preset_in_combo(self) -> str:
        self._show_recipe()
        combo = self.window.preset_combo
        index = self.random.randrange(combo.count())
        choice = combo.itemData(index)
        before = (self.controller.recipe, self.controller.view)
        if self.random.random() < 0.5:
            self._choose(combo, index)
            how = "activated"
        else:  # assistive tools and scripts set the index without a person's click
            same = index == combo.currentIndex()
            combo.setCurrentIndex(index)
            how = "setCurrentIndex"
            if same:  # no index change, no signal: nothing happens
                assert (self.controller.recipe, self.controller.view) == before
                return f"{how} {combo.itemText(index)!r} (shown already)"
        self._expect_preset(choice, before)
        return f"{how} {combo.itemText(index)!r}"

    @action(2)
    def choose_preset_in_menu(self) -> str:
        window = self.window
        tools = (
            window.actions.save_preset,
            window.actions.rename_preset,
            window.actions.delete_preset,
        )
        actions = [
            a for a in window.presets_menu.actions() if not a.isSeparator() and a not in tools
        ]
        chosen = self.random.choice(actions)
        chosen.trigger()
        slug = next((s for s, n in PRESET_NAMES.items() if n == chosen.text()), None)
        if slug is not None:
            self._expect_preset(slug, None)
        return repr(chosen.text())

    def _expect_preset(self, choice, before) -> None:
        stage, recipe = self.controller.stage, self.controller.recipe
        if isinstance(choice, str):
            np.testing.assert_array_equal(stage.weights, PRESETS[choice])
            assert (stage.divisor, stage.offset) == (1, 0)
            assert recipe.display == PRESET_DISPLAY[choice]
        elif isinstance(choice, Kernel):
            np.testing.assert_array_equal(stage.weights, choice.weights)
            assert (stage.divisor, stage.offset) == (choice.divisor, choice.offset)
        elif before is not None:  # "Custom kernel" and the separator are labels
            assert (self.controller.recipe, self.controller.view) == before

    @action(1)
    def save_custom_preset(self) -> str:
        name = self.random.choice(PRESET_NAMES_SAVED)
        self.window.save_custom_preset(name)
        return repr(name)

    def _saved_names(self) -> list[str]:
        return [
            a.text()[2:] for a in self.window.presets_menu.actions() if a.text().startswith("★ ")
        ]

    @action(1)
    def rename_saved_preset(self) -> str:
        names = self._saved_names()
        if not names:
            return "skipped: none saved"
        old = self.random.choice(names)
        new = self.random.choice((*PRESET_NAMES_SAVED, "Renamed", old, *names))
        self.window.message_bar.hide()
        self.window.rename_custom_preset(old, new)
        after, told = self._saved_names(), self.window.message_bar.text
        if sorted(after) == sorted(names):
            assert new.strip() == old or "Could not rename" in told, (
                f"renaming {old!r} to {new!r} did nothing, without a word"
            )
        else:
            assert len(after) == len(names), f"{names} became {after}"
            assert old not in after, f"{old!r} is still listed"
            assert not told, f"a rename that worked was reported: {told}"
        return f"{old!r} -> {new!r}"

    @action(1)
    def delete_saved_preset(self) -> str:
        names = self._saved_names()
        if not names or self.random.random() < 0.1:
            name = "not saved"
        else:
            name = self.random.choice(names)
        recipe = self.controller.recipe
        self.window.delete_custom_preset(name)
        assert name not in self._saved_names(), f"{name!r} still listed"
        assert self.controller.recipe == recipe, "deleting a preset changed the kernel"
        return repr(name)

    @action(2)
    def undo(self) -> str:
        text = self.window.undo_group.undoText()
        if self.random.random() < 0.3:  # Ctrl+Z in a cell undoes the kernel, not the text
            self._show_recipe()
            cell = self.window.editor.grid.cell(*self._cell())
            cell.setFocus()
            self.qtbot.keyClick(cell, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            return f"Ctrl+Z in {cell.objectName()}: {text}"
        self.window.actions.undo.trigger()
        return text

    @action(1)
    def redo(self) -> str:
        text = self.window.undo_group.redoText()
        self.window.actions.redo.trigger()
        return text

    @action(1)
    def normalise(self) -> str:
        self._show_recipe()
        before = np.array(self.controller.stage.weights)
        total, scale = before.sum(), np.abs(before).sum()
        if self.random.random() < 0.5:
            self.window.normalise()
        else:
            self.window.actions.normalise.trigger()
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
        if self.random.random() < 0.3:  # through the menu, its file dialog answered
            self.window.file_dialogs.ask_open_kernel = lambda: path
            self.window.actions.import_kernel.trigger()
        else:
            self.window.import_kernel(path)
        if weights is None:
            assert "Could not import the kernel" in self.window.message_bar.text
            assert (self.controller.recipe, self.controller.view) == before
        else:
            np.testing.assert_array_equal(self.controller.stage.weights, weights)
        return name

    # Actions: stages ---------------------------------------------------------------

    @action(2)
    def add_or_copy_stage(self) -> str:
        self._show_recipe()
        panel, controller = self.panel, self.controller
        before, selected = controller.recipe, controller.selected
        copy = self.random.random() < 0.4
        button = panel.duplicate_button if copy else panel.add_button
        full = len(before.stages) >= MAX_STAGES
        button.click()
        if full:
            assert controller.recipe == before, "a seventeenth stage"
            return "full"
        stages = list(before.stages)
        stages.insert(selected + 1, before.stages[selected] if copy else identity_stage())
        self._expect_unchanged_or(before, replace(before, stages=tuple(stages)))
        assert controller.selected == selected + 1, "the new stage is not selected"
        return f"{'copy' if copy else 'add'} after {selected + 1} of {len(before.stages)}"

    @action(1.5)
    def remove_stage(self) -> str:
        self._show_recipe()
        before, selected = self.controller.recipe, self.controller.selected
        self.panel.remove_button.click()
        if len(before.stages) == 1:
            assert self.controller.recipe == before, "the last stage went"
            return "the only stage stays"
        stages = list(before.stages)
        del stages[selected]
        try:
            expected = replace(before, stages=tuple(stages))
        except ValueError:  # the only stage switched on cannot go
            expected = None
        self._expect_unchanged_or(before, expected)
        return f"{selected + 1} of {len(before.stages)}{' refused' if expected is None else ''}"

    @action(1.5)
    def move_stage(self) -> str:
        self._show_recipe()
        before, selected = self.controller.recipe, self.controller.selected
        up = self.random.random() < 0.5
        (self.panel.up_button if up else self.panel.down_button).click()
        target = selected + (-1 if up else 1)
        if not 0 <= target < len(before.stages):
            assert self.controller.recipe == before
            return f"{'up' if up else 'down'} at the end"
        stages = list(before.stages)
        stages[selected], stages[target] = stages[target], stages[selected]
        assert self.controller.recipe == replace(before, stages=tuple(stages))
        assert self.controller.selected == target, "the moved stage is not selected"
        return f"{selected + 1} {'up' if up else 'down'}"

    @action(2)
    def select_stage(self) -> str:
        self._show_recipe()
        listed = self.panel.stage_list
        count = listed.count()
        if self.random.random() < 0.3 and count > 1:  # the arrow keys in the list
            listed.setFocus()
            key = self.random.choice((Qt.Key.Key_Up, Qt.Key.Key_Down))
            expected = self.controller.selected + (-1 if key == Qt.Key.Key_Up else 1)
            expected = min(max(expected, 0), count - 1)
            self.qtbot.keyClick(listed, key)
        else:
            expected = self.random.randrange(count)
            listed.setCurrentRow(expected)
        assert self.controller.selected == expected, f"stage {expected} not selected"
        return f"{expected + 1} of {count}"

    @action(1.5)
    def toggle_stage(self) -> str:
        self._show_recipe()
        before = self.controller.recipe
        index = self.random.randrange(len(before.stages))
        item = self.panel.stage_list.item(index)
        on = item.checkState() != Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        stages = list(before.stages)
        stages[index] = replace(stages[index], enabled=on)
        try:
            expected = replace(before, stages=tuple(stages))
        except ValueError:  # at least one stage stays on
            expected = None
        self._expect_unchanged_or(before, expected)
        return f"{index + 1} {'on' if on else 'off'}{' refused' if expected is None else ''}"

    @action(1)
    def rename_stage(self) -> str:
        self._show_recipe()
        listed = self.panel.stage_list
        before = self.controller.recipe
        index = self.random.randrange(listed.count())
        name = self.random.choice(STAGE_NAMES)
        item = listed.item(index)
        listed.editItem(item)
        editors = [e for e in listed.findChildren(QLineEdit, "stageNameEdit") if e.isVisible()]
        assert len(editors) == 1, f"{len(editors)} name editors open"
        editor = editors[0]
        assert editor.text() == before.stages[index].name, "the editor shows another name"
        editor.selectAll()
        self.qtbot.keyClick(editor, Qt.Key.Key_Backspace)
        type_keys(self.qtbot, editor, name)
        self.qtbot.keyClick(editor, Qt.Key.Key_Return)
        # The delegate commits and closes the editor from the event loop.
        editing = QAbstractItemView.State.EditingState
        self.qtbot.waitUntil(lambda: listed.state() != editing, timeout=WAIT_MS)
        wanted = name[:MAX_NAME_LENGTH].strip()
        stages = list(before.stages)
        stages[index] = replace(stages[index], name=wanted)
        assert self.controller.recipe == replace(before, stages=tuple(stages)), (
            f"stage {index + 1} is called {self.controller.recipe.stages[index].name!r}"
        )
        return f"{index + 1} {wanted!r}"

    # Actions: options ------------------------------------------------------------

    @action(2)
    def choose_border(self) -> str:
        self._show_recipe()
        border = self.random.choice(BORDERS)
        combo = self.window.options.border_combo
        self._choose(combo, combo.findData(border))
        assert self.controller.recipe.border == border
        return border

    @action(2)
    def type_divisor_or_offset(self) -> str:
        self._show_recipe()
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
        assert options.is_invalid(field) == (final is None), f"{field} {text!r} mark"
        return f"{field} {text!r}"

    @action(1)
    def use_the_sum(self) -> str:
        self._show_recipe()
        before, stage = self.controller.recipe, self.controller.stage
        total = round(kernel_sum(stage.weights), 12)
        self.window.options.use_sum_button.click()
        try:
            expected = (
                None if total == 0 else self.window._with_stage(replace(stage, divisor=total))
            )
        except ValueError:
            expected = None
        self._expect_unchanged_or(before, expected)
        return f"sum {total:g}{' refused' if expected is None else ''}"

    @action(2)
    def toggle_channel(self) -> str:
        self._show_recipe()
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
        self._show_recipe()
        alpha = self.random.choice(["keep", "weighted", "process"])
        combo = self.window.options.alpha_combo
        self._choose(combo, combo.findData(alpha))
        assert self.controller.recipe.alpha == alpha
        return alpha

    @action(1)
    def export_and_import_recipe(self) -> str:
        target = self.folder / "monkey-recipe.json"
        recipe = self.controller.recipe
        saves = self.saves
        if self.random.random() < 0.5:
            self.window.export_recipe(target)
        else:
            self.save_target = target
            self.window.actions.export_recipe.trigger()
        self.qtbot.waitUntil(lambda: self.saves > saves, timeout=WAIT_MS)
        assert read_recipe_file(target) == recipe, "the file holds another recipe"
        self.window.choose_preset("identity")
        self.window.import_recipe(target)
        assert self.controller.recipe == recipe, "the recipe did not come back whole"
        target.unlink()
        return f"{len(recipe.stages)} stage(s)"

    @action(1)
    def toggle_flip(self) -> str:
        self._show_recipe()
        flip = not self.controller.recipe.flip
        self.window.options.flip_check.click()
        assert self.controller.recipe.flip == flip
        return str(flip)

    @action(1)
    def choose_colour(self) -> str:
        self._show_recipe()
        grey = self.random.random() < 0.5
        combo = self.window.options.colour_combo
        self._choose(combo, combo.findData(grey))
        assert self.controller.recipe.grey == grey
        return "grey" if grey else "colour"

    @action(1)
    def choose_display(self) -> str:
        self._show_recipe()
        display = self.random.choice(DISPLAY_MODES)
        combo = self.window.options.display_combo
        self._choose(combo, combo.findData(display))
        assert self.controller.recipe.display == display
        return display

    @action(1)
    def choose_rounding(self) -> str:
        self._show_recipe()
        rounding = self.random.choice(ROUNDING_MODES)
        combo = self.window.options.rounding_combo
        self._choose(combo, combo.findData(rounding))
        assert self.controller.recipe.rounding == rounding
        return rounding

    @action(1)
    def choose_between_stages(self) -> str:
        self._show_recipe()
        between = self.random.choice(BETWEEN_STAGES)
        combo = self.window.options.between_combo
        self._choose(combo, combo.findData(between))
        assert self.controller.recipe.between_stages == between
        return between

    @action(1)
    def behave_like_a_program(self) -> str:
        self._show_recipe()
        program = self.random.choice(list(CONVENTIONS))
        before = self.controller.recipe
        try:
            expected = behave_like(before, program)
        except ValueError:
            expected = None
        combo = self.window.options.like_combo
        self._choose(combo, combo.findData(program))
        self._expect_unchanged_or(before, expected)
        if expected is not None:
            assert combo.currentData() == program, "the chosen program is not shown"
        return f"{program}{' refused' if expected is None else ''}"

    @action(1)
    def copy_as_code(self) -> str:
        """Edit ▸ Copy as Code for a target, then another: the code is the recipe's, or why not."""
        targets = list(TARGET_NAMES)
        first, second = self.random.sample(targets, 2)
        recipe = self.controller.recipe
        self.window.actions.copy_as_code[first].trigger()
        dialog = self.window.code_dialog
        assert dialog is not None, "no Copy as Code dialog"
        assert dialog.isVisible(), "the Copy as Code dialog is hidden"
        outcomes = []
        for target in (first, second):
            dialog.target_combo.setCurrentIndex(dialog.target_combo.findData(target))
            source, destination = dialog.source_edit.text(), dialog.destination_edit.text()
            try:
                expected = export_code(recipe, target, source=source, destination=destination)
            except CodeExportError:
                expected = ""
            assert dialog.program == expected, f"{target}: not the recipe's code"
            assert dialog.code_view.toPlainText() == expected, f"{target}: code view"
            assert dialog.copy_button.isEnabled() == bool(expected), f"{target}: copy button"
            assert dialog.problem_label.isHidden() == bool(expected), f"{target}: problem"
            outcomes.append(f"{target}{'' if expected else ' refused'}")
        dialog.close()
        assert self.controller.recipe == recipe, "showing code changed the recipe"
        return ", ".join(outcomes)

    @action(1)
    def toggle_channels(self) -> str:
        self._show_recipe()
        channels = not self.controller.view.channels_of_result
        self.window.options.channels_check.click()
        assert self.controller.view.channels_of_result == channels
        return str(channels)

    # Actions: the tutorial ---------------------------------------------------------

    @action(1)
    def walkthrough_f1(self) -> str:
        focused = QApplication.focusWidget() or self.window
        self.qtbot.keyClick(focused, Qt.Key.Key_F1)
        assert self.window.tutorial.running, f"F1 in {focused.objectName()!r}"
        self._expect_step(0)
        return f"in {focused.objectName() or type(focused).__name__}"

    @action(1)
    def walkthrough_start(self) -> str:
        running = self.window.tutorial.running
        how = self.random.choice(("start", "action"))
        if how == "start":
            self.window.start_tutorial()
        else:
            self.window.actions.walkthrough.trigger()
        self._expect_step(0)
        return f"{how}{' (again)' if running else ''}"

    @action(1)
    def walkthrough_step(self) -> str:
        index = self.random.randrange(-1, len(STEPS) + 1)  # one beyond each end
        running = self.window.tutorial.running
        recipe = self.controller.recipe
        self.window.show_walkthrough_step(index)
        if 0 <= index < len(STEPS):
            self._expect_step(index)
        elif not running:
            assert not self.window.tutorial.running, f"step {index} started the tutorial"
            assert self.controller.recipe == recipe
        return str(index)

    @action(2)
    def walkthrough_button(self) -> str:
        panel = self.window.walkthrough
        if not self.window.tutorial.running:
            return "skipped: not running"
        button = self.random.choice(
            (panel.back_button, panel.next_button, panel.next_button, panel.finish_button)
        )
        index = panel.index + (1 if button is panel.next_button else -1)
        enabled = button.isEnabled()
        button.click()
        if button is panel.finish_button:
            assert not self.window.tutorial.running, "Finish left the tutorial running"
        elif enabled:
            self._expect_step(index)
        return f"{button.text()} ({'enabled' if enabled else 'disabled'})"

    def _expect_step(self, index: int) -> None:
        assert self.window.tutorial.running, "the tutorial is not running"
        recipe = self.controller.recipe
        assert recipe == STEPS[index].recipe, f"not step {index}'s recipe: {recipe}"
        assert not self.controller.view.channels_of_result
        assert self.window.walkthrough.index == index

    @action(1)
    def walkthrough_end(self) -> str:
        """Close the tutorial's dock, or press Esc in it."""
        window = self.window
        if not window.tutorial.running:
            window.walkthrough_dock.close()
            return "closed while not running"
        if self.random.random() < 0.5:
            window.walkthrough_dock.close()
            how = "close"
        else:
            target = self.random.choice(
                (
                    window.walkthrough,
                    window.walkthrough.next_button,
                    window.walkthrough.back_button,
                )
            )
            if not target.isEnabled():
                target = window.walkthrough
            target.setFocus()
            self.qtbot.keyClick(target, Qt.Key.Key_Escape)
            how = f"Esc in {target.objectName()}"
        assert not window.tutorial.running, f"{how} left the tutorial running"
        assert not window.walkthrough_dock.isVisible()
        return how

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
        self.window.actions.paste.trigger()
        self.settle()
        np.testing.assert_array_equal(self.controller.image.pixels, rgb)
        return f"{width}×{height}"

    # Actions: comparing, looking -------------------------------------------------

    @action(1)
    def pin(self) -> str:
        self.window.actions.pin.trigger()
        if self.controller.pinned is not None:
            assert self.window.views.mode == "compare", "pinned but not comparing"
            return "pinned"
        return "nothing to pin"

    @action(1)
    def unpin(self) -> str:
        self.window.actions.unpin.trigger()
        assert self.controller.pinned is None
        assert self.window.views.mode != "compare", "still comparing with nothing"
        return ""

    @action(2)
    def view_mode(self) -> str:
        mode = self.random.choice(("side", "split", "compare"))
        if self.random.random() < 0.5:
            self.window.actions.mode[mode].trigger()
        else:
            self.window.set_view_mode(mode)
        assert self.window.views.mode == mode
        return mode

    @action(1)
    def drag_split(self) -> str:
        views = self.window.views
        width = self.controller.image.pixels.shape[1]
        x = self.random.choice(
            (self.random.uniform(0, width), -5.0, width + 10.0, math.nan, math.inf, 0.0)
        )
        if self.random.random() < 0.3:
            views.divider.setValue(x if math.isfinite(x) else 0.0)  # the line dragged itself
        else:
            views.set_split_position(x)
        expected = min(max(x, 0.0), float(width)) if math.isfinite(x) else None
        if expected is not None:
            assert views.split_position == expected, f"split at {views.split_position}"
        return f"to {x:g} of {width}"

    @action(1)
    def fold_channels(self) -> str:
        views = self.window.views
        visible = not views.channels_visible
        if self.random.random() < 0.5:
            views.channels_toggle.click()
        else:
            views.set_channels_visible(visible)
        assert views.channels_visible == visible
        return "shown" if visible else "folded"

    @action(1)
    def zoom_far_in(self) -> str:
        """Show a few pixels only, so the views print their values on them."""
        views = self.window.views
        height, width = self.controller.image.pixels.shape[:2]
        side = self.random.choice((1.0, 2.0, 3.0, 5.0))
        x, y = (
            self.random.uniform(0, max(width - side, 0)),
            self.random.uniform(0, max(height - side, 0)),
        )
        views.show_region(QRectF(x, y, side, side))
        rendering = self.controller.rendering
        printed = views.numbers("result")
        if (
            views.mode == "side"
            and rendering is not None
            and views.shown("result") is not None
            and rendering.offset == (0, 0)
        ):
            assert printed, f"nothing printed on the result zoomed to {side} pixels"
        return f"{side:g} pixels at {x:.1f},{y:.1f}: {len(printed)} numbers"

    @action(2)
    def look_at_a_pixel(self) -> str:
        height, width = self.controller.image.pixels.shape[:2]
        row, column = self.random.randrange(height), self.random.randrange(width)
        views = self.window.views
        how = self.random.choice(("hover", "click", "step", "leave", "channel", "choose"))
        if how == "hover":
            views.hovered.emit(self.random.choice(("result", "split", "original")), row, column)
        elif how == "click":
            views.clicked.emit(self.random.choice(("original", "difference")), row, column)
        elif how == "step":
            views.stepped.emit(self.random.choice((-1, 1)), self.random.choice((-1, 0, 1)))
        elif how == "leave":
            views.left.emit()
        elif how == "choose":
            self.window.choose_pixel(row, column)
        else:
            combo = self.window.explainer.channel_combo
            self._choose(combo, self.random.randrange(combo.count()))
        return f"{how} {row},{column}"

    @action(2)
    def zoom_or_panel(self) -> str:
        window = self.window
        choice = self.random.choice(
            (
                window.actions.fit,
                window.actions.one_to_one,
                window.actions.histogram,
                window.actions.explainer,
                window.actions.side_panel,
            )
        )
        if self.random.random() < 0.3:
            tab = self.random.choice(SIDE_TABS)
            window.show_side_tab(tab)
            assert window.side_tabs.currentIndex() == SIDE_TABS.index(tab)
            return f"{tab} tab"
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
        where = self.random.choice(("good", "good", "missing folder", "under a file", "cancel"))
        folder = {
            "good": self.exports,
            "missing folder": self.folder / "no such folder",
            "under a file": self.plain_file,
            "cancel": self.exports,
        }[where]
        target = folder / f"{kind}-{self.step}{suffix}"
        rendering, saves, failures = self.controller.rendering, self.saves, self.failures
        stage = self.controller.stage
        window = self.window
        through_dialog = where == "cancel" or self.random.random() < 0.5
        if through_dialog:
            self.save_target = None if where == "cancel" else target
            window.choose_export(kind)
        elif kind == "result":
            window.export_result(target)
        elif kind == "float":
            window.export_result(target, exact=True)
        elif kind == "views":
            window.export_views(target)
        else:
            window.export_kernel(target)
        self.settle()
        if where == "cancel":
            assert (self.saves, self.failures) == (saves, failures)
            assert not target.exists()
            return f"{kind}: cancelled"
        expect_file = where == "good" and (kind == "kernel" or rendering is not None)
        if not expect_file:
            assert self.failures == failures + 1, "a failed export was not reported"
            assert self.window.message_bar.text
            assert not target.exists()
            return f"{kind} to {where}: refused"
        assert self.saves == saves + 1, f"{kind} export not reported as saved"
        if kind == "kernel":
            saved = json.loads(target.read_text())
            np.testing.assert_array_equal(saved["weights"], stage.weights)
        elif kind == "result":
            np.testing.assert_array_equal(_read_rgb(target), rendering.result8)
        elif kind == "float":
            np.testing.assert_array_equal(_read_rgb(target), rendering.result)
        target.unlink()
        return f"{kind} to {where}{' via the dialog' if through_dialog else ''}"


def _same_request(rendering, controller) -> bool:
    """Whether `rendering` is of the controller's recipe and view (histogram aside)."""
    return (
        rendering.recipe == controller.recipe
        and rendering.view.channels_of_result == controller.view.channels_of_result
    )


def _tolerance(source: np.ndarray, recipe: Recipe) -> tuple[float, np.ndarray | None]:
    """How far float32 may stray from the oracle, and where a comparison means anything.

    A bound on every value, pixel by pixel: each stage takes the largest bound
    under its kernel's non-zero weights times the sum of its |weights| over its
    |divisor|, plus its |offset| (channels it passes through keep theirs).
    float32 rounding is relative to the largest bound. Where a pass may overflow
    float32 (or the image holds NaN or infinity) the engine's inf or NaN reaches
    the outputs that give it a non-zero weight in the later stages; those pixels
    are left out of the comparison (``None``: compare everywhere).
    """
    pixels = np.asarray(source, dtype=np.float64)
    finite = np.isfinite(pixels)
    if pixels.ndim == 3:
        finite = finite.all(axis=-1)
        magnitude = np.where(finite, np.abs(pixels).max(axis=-1), 0.0)
    else:
        magnitude = np.where(finite, np.abs(pixels), 0.0)
    bound, tainted = np.maximum(magnitude, 1.0), ~finite
    mode = "constant" if recipe.border == "valid" else recipe.border
    with np.errstate(over="ignore", invalid="ignore"):
        for stage in recipe.active_stages:
            support = stage.weights != 0
            if recipe.flip:
                support = support[::-1, ::-1]
            gain = float(np.abs(stage.weights).sum()) / abs(stage.divisor)
            if support.any():
                reach = ndimage.maximum_filter(bound, footprint=support, mode=mode, cval=0.0)
                spread = ndimage.maximum_filter(tainted, footprint=support, mode=mode, cval=False)
            else:
                reach, spread = np.zeros_like(bound), np.zeros_like(tainted)
            bound = np.maximum(bound, reach * gain + abs(stage.offset))
            tainted = spread | tainted | ~(bound < OVERFLOW)
            if recipe.border == "valid":
                top, left = stage.weights.shape[0] // 2, stage.weights.shape[1] // 2
                rows, columns = bound.shape
                bound = bound[top : rows - top, left : columns - left]
                tainted = tainted[top : rows - top, left : columns - left]
    trusted = bound[~tainted]
    largest = float(trusted.max()) if trusted.size else 0.0
    tolerance = 4e-6 * len(recipe.active_stages) * largest + 1e-6
    return tolerance + _rounding_slack(source, recipe), (~tainted if tainted.any() else None)


def _rounding_slack(source: np.ndarray, recipe: Recipe) -> float:
    """What rounding between stages may add: float32 and the oracle's float64 can land
    on either side of a half (one level), or of the wrap (the whole range), and each
    later stage multiplies that by the sum of its |weights| over its |divisor|."""
    stages = recipe.active_stages
    integer = np.asarray(source).dtype.kind in "iu"
    if recipe.between_stages not in ("round", "wrap") or not integer or len(stages) < 2:
        return 0.0
    step = white_level(source.dtype) if recipe.between_stages == "wrap" else 1.0
    slack = 0.0
    with np.errstate(over="ignore"):
        for stage in stages[1:]:
            gain = float(np.abs(stage.weights).sum()) / abs(stage.divisor)
            slack = (slack + step) * gain
    return slack


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
