"""Controls for everything besides the weights: divisor, offset, and the options."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QWidget

from kernelstudio.app.controller import ViewOptions
from kernelstudio.kernels import format_weight, parse_weight
from kernelstudio.pipeline import Recipe, Stage

BORDER_LABELS = {
    "mirror": "Mirror (c b | a b c)",
    "reflect": "Reflect (b a | a b c)",
    "nearest": "Nearest (a a | a b c)",
    "constant": "Zeros (0 0 | a b c)",
    "wrap": "Wrap (b c | a b c)",
    "valid": "Valid (output shrinks)",
}
DISPLAY_LABELS = {
    "clip": "Clip to 0…255",
    "abs": "Absolute value",
    "normalize": "Stretch min…max",
    "signed": "Signed (0 is mid-grey)",
}
ALPHA_LABELS = {
    "keep": "Keep alpha as it is",
    "weighted": "Weight colour by alpha",
    "process": "Filter alpha too (A)",
}
_INVALID_STYLE = "QLineEdit[invalid='true'] { background: #ffd6d6; border: 1px solid #d33; }"


_CHANNEL_WORDS = {"r": "red", "g": "green", "b": "blue", "a": "alpha"}


class OptionsPanel(QWidget):
    """Form of the options; emits ``changed`` with the field a person changed.

    Signals
    -------
    changed(str, object)
        The name of the option a person changed (as :meth:`Controller.update
        <kernelstudio.app.controller.Controller.update>` takes it) and its new value.
    invalid(str, str)
        What a person typed or chose for an option cannot be used; the option's
        name and why. Nothing changed.
    """

    changed = Signal(str, object)
    invalid = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flip_check = QCheckBox("Flip kernel (true convolution)", self)
        self.flip_check.setObjectName("flipCheck")
        self.flip_check.setToolTip(
            "Off: correlation, the kernel is applied as written (what most tools do).\n"
            "On: the kernel is rotated 180° first, as in the mathematical definition."
        )
        self.border_combo = self._combo("borderCombo", BORDER_LABELS, "border")
        self.border_combo.setToolTip("What the kernel sees beyond the image's edge")
        self.colour_combo = self._combo(
            "colourCombo", {False: "Colour (each channel)", True: "Greyscale"}, "grey"
        )
        self.display_combo = self._combo("displayCombo", DISPLAY_LABELS, "display")
        self.display_combo.setToolTip(
            "How results become screen pixels; edge kernels give negative values,\n"
            "which 'Absolute value' or 'Stretch' make visible."
        )
        self.channels_check = QCheckBox("Channels of the result", self)
        self.channels_check.setObjectName("channelsCheck")
        self.channels_check.setToolTip("Show R, G, B of the result instead of the original")
        self.divisor_edit = self._number("divisorEdit", "divisor", "Divisor")
        self.divisor_edit.setToolTip("The weighted sum is divided by this (not 0); 1/16 works too")
        self.offset_edit = self._number("offsetEdit", "offset", "Offset")
        self.offset_edit.setToolTip(
            "Added after dividing, in the image's units: 128 is mid-grey for 8-bit images"
        )
        self.channel_checks = {}
        channel_row = QHBoxLayout()
        channel_row.setContentsMargins(0, 0, 0, 0)
        for letter in "rgba":
            check = QCheckBox(letter.upper(), self)
            check.setObjectName(f"channel{letter.upper()}Check")
            check.setAccessibleName(f"Filter the {_CHANNEL_WORDS[letter]} channel")
            check.toggled.connect(self._on_channel_toggled)
            self.channel_checks[letter] = check
            channel_row.addWidget(check)
        channel_row.addStretch(1)
        self.alpha_combo = self._combo("alphaCombo", ALPHA_LABELS, "alpha")
        self.alpha_combo.setToolTip(
            "Keep: transparency passes through. Weight: transparent pixels' hidden colour\n"
            "never shows (as GIMP does). Filter: alpha is filtered like a colour when A is on."
        )
        self.setStyleSheet(_INVALID_STYLE)
        self.flip_check.toggled.connect(lambda on: self.changed.emit("flip", on))
        self.channels_check.toggled.connect(lambda on: self.changed.emit("channels_of_result", on))
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Divide by:", self.divisor_edit)
        form.addRow("Then add:", self.offset_edit)
        form.addRow(self.flip_check)
        form.addRow("Border:", self.border_combo)
        form.addRow("Process:", self.colour_combo)
        form.addRow("Channels:", channel_row)
        form.addRow("Transparency:", self.alpha_combo)
        form.addRow("Display:", self.display_combo)
        form.addRow(self.channels_check)
        for widget, name in (
            (self.border_combo, "Border mode"),
            (self.colour_combo, "Colour or greyscale"),
            (self.display_combo, "Display mapping"),
            (self.alpha_combo, "Transparency"),
            (self.flip_check, "Flip kernel"),
            (self.channels_check, "Show the result's channels"),
        ):
            widget.setAccessibleName(name)

    def _combo(self, name: str, labels: dict, field: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        for value, label in labels.items():
            combo.addItem(label, value)
        combo.activated.connect(lambda index: self.changed.emit(field, combo.itemData(index)))
        return combo

    def _number(self, name: str, field: str, label: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setMaxLength(32)
        edit.textEdited.connect(lambda text: self._on_number_edited(edit, field, text))
        return edit

    def _on_number_edited(self, edit: QLineEdit, field: str, text: str) -> None:
        try:
            value = parse_weight(text)
            Stage([[1.0]], **{field: value})  # the stage's own rule: a divisor is not 0
        except ValueError as error:
            self._mark(edit, str(error))
            self.invalid.emit(field, str(error))
            return
        self._mark(edit, None)
        self.changed.emit(field, value)

    @staticmethod
    def _mark(edit: QLineEdit, problem: str | None) -> None:
        invalid = problem is not None
        if edit.property("invalid") != invalid:
            edit.setProperty("invalid", invalid)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
        edit.setToolTip(problem or edit.accessibleDescription())

    def refuse(self, field: str, reason: str) -> None:
        """Mark the number `field` a person typed as unusable, saying `reason`."""
        edit = {"divisor": self.divisor_edit, "offset": self.offset_edit}.get(field)
        if edit is not None:
            self._mark(edit, reason)

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
        self.changed.emit("channels", channels)

    def show_options(self, recipe: Recipe, view: ViewOptions) -> None:
        """Make the controls show `recipe`'s options and `view` without emitting ``changed``.

        A number a person is typing keeps its text while it means the applied value.
        """
        stage = recipe.stages[0]
        for edit, value in ((self.divisor_edit, stage.divisor), (self.offset_edit, stage.offset)):
            try:
                shown = parse_weight(edit.text())
            except ValueError:
                shown = None
            if shown != value:
                edit.setText(format_weight(value))
            self._mark(edit, None)
        checks = (self.flip_check, self.channels_check, *self.channel_checks.values())
        for widget in checks:
            widget.blockSignals(True)
        self.flip_check.setChecked(recipe.flip)
        self.channels_check.setChecked(view.channels_of_result)
        for letter, check in self.channel_checks.items():
            check.setChecked(letter in recipe.channels)
        for widget in checks:
            widget.blockSignals(False)
        for combo, value in (
            (self.border_combo, recipe.border),
            (self.colour_combo, recipe.grey),
            (self.display_combo, recipe.display),
            (self.alpha_combo, recipe.alpha),
        ):
            combo.setCurrentIndex(combo.findData(value))
