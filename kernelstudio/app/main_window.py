"""The Kernel Studio main window: menus, actions and layout, wired to the controller."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSettings, QStandardPaths, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QShowEvent,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kernelstudio import __version__
from kernelstudio.analysis import analyse_kernel
from kernelstudio.app.autosave import SessionKeeper, Snapshot, image_copy_name, load_session
from kernelstudio.app.compare_view import CompareView
from kernelstudio.app.controller import Controller, LoadedImage, Rendering
from kernelstudio.app.custom_presets import CustomPresets
from kernelstudio.app.diagnostics import default_log_folder, qt_virtual
from kernelstudio.app.histogram_view import HistogramView
from kernelstudio.app.image_views import ImageViews
from kernelstudio.app.kernel_analysis_view import KernelAnalysisView
from kernelstudio.app.kernel_editor import KernelEditor, resize_centred
from kernelstudio.app.message_bar import MessageBar
from kernelstudio.app.options_panel import OptionsPanel
from kernelstudio.app.pixel_explainer import PixelExplainer
from kernelstudio.app.qimages import array_to_qimage, qimage_to_array
from kernelstudio.app.session import HistoryStep, Session
from kernelstudio.app.stored_state import StoredState
from kernelstudio.app.walkthrough_panel import WalkthroughPanel
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.explain import explain_recipe_pixel
from kernelstudio.imageio import READ_EXTENSIONS, load_image
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    format_weight,
    normalise,
    read_kernel_file,
    validate_kernel,
)
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.recipe_files import read_recipe_file
from kernelstudio.samples import ICON_PATH, SAMPLE_IMAGES, sample_image_path
from kernelstudio.walkthrough import STEPS as WALKTHROUGH
from kernelstudio.walkthrough import tutorial_image

log = logging.getLogger(__name__)

MAX_RECENT_FILES = 10
ROOMY_WIDTH = 1300
"""Below this window width the right-hand panels start hidden."""
TUTORIAL_IMAGE_NAME = "sample, grey, 100×100"
_IMAGE_FILTER = "Images ({})".format(" ".join(f"*{ext}" for ext in READ_EXTENSIONS))
_EXPORT_FILTERS = {
    ".png": "PNG image (*.png)",
    ".jpg": "JPEG image (*.jpg *.jpeg)",
    ".tif": "TIFF image (*.tif *.tiff)",
    ".bmp": "BMP image (*.bmp)",
    ".webp": "WebP image (*.webp)",
}
_KERNEL_FILTER = "Kernel files (*.json)"
_RECIPE_FILTER = "Recipe files (*.json)"


def _sentence_list(sentences: list[str]) -> str:
    """Join sentences for one message, each starting with a capital and ending with a stop."""
    tidy = [s[:1].upper() + s[1:] for s in sentences]
    return " ".join(s if s.endswith((".", "!", "?")) else f"{s}." for s in tidy)


class _KernelChange(QUndoCommand):
    """One change of the edited stage (weights, divisor, offset).

    Typing in one cell, or in the divisor or offset field, merges into one step:
    `key` names what was typed into (a cell's row and column, or the field), and
    is ``None`` for a step of its own. `already_shown` is ``True`` when the
    window already shows `new` (the person typed it), and ``None`` for a step
    restored from the session, which the first :meth:`redo` must not apply again.
    """

    def __init__(
        self,
        window: MainWindow,
        old: Stage,
        new: Stage,
        text: str,
        key: tuple[int, int] | str | None,
        already_shown: bool | None,
    ) -> None:
        super().__init__(text)
        self._window = window
        self.old = old
        self.new = new
        self._key = key
        self._already_shown = already_shown

    @qt_virtual(default=-1)
    def id(self) -> int:
        return 1 if self._key is not None else -1

    @qt_virtual(default=False)
    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _KernelChange) or other._key != self._key:
            return False
        self.new = other.new
        return True

    @qt_virtual()
    def redo(self) -> None:
        if self._already_shown is None:  # restored from the session: already applied
            self._already_shown = False
            return
        self._window._show_kernel(self.new, update_editor=not self._already_shown)
        self._already_shown = False

    @qt_virtual()
    def undo(self) -> None:
        self._window._show_kernel(self.old, update_editor=True)


class _RecipeChange(QUndoCommand):
    """A whole recipe replaced (imported): undo puts the previous one back."""

    def __init__(self, window: MainWindow, old: Recipe, new: Recipe, text: str) -> None:
        super().__init__(text)
        self._window = window
        self._old = old
        self._new = new

    @qt_virtual()
    def redo(self) -> None:
        self._window._show_recipe(self._new)

    @qt_virtual()
    def undo(self) -> None:
        self._window._show_recipe(self._old)


class MainWindow(QMainWindow):
    """The Kernel Studio window.

    Parameters
    ----------
    image_path : str or pathlib.Path, optional
        Image to open; the built-in sample when omitted or when it cannot be read
        (the reason is shown).
    """

    def __init__(self, image_path: str | Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Kernel Studio")
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        self.setAcceptDrops(True)
        self.store = QSettings()
        config = Path(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
        )
        self.custom_presets = CustomPresets(config / "presets")
        self.controller = Controller(self)
        self.undo_stack = QUndoStack(self)
        self._requested_at = time.perf_counter()
        self._shown_once = False
        self._hovered: tuple[int, int] | None = None
        self._chosen: tuple[int, int] | None = None
        self._walkthrough_image: str | None = None
        self._walkthrough_image_name: str | None = None

        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._fall_back_to_sample = image_path is not None
        self._keep_message = False
        self._region_to_restore: QRectF | None = None
        self.session_keeper = SessionKeeper(default_log_folder(), self._session_snapshot, self)
        self.session_keeper.failed.connect(self._on_failed)
        preset_problems = self._load_custom_presets()
        restored = self._restore(preset_problems)
        if image_path is None and restored is not None:
            self._open_session_image(restored)
        else:
            self.open_path(sample_image_path() if image_path is None else image_path)
        self._connect_autosave()

    # Construction -----------------------------------------------------------

    def _build_widgets(self) -> None:
        self.editor = KernelEditor(self)
        self.preset_combo = QComboBox(self)
        self.preset_combo.setObjectName("presetCombo")
        self.normalise_button = QPushButton("Normalise", self)
        self.normalise_button.setObjectName("normaliseButton")
        self.normalise_button.setToolTip("Divide every weight by the sum, so brightness is kept")
        self.options = OptionsPanel(self)

        kernel_box = QGroupBox("Kernel", self)
        kernel_layout = QVBoxLayout(kernel_box)
        kernel_layout.addWidget(self.preset_combo)
        kernel_layout.addWidget(self.editor)
        kernel_layout.addWidget(self.normalise_button)
        options_box = QGroupBox("Options", self)
        QVBoxLayout(options_box).addWidget(self.options)
        self.analysis = KernelAnalysisView(self)
        analysis_box = QGroupBox("What this kernel does", self)
        QVBoxLayout(analysis_box).addWidget(self.analysis)
        panel = QWidget(self)
        panel_layout = QVBoxLayout(panel)
        panel_layout.addWidget(kernel_box)
        panel_layout.addWidget(options_box)
        panel_layout.addWidget(analysis_box)
        panel_layout.addStretch(1)
        scroller = QScrollArea(self)
        scroller.setWidget(panel)
        scroller.setWidgetResizable(True)
        scroller.setMinimumWidth(300)
        self.kernel_dock = QDockWidget("Kernel", self)
        self.kernel_dock.setObjectName("kernelDock")
        self.kernel_dock.setWidget(scroller)
        self.kernel_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.kernel_dock.setTitleBarWidget(QWidget(self.kernel_dock))
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.kernel_dock)

        self.explainer = PixelExplainer(self)
        self.explainer_dock = self._dock("Pixel", "explainerDock", self.explainer)
        self.compare = CompareView(self)
        self.compare_dock = self._dock("Compare", "compareDock", self.compare)
        self.histogram = HistogramView(self)
        self.histogram_dock = self._dock("Histogram", "histogramDock", self.histogram)
        # One tab each, a click away, the explainer in front; on a first start
        # narrower than ROOMY_WIDTH they start hidden (see showEvent).
        self.tabifyDockWidget(self.explainer_dock, self.compare_dock)
        self.tabifyDockWidget(self.compare_dock, self.histogram_dock)
        self.explainer_dock.raise_()
        self.walkthrough = WalkthroughPanel(self)
        self.walkthrough_dock = QDockWidget("Tutorial walkthrough", self)
        self.walkthrough_dock.setObjectName("walkthroughDock")
        self.walkthrough_dock.setWidget(self.walkthrough)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.walkthrough_dock)
        self.walkthrough_dock.hide()

        self.message_bar = MessageBar(self)
        self.views = ImageViews(self)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 4)
        central_layout.addWidget(self.message_bar)
        central_layout.addWidget(self.views, 1)
        self.setCentralWidget(central)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", self._choose_image, keys.Open)
        self.paste_action = self._action(
            "&Paste Image", self.paste_image, keys.Paste, "Use the image on the clipboard"
        )
        self.export_result_action = self._action(
            "&Export Result…", self._choose_result_export, "Ctrl+E", "Save the result as shown"
        )
        self.export_float_action = self._action(
            "Export Result as &Float TIFF…",
            self._choose_float_export,
            tip="Save the exact float32 values",
        )
        self.export_views_action = self._action(
            "Export &All Views…", self._choose_views_export, "Ctrl+Shift+E"
        )
        self.copy_action = self._action("&Copy Result", self.copy_result, "Ctrl+Shift+C")
        self.import_kernel_action = self._action("&Import Kernel…", self._choose_kernel_import)
        self.export_kernel_action = self._action("Export &Kernel…", self._choose_kernel_export)
        self.import_recipe_action = self._action(
            "Import Re&cipe…", self._choose_recipe_import, tip="Every stage and option"
        )
        self.export_recipe_action = self._action(
            "Export R&ecipe…", self._choose_recipe_export, tip="Every stage and option"
        )
        self.quit_action = self._action("&Quit", self.close, keys.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(keys.Undo))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(keys.Redo)])
        self.normalise_action = self._action("&Normalise Kernel", self.normalise, "Ctrl+Shift+N")
        self.save_preset_action = self._action(
            "&Save Kernel as Preset…", self._ask_preset_name, keys.Save
        )
        self.fit_action = self._action("&Fit", self.views.fit, "Ctrl+0")
        self.one_to_one_action = self._action(
            "&Actual Pixels (1:1)", self.views.one_to_one, "Ctrl+1"
        )
        self.histogram_action = self._action(
            "&Histogram", lambda: self._bring_forward(self.histogram_dock), "Ctrl+H"
        )
        self.about_action = self._action("&About Kernel Studio", self._about)
        self.pin_action = self._action(
            "&Pin Result for Comparison", self.pin_result, "Ctrl+P", "Compare the next results"
        )
        self.unpin_action = self._action("Stop &Comparing", self.unpin_result)
        self.explainer_action = self._action(
            "&Pixel Explainer", lambda: self._bring_forward(self.explainer_dock), "Ctrl+I"
        )
        self.compare_action = self._action(
            "C&ompare", lambda: self._bring_forward(self.compare_dock), "Ctrl+Shift+P"
        )
        self.walkthrough_action = self._action(
            "Tutorial &Walkthrough", lambda: self.show_walkthrough_step(0), "F1"
        )

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        samples_menu = file_menu.addMenu("Open &Sample")
        for name in SAMPLE_IMAGES:
            samples_menu.addAction(
                name.capitalize(), lambda n=name: self.open_path(sample_image_path(n))
            )
        file_menu.addAction(self.paste_action)
        file_menu.addSeparator()
        for action in (
            self.export_result_action,
            self.export_float_action,
            self.export_views_action,
            self.copy_action,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_kernel_action)
        file_menu.addAction(self.export_kernel_action)
        file_menu.addAction(self.import_recipe_action)
        file_menu.addAction(self.export_recipe_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.normalise_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.pin_action)
        edit_menu.addAction(self.unpin_action)

        self.presets_menu = bar.addMenu("&Presets")

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.fit_action)
        view_menu.addAction(self.one_to_one_action)
        view_menu.addSeparator()
        view_menu.addAction(self.explainer_action)
        view_menu.addAction(self.compare_action)
        view_menu.addAction(self.histogram_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.walkthrough_action)
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        self.pixel_label = QLabel(self)
        self.pixel_label.setObjectName("pixelLabel")
        self.timing_label = QLabel(self)
        self.timing_label.setObjectName("timingLabel")
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.hide()
        status = self.statusBar()
        status.addWidget(self.pixel_label, 1)
        status.addPermanentWidget(self.busy_bar)
        status.addPermanentWidget(self.timing_label)

    def _connect(self) -> None:
        self.editor.cellEdited.connect(self._on_cell_edited)
        self.editor.cellInvalid.connect(self._on_cell_invalid)
        self.editor.sizeRequested.connect(self._on_size_requested)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.normalise_button.clicked.connect(self.normalise)
        self.options.changed.connect(self._on_option_changed)
        self.options.invalid.connect(self._on_option_invalid)
        self.views.hovered.connect(self._on_hovered)
        self.views.left.connect(self._on_left)
        self.views.clicked.connect(self._on_clicked)
        self.views.stepped.connect(self._on_stepped)
        self.explainer.channelChanged.connect(lambda _channel: self._explain_current())
        self.walkthrough.stepRequested.connect(self.show_walkthrough_step)
        self.histogram_dock.visibilityChanged.connect(
            lambda visible: self.controller.update(histogram=visible)
        )
        controller = self.controller
        controller.imageLoaded.connect(self._on_image_loaded)
        controller.renderingReady.connect(self._on_rendering)
        controller.failed.connect(self._on_failed)
        controller.saved.connect(lambda text: self.statusBar().showMessage(text, 5000))
        controller.busyChanged.connect(self.busy_bar.setVisible)

    # Settings -------------------------------------------------------------------

    def _restore(self, problems_so_far: list[str]) -> Session | None:
        """Put back the window, then the session; return the session restored, if any.

        Every stored value that had to be reset, and `problems_so_far`, are told
        to the person in one message.
        """
        stored = StoredState(self.store)
        geometry = stored.byte_array("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            if geometry is not None:
                stored.problems.append("the stored window size could not be used; it was reset")
                self.store.remove("window/geometry")
            self.resize(1280, 800)
        state = stored.byte_array("window/state")
        if state is not None and not self.restoreState(state):
            stored.problems.append("the stored panel layout could not be used; it was reset")
            self.store.remove("window/state")
        self._recent_files(stored)
        self._last_folder(stored)  # checked now, so a bad value is reported at start
        session, session_problem = load_session(self.session_keeper.folder)
        if session is None:
            session = self._session_from_older_settings(stored)
        if session is not None:
            self._apply_session(session)
        else:
            self.controller.update(weights=PRESETS["identity"])
            self._show_settings()
        problems = stored.problems + ([session_problem] if session_problem else [])
        problems += problems_so_far
        if session is not None and not session.closed_normally and session_problem is None:
            problems.insert(0, f"Restored your session from {session.saved_at.strftime('%H:%M')}.")
        if problems:
            self._keep_message = True
            self.message_bar.show_message(_sentence_list(problems))
        return session

    def _session_from_older_settings(self, stored: StoredState) -> Session | None:
        # Kernel Studio 0.1 kept the kernel and options in the settings, saved on closing.
        weights_text = stored.text("kernel/weights", "")
        session = None
        if weights_text:
            try:
                weights = validate_kernel(json.loads(weights_text))
            except (ValueError, RecursionError) as error:
                stored.problems.append(f"the stored kernel could not be used ({error})")
            else:
                recipe = Recipe.single(
                    weights,
                    border=stored.text("options/border", "mirror", choices=BORDERS),
                    display=stored.text("options/display", "clip", choices=DISPLAY_MODES),
                    flip=stored.flag("options/flip", False),
                    grey=stored.flag("options/grey", False),
                )
                session = Session(
                    recipe=recipe,
                    channels_of_result=stored.flag("options/channels", False),
                    closed_normally=True,
                )
        for key in ("kernel/weights", "options"):
            self.store.remove(key)
        return session

    def _apply_session(self, session: Session) -> None:
        self.controller.update(
            recipe=session.recipe, channels_of_result=session.channels_of_result
        )
        self._restore_history(session)
        self._show_settings()
        if session.region is not None:
            self._region_to_restore = QRectF(*session.region)

    def _restore_history(self, session: Session) -> None:
        steps, index = session.history, session.history_index
        if not steps:
            return
        at_index = steps[index - 1].after if index else steps[0].before
        if at_index != session.recipe.stages[0]:
            log.warning("the stored undo history does not lead to the stored kernel; dropped")
            return
        for step in steps:
            self.undo_stack.push(
                _KernelChange(self, step.before, step.after, step.text, None, None)
            )
        self.undo_stack.setIndex(index)
        self.controller.update(recipe=session.recipe)

    def _show_settings(self) -> None:
        recipe = self.controller.recipe
        self.editor.grid.divisor = self.controller.stage.divisor
        self.editor.set_weights(self.controller.stage.weights)
        self.editor.set_flip(recipe.flip)
        self.options.show_options(recipe, self.controller.view)
        self._sync_preset_combo()
        self.analysis.show_analysis(analyse_kernel(self.controller.stage.weights))

    def _open_session_image(self, session: Session) -> None:
        self._fall_back_to_sample = True
        if session.image_copy is not None:
            copy = self.session_keeper.folder / session.image_copy
            name = session.image_name or "Restored image"
            if name == TUTORIAL_IMAGE_NAME:
                self._walkthrough_image, self._walkthrough_image_name = "tutorial", name
            self._requested_at = time.perf_counter()
            self.controller.load_from(lambda: load_image(copy, alpha=True), name)
        elif session.image_path is not None:
            self.open_path(session.image_path)
        else:
            self.open_path(sample_image_path())

    def _connect_autosave(self) -> None:
        schedule = self.session_keeper.schedule
        self.controller.stateChanged.connect(schedule)
        self.controller.imageLoaded.connect(schedule)
        self.undo_stack.indexChanged.connect(schedule)
        self.views.regionChanged.connect(schedule)

    def _session_snapshot(self) -> Snapshot:
        recipe = self.controller.recipe
        image = self.controller.image
        pixels = None
        image_path = image_copy = None
        if image is not None and image.path is not None:
            image_path = str(image.path.resolve())
        elif image is not None:
            pixels = image.pixels
            image_copy = image_copy_name(pixels)
        history = tuple(
            HistoryStep(command.text(), command.old, command.new)
            for command in map(self.undo_stack.command, range(self.undo_stack.count()))
            if isinstance(command, _KernelChange)
        )
        region = self.views.region
        if region is not None and (region.width() <= 0 or region.height() <= 0):
            region = None
        complete = len(history) == self.undo_stack.count()
        session = Session(
            recipe=recipe,
            channels_of_result=self.controller.view.channels_of_result,
            image_path=image_path,
            image_copy=image_copy,
            image_name=image.name if image is not None else "",
            history=history,
            history_index=self.undo_stack.index() if complete else 0,
            region=None if region is None else region.getRect(),
        )
        return Snapshot(session, pixels)

    def _save(self) -> None:
        store = self.store
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.sync()
        self.session_keeper.write_now(closed_normally=True)

    # Kernel ---------------------------------------------------------------------

    def set_kernel(
        self,
        weights: np.ndarray,
        text: str = "Change kernel",
        *,
        divisor: float | None = None,
        offset: float | None = None,
    ) -> None:
        """Use `weights` as the kernel, as one undoable step.

        `divisor` and `offset` stay as they are unless given; weights that cannot
        be used with them are refused with a message, and nothing changes.
        """
        old = self.controller.stage
        try:
            new = Stage(
                np.array(weights, dtype=np.float64),
                divisor=old.divisor if divisor is None else divisor,
                offset=old.offset if offset is None else offset,
            )
        except ValueError as error:
            self._on_failed(f"Could not use that kernel: {error}.")
            return
        self.undo_stack.push(_KernelChange(self, old, new, text, None, False))

    def _set_stage_number(self, field: str, value: float) -> None:
        old = self.controller.stage
        try:
            new = replace(old, **{field: value})
        except ValueError as error:  # e.g. a divisor the weights cannot be divided by
            self.options.refuse(field, str(error))
            self._on_option_invalid(field, str(error))
            return
        if new == old:  # e.g. the "1" of "1/16": nothing to apply, nothing to undo
            return
        text = f"{field.capitalize()} {format_weight(value)}"
        self.undo_stack.push(_KernelChange(self, old, new, text, field, False))

    def choose_preset(self, slug: str) -> None:
        """Load a built-in preset into the grid, with the display mapping that suits it."""
        self.set_kernel(PRESETS[slug], f"Preset {PRESET_NAMES[slug]}", divisor=1, offset=0)
        self.controller.update(display=PRESET_DISPLAY[slug])
        self.options.show_options(self.controller.recipe, self.controller.view)

    def normalise(self) -> None:
        """Divide the weights by their sum (nothing happens when the sum is 0)."""
        weights = self.controller.stage.weights
        normalised = normalise(weights)
        if np.array_equal(normalised, weights):
            self.statusBar().showMessage("The weights sum to 0 or 1: nothing to normalise.", 5000)
            return
        self.set_kernel(normalised, "Normalise")

    def _show_kernel(self, stage: Stage, *, update_editor: bool) -> None:
        self._requested_at = time.perf_counter()
        self.controller.update(weights=stage.weights, divisor=stage.divisor, offset=stage.offset)
        self.editor.grid.divisor = stage.divisor
        if update_editor:
            self.editor.set_weights(stage.weights)
        else:
            self.editor.set_flip(self.controller.recipe.flip)
        self.options.show_options(self.controller.recipe, self.controller.view)
        self._sync_preset_combo()
        self.analysis.show_analysis(analyse_kernel(self.controller.stage.weights))

    def _on_cell_edited(self, row: int, column: int, weights: np.ndarray) -> None:
        self.message_bar.hide()
        old = self.controller.stage
        new = replace(old, weights=weights)  # the grid checked them with the divisor
        self.undo_stack.push(_KernelChange(self, old, new, "Edit weight", (row, column), True))

    def _on_cell_invalid(self, row: int, column: int, reason: str) -> None:
        self.statusBar().showMessage(f"Row {row + 1}, column {column + 1}: {reason}", 8000)

    def _on_size_requested(self, height: int, width: int) -> None:
        weights = resize_centred(self.controller.stage.weights, height, width)
        self.set_kernel(weights, f"Resize to {height}×{width}")

    def _load_custom_presets(self) -> list[str]:
        """Fill the preset combo and menu from the built-in and saved presets.

        Returns a sentence for each saved preset that could not be used.
        """
        customs, problems = self.custom_presets.load_all()
        self._fill_preset_combo(customs)
        self._fill_presets_menu(customs)
        return problems

    def _fill_preset_combo(self, customs: list[Kernel]) -> None:
        combo = self.preset_combo
        combo.clear()
        combo.addItem("Custom kernel", None)
        for slug, name in PRESET_NAMES.items():
            combo.addItem(name, slug)
        if customs:
            combo.insertSeparator(combo.count())
            for kernel in customs:
                combo.addItem(f"★ {kernel.name}", kernel)

    def _fill_presets_menu(self, customs: list[Kernel]) -> None:
        menu = self.presets_menu
        menu.clear()
        for slug, name in PRESET_NAMES.items():
            menu.addAction(name, lambda s=slug: self.choose_preset(s))
        if customs:
            menu.addSeparator()
            for kernel in customs:
                menu.addAction(f"★ {kernel.name}", lambda k=kernel: self._use_kernel(k, k.name))
        menu.addSeparator()
        menu.addAction(self.save_preset_action)

    def _on_preset_activated(self, index: int) -> None:
        choice = self.preset_combo.itemData(index)
        if isinstance(choice, str):
            self.choose_preset(choice)
        elif isinstance(choice, Kernel):
            self._use_kernel(choice, choice.name)
        else:  # "Custom kernel" or a separator: no kernel to apply, so show the one applied
            self._sync_preset_combo()

    def _sync_preset_combo(self) -> None:
        weights = self.controller.stage.weights
        for index in range(self.preset_combo.count()):
            choice = self.preset_combo.itemData(index)
            candidate = PRESETS.get(choice) if isinstance(choice, str) else None
            if isinstance(choice, Kernel):
                candidate = choice.weights
            if candidate is not None and np.array_equal(candidate, weights):
                self.preset_combo.setCurrentIndex(index)
                return
        self.preset_combo.setCurrentIndex(0)

    def save_custom_preset(self, name: str) -> None:
        """Keep the current kernel as a preset called `name`, across restarts."""
        try:
            stage = self.controller.stage
            kernel = Kernel(name, np.array(stage.weights), stage.divisor, stage.offset)
            self.custom_presets.save(kernel)
        except KernelFileError as error:
            self._on_failed(f"Could not save the preset: {error}")
            return
        for problem in self._load_custom_presets():
            self._on_failed(_sentence_list([problem]))
        self._sync_preset_combo()
        self.statusBar().showMessage(f"Saved preset “{name}”", 5000)

    def _ask_preset_name(self) -> None:
        name, accepted = QInputDialog.getText(self, "Save Kernel as Preset", "Preset name:")
        if accepted and name.strip():
            self.save_custom_preset(name.strip())

    def import_kernel(self, path: str | Path) -> None:
        """Read a kernel file into the grid; a bad file is reported and ignored."""
        try:
            kernel = read_kernel_file(path)
        except KernelFileError as error:
            self._on_failed(f"Could not import the kernel: {error}")
            return
        self._use_kernel(kernel, f"Import {kernel.name or Path(path).name}")

    def _use_kernel(self, kernel: Kernel, text: str) -> None:
        self.set_kernel(kernel.weights, text, divisor=kernel.divisor, offset=kernel.offset)

    # Options --------------------------------------------------------------------

    def _on_option_changed(self, field: str, value: object) -> None:
        self._requested_at = time.perf_counter()
        if field in ("divisor", "offset"):  # part of the stage: undoable like its weights
            self._set_stage_number(field, value)
            return
        try:
            self.controller.update(**{field: value})
        except ValueError as error:
            self._on_option_invalid(field, str(error))
        self.options.show_options(self.controller.recipe, self.controller.view)
        if field == "flip":
            self.editor.set_flip(self.controller.recipe.flip)

    def _on_option_invalid(self, field: str, reason: str) -> None:
        self.statusBar().showMessage(f"{field.capitalize()}: {reason}", 8000)

    # Images ---------------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        """Open the image at `path` in the background; a failure keeps the current one."""
        path = Path(path)
        if path.is_dir():
            self._on_failed(f"'{path.name}' is a folder; open or drop one image file.")
            return
        self._requested_at = time.perf_counter()
        self.controller.load_path(path)

    def open_from_elsewhere(self, path: str) -> None:
        """Open `path` sent by another launch, and bring the window to the front."""
        self.open_path(path)
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def paste_image(self) -> None:
        """Use the clipboard's image, or the image file copied in a file manager."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                self.controller.load_pixels(qimage_to_array(image), "Pasted image")
                return
        if mime is not None and mime.hasUrls():
            self._open_urls(mime.urls())
            return
        self._on_failed("The clipboard holds no image to paste.")

    @qt_virtual()
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept anything with files or an image; the drop decides whether it is usable."""
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    @qt_virtual()
    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped image file (exactly one) or image data."""
        mime = event.mimeData()
        event.acceptProposedAction()
        if mime.hasUrls():
            self._open_urls(mime.urls())
        elif mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.controller.load_pixels(qimage_to_array(image), "Dropped image")
            else:
                self._on_failed("The dropped image data could not be read; drop the file instead.")

    def _open_urls(self, urls: list[QUrl]) -> None:
        files = [url for url in urls if url.isLocalFile()]
        if len(urls) != 1:
            self._on_failed(f"{len(urls)} items were dropped; drop one image file at a time.")
        elif not files:
            self._on_failed(f"'{urls[0].toString()}' is not a local file.")
        else:
            self.open_path(files[0].toLocalFile())

    def _on_image_loaded(self, image: LoadedImage) -> None:
        # Pixels chosen on the previous image mean nothing on this one.
        self._chosen = self._hovered = None
        self.views.hide_outline()
        self.compare.clear()  # the controller dropped the pin: it was of another image
        self.explainer.show_note("Point at a pixel of any view; click to keep it.")
        if image.name != self._walkthrough_image_name:
            self._walkthrough_image = None
        if self._keep_message:
            self._keep_message = False
        else:
            self.message_bar.hide()
        self.views.set_image("original", image.pixels8)
        if self._region_to_restore is not None:  # the session's view, on its first image
            self.views.show_region(self._region_to_restore)
            self._region_to_restore = None
        # Until the new result arrives (or if it fails), the views must not show
        # the previous image's result next to this image.
        self.views.clear_image("result")
        channels_of_result = self.controller.view.channels_of_result
        for name, channel in zip(("red", "green", "blue"), image.channels8, strict=True):
            if channels_of_result:
                self.views.clear_image(name)
            else:
                self.views.set_image(name, channel)
        shape = "×".join(str(n) for n in image.pixels.shape)
        self.views.set_title("original", f"Original — {image.name}")
        self.statusBar().showMessage(f"Opened {image.name}: {shape} {image.pixels.dtype}", 5000)
        self.setWindowTitle(f"{image.name} — Kernel Studio")
        if image.path is not None:
            self._remember(image.path)

    def _on_rendering(self, rendering: Rendering) -> None:
        offset = rendering.offset
        self.views.set_image("result", rendering.result8, offset)
        channels_offset = offset if rendering.view.channels_of_result else (0, 0)
        for name, channel in zip(("red", "green", "blue"), rendering.channels8, strict=True):
            self.views.set_image(name, channel, channels_offset)
        of = "result" if rendering.view.channels_of_result else "original"
        grey = rendering.channels8[0] is rendering.channels8[1]
        for name in ("red", "green", "blue"):
            self.views.set_title(name, f"{'Grey' if grey else name.capitalize()} ({of})")
        if rendering.histogram is not None:
            self.histogram.show_counts(rendering.histogram)
        pinned = self.controller.pinned
        if pinned is not None and rendering.comparison is not None:
            self.compare.show_comparison(pinned.result8, rendering.comparison)
        self._explain_current()
        latency = (time.perf_counter() - self._requested_at) * 1000
        shape = "×".join(str(n) for n in rendering.result.shape)
        self.timing_label.setText(
            f"Result {shape} · computed in {rendering.seconds * 1000:.1f} ms"
            f" · shown {latency:.0f} ms after the edit"
        )

    def _on_failed(self, message: str) -> None:
        log.warning("told the person: %s", message)
        self.message_bar.show_message(message)
        if self.controller.image is None and self._fall_back_to_sample:
            self._fall_back_to_sample = False
            self._keep_message = True
            self.open_path(sample_image_path())

    def _on_hovered(self, view: str, row: int, column: int) -> None:
        image = self.controller.image
        if image is None:
            return
        self._hovered = (row, column)
        if self._chosen is None:
            self._explain(row, column)
        parts = [f"x {column}, y {row}", f"original {_format_pixel(image.pixels[row, column])}"]
        rendering = self.controller.rendering
        if rendering is not None:
            result_row, result_column = row - rendering.offset[0], column - rendering.offset[1]
            height, width = rendering.result.shape[:2]
            if 0 <= result_row < height and 0 <= result_column < width:
                value = rendering.result[result_row, result_column]
                parts.append(f"result {_format_pixel(value)}")
            else:
                parts.append("result — (outside the 'valid' area)")
        self.pixel_label.setText("   ".join(parts))

    def _on_left(self) -> None:
        self.pixel_label.clear()
        if self._chosen is None:
            self.views.hide_outline()

    def _on_clicked(self, view: str, row: int, column: int) -> None:
        self._chosen = None if self._chosen == (row, column) else (row, column)
        if self._chosen is not None and self.explainer_dock.isHidden():
            self._bring_forward(self.explainer_dock)
        self._explain(row, column)

    def _on_stepped(self, rows: int, columns: int) -> None:
        image = self.controller.image
        start = self._chosen or self._hovered
        if image is None or start is None:
            return
        height, width = image.pixels.shape[:2]
        row = min(max(start[0] + rows, 0), height - 1)
        column = min(max(start[1] + columns, 0), width - 1)
        self._chosen = (row, column)
        self._explain(row, column)

    def choose_pixel(self, row: int, column: int) -> None:
        """Explain the output pixel at image position (row, column) until another is chosen."""
        self._chosen = (row, column)
        self._explain(row, column)

    def _explain_current(self) -> None:
        pixel = self._chosen or self._hovered
        if pixel is not None:
            self._explain(*pixel)

    def _explain(self, row: int, column: int) -> None:
        rendering = self.controller.rendering
        if rendering is None:
            return
        recipe = rendering.recipe
        weights = recipe.stages[0].weights
        kernel_height, kernel_width = weights.shape
        self.views.outline(row, column, kernel_height, kernel_width)
        result = rendering.result
        self.explainer.set_channel_count(1 if result.ndim == 2 else result.shape[2])
        out_row, out_column = row - rendering.offset[0], column - rendering.offset[1]
        height, width = result.shape[:2]
        if not (0 <= out_row < height and 0 <= out_column < width):
            self.explainer.show_note(
                f"Pixel x {column}, y {row} has no result: the 'valid' border leaves out "
                f"the pixels the kernel cannot cover."
            )
            return
        image = self.controller.image
        explanation = explain_recipe_pixel(
            image.pixels,
            recipe,
            out_row,
            out_column,
            channel=self.explainer.channel if result.ndim == 3 else 0,
            result=result,
        )
        channel = f", {self.explainer.channel_name.lower()}" if result.ndim == 3 else ""
        kept = " (kept; click it again to follow the pointer)" if self._chosen else ""
        self.explainer.show_explanation(explanation, f"Pixel x {column}, y {row}{channel}{kept}")

    # Comparing ------------------------------------------------------------------

    def pin_result(self) -> None:
        """Keep the current result, to compare the next ones with it."""
        self.controller.pin_result()
        if self.controller.pinned is not None:
            self._bring_forward(self.compare_dock)

    def _bring_forward(self, dock: QDockWidget) -> None:
        dock.show()
        dock.raise_()

    def unpin_result(self) -> None:
        """Stop comparing."""
        self.controller.unpin_result()
        self.compare.clear()

    # Walkthrough ----------------------------------------------------------------

    def show_walkthrough_step(self, index: int) -> None:
        """Set the window up as step `index` of the tutorial walkthrough."""
        if not 0 <= index < len(WALKTHROUGH):
            return
        step = WALKTHROUGH[index]
        if step.image != self._walkthrough_image:
            self._walkthrough_image = step.image
            sample = sample_image_path()
            if step.image == "tutorial":
                self._walkthrough_image_name = TUTORIAL_IMAGE_NAME
                self.controller.load_from(
                    lambda: tutorial_image(load_image(sample)), TUTORIAL_IMAGE_NAME
                )
            else:
                self._walkthrough_image_name = sample.name
                self.open_path(sample)
        self.set_kernel(PRESETS[step.preset], step.title, divisor=1, offset=0)
        self.controller.update(
            border=step.border,
            display=step.display,
            flip=False,
            grey=False,
            channels_of_result=False,
        )
        self.options.show_options(self.controller.recipe, self.controller.view)
        self.editor.set_flip(False)
        self.walkthrough.show_step(index, step)
        self.walkthrough_dock.show()

    def _remember(self, path: Path) -> None:
        recent = [str(path.resolve())]
        recent += [p for p in self._recent_files() if p != recent[0]]
        self.store.setValue("files/recent", recent[:MAX_RECENT_FILES])
        self.store.setValue("files/lastFolder", str(path.resolve().parent))

    def _recent_files(self, stored: StoredState | None = None) -> list[str]:
        stored = stored or StoredState(self.store)
        return stored.text_list("files/recent", max_items=MAX_RECENT_FILES)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._recent_files()
        for name in recent:
            self.recent_menu.addAction(name, lambda p=name: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _last_folder(self, stored: StoredState | None = None) -> str:
        stored = stored or StoredState(self.store)
        return stored.text("files/lastFolder", str(Path.home()))

    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Image", self._last_folder(), f"{_IMAGE_FILTER};;All files (*)"
        )
        if path:
            self.open_path(path)

    # Export ---------------------------------------------------------------------

    def export_result(self, path: str | Path, *, exact: bool = False) -> None:
        """Save the result (8-bit as shown, or float32 TIFF when `exact`)."""
        self.controller.export_result(path, exact=exact)

    def export_views(self, path: str | Path) -> None:
        """Save the original, the result and the channels side by side."""
        self.controller.export_views(path)

    def export_kernel(self, path: str | Path) -> None:
        """Save the kernel as a kernel JSON file named after the file."""
        self.controller.export_kernel(path, Path(path).stem)

    def copy_result(self) -> None:
        """Put the result, as shown, on the clipboard."""
        rendering = self.controller.rendering
        if rendering is None:
            self._on_failed("There is no result to copy yet.")
            return
        QGuiApplication.clipboard().setImage(array_to_qimage(rendering.result8))
        self.statusBar().showMessage("Result copied to the clipboard", 5000)

    def _suggested_name(self, suffix: str) -> str:
        image = self.controller.image
        stem = Path(image.name).stem if image is not None else "result"
        preset = self.preset_combo.currentData()
        label = preset if isinstance(preset, str) else "kernel"
        return str(Path(self._last_folder()) / f"{stem}-{label}{suffix}")

    def _ask_save_path(self, title: str, suffix: str, filters: list[str]) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self, title, self._suggested_name(suffix), ";;".join(filters)
        )
        if not path:
            return None
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(suffix)
        self.store.setValue("files/lastFolder", str(target.parent))
        return target

    def _choose_result_export(self) -> None:
        target = self._ask_save_path("Export Result", ".png", list(_EXPORT_FILTERS.values()))
        if target is not None:
            self.export_result(target)

    def _choose_float_export(self) -> None:
        target = self._ask_save_path("Export Exact Result", ".tif", [_EXPORT_FILTERS[".tif"]])
        if target is not None:
            self.export_result(target, exact=True)

    def _choose_views_export(self) -> None:
        filters = list(_EXPORT_FILTERS.values())
        target = self._ask_save_path("Export All Views", ".png", filters)
        if target is not None:
            self.export_views(target)

    def _choose_kernel_export(self) -> None:
        target = self._ask_save_path("Export Kernel", ".json", [_KERNEL_FILTER])
        if target is not None:
            self.export_kernel(target)

    def _choose_kernel_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import Kernel", self._last_folder(), f"{_KERNEL_FILTER};;All files (*)"
        )
        if path:
            self.import_kernel(path)

    def _choose_recipe_export(self) -> None:
        target = self._ask_save_path("Export Recipe", ".json", [_RECIPE_FILTER])
        if target is not None:
            self.export_recipe(target)

    def _choose_recipe_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import Recipe", self._last_folder(), f"{_RECIPE_FILTER};;All files (*)"
        )
        if path:
            self.import_recipe(path)

    def export_recipe(self, path: str | Path) -> None:
        """Save the recipe (every stage and option) as a recipe file."""
        self.controller.export_recipe(path)

    def import_recipe(self, path: str | Path) -> None:
        """Use the recipe in `path` (its first stage is edited); a bad file changes nothing."""
        try:
            recipe = read_recipe_file(path)
        except KernelFileError as error:
            self._on_failed(f"Could not import the recipe: {error}")
            return
        old = self.controller.recipe
        self.undo_stack.push(_RecipeChange(self, old, recipe, f"Import {Path(path).name}"))

    def _show_recipe(self, recipe: Recipe) -> None:
        self._requested_at = time.perf_counter()
        self.controller.update(recipe=recipe)
        self._show_settings()

    # Window ---------------------------------------------------------------------

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Kernel Studio",
            f"<h3>Kernel Studio {__version__}</h3>"
            "<p>A playground for image convolution kernels: type weights, pick presets, "
            "and watch every channel change.</p>"
            "<p>Sample photographs: coffee by Rachel Michetti (CC0), astronaut Eileen "
            "Collins by NASA (public domain).</p>",
        )

    @qt_virtual()
    def showEvent(self, event: QShowEvent) -> None:
        """Lay the panels out the first time the window shows, for its width."""
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self.store.contains("window/state"):
                self.resizeDocks([self.kernel_dock], [330], Qt.Orientation.Horizontal)
                self.resizeDocks([self.explainer_dock], [290], Qt.Orientation.Horizontal)
                if self.width() < ROOMY_WIDTH:
                    # Small screens keep the views wide; clicking a pixel or the
                    # View menu brings the side panels back.
                    for dock in (self.explainer_dock, self.compare_dock, self.histogram_dock):
                        dock.hide()

    @qt_virtual()
    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the window and options, vanish, then let started work finish."""
        self._save()
        self.hide()  # a long job may still be running: the window goes at once
        self.controller.shutdown()
        super().closeEvent(event)


def _format_pixel(value: np.ndarray | np.generic) -> str:
    values = np.atleast_1d(value)
    if values.dtype.kind == "f":
        text = ", ".join(f"{v:.6g}" for v in values)
    else:
        text = ", ".join(str(v) for v in values)
    return f"({text})" if values.size > 1 else text
