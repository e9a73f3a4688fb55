"""The working session as a versioned JSON document: what comes back after a crash.

A session holds what a person would hate to lose: which image is open (by path,
or as a copy in the state folder for a pasted or generated one), the recipe (its
stages and options), the stage being edited, the undo history and the visible
region of the image. The document is ``{"format": "kernelstudio-session",
"version": 3, ...}`` with the recipe as a recipe file's object under
``"recipe"``, and each undo step's recipe before and after it. Version 2 (undo
steps of the first stage alone) and version 1 (one kernel and its options under
``"kernel"`` and ``"options"``) still load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from kernelstudio.app.stored_state import StoredFileError
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.kernels import brief, validate_kernel
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.recipe_files import RecipeFileError, recipe_from_json, recipe_to_json

SESSION_FORMAT = "kernelstudio-session"
SESSION_VERSION = 3
SESSION_FILE_NAME = "session.json"
IMAGE_COPY_STEM = "session-image"
"""A pasted or generated image is kept as ``session-image.png`` (``.tif`` for floats)."""
MAX_SESSION_BYTES = 8 << 20
MAX_SESSION_DEPTH = 12
"""history.steps[i].before.stages[j].weights[row][column] is ten levels deep."""
MAX_HISTORY_BYTES = 4 << 20
"""The undo history is kept while its weights fit in this many bytes of JSON (about)."""
_BYTES_PER_WEIGHT = 24


class SessionError(StoredFileError):
    """A session document that cannot be used; the message names the field."""


@dataclass(frozen=True)
class HistoryStep:
    """One undoable change: its menu text, and the recipe before and after it."""

    text: str
    before: Recipe
    after: Recipe


@dataclass(frozen=True)
class Session:
    """Everything needed to put the window back as it was.

    Attributes
    ----------
    recipe : Recipe
        The stages and options applied.
    channels_of_result : bool
        Whether the channel views show the result (a view option).
    selected : int
        The index of the stage being edited.
    image_path : str or None
        The image file open, or ``None``.
    image_copy : str or None
        The file name, in the state folder, of the copy of a pasted or
        generated image (then `image_path` is ``None``).
    image_name : str
        What the window calls the image.
    history : tuple of HistoryStep
        The undo history, oldest first.
    history_index : int
        How many of its steps are done (the rest can be redone).
    region : tuple of four floats, or None
        The visible part of the image: x, y, width, height in pixels.
    saved_at : datetime
        When it was written (local time, with its offset).
    closed_normally : bool
        Whether the window closed normally after writing it.
    """

    recipe: Recipe
    channels_of_result: bool = False
    selected: int = 0
    image_path: str | None = None
    image_copy: str | None = None
    image_name: str = ""
    history: tuple[HistoryStep, ...] = ()
    history_index: int = 0
    region: tuple[float, float, float, float] | None = None
    saved_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    closed_normally: bool = False


def session_to_json(session: Session) -> str:
    """Write `session` as a session document.

    History steps are dropped, oldest first, until the rest fit in
    :data:`MAX_HISTORY_BYTES`.
    """
    steps, index = _trim_history(session.history, session.history_index)
    image = None
    if session.image_path is not None:
        image = {"path": session.image_path, "name": session.image_name}
    elif session.image_copy is not None:
        image = {"copy": session.image_copy, "name": session.image_name}
    document = {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "saved_at": session.saved_at.isoformat(timespec="seconds"),
        "closed_normally": session.closed_normally,
        "image": image,
        "recipe": json.loads(recipe_to_json(session.recipe)),
        "view_options": {
            "channels_of_result": session.channels_of_result,
            "selected_stage": session.selected,
        },
        "history": {
            "steps": [
                {
                    "text": step.text,
                    "before": json.loads(recipe_to_json(step.before)),
                    "after": json.loads(recipe_to_json(step.after)),
                }
                for step in steps
            ],
            "index": index,
        },
        "view": list(session.region) if session.region is not None else None,
    }
    return json.dumps(document, separators=(",", ":")) + "\n"


def _trim_history(
    steps: tuple[HistoryStep, ...], index: int
) -> tuple[tuple[HistoryStep, ...], int]:
    sizes = [
        sum(stage.weights.size for stage in (*step.before.stages, *step.after.stages))
        * _BYTES_PER_WEIGHT
        for step in steps
    ]
    first = 0
    while sum(sizes[first:]) > MAX_HISTORY_BYTES:
        first += 1
    return steps[first:], max(index - first, 0)


def session_from_document(document: object) -> Session:
    """Check a parsed session document and return the :class:`Session` it holds.

    Raises
    ------
    SessionError
        Naming the first field that is missing or unusable.

    Examples
    --------
    >>> session_from_document({"format": "kernelstudio-session", "version": 1,
    ...     "saved_at": "2026-12-02T15:02:00+00:00", "kernel": [[1]]}).recipe.stages[0].weights
    array([[1.]])
    >>> session_from_document({"format": "kernelstudio-session", "version": 1,
    ...     "saved_at": "2026-12-02T15:02:00+00:00", "kernel": [[1, 2]]})
    Traceback (most recent call last):
    ...
    kernelstudio.app.session.SessionError: 'kernel': kernel height and width must be odd
    so that it has a centre; got 1×2
    """
    if not isinstance(document, dict):
        raise SessionError("the session is not a JSON object")
    if document.get("format") != SESSION_FORMAT:
        raise SessionError(f"'format' is {brief(document.get('format'))}, not {SESSION_FORMAT!r}")
    version = document.get("version")
    if type(version) is not int or not 1 <= version <= SESSION_VERSION:
        raise SessionError(f"'version' {brief(version)} is not one this Kernel Studio reads")
    try:
        saved_at = datetime.fromisoformat(_get(document, "saved_at", str))
    except ValueError:
        raise SessionError(f"'saved_at' {brief(document['saved_at'])} is not a time") from None
    if saved_at.tzinfo is None:
        saved_at = saved_at.astimezone()
    selected = 0
    if version == 1:
        recipe, channels_of_result = _recipe_of_version_1(document)
    else:
        recipe = _recipe(document.get("recipe"))
        view_options = _get(document, "view_options", dict, default={})
        channels_of_result = _get(
            view_options, "channels_of_result", bool, default=False, where="view_options"
        )
        selected = _get(view_options, "selected_stage", int, default=0, where="view_options")
        if not 0 <= selected < len(recipe.stages):
            raise SessionError(
                f"'view_options.selected_stage' {selected} is outside 0…{len(recipe.stages) - 1}"
            )
    image = _get(document, "image", dict, default=None)
    history = _get(document, "history", dict, default={})
    steps = tuple(
        _history_step(step, number, recipe, version)
        for number, step in enumerate(_get(history, "steps", list, default=[], where="history"))
    )
    index = _get(history, "index", int, default=len(steps), where="history")
    if not 0 <= index <= len(steps):
        raise SessionError(f"'history.index' {index} is outside 0…{len(steps)}")
    return Session(
        recipe=recipe,
        channels_of_result=channels_of_result,
        selected=selected,
        image_path=_get(image, "path", str, default=None, where="image") if image else None,
        image_copy=_copy_name(image) if image else None,
        image_name=_get(image, "name", str, default="", where="image") if image else "",
        history=steps,
        history_index=index,
        region=_region(document.get("view")),
        saved_at=saved_at,
        closed_normally=_get(document, "closed_normally", bool, default=False),
    )


_MISSING = object()


def _recipe_of_version_1(document: dict) -> tuple[Recipe, bool]:
    options = _get(document, "options", dict, default={})
    recipe = Recipe(
        (Stage(_weights(document.get("kernel"), "kernel")),),
        border=_choice(options, "border", BORDERS, "mirror"),
        flip=_get(options, "flip", bool, default=False, where="options"),
        grey=_get(options, "grey", bool, default=False, where="options"),
        display=_choice(options, "display", DISPLAY_MODES, "clip"),
    )
    channels_of_result = _get(options, "channels_of_result", bool, default=False, where="options")
    return recipe, channels_of_result


def _recipe(document: object) -> Recipe:
    if not isinstance(document, dict):
        raise SessionError("'recipe' is missing or not an object")
    try:
        return recipe_from_json(json.dumps(document), source="'recipe'")
    except RecipeFileError as error:
        raise SessionError(str(error)) from None


def _get(
    mapping: dict,
    key: str,
    kind: type,
    *,
    default: object = _MISSING,
    where: str = "",
) -> object:
    name = f"{where}.{key}" if where else key
    value = mapping.get(key, _MISSING)
    if value is _MISSING or (value is None and default is None):
        if default is _MISSING:
            raise SessionError(f"'{name}' is missing")
        return default
    if type(value) is not kind:  # bool is not an int here, and an int is not a bool
        raise SessionError(f"'{name}' is {brief(value)}, not {kind.__name__}")
    if kind is str and len(value) > 4096:
        raise SessionError(f"'{name}' is {len(value):,} characters long")
    return value


def _choice(options: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = _get(options, key, str, default=default, where="options")
    if value not in choices:
        raise SessionError(f"'options.{key}' {brief(value)} is not one of {', '.join(choices)}")
    return value


def _weights(rows: object, name: str) -> np.ndarray:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise SessionError(f"'{name}' is not a list of rows of numbers")
    if not all(type(value) in (int, float) and _finite(value) for row in rows for value in row):
        raise SessionError(f"'{name}' holds something other than finite numbers")
    try:
        weights = validate_kernel(rows)
    except ValueError as error:
        raise SessionError(f"'{name}': {error}") from None
    weights.flags.writeable = False
    return weights


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _history_step(step: object, number: int, recipe: Recipe, version: int) -> HistoryStep:
    where = f"history.steps[{number}]"
    if not isinstance(step, dict):
        raise SessionError(f"'{where}' is not an object")
    text = _get(step, "text", str, where=where)
    if version >= 3:
        return HistoryStep(
            text,
            _history_recipe(step.get("before"), f"{where}.before"),
            _history_recipe(step.get("after"), f"{where}.after"),
        )
    # Versions 1 and 2 undid the first stage alone: the rest is the session's.
    before, after = (
        _with_first_stage(recipe, _history_stage(step.get(key), f"{where}.{key}"))
        for key in ("before", "after")
    )
    return HistoryStep(text, before, after)


def _with_first_stage(recipe: Recipe, stage: Stage) -> Recipe:
    return replace(recipe, stages=(stage, *recipe.stages[1:]))


def _history_recipe(value: object, where: str) -> Recipe:
    if not isinstance(value, dict):
        raise SessionError(f"'{where}' is not a recipe object")
    try:
        return recipe_from_json(json.dumps(value), source=f"'{where}'")
    except RecipeFileError as error:
        raise SessionError(str(error)) from None


def _history_stage(value: object, where: str) -> Stage:
    # Version 1 kept the weights alone; version 2 the weights, divisor and offset.
    if not isinstance(value, dict):
        return Stage(_weights(value, where))
    numbers = {}
    for key, default in (("divisor", 1.0), ("offset", 0.0)):
        number = value.get(key, default)
        if type(number) not in (int, float) or not _finite(number):
            raise SessionError(f"'{where}.{key}' is {brief(number)}, not a finite number")
        numbers[key] = number
    try:
        return Stage(_weights(value.get("weights"), f"{where}.weights"), **numbers)
    except ValueError as error:
        raise SessionError(f"'{where}': {error}") from None


def _copy_name(image: dict) -> str | None:
    name = _get(image, "copy", str, default=None, where="image")
    if name is not None and not (name.startswith(IMAGE_COPY_STEM) and "/" not in name):
        raise SessionError(f"'image.copy' {brief(name)} is not a session image")
    return name


def _region(view: object) -> tuple[float, float, float, float] | None:
    if view is None:
        return None
    if (
        not isinstance(view, list)
        or len(view) != 4
        or not all(type(value) in (int, float) and _finite(value) for value in view)
        or view[2] <= 0
        or view[3] <= 0
    ):
        raise SessionError(f"'view' {brief(view)} is not x, y, width, height")
    return tuple(float(value) for value in view)
