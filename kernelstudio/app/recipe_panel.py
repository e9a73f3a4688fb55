"""The Recipe tab: the stages, the selected stage's generator, kernel and numbers, the options.

The panel never holds the truth. The window calls :meth:`RecipePanel.show_state`
after every change, and the panel shows exactly that state; what the person
asks for comes out as a whole new recipe (``recipeEdited``), a stage to select,
a view option, or a one-line problem.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.controller import ViewOptions
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.app.generator_panel import GeneratorPanel
from kernelstudio.app.kernel_editor import AppliedKernel, KernelEditor, resize_centred
from kernelstudio.app.options_panel import OptionsPanel
from kernelstudio.behave_like import CONVENTIONS, behave_like
from kernelstudio.generators import GENERATORS
from kernelstudio.kernels import (
    PRESET_DISPLAY,
    PRESET_GENERATORS,
    PRESET_NAMES,
    PRESETS,
    Kernel,
    format_weight,
    kernel_sum,
)
from kernelstudio.pipeline import MAX_STAGES, Recipe, Stage

MAX_NAME_LENGTH = 60
"""The longest name a stage may have."""

LIST_ROWS = 4
"""Stages the list shows without scrolling; a fixed height, so nothing below moves."""

_NAME_ROLE = Qt.ItemDataRole.UserRole + 1
_CHANNEL_CAPITALS = {"r": "R", "g": "G", "b": "B", "a": "A"}


def identity_stage() -> Stage:
    """Return a 3×3 stage that leaves the image as it is, made by the identity generator."""
    return Stage.generated(PRESET_GENERATORS["identity"])


def stage_title(stage: Stage, index: int) -> str:
    """Return the list's line for `stage` at `index`: "1. Sharpen 3×3".

    The stage's own name, else the built-in preset it equals, else the
    generator that made it, else "Stage N".

    Examples
    --------
    >>> stage_title(Stage(np.ones((3, 5)), name="Wide"), 0)
    '1. Wide 3×5'
    >>> stage_title(identity_stage(), 1)
    '2. Identity 3×3'
    >>> stage_title(Stage(np.ones((5, 5)), name="Blur 5×5"), 2)  # the size once
    '3. Blur 5×5'
    >>> from kernelstudio.generators import parse_spec
    >>> stage_title(Stage.generated(parse_spec("motion-blur:length=5,angle=90")), 0)
    '1. Motion blur 5×1'
    """
    height, width = stage.weights.shape
    name = stage.name or _preset_name(stage) or _generator_title(stage) or f"Stage {index + 1}"
    size = f"{height}×{width}"
    return f"{index + 1}. {name}" if size in name else f"{index + 1}. {name} {size}"


def _generator_title(stage: Stage) -> str:
    return "" if stage.generator is None else GENERATORS[stage.generator.slug].title


def _preset_name(stage: Stage) -> str:
    if stage.divisor == 1 and stage.offset == 0:
        for slug, weights in PRESETS.items():
            if np.array_equal(weights, stage.weights):
                return PRESET_NAMES[slug]
    return ""


class _StageNameDelegate(QStyledItemDelegate):
    # Renaming edits the stage's name, not the line "1. Name 3×3", and writes
    # nothing into the list: it asks, and show_state shows the answer.

    renamed = Signal(int, str)

    @qt_virtual(default=None)
    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex
    ) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("stageNameEdit")
        editor.setAccessibleName("Stage name")
        editor.setToolTip(f"The stage's name, up to {MAX_NAME_LENGTH} characters")
        editor.setMaxLength(MAX_NAME_LENGTH)
        return editor

    @qt_virtual()
    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        editor.setText(index.data(_NAME_ROLE) or "")
        editor.selectAll()

    @qt_virtual()
    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex) -> None:
        self.renamed.emit(index.row(), editor.text())


class RecipePanel(QWidget):
    """Shows one recipe and emits what the person asks for.

    Signals
    -------
    recipeEdited(object, str, object)
        The whole new :class:`~kernelstudio.pipeline.Recipe` (already valid),
        the undo text ("Edit weight", "Border constant", "Add stage" …), and a
        key under which consecutive typing into one place merges, such as
        ``("cell", stage, row, column)``, ``("divisor", stage)`` or, for a
        slider's drag, ``("generator", stage, slug)``; or ``None``.
    stageSelected(int)
        The person selected another stage, or a stage the panel just added or moved.
    viewEdited(str, object)
        A view option changed: ``"channels_of_result"`` and its bool.
    problem(str)
        A one-line message for the status bar, or ``""`` once the problem it
        told of is gone.

    Attributes
    ----------
    editor : KernelEditor
        The selected stage's weights.
    preset_combo : QComboBox
        The preset chooser ("presetCombo").
    stage_list : QListWidget
        One checkable line per stage ("stageList").
    generator_panel : GeneratorPanel
        The selected stage's generator and its parameters ("From parameters").
    options : OptionsPanel
        Divisor, offset and the recipe's options.
    applied : AppliedKernel
        The rotated kernel, shown when flip is on.
    confirm : Callable[[str], bool]
        Asks a yes-or-no question before weights are dropped; replaceable.
    """

    recipeEdited = Signal(object, str, object)
    stageSelected = Signal(int)
    viewEdited = Signal(str, object)
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recipePanel")
        self.confirm: Callable[[str], bool] = self._ask
        self._recipe = Recipe((identity_stage(),))
        self._view = ViewOptions()
        self._selected = 0
        self._customs: list[Kernel] = []
        self._syncing = False
        self._told: dict[Hashable, str] = {}
        self.image_white = 255.0
        """Full scale of the open image's values, for the offsets a program picks (GIMP)."""

        self.stage_list = QListWidget(self)
        self.stage_list.setObjectName("stageList")
        self.stage_list.setAccessibleName("Stages")
        self.stage_list.setToolTip(
            "The stages, applied in order. Tick a stage to apply it; double-click\n"
            "or press F2 to rename it. The kernel below edits the selected stage."
        )
        self.stage_list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self._names = _StageNameDelegate(self.stage_list)
        self._names.renamed.connect(self._on_renamed)
        self.stage_list.setItemDelegate(self._names)
        self.stage_list.currentRowChanged.connect(self._on_row_changed)
        self.stage_list.itemChanged.connect(self._on_item_changed)

        self.add_button = self._button("addStageButton", "Add", "Add stage", self._add)
        self.add_button.setToolTip("Add a 3×3 identity stage after the selected one")
        self.duplicate_button = self._button(
            "duplicateStageButton", "Copy", "Duplicate stage", self._duplicate
        )
        self.duplicate_button.setToolTip("Add a copy of the selected stage after it")
        self.remove_button = self._button(
            "removeStageButton", "Remove", "Remove stage", self._remove
        )
        self.remove_button.setToolTip("Remove the selected stage")
        self.up_button = self._button("moveStageUpButton", "↑", "Move stage up", self._up)
        self.up_button.setToolTip("Apply the selected stage one step earlier")
        self.down_button = self._button("moveStageDownButton", "↓", "Move stage down", self._down)
        self.down_button.setToolTip("Apply the selected stage one step later")

        self.preset_combo = QComboBox(self)
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setAccessibleName("Preset of the selected stage")
        self.preset_combo.setToolTip(
            "Use a preset kernel for the selected stage; it shows the preset the stage is"
        )
        self.preset_combo.currentIndexChanged.connect(self._on_preset_chosen)
        self.preset_combo.activated.connect(self._on_preset_chosen)

        self.generator_panel = GeneratorPanel(self)
        self.generator_panel.recipeEdited.connect(self.recipeEdited)

        self.editor = KernelEditor(self)
        self.editor.cellEdited.connect(self._on_cell_edited)
        self.editor.cellInvalid.connect(self._on_cell_invalid)
        self.editor.sizeRequested.connect(self._on_size_requested)

        self.options = OptionsPanel(self)
        self.options.changed.connect(self._on_option_changed)
        self.options.invalid.connect(self._on_option_invalid)
        self.options.useSumRequested.connect(self._use_sum)

        self.applied = AppliedKernel(self)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (
            self.add_button,
            self.duplicate_button,
            self.remove_button,
            self.up_button,
            self.down_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        preset_row = QHBoxLayout()
        preset_row.setContentsMargins(0, 0, 0, 0)
        preset_label = QLabel("Preset:", self)
        preset_label.setBuddy(self.preset_combo)
        preset_row.addWidget(preset_label)
        preset_row.addWidget(self.preset_combo, 1)
        generated = QGroupBox("From parameters", self)
        generated.setObjectName("fromParametersBox")
        generated_layout = QVBoxLayout(generated)
        generated_layout.setContentsMargins(6, 4, 6, 6)
        generated_layout.addWidget(self.generator_panel)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Stages", self))
        layout.addWidget(self.stage_list)
        layout.addLayout(buttons)
        layout.addLayout(preset_row)
        # The parameters above the grid they make: the grid then shows the result.
        layout.addWidget(generated)
        layout.addWidget(self.editor)
        layout.addWidget(self.options)
        # Below everything a pointer may be on, so that ticking flip moves nothing.
        layout.addWidget(self.applied)
        layout.addStretch(1)
        self.set_presets([])
        self.show_state(self._recipe, self._view, 0)

    def _button(self, name: str, text: str, accessible: str, slot: Callable) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setAccessibleName(accessible)
        button.clicked.connect(slot)
        return button

    # Showing ------------------------------------------------------------------

    @property
    def recipe(self) -> Recipe:
        """The recipe last shown."""
        return self._recipe

    @property
    def selected(self) -> int:
        """The index of the stage last shown as selected."""
        return self._selected

    def show_state(self, recipe: Recipe, view: ViewOptions, selected: int) -> None:
        """Show `recipe`, `view` and stage `selected`, emitting nothing.

        A cell or number the person is typing keeps its text while it still
        means the applied value ("1/16" stays "1/16").
        """
        selected = min(max(int(selected), 0), len(recipe.stages) - 1)
        same_stage = selected == self._selected
        self._syncing = True
        try:
            self._recipe, self._view, self._selected = recipe, view, selected
            stage = recipe.stages[selected]
            self._show_stage_list()
            self._show_preset()
            self.generator_panel.show_state(recipe, view, selected)
            self.editor.set_weights(stage.weights, keep_unfinished=same_stage)
            self.options.show_options(recipe, view, selected, keep_unfinished=same_stage)
            self.applied.setVisible(recipe.flip)
            if recipe.flip:
                self.applied.show_weights(stage.weights[::-1, ::-1])
            count = len(recipe.stages)
            self.add_button.setEnabled(count < MAX_STAGES)
            self.duplicate_button.setEnabled(count < MAX_STAGES)
            self.remove_button.setEnabled(count > 1)
            self.up_button.setEnabled(selected > 0)
            self.down_button.setEnabled(selected < count - 1)
        finally:
            self._syncing = False
        # A problem whose place the state just overwrote is gone; the next message replaces it.
        for key in list(self._told):
            if not self._still_wrong(key):
                del self._told[key]

    def set_presets(self, customs: list[Kernel]) -> None:
        """Offer "Custom kernel", the built-in presets, then `customs` as "★ name"."""
        self._customs = list(customs)
        combo = self.preset_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("Custom kernel", None)
        for slug, name in PRESET_NAMES.items():
            combo.addItem(name, slug)
        if self._customs:
            combo.insertSeparator(combo.count())
            for kernel in self._customs:
                combo.addItem(f"★ {kernel.name}", kernel)
        combo.blockSignals(False)
        self._show_preset()

    def _show_stage_list(self) -> None:
        stages = self._recipe.stages
        view = self.stage_list
        view.blockSignals(True)
        while view.count() > len(stages):
            view.takeItem(view.count() - 1)
        while view.count() < len(stages):
            item = QListWidgetItem(view)
            item.setFlags(
                Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsEditable
            )
        for index, stage in enumerate(stages):
            item = view.item(index)
            item.setText(stage_title(stage, index))
            item.setData(_NAME_ROLE, stage.name)
            item.setCheckState(Qt.CheckState.Checked if stage.enabled else Qt.CheckState.Unchecked)
            item.setToolTip(
                f"{stage_title(stage, index)}: divided by {format_weight(stage.divisor)}, "
                f"plus {format_weight(stage.offset)}, {'applied' if stage.enabled else 'off'}"
            )
        view.setCurrentRow(self._selected)
        view.blockSignals(False)
        row_height = view.sizeHintForRow(0) if view.count() else view.fontMetrics().height()
        view.setFixedHeight(row_height * LIST_ROWS + 2 * view.frameWidth() + 2)

    def _show_preset(self) -> None:
        stage = self._recipe.stages[self._selected]
        combo = self.preset_combo
        chosen = 0
        for index in range(combo.count()):
            choice = combo.itemData(index)
            if isinstance(choice, str) and choice in PRESETS:
                if (stage.divisor, stage.offset) == (1, 0) and np.array_equal(
                    PRESETS[choice], stage.weights
                ):
                    chosen = index
                    break
            elif (
                isinstance(choice, Kernel)
                and np.array_equal(choice.weights, stage.weights)
                and (choice.divisor, choice.offset) == (stage.divisor, stage.offset)
            ):
                chosen = index
                break
        combo.blockSignals(True)
        combo.setCurrentIndex(chosen)
        combo.blockSignals(False)

    def _show_again(self) -> None:
        self.show_state(self._recipe, self._view, self._selected)

    # Asking -------------------------------------------------------------------

    def _stage(self) -> Stage:
        return self._recipe.stages[self._selected]

    def _with_stage(self, stage: Stage, **options: object) -> Recipe:
        return self._recipe.with_stage(self._selected, stage, **options)

    def _propose(self, make: Callable[[], Recipe], text: str, key: Hashable = None) -> bool:
        # Build the new recipe; a refusal is told at once and the panel shows what
        # is applied again. Returns whether the recipe is usable.
        try:
            recipe = make()
        except ValueError as error:
            self._tell(("refused", text), f"{text}: {error}")
            self._show_again()
            return False
        if recipe != self._recipe:
            self.recipeEdited.emit(recipe, text, key)
        return True

    def _tell(self, key: Hashable, message: str) -> None:
        self._told[key] = message
        self.problem.emit(message)

    def _solved(self, key: Hashable) -> None:
        if self._told.pop(key, None) is not None:
            remaining = list(self._told.values())
            self.problem.emit(remaining[-1] if remaining else "")

    def _still_wrong(self, key: Hashable) -> bool:
        if key[0] == "cell":
            _, stage, row, column = key
            height, width = self.editor.grid.shape
            return (
                stage == self._selected
                and row < height
                and column < width
                and self.editor.grid.is_invalid(row, column)
            )
        if key[0] in ("divisor", "offset"):
            return key[1] == self._selected and self.options.is_invalid(key[0])
        return False

    @staticmethod
    def _ask(question: str) -> bool:
        answer = QMessageBox.question(None, "Kernel Studio", question)
        return answer == QMessageBox.StandardButton.Yes

    # The stages ---------------------------------------------------------------

    def _on_row_changed(self, row: int) -> None:
        if not self._syncing and 0 <= row != self._selected:
            self.stageSelected.emit(row)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing:
            return
        index = self.stage_list.row(item)
        stage = self._recipe.stages[index]
        enabled = item.checkState() == Qt.CheckState.Checked
        if enabled == stage.enabled:
            return
        stages = list(self._recipe.stages)
        stages[index] = replace(stage, enabled=enabled)
        verb = "Enable" if enabled else "Disable"
        self._propose(
            lambda: replace(self._recipe, stages=tuple(stages)), f"{verb} stage {index + 1}"
        )

    def _on_renamed(self, index: int, name: str) -> None:
        name = name.strip()
        if not 0 <= index < len(self._recipe.stages) or name == self._recipe.stages[index].name:
            return
        if len(name) > MAX_NAME_LENGTH:
            self._tell(("name",), f"A stage's name may have up to {MAX_NAME_LENGTH} characters")
            return
        stages = list(self._recipe.stages)
        stages[index] = replace(stages[index], name=name)
        self._propose(
            lambda: replace(self._recipe, stages=tuple(stages)), f"Rename stage {index + 1}"
        )

    def _insert_after(self, stage: Stage, text: str) -> None:
        stages = list(self._recipe.stages)
        stages.insert(self._selected + 1, stage)
        new_index = self._selected + 1
        if self._propose(lambda: replace(self._recipe, stages=tuple(stages)), text):
            self.stageSelected.emit(new_index)

    def _add(self) -> None:
        self._insert_after(identity_stage(), "Add stage")

    def _duplicate(self) -> None:
        self._insert_after(self._stage(), "Duplicate stage")

    def _remove(self) -> None:
        stages = list(self._recipe.stages)
        del stages[self._selected]
        self._propose(lambda: replace(self._recipe, stages=tuple(stages)), "Remove stage")

    def _move(self, step: int, text: str) -> None:
        index, target = self._selected, self._selected + step
        stages = list(self._recipe.stages)
        if not 0 <= target < len(stages):
            return
        stages[index], stages[target] = stages[target], stages[index]
        if self._propose(lambda: replace(self._recipe, stages=tuple(stages)), text):
            self.stageSelected.emit(target)

    def _up(self) -> None:
        self._move(-1, "Move stage up")

    def _down(self) -> None:
        self._move(1, "Move stage down")

    # The kernel ---------------------------------------------------------------

    def _on_preset_chosen(self, index: int) -> None:
        if self._syncing:
            return
        choice = self.preset_combo.itemData(index)
        if isinstance(choice, str) and choice in PRESETS:
            self._propose(
                lambda: self._with_stage(
                    Stage.generated(
                        PRESET_GENERATORS[choice],
                        enabled=self._stage().enabled,
                        name=self._stage().name,
                    ),
                    display=PRESET_DISPLAY[choice],
                ),
                f"Preset {PRESET_NAMES[choice]}",
            )
        elif isinstance(choice, Kernel):
            self._propose(
                lambda: self._with_stage(
                    replace(
                        self._stage(),
                        weights=np.array(choice.weights, dtype=np.float64),
                        divisor=choice.divisor,
                        offset=choice.offset,
                    )
                ),
                f"Preset {choice.name}",
            )
        # Whatever was chosen, the box shows the preset applied ("Custom kernel", a
        # separator, or a refused preset apply nothing).
        self._show_preset()

    def _on_cell_edited(self, row: int, column: int, weights: np.ndarray) -> None:
        key = ("cell", self._selected, row, column)
        previous = float(self._stage().weights[row, column])
        try:
            recipe = self._with_stage(replace(self._stage(), weights=weights))
        except ValueError as error:
            self.editor.grid.refuse(row, column, str(error), previous)
            return
        self._solved(key)
        if recipe != self._recipe:
            self.recipeEdited.emit(recipe, "Edit weight", key)

    def _on_cell_invalid(self, row: int, column: int, reason: str) -> None:
        self._tell(
            ("cell", self._selected, row, column), f"Row {row + 1}, column {column + 1}: {reason}"
        )

    def _on_size_requested(self, height: int, width: int) -> None:
        weights = self._stage().weights
        resized = resize_centred(weights, height, width)
        dropped = int(np.count_nonzero(weights)) - int(np.count_nonzero(resized))
        if dropped > 0:
            plural = "s" if dropped > 1 else ""
            question = (
                f"Shrinking to {height}×{width} drops {dropped} non-zero weight{plural}. "
                "Drop them?"
            )
            if not self.confirm(question):
                self._show_again()
                return
        self._propose(
            lambda: self._with_stage(replace(self._stage(), weights=resized)),
            f"Resize to {height}×{width}",
        )

    def _use_sum(self) -> None:
        total = round(kernel_sum(self._stage().weights), 12)
        if total == 0:
            self._tell(
                ("sum",),
                "The weights sum to 0, which cannot be a divisor: type one instead",
            )
            return
        self._propose(
            lambda: self._with_stage(replace(self._stage(), divisor=total)),
            f"Divisor {format_weight(total)}",
        )

    # The options --------------------------------------------------------------

    def _on_option_changed(self, field: str, value: object) -> None:
        if self._syncing:
            return
        if field == "channels_of_result":
            self.viewEdited.emit(field, value)
            return
        if field in ("divisor", "offset"):
            key = (field, self._selected)
            try:
                recipe = self._with_stage(replace(self._stage(), **{field: value}))
            except ValueError as error:
                self.options.refuse(field, str(error))
                return
            self._solved(key)
            if recipe != self._recipe:
                self.recipeEdited.emit(recipe, f"{field.capitalize()} {format_weight(value)}", key)
            return
        if field == "like":
            name = CONVENTIONS[str(value)].name
            self._propose(
                lambda: behave_like(self._recipe, str(value), white=self.image_white),
                f"Behave like {name}",
            )
            return
        self._propose(lambda: replace(self._recipe, **{field: value}), _option_text(field, value))

    def _on_option_invalid(self, field: str, reason: str) -> None:
        if field in ("divisor", "offset"):
            self._tell((field, self._selected), f"{field.capitalize()}: {reason}")
        else:
            self._tell((field,), f"{reason[:1].upper()}{reason[1:]}")


def _option_text(field: str, value: object) -> str:
    # The undo text of an option, in the command line's words: "Border constant".
    if field == "flip":
        return "Flip kernel" if value else "Do not flip kernel"
    if field == "grey":
        return "Greyscale" if value else "Colour"
    if field == "channels":
        return f"Channels {''.join(_CHANNEL_CAPITALS[letter] for letter in str(value))}"
    if field == "alpha":
        return f"Transparency {value}"
    if field == "between_stages":
        return f"Between stages {value}"
    return f"{field.capitalize()} {value}"
