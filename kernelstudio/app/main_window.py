"""The Kernel Studio main window: it builds the rooms and connects them, little else.

The rooms, one job each: the recipe panel (:mod:`~kernelstudio.app.recipe_panel`),
the pictures (:mod:`~kernelstudio.app.image_views`), the pixel inspector
(:mod:`~kernelstudio.app.pixel_inspector`), actions and menus
(:mod:`~kernelstudio.app.actions`), file dialogs
(:mod:`~kernelstudio.app.file_dialogs`), session persistence
(:mod:`~kernelstudio.app.persistence`) and the tutorial
(:mod:`~kernelstudio.app.tutorial`). The controller holds the state; every
panel updates itself from its ``stateChanged`` signal, and every change a
person makes goes through the undo history (:mod:`~kernelstudio.app.undo`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSettings, QStandardPaths, Qt, QUrl
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QShowEvent,
    QUndoGroup,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kernelstudio import __version__
from kernelstudio.analysis import analyse_kernel
from kernelstudio.app.actions import WindowActions, build_menus, build_tool_bar, fill_presets_menu
from kernelstudio.app.code_dialog import CodeDialog
from kernelstudio.app.controller import (
    Controller,
    LoadedImage,
    Preview,
    Rendering,
    State,
    channel_names,
)
from kernelstudio.app.custom_presets import CustomPresets
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.app.file_dialogs import FileDialogs, suggested_path
from kernelstudio.app.generator_panel import GeneratorPanel
from kernelstudio.app.histogram_view import HistogramView
from kernelstudio.app.image_views import ImageViews
from kernelstudio.app.kernel_analysis_view import KernelAnalysisView
from kernelstudio.app.kernel_editor import KernelEditor
from kernelstudio.app.message_bar import MessageBar
from kernelstudio.app.options_panel import OptionsPanel
from kernelstudio.app.persistence import Persistence
from kernelstudio.app.pixel_explainer import PixelExplainer
from kernelstudio.app.pixel_inspector import PixelInspector
from kernelstudio.app.qimages import array_to_qimage, qimage_to_array
from kernelstudio.app.recipe_panel import RecipePanel
from kernelstudio.app.stored_state import StoredState
from kernelstudio.app.tutorial import Tutorial
from kernelstudio.app.undo import UNDO_LIMIT, push_recipe
from kernelstudio.app.walkthrough_panel import WalkthroughPanel
from kernelstudio.describe import describe_image
from kernelstudio.display import white_level
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_GENERATORS,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    KernelFileError,
    normalise,
    read_kernel_file,
)
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.recipe_files import read_recipe_file
from kernelstudio.samples import ICON_PATH, sample_image_path

log = logging.getLogger(__name__)

SIDE_TABS = ("recipe", "pixel", "histogram", "analysis")
"""The tabs of the side column, left to right."""
ROOMY_HEIGHT = 950
"""From this window height the channel strip starts unfolded."""
SIDE_MIN_WIDTH = 290
_NO_VALUES = np.zeros((0, 0), np.float32)
"""What the result view prints while it waits for the new image's result: nothing."""
SIDE_MAX_FRACTION = 0.5
"""The side column never takes more than this share of the window's width."""
PREVIEW_TITLE = "Result — pixels on screen; the whole result is on its way"
"""The result view's caption while it shows a preview."""


def _sentence_list(sentences: list[str]) -> str:
    """Join sentences for one message, each starting with a capital and ending with a stop."""
    tidy = [s[:1].upper() + s[1:] for s in sentences]
    return " ".join(s if s.endswith((".", "!", "?")) else f"{s}." for s in tidy)


