"""The selected stage's divisor and offset, and the recipe's options, as a form."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from kernelstudio.app.controller import ViewOptions
from kernelstudio.app.kernel_editor import (
    LeaveShortcutsToWindow,
    means,
    set_invalid_look,
)
from kernelstudio.behave_like import CONVENTIONS
from kernelstudio.kernels import format_weight, parse_weight
from kernelstudio.pipeline import Recipe

# The command line's words first (finding 15), then what they do.
BORDER_LABELS = {
    "mirror": "mirror (c b | a b c)",
    "reflect": "reflect (b a | a b c)",
    "nearest": "nearest (a a | a b c)",
    "constant": "constant (0 0 | a b c)",
    "wrap": "wrap (b c | a b c)",
    "valid": "valid (no padding: smaller)",
}
BORDER_TIPS = {
    "mirror": "Mirrored about the edge pixel, which is not repeated",
    "reflect": "Mirrored with the edge pixel repeated",
    "nearest": "The edge pixel, repeated",
    "constant": "Zeros beyond the edge",
    "wrap": "The opposite edge, as if the image were tiled",
    "valid": "No padding: only pixels the whole kernel covers; the result shrinks",
}
DISPLAY_LABELS = {
    "clip": "clip (cut to 0…255)",
    "abs": "abs (negatives made positive)",
    "normalize": "normalize (min…max to 0…255)",
    "signed": "signed (0 is mid-grey)",
    "wrap": "wrap (as a C cast: 256 is 0)",
}
ALPHA_LABELS = {
    "keep": "keep (alpha passes through)",
    "weighted": "weighted (colour by alpha)",
    "process": "process (filter alpha, with A)",
}
GREY_LABELS = {False: "colour (each channel)", True: "grey (BT.601 luma first)"}
ROUNDING_LABELS = {
    "half-up": "half up (2.5 → 3)",
    "half-even": "half to even (2.5 → 2)",
    "truncate": "truncate (2.7 → 2)",
}
BETWEEN_STAGES_LABELS = {
    "float": "exact (float)",
    "clip": "clipped to the range",
    "round": "8-bit (clipped, rounded)",
    "wrap": "8-bit, wrapped (as a C cast)",
}
CUSTOM_CONVENTION = ""
"""The Behave-like item shown when the options follow no other program's."""
_CHANNEL_WORDS = {"r": "red", "g": "green", "b": "blue", "a": "alpha"}
_COMBO_LETTERS = 13  # long labels elide in the box; the list shows them whole
_NUMBER_TIPS = {
    "divisor": "The weighted sum is divided by this (not 0); 1/16 works too",
    "offset": "Added after dividing, in the image's units: 128 is mid-grey for 8-bit images",
}


