"""The "From parameters" section: the selected stage's generator as sliders and spin boxes.

Everything here is read from :data:`kernelstudio.generators.GENERATORS`: a
generator's :class:`~kernelstudio.generators.Parameter` s become a slider and a
spin box each (a number) or a box to choose from (a choice), so a new generator
needs no widget code. Like the rest of the Recipe tab, the panel holds no truth:
:meth:`GeneratorPanel.show_state` shows the applied state, and every change
comes out as a whole new recipe (``recipeEdited``).

A slider drag asks for a value per pixel moved. The values wait in one place
and a zero-interval timer turns them into one new recipe when the event loop
is next free: the latest value wins, and the window never works through a
backlog of old ones (the controller drops stale results the same way).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Hashable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.app.controller import ViewOptions
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.app.kernel_editor import LeaveShortcutsToWindow, OddSpinBox
from kernelstudio.generators import GENERATORS, Generator, GeneratorSettings, Parameter, generate
from kernelstudio.pipeline import Recipe, Stage

TYPED = "Typed weights"
"""The generator box's first line: the stage's weights are typed, not generated."""

AUTO = "auto"
"""What a size spin box shows for ``None``: the generator picks the size."""

PATIENCE_MS = 250
"""How long a moved value waits for the result being computed before it is proposed."""

FLOAT_DECIMALS = 3
"""Decimals a number's spin box keeps (it shows no trailing zeros)."""

_MAX_WIDTH = 16_777_215  # QWIDGETSIZE_MAX
_SLIDER_MIN_WIDTH = 60
_TYPED_NOTE = (
    "The weights are typed in the grid below. Choose a generator to make them from parameters."
)


def spoken(value: object) -> str:
    """Write a parameter's value as the undo text and the note say it.

    Examples
    --------
    >>> spoken(2.5), spoken(None), spoken(7), spoken("left"), spoken(9.899494936611665)
    ('2.5', 'auto', '7', 'left', '9.899')
    """
    if value is None:
        return AUTO
    if isinstance(value, float):
        return format(round(value, FLOAT_DECIMALS), "g")
    return str(value)


def _label_text(parameter: Parameter) -> str:
    words = parameter.name.replace("_", " ")
    return f"{words} ({parameter.unit}):" if parameter.unit else f"{words}:"


def _tooltip(parameter: Parameter) -> str:
    # The range and the unit, in the command line's words (describe_range).
    lines = [f"{parameter.name}: {parameter.describe_range()}"]
    if parameter.optional:
        lines.append(f"{AUTO}: the smallest size that holds the kernel")
    if parameter.unit == "°":
        lines.append("Degrees counter-clockwise from pointing right: 90° is up")
    if parameter.kind != "choice":
        lines.append("Drag the slider or type a value (Return applies it)")
    return "\n".join(lines)


class _NumberSpinBox(QDoubleSpinBox):
    # Keeps FLOAT_DECIMALS but shows "2.5", not "2.500" (and a preset's 9.8995 as 9.899).

    @qt_virtual(default="")
    def textFromValue(self, value: float) -> str:
        locale = self.locale()
        text = locale.toString(value, "f", self.decimals())
        text = text.replace(locale.groupSeparator(), "")
        point = locale.decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


class _SideSpinBox(OddSpinBox):
    # An odd size that may also be "auto" (its lowest value, one step below 1).

    @qt_virtual(default=(QValidator.State.Invalid, "", 0))
    def validate(self, text: str, position: int) -> object:
        if self.specialValueText() and text == self.specialValueText():
            return QSpinBox.validate(self, text, position)
        return super().validate(text, position)


