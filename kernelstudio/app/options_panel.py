"""Controls for everything besides the weights: flip, border, colour, display."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QWidget

from kernelstudio.app.controller import ViewOptions
from kernelstudio.pipeline import Recipe

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


class OptionsPanel(QWidget):
    """Form of the options; emits ``changed`` with the field a person changed.

    Signals
    -------
    changed(str, object)
        The name of the option a person changed (as :meth:`Controller.update
        <kernelstudio.app.controller.Controller.update>` takes it) and its new value.
    """

    changed = Signal(str, object)

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
        self.flip_check.toggled.connect(lambda on: self.changed.emit("flip", on))
        self.channels_check.toggled.connect(lambda on: self.changed.emit("channels_of_result", on))
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.flip_check)
        form.addRow("Border:", self.border_combo)
        form.addRow("Process:", self.colour_combo)
        form.addRow("Display:", self.display_combo)
        form.addRow(self.channels_check)

    def _combo(self, name: str, labels: dict, field: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        for value, label in labels.items():
            combo.addItem(label, value)
        combo.activated.connect(lambda index: self.changed.emit(field, combo.itemData(index)))
        return combo

    def show_options(self, recipe: Recipe, view: ViewOptions) -> None:
        """Make the controls show `recipe`'s options and `view` without emitting ``changed``."""
        for widget in (self.flip_check, self.channels_check):
            widget.blockSignals(True)
        self.flip_check.setChecked(recipe.flip)
        self.channels_check.setChecked(view.channels_of_result)
        for widget in (self.flip_check, self.channels_check):
            widget.blockSignals(False)
        for combo, value in (
            (self.border_combo, recipe.border),
            (self.colour_combo, recipe.grey),
            (self.display_combo, recipe.display),
        ):
            combo.setCurrentIndex(combo.findData(value))