class OptionsPanel(QWidget):
    """Form of the selected stage's divisor and offset and of the recipe's options.

    It shows what :meth:`show_options` gives it and emits what the person asks
    for; it never changes a value by itself.

    Signals
    -------
    changed(str, object)
        The name of the field a person changed (``divisor``, ``offset``,
        ``flip``, ``border``, ``grey``, ``channels``, ``alpha``, ``display``,
        ``rounding``, ``between_stages``, the view's ``channels_of_result``, or
        ``like`` with the program chosen in *Behave like*) and its new value. Divisor and offset
        are emitted for every number typed, also one equal to the value shown.
    invalid(str, str)
        The person left the divisor or offset holding something unusable, or
        tried to filter no channel; the field's name and why. Nothing changed.
    useSumRequested()
        The person asked for the divisor to be the kernel's sum.
    """

    changed = Signal(str, object)
    invalid = Signal(str, str)
    useSumRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shortcuts = LeaveShortcutsToWindow(self)
        self._problems: dict[str, str] = {}
        self._reported: dict[str, str] = {}
        self._shown: dict[str, object] = {}
        self.divisor_edit = self._number("divisorEdit", "divisor", "Divisor")
        self.offset_edit = self._number("offsetEdit", "offset", "Offset")
        self.use_sum_button = QPushButton("Use the sum", self)
        self.use_sum_button.setObjectName("useSumButton")
        self.use_sum_button.setAccessibleName("Divide by the sum of the weights")
        self.use_sum_button.setToolTip(
            "Set the divisor to the sum of the weights, so that flat areas keep their brightness"
        )
        self.use_sum_button.clicked.connect(self.useSumRequested)

        self.flip_check = QCheckBox("Flip kernel (true convolution)", self)
        self.flip_check.setObjectName("flipCheck")
        self.flip_check.setToolTip(
            "Off: correlation, the kernel is applied as written (what most tools do).\n"
            "On: the kernel is rotated 180° first, as in the mathematical definition."
        )
        self.flip_check.toggled.connect(lambda on: self._emit_if_new("flip", on))
        self.border_combo = self._combo("borderCombo", BORDER_LABELS, "border")
        self.border_combo.setToolTip("What the kernel sees beyond the image's edge (--border)")
        self.colour_combo = self._combo("colourCombo", GREY_LABELS, "grey")
        self.colour_combo.setToolTip("Filter each colour channel, or grey first (--grey)")
        self.alpha_combo = self._combo("alphaCombo", ALPHA_LABELS, "alpha")
        self.alpha_combo.setToolTip(
            "keep: transparency passes through. weighted: transparent pixels' hidden colour\n"
            "never shows (as GIMP does). process: alpha is filtered like a colour when A is on."
        )
        self.display_combo = self._combo("displayCombo", DISPLAY_LABELS, "display")
        self.display_combo.setToolTip(
            "How results become screen pixels (--display); edge kernels give negative\n"
            "values, which abs, normalize or signed make visible."
        )
        self.rounding_combo = self._combo("roundingCombo", ROUNDING_LABELS, "rounding")
        self.rounding_combo.setToolTip(
            "How values become whole 8-bit numbers (--rounding): OpenCV rounds half to\n"
            "even, GIMP and ImageJ half up, a C cast truncates"
        )
        self.between_combo = self._combo(
            "betweenStagesCombo", BETWEEN_STAGES_LABELS, "between_stages"
        )
        self.between_combo.setToolTip(
            "What each stage's result becomes before the next stage (--between-stages):\n"
            "exact floats, or clipped and rounded as when a program runs one filter\n"
            "after another on an 8-bit image"
        )
        like_labels = {CUSTOM_CONVENTION: "Kernel Studio (as set below)"}
        like_labels.update({slug: convention.name for slug, convention in CONVENTIONS.items()})
        self.like_combo = self._combo("likeCombo", like_labels, "like")
        self.like_combo.setToolTip(
            "Set border, flip, rounding, what happens between stages, and the divisor and\n"
            "offset the program picks by itself, so that the result equals what it writes\n"
            "for the same kernel (--like; see docs/conventions.md)"
        )
        self._like_chosen = CUSTOM_CONVENTION
        self.channels_check = QCheckBox("Channels of the result", self)
        self.channels_check.setObjectName("channelsCheck")
        self.channels_check.setToolTip("Show R, G, B of the result instead of the original")
        self.channels_check.toggled.connect(lambda on: self._emit_if_new("channels_of_result", on))
        self.channel_checks: dict[str, QCheckBox] = {}
        channel_row = QHBoxLayout()
        channel_row.setContentsMargins(0, 0, 0, 0)
        for letter in "rgba":
            check = QCheckBox(letter.upper(), self)
            check.setObjectName(f"channel{letter.upper()}Check")
            check.setAccessibleName(f"Filter the {_CHANNEL_WORDS[letter]} channel")
            check.setToolTip(
                f"Filter the {_CHANNEL_WORDS[letter]} channel; the others pass through"
            )
            check.toggled.connect(self._on_channel_toggled)
            self.channel_checks[letter] = check
            channel_row.addWidget(check)
        channel_row.addStretch(1)
        for widget, name in (
            (self.border_combo, "Border mode"),
            (self.colour_combo, "Colour or greyscale"),
            (self.display_combo, "Display mapping"),
            (self.alpha_combo, "Transparency"),
            (self.rounding_combo, "Rounding"),
            (self.between_combo, "Between stages"),
            (self.like_combo, "Behave like another program"),
            (self.flip_check, "Flip kernel"),
            (self.channels_check, "Show the result's channels"),
        ):
            widget.setAccessibleName(name)

        divisor_row = QHBoxLayout()
        divisor_row.setContentsMargins(0, 0, 0, 0)
        divisor_row.addWidget(self.divisor_edit, 1)
        divisor_row.addWidget(self.use_sum_button)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Divide by:", divisor_row)
        form.addRow("Then add:", self.offset_edit)
        form.addRow(self.flip_check)
        form.addRow("Border:", self.border_combo)
        form.addRow("Process:", self.colour_combo)
        form.addRow("Channels:", channel_row)
        form.addRow("Transparency:", self.alpha_combo)
        form.addRow("Display:", self.display_combo)
        form.addRow("Rounding:", self.rounding_combo)
        form.addRow("Between stages:", self.between_combo)
        form.addRow("Behave like:", self.like_combo)
        form.addRow(self.channels_check)

    def _combo(self, name: str, labels: dict, field: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(_COMBO_LETTERS)
        for value, label in labels.items():
            combo.addItem(label, value)
            tip = BORDER_TIPS.get(value, label) if field == "border" else label
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        # Both: a programmatic choice (assistive tools) applies, and so does a
        # person re-choosing the item shown; _emit_if_new drops the echo.
        combo.currentIndexChanged.connect(
            lambda index: self._emit_if_new(field, combo.itemData(index))
        )
        combo.activated.connect(lambda index: self._emit_if_new(field, combo.itemData(index)))
        return combo

    def _number(self, name: str, field: str, label: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setAccessibleDescription(_NUMBER_TIPS[field])
        edit.setToolTip(_NUMBER_TIPS[field])
        edit.setMaxLength(32)
        edit.installEventFilter(self._shortcuts)
        edit.textEdited.connect(lambda text: self._on_number_edited(field, text))
        edit.editingFinished.connect(lambda: self._on_number_left(field))
        return edit

    def _edit(self, field: str) -> QLineEdit:
        return self.divisor_edit if field == "divisor" else self.offset_edit

    def _emit_if_new(self, field: str, value: object) -> None:
        if field == "like":
            if value is not None and value != CUSTOM_CONVENTION:
                self._like_chosen = str(value)
                self.changed.emit(field, value)
            return
        if value is not None and self._shown.get(field) != value:
            self.changed.emit(field, value)

    def _on_number_edited(self, field: str, text: str) -> None:
        try:
            value = parse_weight(text)
        except ValueError as error:
            self.refuse(field, str(error))
            return
        self._mark_valid(field)
        self.changed.emit(field, value)

    def _on_number_left(self, field: str) -> None:
        problem = self._problems.get(field)
        text = self._edit(field).text()
        if problem is not None and self._reported.get(field) != text:
            self._reported[field] = text
            self.invalid.emit(field, problem)

    def refuse(self, field: str, reason: str) -> None:
        """Mark what the person typed for the number `field` as unusable, saying `reason`.

        The reason is told (``invalid``) when the person leaves the field.
        """
        if field not in ("divisor", "offset"):
            return
        self._problems[field] = reason
        edit = self._edit(field)
        set_invalid_look(edit, True)
        edit.setToolTip(reason)

    def is_invalid(self, field: str) -> bool:
        """Whether the number `field` holds something unusable."""
        return field in self._problems

    def _mark_valid(self, field: str) -> None:
        self._reported.pop(field, None)
        if self._problems.pop(field, None) is not None:
            edit = self._edit(field)
            set_invalid_look(edit, False)
            edit.setToolTip(_NUMBER_TIPS[field])

    def _on_channel_toggled(self) -> None:
        channels = "".join(
            letter for letter, check in self.channel_checks.items() if check.isChecked()
        )
        if not channels:  # the stages must act on something: the last one stays on
            sender = self.sender()
            sender.blockSignals(True)
            sender.setChecked(True)
            sender.blockSignals(False)
            self.invalid.emit("channels", "at least one channel must be filtered")
            return
        self._emit_if_new("channels", channels)

    def show_options(
        self,
        recipe: Recipe,
        view: ViewOptions,
        selected: int = 0,
        *,
        keep_unfinished: bool = False,
    ) -> None:
        """Show `recipe`'s options, stage `selected`'s numbers and `view` without a signal.

        A number a person is typing keeps its text while it means the applied
        value; with `keep_unfinished`, unusable text also stays (still marked)
        while the applied value is the one shown before.
        """
        stage = recipe.stages[min(max(selected, 0), len(recipe.stages) - 1)]
        previous = dict(self._shown)
        for field, value in (("divisor", stage.divisor), ("offset", stage.offset)):
            edit = self._edit(field)
            if keep_unfinished and field in self._problems and previous.get(field) == value:
                continue
            if not means(edit.text(), value):
                edit.setText(format_weight(value))
            self._mark_valid(field)
        self._shown = {
            "divisor": stage.divisor,
            "offset": stage.offset,
            "flip": recipe.flip,
            "border": recipe.border,
            "grey": recipe.grey,
            "channels": recipe.channels,
            "alpha": recipe.alpha,
            "display": recipe.display,
            "rounding": recipe.rounding,
            "between_stages": recipe.between_stages,
            "channels_of_result": view.channels_of_result,
        }
        widgets = (
            self.flip_check,
            self.channels_check,
            *self.channel_checks.values(),
            self.border_combo,
            self.colour_combo,
            self.display_combo,
            self.alpha_combo,
            self.rounding_combo,
            self.between_combo,
            self.like_combo,
        )
        for widget in widgets:
            widget.blockSignals(True)
        self.flip_check.setChecked(recipe.flip)
        self.channels_check.setChecked(view.channels_of_result)
        for letter, check in self.channel_checks.items():
            check.setChecked(letter in recipe.channels)
        for combo, value in (
            (self.border_combo, recipe.border),
            (self.colour_combo, recipe.grey),
            (self.display_combo, recipe.display),
            (self.alpha_combo, recipe.alpha),
            (self.rounding_combo, recipe.rounding),
            (self.between_combo, recipe.between_stages),
            (self.like_combo, self._convention_followed(recipe)),
        ):
            combo.setCurrentIndex(combo.findData(value))
        for widget in widgets:
            widget.blockSignals(False)

    def _convention_followed(self, recipe: Recipe) -> str:
        # The program last chosen while the options still follow it, else the
        # first that they follow, else none.
        chosen = CONVENTIONS.get(self._like_chosen)
        if chosen is not None and chosen.is_followed_by(recipe):
            return self._like_chosen
        return next(
            (slug for slug, found in CONVENTIONS.items() if found.is_followed_by(recipe)),
            CUSTOM_CONVENTION,
        )