class _NumberRow(QObject):
    # One number parameter: a slider on the parameter's steps and a spin box kept in step.
    # An optional ("auto") parameter has one more slider position, the first, for None.

    changed = Signal(str, object)

    def __init__(self, parameter: Parameter, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.parameter = parameter
        self._auto = 1 if parameter.optional else 0
        steps = round((parameter.maximum - parameter.minimum) / parameter.step)
        tip = _tooltip(parameter)
        name = parameter.name

        self.slider = QSlider(Qt.Orientation.Horizontal, parent)
        self.slider.setObjectName(f"slider_{name}")
        self.slider.setAccessibleName(f"{title}: {name.replace('_', ' ')}")
        self.slider.setToolTip(tip)
        self.slider.setRange(0, steps + self._auto)
        self.slider.setPageStep(max(1, (steps + self._auto) // 10))
        self.slider.setMinimumWidth(_SLIDER_MIN_WIDTH)
        self.slider.valueChanged.connect(self._on_slider)
        # While a drag runs, the slider keeps its width: a grid that grows widens the
        # column, and a wider slider would put another value under the pointer.
        self.slider.sliderPressed.connect(self._pin)
        self.slider.sliderReleased.connect(self._unpin)

        if parameter.kind == "float":
            spin: QAbstractSpinBox = _NumberSpinBox(parent)
            spin.setDecimals(FLOAT_DECIMALS)
        elif parameter.odd:
            spin = _SideSpinBox(parent)
        else:
            spin = QSpinBox(parent)
        lowest = parameter.minimum - parameter.step * self._auto
        if parameter.kind == "float":
            spin.setRange(lowest, parameter.maximum)
            spin.setSingleStep(parameter.step)
        else:
            spin.setRange(int(lowest), int(parameter.maximum))
            spin.setSingleStep(int(parameter.step))
        if parameter.optional:
            spin.setSpecialValueText(AUTO)
        spin.setKeyboardTracking(False)  # "15" must not apply "1" on the way
        spin.setObjectName(f"spin_{name}")
        spin.setAccessibleName(f"{title}: {name.replace('_', ' ')}, typed")
        spin.setToolTip(tip)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        spin.valueChanged.connect(self._on_spin)
        self.spin = spin

    def value_at(self, position: int) -> object:
        """Return the parameter's value at slider `position`."""
        parameter = self.parameter
        if position < self._auto:
            return None
        value = parameter.minimum + (position - self._auto) * parameter.step
        return round(value) if parameter.kind == "int" else round(value, 9)

    def position_of(self, value: object) -> int:
        """Return the slider position nearest `value`."""
        parameter = self.parameter
        if value is None:
            return 0
        steps = round((float(value) - parameter.minimum) / parameter.step)
        return min(max(steps, 0), self.slider.maximum() - self._auto) + self._auto

    def show_value(self, value: object) -> None:
        """Show `value` in both controls, emitting nothing."""
        for control, shown in (
            (self.slider, self.position_of(value)),
            (self.spin, self.spin.minimum() if value is None else value),
        ):
            if control.value() != shown:
                control.blockSignals(True)
                control.setValue(shown)
                control.blockSignals(False)

    def _on_slider(self, position: int) -> None:
        value = self.value_at(position)
        self.spin.blockSignals(True)
        self.spin.setValue(self.spin.minimum() if value is None else value)
        self.spin.blockSignals(False)
        self.changed.emit(self.parameter.name, value)

    def _on_spin(self, number: float) -> None:
        value = None if self._auto and number == self.spin.minimum() else number
        if value is not None and self.parameter.kind == "int":
            value = int(value)
        self.slider.blockSignals(True)
        self.slider.setValue(self.position_of(value))
        self.slider.blockSignals(False)
        self.changed.emit(self.parameter.name, value)

    def _pin(self) -> None:
        self.slider.setFixedWidth(self.slider.width())

    def _unpin(self) -> None:
        self.slider.setMinimumWidth(_SLIDER_MIN_WIDTH)
        self.slider.setMaximumWidth(_MAX_WIDTH)


class _ChoiceRow(QObject):
    # One choice parameter: a box listing its values.

    changed = Signal(str, object)

    def __init__(self, parameter: Parameter, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.parameter = parameter
        self.combo = QComboBox(parent)
        self.combo.setObjectName(f"choice_{parameter.name}")
        self.combo.setAccessibleName(f"{title}: {parameter.name.replace('_', ' ')}")
        self.combo.setToolTip(_tooltip(parameter))
        for choice in parameter.choices:
            self.combo.addItem(str(choice))
        self.combo.currentIndexChanged.connect(self._on_chosen)

    def show_value(self, value: object) -> None:
        """Show `value`, emitting nothing."""
        index = self.parameter.choices.index(value)
        if self.combo.currentIndex() != index:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)

    def _on_chosen(self, index: int) -> None:
        if 0 <= index < len(self.parameter.choices):
            self.changed.emit(self.parameter.name, self.parameter.choices[index])


class _Form(QWidget):
    # One generator's rows: label, slider, spin box (or label, choices).

    changed = Signal(str, object)

    def __init__(self, entry: Generator, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"generatorForm_{entry.slug}")
        self.slug = entry.slug
        self.rows: dict[str, _NumberRow | _ChoiceRow] = {}
        shortcuts = LeaveShortcutsToWindow(self)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(4)
        layout.setColumnStretch(1, 1)
        for line, parameter in enumerate(entry.parameters):
            label = QLabel(_label_text(parameter), self)
            label.setObjectName(f"label_{parameter.name}")
            layout.addWidget(label, line, 0)
            if parameter.kind == "choice":
                row: _NumberRow | _ChoiceRow = _ChoiceRow(parameter, entry.title, self)
                label.setBuddy(row.combo)
                layout.addWidget(row.combo, line, 1, 1, 2)
            else:
                row = _NumberRow(parameter, entry.title, self)
                label.setBuddy(row.spin)
                row.spin.installEventFilter(shortcuts)
                layout.addWidget(row.slider, line, 1)
                layout.addWidget(row.spin, line, 2)
            row.changed.connect(self.changed)
            self.rows[parameter.name] = row

    def show_values(self, values: dict[str, object]) -> None:
        for name, value in values.items():
            self.rows[name].show_value(value)


class GeneratorPanel(QWidget):
    """The selected stage's generator and its parameters, or "Typed weights".

    The panel shows what :meth:`show_state` gives it and emits what the person
    asks for; it never changes a value by itself.

    Signals
    -------
    recipeEdited(object, str, object)
        The whole new :class:`~kernelstudio.pipeline.Recipe`, the undo text
        ("Gaussian blur: sigma 2.5") and the key under which a drag's steps
        merge into one undo step: ``("generator", stage, slug)`` for a
        parameter, ``None`` for choosing a generator.

    Attributes
    ----------
    combo : QComboBox
        "Typed weights", then every generator by title ("generatorCombo").
    note : QLabel
        The generator's summary, what it had to do (cut a kernel to 31 × 31),
        or why a change was refused ("generatorNote").
    """

    recipeEdited = Signal(object, str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generatorPanel")
        self._recipe = Recipe((Stage([[1.0]]),))
        self._view = ViewOptions()
        self._selected = 0
        self._shown: tuple[int, str | None] = (0, None)
        self._syncing = False
        self._form: _Form | None = None
        self._retired: list[_Form] = []  # kept alive until deleteLater deletes them
        self._pending: dict[str, object] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self._busy: Callable[[], bool] = lambda: False
        # A job that never reports back must not hold a moved value for long.
        self._patience_timer = QTimer(self)
        self._patience_timer.setSingleShot(True)
        self._patience_timer.setInterval(PATIENCE_MS)
        self._patience_timer.timeout.connect(self._flush)

        self.combo = QComboBox(self)
        self.combo.setObjectName("generatorCombo")
        self.combo.setAccessibleName("Generator of the selected stage")
        self.combo.setToolTip(
            "Make the selected stage's weights from a few parameters (a Gaussian's σ,\n"
            "a motion blur's length and angle …), or keep typed weights. Typing into\n"
            "the grid afterwards turns a generated stage back into typed weights."
        )
        self.combo.addItem(TYPED, None)
        for slug, entry in GENERATORS.items():
            self.combo.addItem(entry.title, slug)
            self.combo.setItemData(
                self.combo.count() - 1, _plain(entry.summary), Qt.ItemDataRole.ToolTipRole
            )
        self.combo.currentIndexChanged.connect(self._on_generator_chosen)

        self.note = QLabel(self)
        self.note.setObjectName("generatorNote")
        self.note.setAccessibleName("About the generator")
        self.note.setWordWrap(True)
        # Its lines' height, never less: a squeezed column must not move what is below.
        policy = self.note.sizePolicy()
        policy.setVerticalPolicy(QSizePolicy.Policy.Fixed)
        self.note.setSizePolicy(policy)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.combo)
        self._layout.addWidget(self.note)
        self.show_state(self._recipe, self._view, 0)

    # Showing ------------------------------------------------------------------

    @property
    def form(self) -> QWidget | None:
        """The rows of the generator shown, or ``None`` for typed weights."""
        return self._form

    def show_state(self, recipe: Recipe, view: ViewOptions, selected: int) -> None:
        """Show stage `selected` of `recipe`: its generator and values, emitting nothing.

        Values a person moved that have not been applied yet (they wait for the
        event loop) stay as they are, unless another stage or generator is shown.
        """
        selected = min(max(int(selected), 0), len(recipe.stages) - 1)
        settings = recipe.stages[selected].generator
        shown = (selected, None if settings is None else settings.slug)
        if shown != self._shown:
            self._pending.clear()
            self._flush_timer.stop()
        self._syncing = True
        try:
            self._recipe, self._view, self._selected = recipe, view, selected
            self._shown = shown
            index = 0 if settings is None else self.combo.findData(settings.slug)
            if self.combo.currentIndex() != index:
                self.combo.blockSignals(True)
                self.combo.setCurrentIndex(index)
                self.combo.blockSignals(False)
            self._show_form(None if settings is None else settings.slug)
            if settings is not None:
                self._form.show_values({**settings.values, **self._pending})
            self._show_note(settings)
        finally:
            self._syncing = False

    def _show_form(self, slug: str | None) -> None:
        # One generator's rows at a time, so that "slider_sigma" names one slider.
        if self._form is not None and self._form.slug == slug:
            return
        if self._form is not None:
            old, self._form = self._form, None
            old.hide()
            self._layout.removeWidget(old)
            # Deleted later: it may be handling the key that undid its generator.
            old.setParent(None)  # out of findChild's reach at once
            old.deleteLater()
            self._retired = [form for form in self._retired if shiboken6.isValid(form)]
            self._retired.append(old)
        if slug is not None:
            self._form = _Form(GENERATORS[slug], self)
            self._form.changed.connect(self._on_value_moved)
            self._layout.insertWidget(1, self._form)
            self._form.show()

    def _show_note(self, settings: GeneratorSettings | None) -> None:
        notes = () if settings is None else generate(settings).notes
        if notes:
            self._set_note("<br>".join(html.escape(note) for note in notes), problem=True)
        elif settings is None:
            self._set_note(html.escape(_TYPED_NOTE), problem=False)
        else:
            self._set_note(summary_html(GENERATORS[settings.slug].summary), problem=False)

    def _set_note(self, rich_text: str, *, problem: bool) -> None:
        # A summary reads as an aside (italic); what went wrong or was cut, plainly.
        self.note.setText(rich_text if problem else f"<i>{rich_text}</i>")
        self.note.setProperty("problem", problem)

    def _show_again(self) -> None:
        self.show_state(self._recipe, self._view, self._selected)

    # Asking -------------------------------------------------------------------

    def _stage(self) -> Stage:
        return self._recipe.stages[self._selected]

    def _with_stage(self, stage: Stage, **options: object) -> Recipe:
        return self._recipe.with_stage(self._selected, stage, **options)

    def _propose(self, make: Callable[[], Recipe], text: str, key: Hashable = None) -> None:
        # A refusal is told in the note, over the applied state shown again.
        try:
            recipe = make()
        except ValueError as error:
            self._show_again()
            self._set_note(html.escape(f"{text}: {error}"), problem=True)
            return
        if recipe != self._recipe:
            self.recipeEdited.emit(recipe, text, key)

    def _on_generator_chosen(self, index: int) -> None:
        if self._syncing:
            return
        slug = self.combo.itemData(index)
        stage = self._stage()
        fields = _kept_fields(stage)
        if slug is None:
            if stage.generator is not None:
                self._propose(lambda: self._with_stage(Stage(stage.weights, **fields)), TYPED)
            return
        if stage.generator is not None and stage.generator.slug == slug:
            return
        entry = GENERATORS[slug]
        self._propose(
            lambda: self._with_stage(
                Stage.generated(entry.start_settings(), **fields), display=entry.display
            ),
            entry.title,
        )

    @property
    def has_pending(self) -> bool:
        """Whether a moved value waits to be proposed (the controls are ahead of the recipe)."""
        return bool(self._pending)

    def pace_with(self, busy: Callable[[], bool], *finished: SignalInstance) -> None:
        """Hold moved values while `busy()` says a result is being computed.

        A drag then proposes a new recipe whenever one of the `finished`
        signals says the result is in (or failed): every result computed is
        one the person asked for and is shown, where proposing a value per
        step would have every result overtaken before it could be shown, and
        nothing would move on screen until the drag stopped. After
        :data:`PATIENCE_MS` a held value is proposed anyway.
        """
        self._busy = busy
        for signal in finished:
            signal.connect(self._on_result_in)

    def _on_result_in(self, *_arguments: object) -> None:
        if self._pending and not self._flush_timer.isActive():
            self._flush_timer.start()

    def _on_value_moved(self, name: str, value: object) -> None:
        if self._syncing:
            return
        self._pending[name] = value
        if self._busy():
            if not self._patience_timer.isActive():
                self._patience_timer.start()
        elif not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        # At most once per turn of the event loop: the latest value of each parameter.
        self._patience_timer.stop()
        pending, self._pending = self._pending, {}
        stage = self._stage()
        settings = stage.generator
        if not pending or settings is None:
            return
        entry = GENERATORS[settings.slug]
        changed = {
            name: value for name, value in pending.items() if settings.values[name] != value
        }
        if not changed:
            return
        text = f"{entry.title}: " + ", ".join(
            f"{name.replace('_', ' ')} {spoken(value)}" for name, value in changed.items()
        )
        self._propose(
            lambda: self._with_stage(
                Stage.generated(settings.with_values(**changed), **_kept_fields(stage))
            ),
            text,
            ("generator", self._selected, settings.slug),
        )


def _kept_fields(stage: Stage) -> dict[str, object]:
    # What a stage keeps when its weights are made anew.
    return {
        "divisor": stage.divisor,
        "offset": stage.offset,
        "enabled": stage.enabled,
        "name": stage.name,
    }


def _plain(summary: str) -> str:
    # A docstring's first line without its reStructuredText marks.
    return summary.replace("``", "").replace("`", "")


def summary_html(summary: str) -> str:
    """Return a generator's summary as rich text, with the parameters it names in bold.

    Examples
    --------
    >>> summary_html("Blur `length` px; ``a < b``.")
    'Blur <b>length</b> px; a &lt; b.'
    """
    text = html.escape(summary, quote=False)
    text = re.sub(r"``(.+?)``", r"\1", text)
    return re.sub(r"`(.+?)`", r"<b>\1</b>", text)
