"""The window's actions, menus and tool bar, as lists: the window builds and connects them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from kernelstudio.code_export import TARGET_NAMES
from kernelstudio.samples import SAMPLE_IMAGES, sample_image_path

if TYPE_CHECKING:
    from kernelstudio.app.main_window import MainWindow

_KEYS = QKeySequence.StandardKey
VIEW_MODES = {
    "side": ("Side by Side", "Ctrl+Alt+1", "The original and the result side by side"),
    "split": ("Split", "Ctrl+Alt+2", "One picture: drag the line to compare before and after"),
    "compare": (
        "Compare with Pinned",
        "Ctrl+Alt+3",
        "The pinned result and its difference to the current one",
    ),
}


class WindowActions:
    """Every action of the window, by what it does (``actions.export_result`` …).

    Each action has an object name (``<name>Action``), a status tip and, where
    it has one, its shortcut in the tooltip, so scripts and assistive tools
    find them by name.
    """

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.all: dict[str, QAction] = {}
        w = window
        self.open = self._add("open", "&Open…", w.choose_image, _KEYS.Open, "Open an image file")
        self.paste = self._add(
            "paste", "&Paste Image", w.paste_image, _KEYS.Paste, "Use the image on the clipboard"
        )
        self.export_result = self._add(
            "exportResult", "&Export Result…", lambda: w.choose_export("result"), "Ctrl+E",
            "Save the result as shown",
        )  # fmt: skip
        self.export_float = self._add(
            "exportFloat", "Export Result as &Float TIFF…", lambda: w.choose_export("float"),
            None, "Save the exact float32 values",
        )  # fmt: skip
        self.export_views = self._add(
            "exportViews", "Export &All Views…", lambda: w.choose_export("views"),
            "Ctrl+Shift+E", "Save the original, the result and the channels in one picture",
        )  # fmt: skip
        self.copy = self._add(
            "copy",
            "&Copy Result",
            w.copy_result,
            "Ctrl+Shift+C",
            "Put the result on the clipboard",
        )
        self.import_kernel = self._add(
            "importKernel", "&Import Kernel…", w.choose_kernel_import, None,
            "Use a kernel file for the selected stage",
        )  # fmt: skip
        self.export_kernel = self._add(
            "exportKernel", "Export &Kernel…", lambda: w.choose_export("kernel"), None,
            "Save the selected stage's kernel as a file",
        )  # fmt: skip
        self.import_recipe = self._add(
            "importRecipe", "Import Re&cipe…", w.choose_recipe_import, None,
            "Use a recipe file: every stage and option",
        )  # fmt: skip
        self.export_recipe = self._add(
            "exportRecipe", "Export R&ecipe…", lambda: w.choose_export("recipe"), None,
            "Save every stage and option as a recipe file",
        )  # fmt: skip
        self.copy_as_code: dict[str, QAction] = {}
        for target, name in TARGET_NAMES.items():
            shortcut = "Ctrl+Alt+C" if target == "numpy" else None
            self.copy_as_code[target] = self._add(
                f"copyAsCode{name.replace('-', '').replace(chr(39), '')}",
                f"{name}…",
                lambda _checked=False, t=target: w.show_code(t),
                shortcut,
                f"The recipe as a program for {name}: preview, copy or save it",
            )
        self.quit = self._add("quit", "&Quit", w.close, _KEYS.Quit, "Close Kernel Studio")
        group = w.undo_group
        self.undo = group.createUndoAction(w, "&Undo")
        self.undo.setObjectName("undoAction")
        self.undo.setShortcut(QKeySequence(_KEYS.Undo))
        self.redo = group.createRedoAction(w, "&Redo")
        self.redo.setObjectName("redoAction")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(_KEYS.Redo)])
        for action in (self.undo, self.redo):
            w.addAction(action)
        self.normalise = self._add(
            "normalise", "&Normalise Kernel", w.normalise, "Ctrl+Shift+N",
            "Divide every weight by the sum, so brightness is kept",
        )  # fmt: skip
        self.save_preset = self._add(
            "savePreset", "&Save Kernel as Preset…", w.ask_preset_name, _KEYS.Save,
            "Keep the selected stage's kernel as a preset (the command line sees it too)",
        )  # fmt: skip
        self.rename_preset = self._add(
            "renamePreset", "&Rename Preset…", w.ask_preset_rename, None,
            "Rename one of your saved presets",
        )  # fmt: skip
        self.delete_preset = self._add(
            "deletePreset", "&Delete Preset…", w.ask_preset_delete, None,
            "Delete one of your saved presets",
        )  # fmt: skip
        self.fit = self._add("fit", "&Fit", w.views.fit, "Ctrl+0", "Show the whole image")
        self.one_to_one = self._add(
            "oneToOne", "&Actual Pixels (1:1)", w.views.one_to_one, "Ctrl+1",
            "One image pixel per screen pixel",
        )  # fmt: skip
        self.pin = self._add(
            "pin", "&Pin Result for Comparison", w.pin_result, "Ctrl+P",
            "Keep this result and compare the next ones with it",
        )  # fmt: skip
        self.unpin = self._add("unpin", "Stop &Comparing", w.unpin_result, None, "Forget the pin")
        self.explainer = self._add(
            "explainer", "&Pixel Explainer", lambda: w.show_side_tab("pixel"), "Ctrl+I",
            "How one output pixel is computed",
        )  # fmt: skip
        self.histogram = self._add(
            "histogram", "&Histogram", lambda: w.show_side_tab("histogram"), "Ctrl+H",
            "How many result pixels have each value",
        )  # fmt: skip
        self.side_panel = self._add(
            "sidePanel", "Side &Panel", w.toggle_side_panel, "F9",
            "Show or hide the column of panels beside the pictures",
        )  # fmt: skip
        self.side_panel.setCheckable(True)
        self.side_panel.setChecked(True)
        self.walkthrough = self._add(
            "walkthrough", "Tutorial &Walkthrough", w.start_tutorial, "F1",
            "Replay the tutorial step by step; your work comes back when it ends",
        )  # fmt: skip
        self.about = self._add("about", "&About Kernel Studio", w.about, None, "Version, credits")
        self.modes = QActionGroup(w)
        self.mode: dict[str, QAction] = {}
        for mode, (text, shortcut, tip) in VIEW_MODES.items():
            # A checkable action's triggered(bool) would fill a first default argument.
            choose = lambda _checked=False, m=mode: w.set_view_mode(m)  # noqa: E731
            action = self._add(f"{mode}Mode", text, choose, shortcut, tip)
            action.setCheckable(True)
            self.modes.addAction(action)
            self.mode[mode] = action
        self.mode["side"].setChecked(True)

    def _add(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence.StandardKey | str | None,
        tip: str,
    ) -> QAction:
        action = QAction(text, self._window)
        action.setObjectName(f"{name}Action")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        plain = text.replace("&", "").rstrip("…")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{plain} ({keys})" if keys else plain)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self._window.addAction(action)
        self.all[name] = action
        return action

    def show_mode(self, mode: str) -> None:
        """Check the action of view mode `mode` (the views changed mode)."""
        self.mode[mode].setChecked(True)


def build_menus(window: MainWindow, actions: WindowActions) -> dict[str, QMenu]:
    """Fill the window's menu bar; return the menus whose items change (recent, presets)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(actions.open)
    recent = file_menu.addMenu("Open &Recent")
    recent.setObjectName("recentMenu")
    samples = file_menu.addMenu("Open &Sample")
    for name in SAMPLE_IMAGES:
        samples.addAction(name.capitalize(), lambda n=name: window.open_path(sample_image_path(n)))
    file_menu.addAction(actions.paste)
    file_menu.addSeparator()
    for action in (actions.export_result, actions.export_float, actions.export_views):
        file_menu.addAction(action)
    file_menu.addAction(actions.copy)
    file_menu.addSeparator()
    for action in (
        actions.import_kernel,
        actions.export_kernel,
        actions.import_recipe,
        actions.export_recipe,
    ):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)

    edit_menu = bar.addMenu("&Edit")
    for action in (actions.undo, actions.redo, None, actions.normalise, None):
        edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
    edit_menu.addAction(actions.pin)
    edit_menu.addAction(actions.unpin)
    edit_menu.addSeparator()
    code_menu = edit_menu.addMenu("Copy as &Code")
    code_menu.setObjectName("copyAsCodeMenu")
    for action in actions.copy_as_code.values():
        code_menu.addAction(action)

    presets = bar.addMenu("&Presets")
    presets.setObjectName("presetsMenu")

    view_menu = bar.addMenu("&View")
    for action in actions.mode.values():
        view_menu.addAction(action)
    view_menu.addSeparator()
    for action in (actions.fit, actions.one_to_one, None, actions.side_panel):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)
    view_menu.addAction(actions.explainer)
    view_menu.addAction(actions.histogram)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.walkthrough)
    help_menu.addAction(actions.about)
    return {"recent": recent, "presets": presets}