def _scrolling(widget: QWidget, parent: QWidget) -> QScrollArea:
    scroller = QScrollArea(parent)
    scroller.setWidget(widget)
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    return scroller


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
        self._customs: list[Kernel] = []
        self.controller = Controller(self)
        self.undo_group = QUndoGroup(self)
        self.undo_stack = QUndoStack(self.undo_group)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)  # while empty, or Qt refuses
        """The person's undo history (the tutorial has one of its own while it runs)."""
        self.undo_group.setActiveStack(self.undo_stack)
        self._edit_started: float | None = time.perf_counter()
        self._shown_once = False
        self._shown_shape: tuple[int, int] | None = None
        self._timed_result: np.ndarray | None = None
        self._keep_message = False
        self._fall_back_to_sample = image_path is not None
        self.code_dialog: CodeDialog | None = None

        self._build_rooms()
        self.actions = WindowActions(self)
        menus = build_menus(self, self.actions)
        self.recent_menu, self.presets_menu = menus["recent"], menus["presets"]
        self.addToolBar(build_tool_bar(self, self.actions))
        self._build_status_bar()
        self._connect()

        preset_problems = self._load_custom_presets()
        session, problems = self.persistence.restore()
        self.recipe_panel.show_state(*self._panel_state(self.controller.state))
        self._show_analysis(self.controller.state)
        problems += self.file_dialogs.problems + preset_problems
        self.file_dialogs.problems.clear()
        if problems:
            self._keep_message = True
            self.message_bar.show_message(_sentence_list(problems))
        if image_path is None and session is not None:
            self._fall_back_to_sample = True
            self.persistence.open_image(session, self._open_or_sample)
        else:
            self.open_path(sample_image_path() if image_path is None else image_path)
        self._connect_autosave()

    # Stable names ------------------------------------------------------------

    @property
    def editor(self) -> KernelEditor:
        """The selected stage's grid (cells ``cell_<row>_<col>``)."""
        return self.recipe_panel.editor

    @property
    def options(self) -> OptionsPanel:
        """The selected stage's divisor and offset, and the recipe's options."""
        return self.recipe_panel.options

    @property
    def generator_panel(self) -> GeneratorPanel:
        """The selected stage's generator and parameters, ``generatorPanel``."""
        return self.recipe_panel.generator_panel

    @property
    def preset_combo(self) -> QComboBox:
        """The preset chooser, ``presetCombo``."""
        return self.recipe_panel.preset_combo

    # Construction -----------------------------------------------------------

    def _build_rooms(self) -> None:
        self.recipe_panel = RecipePanel(self)
        self.explainer = PixelExplainer(self)
        self.histogram = HistogramView(self)
        self.analysis = KernelAnalysisView(self)
        self.side_tabs = QTabWidget(self)
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.setAccessibleName("Side panels")
        for widget, title, tip in (
            (_scrolling(self.recipe_panel, self), "Recipe", "The stages, their kernels, options"),
            (_scrolling(self.explainer, self), "Pixel", "How the pixel under the pointer is made"),
            (self.histogram, "Histogram", "How many result pixels have each value"),
            (_scrolling(self.analysis, self), "Kernel", "What the selected stage's kernel does"),
        ):
            index = self.side_tabs.addTab(widget, title)
            self.side_tabs.setTabToolTip(index, tip)
        self.message_bar = MessageBar(self)
        self.views = ImageViews(self)
        pictures = QWidget(self)
        pictures.setObjectName("pictures")
        layout = QVBoxLayout(pictures)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.views, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.side_tabs)
        self.splitter.addWidget(pictures)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.walkthrough = WalkthroughPanel(self)
        self.walkthrough_dock = QDockWidget("Tutorial walkthrough", self)
        self.walkthrough_dock.setObjectName("walkthroughDock")
        self.walkthrough_dock.setWidget(self.walkthrough)
        self.walkthrough_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.walkthrough_dock)
        self.walkthrough_dock.hide()

        self.file_dialogs = FileDialogs(self, self.store)
        self.inspector = PixelInspector(self.controller, self.views, self.explainer)
        self.tutorial = Tutorial(self.controller, self.walkthrough, self)
        self.tutorial.set_dock(self.walkthrough_dock)
        self.persistence = Persistence(
            self,
            self.store,
            self.controller,
            self.undo_stack,
            self._shown_region,
            self._set_aside_state,
        )

    def _build_status_bar(self) -> None:
        self.image_label = QLabel(self)
        self.image_label.setObjectName("imageLabel")
        self.image_label.setAccessibleName("Image size and kind")
        self.image_label.setContentsMargins(0, 0, 16, 0)  # apart from the pointer's values
        self.pixel_label = QLabel(self)
        self.pixel_label.setObjectName("pixelLabel")
        self.pixel_label.setAccessibleName("Pixel under the pointer")
        self.timing_label = QLabel(self)
        self.timing_label.setObjectName("timingLabel")
        self.timing_label.setAccessibleName("How long the result took")
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setObjectName("busyBar")
        self.busy_bar.setAccessibleName("Working")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.hide()
        status = self.statusBar()
        status.addWidget(self.image_label)
        status.addWidget(self.pixel_label, 1)
        status.addPermanentWidget(self.busy_bar)
        status.addPermanentWidget(self.timing_label)

    def _connect(self) -> None:
        controller = self.controller
        panel = self.recipe_panel
        panel.recipeEdited.connect(self.apply_recipe)
        panel.stageSelected.connect(self._select_stage)
        panel.viewEdited.connect(self._on_view_edited)
        panel.problem.connect(self._on_panel_problem)
        controller.stateChanged.connect(self._show_state_in_panel)
        controller.stateChanged.connect(self._show_analysis)
        controller.stateChanged.connect(self._on_state_changed)
        controller.imageLoaded.connect(self._on_image_loaded)
        controller.renderingReady.connect(self._on_rendering)
        controller.previewReady.connect(self._on_preview)
        self.views.viewportChanged.connect(self._send_viewport)
        # Sliders, and the grid's look (tints, font fits), wait for the pixels on
        # screen: on a large image those come before the whole result.
        self.generator_panel.pace_with(
            lambda: controller.preview_pending, controller.previewReady, controller.failed
        )
        self.editor.pace_with(
            lambda: controller.preview_pending, controller.previewReady, controller.failed
        )
        controller.failed.connect(self._on_failed)
        controller.saved.connect(self._on_saved)
        controller.notice.connect(self._on_notice)
        controller.busyChanged.connect(self.busy_bar.setVisible)
        self.inspector.readoutChanged.connect(self.pixel_label.setText)
        self.inspector.wantsPanel.connect(self._show_pixel_tab)
        self.views.modeChanged.connect(self.actions.show_mode)
        self.side_tabs.currentChanged.connect(self._on_side_tab)
        self.tutorial.started.connect(self._on_tutorial_started)
        self.tutorial.ended.connect(self._on_tutorial_ended)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

    def _connect_autosave(self) -> None:
        schedule = self.persistence.keeper.schedule
        self.persistence.keeper.failed.connect(self._on_failed)
        self.controller.stateChanged.connect(schedule)
        self.controller.imageLoaded.connect(schedule)
        self.undo_stack.indexChanged.connect(schedule)
        self.views.regionChanged.connect(schedule)

    # Slots are bound methods, never lambdas holding `self`: PySide keeps a
    # lambda connected to a child's signal alive past the window (a closed
    # window stayed in memory, 7 MB each).

    def _panel_state(self, state: State) -> tuple:
        return state.recipe, state.view, state.selected

    def _show_state_in_panel(self, state: State) -> None:
        self.recipe_panel.show_state(*self._panel_state(state))

    def _on_view_edited(self, field: str, value: object) -> None:
        self.controller.update(**{field: value})

    def _on_saved(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    def _show_pixel_tab(self) -> None:
        self.show_side_tab("pixel")

    def _shown_region(self) -> QRectF | None:
        return self.views.region

    def _set_aside_state(self) -> tuple | None:
        return self.tutorial.saved_state

    def _remember_channels_visible(self, visible: bool) -> None:
        self.store.setValue("view/channelsVisible", visible)

    # The recipe -------------------------------------------------------------

    def apply_recipe(
        self, recipe: Recipe, text: str = "Change recipe", key: object = None
    ) -> None:
        """Use `recipe`, as one undoable step (typing into one place merges by `key`)."""
        self.message_bar.hide()
        push_recipe(self.undo_group.activeStack(), self.controller, recipe, text, key)

    def _with_stage(self, stage: Stage, **options: object) -> Recipe:
        return self.controller.recipe.with_stage(self.controller.selected, stage, **options)

    def set_kernel(
        self,
        weights: np.ndarray,
        text: str = "Change kernel",
        *,
        divisor: float | None = None,
        offset: float | None = None,
    ) -> None:
        """Use `weights` for the selected stage, as one undoable step.

        `divisor` and `offset` stay as they are unless given; weights that cannot
        be used with them are refused with a message, and nothing changes.
        """
        old = self.controller.stage
        try:
            new = replace(
                old,
                weights=np.array(weights, dtype=np.float64),
                divisor=old.divisor if divisor is None else divisor,
                offset=old.offset if offset is None else offset,
            )
        except ValueError as error:
            self._on_failed(f"Could not use that kernel: {error}.")
            return
        self.apply_recipe(self._with_stage(new), text)

    def choose_preset(self, slug: str) -> None:
        """Use a built-in preset for the selected stage, with the display mapping that suits it."""
        old = self.controller.stage
        stage = Stage.generated(PRESET_GENERATORS[slug], enabled=old.enabled, name=old.name)
        self.apply_recipe(
            self._with_stage(stage, display=PRESET_DISPLAY[slug]), f"Preset {PRESET_NAMES[slug]}"
        )

    def _use_kernel(self, kernel: Kernel, text: str) -> None:
        self.set_kernel(kernel.weights, text, divisor=kernel.divisor, offset=kernel.offset)

    def normalise(self) -> None:
        """Divide the selected stage's weights by their sum (nothing happens when it is 0)."""
        weights = self.controller.stage.weights
        normalised = normalise(weights)
        if np.array_equal(normalised, weights):
            self.statusBar().showMessage("The weights sum to 0 or 1: nothing to normalise.", 5000)
            return
        self.set_kernel(normalised, "Normalise")

    def _select_stage(self, index: int) -> None:
        try:
            self.controller.select(index)
        except ValueError as error:
            self._on_failed(f"Could not select that stage: {error}.")

    def _on_panel_problem(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 8000)
        else:
            self.statusBar().clearMessage()

    def _show_analysis(self, state: State) -> None:
        stage = state.stage
        image = self.controller.image
        white = 255.0 if image is None else white_level(image.pixels.dtype)
        self.analysis.show_analysis(
            analyse_kernel(
                stage.weights,
                divisor=stage.divisor,
                offset=stage.offset,
                display=state.recipe.display,
                white=white,
            )
        )

    def _on_state_changed(self, state: State) -> None:
        self._edit_started = time.perf_counter()
        shape = state.stage.weights.shape
        if shape != self._shown_shape:
            self._shown_shape = shape
            if self._shown_once:
                self.fit_side_column()

    # Presets ----------------------------------------------------------------

    def _load_custom_presets(self) -> list[str]:
        """Fill the preset chooser and menu; return a sentence per saved preset unusable."""
        self._customs, problems = self.custom_presets.load_all()
        self.recipe_panel.set_presets(self._customs)
        fill_presets_menu(
            self.presets_menu,
            PRESET_NAMES,
            [kernel.name for kernel in self._customs],
            self.choose_preset,
            self._choose_custom_preset,
            self.actions,
        )
        self.recipe_panel.show_state(*self._panel_state(self.controller.state))
        return problems

    def _choose_custom_preset(self, name: str) -> None:
        for kernel in self._customs:
            if kernel.name == name:
                self._use_kernel(kernel, kernel.name)
                return

    def _reload_presets(self) -> None:
        for problem in self._load_custom_presets():
            self._on_failed(_sentence_list([problem]))

    def save_custom_preset(self, name: str) -> None:
        """Keep the selected stage's kernel as a preset called `name`, across restarts."""
        stage = self.controller.stage
        try:
            self.custom_presets.save(
                Kernel(name, np.array(stage.weights), stage.divisor, stage.offset)
            )
        except KernelFileError as error:
            self._on_failed(f"Could not save the preset: {error}")
            return
        self._reload_presets()
        self.statusBar().showMessage(f"Saved preset “{name}”", 5000)

    def rename_custom_preset(self, old: str, new: str) -> None:
        """Rename the saved preset `old` to `new`; a refused name is told and nothing changes."""
        try:
            self.custom_presets.rename(old, new)
        except KernelFileError as error:
            self._on_failed(f"Could not rename the preset: {error}")
            return
        self._reload_presets()
        self.statusBar().showMessage(f"Renamed preset “{old}” to “{new}”", 5000)

    def delete_custom_preset(self, name: str) -> None:
        """Delete the saved preset `name` (the kernel in use stays as it is)."""
        try:
            self.custom_presets.delete(name)
        except KernelFileError as error:
            self._on_failed(f"Could not delete the preset: {error}")
            return
        self._reload_presets()
        self.statusBar().showMessage(f"Deleted preset “{name}”", 5000)

    def ask_preset_name(self) -> None:
        """Ask for a name and save the selected stage's kernel under it."""
        name, accepted = QInputDialog.getText(self, "Save Kernel as Preset", "Preset name:")
        if accepted and name.strip():
            self.save_custom_preset(name.strip())

    def _ask_which_preset(self, title: str) -> str | None:
        names = [kernel.name for kernel in self._customs]
        if not names:
            return None
        name, accepted = QInputDialog.getItem(self, title, "Preset:", names, 0, False)
        return name if accepted else None

    def ask_preset_rename(self) -> None:
        """Ask which saved preset to rename, and its new name."""
        old = self._ask_which_preset("Rename Preset")
        if old is None:
            return
        new, accepted = QInputDialog.getText(self, "Rename Preset", "New name:", text=old)
        if accepted and new.strip() and new.strip() != old:
            self.rename_custom_preset(old, new.strip())

    def ask_preset_delete(self) -> None:
        """Ask which saved preset to delete."""
        name = self._ask_which_preset("Delete Preset")
        if name is not None:
            self.delete_custom_preset(name)

    def _stage_label(self) -> str:
        # The preset the selected stage is (its slug or saved name), or its own name.
        stage = self.controller.stage
        if stage.divisor == 1 and stage.offset == 0:
            for slug, weights in PRESETS.items():
                if np.array_equal(weights, stage.weights):
                    return slug
        for kernel in self._customs:
            if np.array_equal(kernel.weights, stage.weights) and (
                kernel.divisor,
                kernel.offset,
            ) == (stage.divisor, stage.offset):
                return kernel.name
        return stage.name

    # Files ------------------------------------------------------------------

    def choose_image(self) -> None:
        """Ask for an image file and open it."""
        path = self.file_dialogs.ask_open_image()
        if path is not None:
            self.open_path(path)

    def choose_kernel_import(self) -> None:
        """Ask for a kernel file and use it for the selected stage."""
        path = self.file_dialogs.ask_open_kernel()
        if path is not None:
            self.import_kernel(path)

    def choose_recipe_import(self) -> None:
        """Ask for a recipe file and use it."""
        path = self.file_dialogs.ask_open_recipe()
        if path is not None:
            self.import_recipe(path)

    def choose_export(self, kind: str) -> None:
        """Ask where to save `kind` (result, float, views, kernel, recipe), then save it."""
        image = self.controller.image
        target = self.file_dialogs.ask_save(
            kind,
            image_name=image.name if image is not None else "",
            image_path=image.path if image is not None else None,
            stage_label=self._stage_label(),
        )
        if target is None:
            return
        export = {
            "result": self.export_result,
            "float": lambda path: self.export_result(path, exact=True),
            "views": self.export_views,
            "kernel": self.export_kernel,
            "recipe": self.export_recipe,
        }[kind]
        export(target)

    def export_result(self, path: str | Path, *, exact: bool = False) -> None:
        """Save the result (8-bit as shown, or float32 TIFF when `exact`)."""
        self.controller.export_result(path, exact=exact)

    def export_views(self, path: str | Path) -> None:
        """Save the original, the result and the channels in one captioned picture."""
        self.controller.export_views(path)

    def export_kernel(self, path: str | Path) -> None:
        """Save the selected stage's kernel as a kernel file, named after its preset."""
        self.controller.export_kernel(path, self._stage_label() or Path(path).stem)

    def export_recipe(self, path: str | Path) -> None:
        """Save the recipe (every stage and option) as a recipe file."""
        self.controller.export_recipe(path)

    def import_kernel(self, path: str | Path) -> None:
        """Read a kernel file into the selected stage; a bad file is reported and ignored."""
        try:
            kernel = read_kernel_file(path)
        except KernelFileError as error:
            self._on_failed(f"Could not import the kernel: {error}")
            return
        self._use_kernel(kernel, f"Import {kernel.name or Path(path).name}")

    def import_recipe(self, path: str | Path) -> None:
        """Use the recipe in `path`, as one undoable step; a bad file changes nothing."""
        try:
            recipe = read_recipe_file(path)
        except KernelFileError as error:
            self._on_failed(f"Could not import the recipe: {error}")
            return
        self.apply_recipe(recipe, f"Import {Path(path).name}")

    def show_code(self, target: str) -> CodeDialog:
        """Open the Copy as Code dialog on the recipe as a program for `target`."""
        image = self.controller.image
        source = "input.png"
        destination = "output.png"
        if image is not None:
            source = str(image.path) if image.path is not None else image.name or source
            # Beside the image, but never among the installed samples: there, a bare name.
            destination = str(
                suggested_path(
                    "result",
                    image_name=image.name,
                    image_path=image.path,
                    stage_label=self._stage_label(),
                    folder=None,
                    fallback_folder=Path(),
                )
            )
        if self.code_dialog is not None:
            self.code_dialog.close()
        dialog = CodeDialog(
            self.controller.recipe,
            target,
            source=source,
            destination=destination,
            ask_save=self._ask_code_path,
            parent=self,
        )
        dialog.told.connect(lambda text: self.statusBar().showMessage(text, 5000))
        dialog.finished.connect(self._code_dialog_closed)
        dialog.resize(min(900, max(640, self.width() * 2 // 3)), min(640, self.height() * 4 // 5))
        self.code_dialog = dialog
        dialog.open()
        return dialog

    def _code_dialog_closed(self) -> None:
        # The keyboard comes back to the window (a closed dialog kept it offscreen).
        self.code_dialog = None
        self.activateWindow()
        self.setFocus()

    def _ask_code_path(self, kind: str) -> Path | None:
        image = self.controller.image
        return self.file_dialogs.ask_save(
            kind,
            image_name=image.name if image is not None else "",
            image_path=image.path if image is not None else None,
            stage_label=self._stage_label(),
        )

    def copy_result(self) -> None:
        """Put the result, as shown, on the clipboard."""
        rendering = self.controller.rendering
        if rendering is None:
            self._on_failed("There is no result to copy yet.")
            return
        QGuiApplication.clipboard().setImage(array_to_qimage(rendering.result8))
        self.statusBar().showMessage("Result copied to the clipboard", 5000)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.file_dialogs.recent_files()
        for name in recent:
            self.recent_menu.addAction(name, lambda p=name: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # Images -----------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        """Open the image at `path` in the background; a failure keeps the current one."""
        path = Path(path)
        if path.is_dir():
            self._on_failed(f"'{path.name}' is a folder; open or drop one image file.")
            return
        self._edit_started = time.perf_counter()
        self.controller.load_path(path)

    def _open_or_sample(self, path: Path | None) -> None:
        self.open_path(sample_image_path() if path is None else path)

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
        if self._keep_message:
            self._keep_message = False
        else:
            self.message_bar.hide()
        self.recipe_panel.image_white = white_level(image.pixels.dtype)
        views = self.views
        views.clear_comparison()
        if views.mode == "compare":  # the controller dropped the pin: it was of another image
            views.set_mode("side")
        views.set_image("original", image.pixels8)
        views.set_values("original", image.pixels)
        if self.persistence.region_to_restore is not None:  # the session's view, once
            views.show_region(self.persistence.region_to_restore)
            self.persistence.region_to_restore = None
        # Until the new result arrives (or if it fails), the views must not show
        # the previous image's result next to this image.
        views.clear_image("result")
        views.set_values("result", _NO_VALUES)
        if self.controller.view.channels_of_result:
            for name in ("red", "green", "blue", "grey"):
                views.clear_image(name)
        else:
            names = channel_names(image.channels8)
            views.set_channels(image.channels8, tuple(f"{name} (original)" for name in names))
        self._show_analysis(self.controller.state)  # "flat areas become …" in its units
        description = describe_image(image.pixels)
        views.set_title("original", f"Original — {image.name}")
        self.image_label.setText(f"{image.name} · {description}")
        self.statusBar().showMessage(f"Opened {image.name}: {description}", 5000)
        self.setWindowTitle(f"{image.name} — Kernel Studio")
        if image.path is not None and not self.tutorial.running:
            self.file_dialogs.remember(image.path)

    def _send_viewport(self) -> None:
        viewport = self.views.viewport()
        if viewport is not None:
            self.controller.set_viewport(*viewport)

    def _on_preview(self, preview: Preview) -> None:
        # The exact pixels on screen, ahead of the whole result (which the
        # pixel panel, histogram, Compare and exports wait for).
        if preview.whole:
            return  # renderingReady follows at once
        views = self.views
        views.set_image("result", preview.pixels8, preview.offset, preview.step)
        views.set_title("result", PREVIEW_TITLE)
        if preview.channels8 is not None:
            views.set_channels(
                preview.channels8,
                tuple(f"{name} (result)" for name in channel_names(preview.channels8)),
                preview.offset,
                preview.step,
            )
        if self._edit_started is not None:
            latency = (time.perf_counter() - self._edit_started) * 1000
            self.timing_label.setText(
                f"on-screen pixels in {preview.seconds * 1000:.0f} ms, shown {latency:.0f} ms "
                "after the change; whole result on its way"
            )

    def _on_rendering(self, rendering: Rendering) -> None:
        views = self.views
        offset = rendering.offset
        views.set_title("result", "Result")
        views.set_image("original", rendering.original8)
        grey = rendering.original8 is not self.controller.image.pixels8
        image_name = self.controller.image.name
        views.set_title("original", f"Original — {image_name}{' (as grey)' if grey else ''}")
        views.set_image("result", rendering.result8, offset)
        views.set_values("result", rendering.result, offset)
        of = "result" if rendering.view.channels_of_result else "original"
        views.set_channels(
            rendering.channels8,
            tuple(f"{name} ({of})" for name in rendering.channel_names),
            offset if rendering.view.channels_of_result else (0, 0),
        )
        if rendering.histogram is not None:
            self.histogram.show_counts(rendering.histogram)
        pinned = self.controller.pinned
        if pinned is not None and rendering.comparison is not None:
            views.show_comparison(pinned.result8, rendering.comparison)
        if rendering.result is self._timed_result:  # the same result, with its histogram
            return
        self._timed_result = rendering.result
        timing = f"computed in {rendering.seconds * 1000:.0f} ms"
        if self._edit_started is not None:
            latency = (time.perf_counter() - self._edit_started) * 1000
            timing += f", shown {latency:.0f} ms after the change"
            self._edit_started = None
        self.timing_label.setText(timing)

    def _on_notice(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    def _on_failed(self, message: str) -> None:
        log.warning("told the person: %s", message)
        rendering = self.controller.rendering
        if rendering is not None and self.views.shown("result") is not rendering.result8:
            self._on_rendering(rendering)  # a preview of the failed edit: back to the last result
        self.message_bar.show_message(message)
        if self.controller.image is None and self._fall_back_to_sample:
            self._fall_back_to_sample = False
            self._keep_message = True
            self.open_path(sample_image_path())

    def choose_pixel(self, row: int, column: int) -> None:
        """Explain the output pixel at image position (row, column) until another is chosen."""
        self.inspector.choose_pixel(row, column)
        self.show_side_tab("pixel")

    # Views ------------------------------------------------------------------

    def set_view_mode(self, mode: str) -> None:
        """Show the pictures side by side, split, or compared with the pinned result."""
        self.views.set_mode(mode)

    def show_side_tab(self, name: str) -> None:
        """Bring the side column's tab `name` (one of :data:`SIDE_TABS`) forward."""
        if self.side_tabs.isHidden():
            self.toggle_side_panel()
        self.side_tabs.setCurrentIndex(SIDE_TABS.index(name))

    def toggle_side_panel(self) -> None:
        """Hide the side column, so the pictures take the whole window, or show it again."""
        visible = self.side_tabs.isHidden()
        self.side_tabs.setVisible(visible)
        self.actions.side_panel.setChecked(visible)
        self._on_side_tab(self.side_tabs.currentIndex())

    def _on_side_tab(self, index: int) -> None:
        shows_histogram = not self.side_tabs.isHidden() and index == SIDE_TABS.index("histogram")
        if shows_histogram != self.controller.view.histogram:
            self.controller.update(histogram=shows_histogram)

    def pin_result(self) -> None:
        """Keep the current result, and compare the next ones with it."""
        self.controller.pin_result()
        if self.controller.pinned is not None:
            self.views.set_mode("compare")

    def unpin_result(self) -> None:
        """Stop comparing."""
        self.controller.unpin_result()
        self.views.clear_comparison()
        if self.views.mode == "compare":
            self.views.set_mode("side")

    # Tutorial ---------------------------------------------------------------

    def start_tutorial(self) -> None:
        """Replay the tutorial; the person's image, recipe and options come back at its end."""
        self.tutorial.start(0)

    def show_walkthrough_step(self, index: int) -> None:
        """Show step `index` of the tutorial (starting it when needed)."""
        if self.tutorial.running:
            self.tutorial.show_step(index)
        else:
            self.tutorial.start(index)

    def _on_tutorial_started(self) -> None:
        self._tutorial_history = QUndoStack(self.undo_group)
        self.undo_group.setActiveStack(self._tutorial_history)
        self.walkthrough_dock.show()

    def _on_tutorial_ended(self) -> None:
        self.undo_group.setActiveStack(self.undo_stack)
        self.undo_group.removeStack(self._tutorial_history)
        self._tutorial_history.deleteLater()
        self.walkthrough_dock.hide()

    # Window -----------------------------------------------------------------

    def about(self) -> None:
        """Say which Kernel Studio this is, and whose photographs it ships."""
        QMessageBox.about(
            self,
            "About Kernel Studio",
            f"<h3>Kernel Studio {__version__}</h3>"
            "<p>A playground for image convolution kernels: type weights, pick presets, "
            "and watch every channel change.</p>"
            "<p>Sample photographs: coffee by Rachel Michetti (CC0), astronaut Eileen "
            "Collins by NASA (public domain).</p>",
        )

    def fit_side_column(self) -> None:
        """Give the side column the width its recipe panel needs, within limits.

        The panel's minimum holds the whole grid (every cell fits its number);
        the rest goes to the pictures.
        """
        # The tab frame, the scroll area's margins and a vertical scroll bar.
        wanted = max(self.recipe_panel.minimumSizeHint().width(), SIDE_MIN_WIDTH) + 28
        width = int(min(max(wanted, SIDE_MIN_WIDTH), SIDE_MAX_FRACTION * self.width()))
        total = sum(self.splitter.sizes()) or self.width()
        self.splitter.setSizes([width, max(total - width, 1)])

    @qt_virtual()
    def showEvent(self, event: QShowEvent) -> None:
        """Size the side column the first time the window shows."""
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.fit_side_column()
            # Small screens start with the channel strip folded, so the pictures
            # are large; the person's choice is kept from then on.
            stored = StoredState(self.store)
            roomy = self.height() >= ROOMY_HEIGHT
            self.views.set_channels_visible(stored.flag("view/channelsVisible", roomy))
            self.views.channelsVisibleChanged.connect(self._remember_channels_visible)

    @qt_virtual()
    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the window and the session, vanish, then let started work finish."""
        if self.tutorial.running:
            self.tutorial.finish()
        self.persistence.save(closed_normally=True)
        self.hide()  # a long job may still be running: the window goes at once
        self.controller.shutdown()
        super().closeEvent(event)