def build_tool_bar(window: MainWindow, actions: WindowActions) -> QToolBar:
    """Build the tool bar: open and export, the view modes, fit and 1:1."""
    bar = QToolBar("Tools", window)
    bar.setObjectName("mainToolBar")
    bar.setMovable(False)
    bar.setAccessibleName("Tools")
    for action in (actions.open, actions.export_result, None, *actions.mode.values(), None):
        bar.addSeparator() if action is None else bar.addAction(action)
    for action in (actions.fit, actions.one_to_one, None, actions.pin, None, actions.side_panel):
        bar.addSeparator() if action is None else bar.addAction(action)
    for action in bar.actions():
        widget = bar.widgetForAction(action)
        if widget is not None and not action.isSeparator():
            widget.setObjectName(f"{action.objectName()}Button")
            widget.setAccessibleName(action.text().replace("&", "").rstrip("…"))
    return bar


def fill_presets_menu(
    menu: QMenu,
    builtins: dict[str, str],
    customs: list[str],
    choose_builtin: Callable[[str], None],
    choose_custom: Callable[[str], None],
    actions: WindowActions,
) -> None:
    """List the built-in presets (`builtins`: slug → name), then the saved ones, then the tools."""
    menu.clear()
    for slug, name in builtins.items():
        menu.addAction(name, lambda s=slug: choose_builtin(s))
    if customs:
        menu.addSeparator()
        for name in customs:
            menu.addAction(f"★ {name}", lambda n=name: choose_custom(n))
    menu.addSeparator()
    menu.addAction(actions.save_preset)
    menu.addAction(actions.rename_preset)
    menu.addAction(actions.delete_preset)
    actions.rename_preset.setEnabled(bool(customs))
    actions.delete_preset.setEnabled(bool(customs))
