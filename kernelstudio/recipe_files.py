"""Recipe files: a whole :class:`~kernelstudio.pipeline.Recipe` as versioned JSON.

A recipe file holds the stages and every option::

    {"format": "kernelstudio-recipe", "version": 1,
     "stages": [{"name": "blur", "weights": [[1, 2, 1]], "divisor": 4,
                 "offset": 0, "enabled": true,
                 "generator": {"name": "binomial", "parameters": {"size": 3}}}],
     "border": "mirror", "flip": false, "grey": false,
     "channels": "rgb", "alpha": "keep", "display": "clip",
     "rounding": "half-up", "between_stages": "float"}

Only ``stages`` and each stage's ``weights`` are required; every other field
has the default of :class:`~kernelstudio.pipeline.Stage` and
:class:`~kernelstudio.pipeline.Recipe`. Unknown fields are ignored, so a newer
Kernel Studio may add some without breaking older files.

A stage's ``generator`` (see :mod:`kernelstudio.generators`) says how its
weights were made, so that loading brings back the window's sliders. The
weights are what is applied: a generator that this version does not know,
parameters it refuses, or weights that are not exactly what the generator
makes (a hand-edited file) load as the weights alone.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from kernelstudio.atomic import describe_os_error, read_regular_file, write_atomically
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, ROUNDING_MODES
from kernelstudio.generators import GeneratorError, GeneratorSettings, check_settings
from kernelstudio.kernels import (
    KERNEL_FILE_FORMAT,
    MAX_KERNEL_FILE_BYTES,
    Kernel,
    KernelFileError,
    brief,
    file_number,
    kernel_from_json,
    weights_from_rows,
)
from kernelstudio.pipeline import (
    ALPHA_MODES,
    BETWEEN_STAGES,
    MAX_STAGES,
    Recipe,
    Stage,
    check_channels,
)

RECIPE_FILE_FORMAT = "kernelstudio-recipe"
RECIPE_FILE_VERSION = 1

MAX_RECIPE_FILE_BYTES = MAX_STAGES * MAX_KERNEL_FILE_BYTES
"""Largest recipe file read: room for every stage as large as a kernel file may be."""


class RecipeFileError(KernelFileError):
    """A recipe file that cannot be read or written; the message names the field and value."""


def recipe_to_json(recipe: Recipe) -> str:
    """Serialise `recipe`, every stage and option, as a version 1 recipe file.

    Examples
    --------
    >>> document = json.loads(recipe_to_json(Recipe.single([[1, 2, 1]], divisor=4)))
    >>> document["format"], document["stages"][0]["divisor"], document["border"]
    ('kernelstudio-recipe', 4.0, 'mirror')
    """
    document = {
        "format": RECIPE_FILE_FORMAT,
        "version": RECIPE_FILE_VERSION,
        "stages": [_stage_document(stage) for stage in recipe.stages],
        "border": recipe.border,
        "flip": recipe.flip,
        "grey": recipe.grey,
        "channels": recipe.channels,
        "alpha": recipe.alpha,
        "display": recipe.display,
        "rounding": recipe.rounding,
        "between_stages": recipe.between_stages,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _stage_document(stage: Stage) -> dict[str, object]:
    document: dict[str, object] = {
        "name": stage.name,
        "weights": stage.weights.tolist(),
        "divisor": stage.divisor,
        "offset": stage.offset,
        "enabled": stage.enabled,
    }
    if stage.generator is not None:
        document["generator"] = {
            "name": stage.generator.slug,
            "parameters": stage.generator.values,
        }
    return document


def recipe_from_json(text: str, *, source: str = "recipe file") -> Recipe:
    """Read a recipe from the text of a recipe file.

    Parameters
    ----------
    text : str
        JSON as written by :func:`recipe_to_json`; ``format`` and ``version``
        may be omitted, a newer version is refused.
    source : str
        What to call the text in error messages (usually the file name).

    Returns
    -------
    Recipe

    Raises
    ------
    RecipeFileError
        If the text is not a usable recipe; the message names the field, by
        its path such as ``stages[2].divisor``, and the value.

    Examples
    --------
    >>> recipe = recipe_from_json('{"stages": [{"weights": [[1]], "offset": 128}]}')
    >>> recipe.stages[0].offset, recipe.alpha
    (128.0, 'keep')
    >>> recipe_from_json('{"stages": []}', source="'r.json'")
    Traceback (most recent call last):
    ...
    kernelstudio.recipe_files.RecipeFileError: 'r.json': 'stages' holds 0 stages;
    a recipe holds 1 to 16
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, or an over-long integer
        raise RecipeFileError(f"{source} is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise RecipeFileError(f"{source} must hold a JSON object with 'stages'")
    file_format = document.get("format", RECIPE_FILE_FORMAT)
    if file_format == KERNEL_FILE_FORMAT:
        raise RecipeFileError(f"{source} is a kernel file, not a recipe")
    if file_format != RECIPE_FILE_FORMAT:
        raise RecipeFileError(
            f"{source} is not a Kernel Studio recipe (format {brief(file_format)})"
        )
    version = document.get("version", RECIPE_FILE_VERSION)
    if type(version) is not int or version < 1:
        raise RecipeFileError(f"{source} has an invalid version {brief(version)}")
    if version > RECIPE_FILE_VERSION:
        raise RecipeFileError(
            f"{source} is version {version}; this Kernel Studio reads recipes up to "
            f"version {RECIPE_FILE_VERSION}"
        )
    if "stages" not in document:
        raise RecipeFileError(f"{source} is a recipe with a missing field 'stages'")
    try:
        stages = _stages(document["stages"])
        options = {
            "border": _choice(document, "border", BORDERS),
            "flip": _flag(document, "flip", "'flip'", default=False),
            "grey": _flag(document, "grey", "'grey'", default=False),
            "channels": _channels(document),
            "alpha": _choice(document, "alpha", ALPHA_MODES),
            "display": _choice(document, "display", DISPLAY_MODES),
            "rounding": _choice(document, "rounding", ROUNDING_MODES),
            "between_stages": _choice(document, "between_stages", BETWEEN_STAGES),
        }
        return Recipe(stages, **options)
    except ValueError as error:
        raise RecipeFileError(f"{source}: {error}") from None


def _stages(entries: object) -> tuple[Stage, ...]:
    if not isinstance(entries, list):
        raise ValueError(f"'stages' is {brief(entries)}; it must be a list of stages")
    if not 1 <= len(entries) <= MAX_STAGES:
        raise ValueError(f"'stages' holds {len(entries)} stages; a recipe holds 1 to {MAX_STAGES}")
    stages = tuple(_stage(entry, f"stages[{index}]") for index, entry in enumerate(entries))
    if not any(stage.enabled for stage in stages):
        raise ValueError("every stage in 'stages' is disabled; at least one must be enabled")
    return stages


def _stage(entry: object, path: str) -> Stage:
    if not isinstance(entry, dict):
        raise ValueError(f"{path} is {brief(entry)}; it must be an object with 'weights'")
    if "weights" not in entry:
        raise ValueError(f"{path} is a stage with a missing field 'weights'")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{path}.name is {brief(name)}; it must be text")
    return Stage(
        weights_from_rows(entry["weights"], f"{path}.weights"),
        divisor=file_number(entry.get("divisor", 1.0), f"{path}.divisor", nonzero=True),
        offset=file_number(entry.get("offset", 0.0), f"{path}.offset"),
        enabled=_flag(entry, "enabled", f"{path}.enabled", default=True),
        name=name,
        generator=_generator(entry.get("generator"), f"{path}.generator"),
    )


def _generator(entry: object, path: str) -> GeneratorSettings | None:
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ValueError(f"{path} is {brief(entry)}; it must be an object with 'name'")
    slug, parameters = entry.get("name"), entry.get("parameters", {})
    if not isinstance(slug, str):
        raise ValueError(f"{path}.name is {brief(slug)}; it must be text")
    if not isinstance(parameters, dict):
        raise ValueError(f"{path}.parameters is {brief(parameters)}; it must be an object")
    try:
        return check_settings(slug, parameters)
    except GeneratorError:  # from a newer version: the weights alone are kept
        return None


def _flag(document: dict[str, object], key: str, path: str, *, default: bool) -> bool:
    value = document.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{path} is {brief(value)}; it must be true or false")
    return value


def _choice(document: dict[str, object], key: str, choices: Sequence[str]) -> str:
    value = document.get(key, Recipe.__dataclass_fields__[key].default)
    if value not in choices:
        raise ValueError(f"'{key}' is {brief(value)}; it must be one of {', '.join(choices)}")
    return str(value)


def _channels(document: dict[str, object]) -> str:
    value = document.get("channels", "rgb")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return check_channels(value)
    raise ValueError(f"'channels' is {brief(value)}; it must be some of r, g, b, a, such as rgba")


def _read_text(path: Path) -> str:
    try:
        # A BOM, as some editors write, is harmless.
        return read_regular_file(path, MAX_RECIPE_FILE_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecipeFileError(f"'{path.name}' is not a text file") from None
    except OSError as error:
        reason = describe_os_error(error, saving=False)
        raise RecipeFileError(f"Cannot read '{path.name}': {reason}.") from None


def read_recipe_file(path: str | os.PathLike[str]) -> Recipe:
    """Load a recipe file written by :func:`write_recipe_file`.

    Raises
    ------
    RecipeFileError
        If the file cannot be read (not a regular file, over
        :data:`MAX_RECIPE_FILE_BYTES`, not UTF-8) or is not a usable recipe.
    """
    path = Path(path)
    return recipe_from_json(_read_text(path), source=f"'{path.name}'")


def read_kernel_or_recipe_file(path: str | os.PathLike[str]) -> Kernel | Recipe:
    """Load a recipe file, or a kernel file, as its ``format`` says.

    Without a ``format``, a document with ``stages`` is a recipe, else a kernel.

    Raises
    ------
    KernelFileError
        (a :class:`RecipeFileError` for recipes) if the file cannot be read or
        is not a usable kernel or recipe.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        document = None  # kernel_from_json says what is wrong with it
    is_recipe = isinstance(document, dict) and (
        document.get("format") == RECIPE_FILE_FORMAT
        or ("format" not in document and "stages" in document)
    )
    if is_recipe:
        return recipe_from_json(text, source=f"'{path.name}'")
    return kernel_from_json(text, source=f"'{path.name}'")


def write_recipe_file(path: str | os.PathLike[str], recipe: Recipe) -> None:
    """Save `recipe` as JSON, atomically: the file is complete or untouched.

    Raises
    ------
    RecipeFileError
        If the file cannot be written.
    """
    path = Path(path)
    try:
        write_atomically(path, recipe_to_json(recipe).encode("utf-8"))
    except OSError as error:
        reason = describe_os_error(error, saving=True)
        raise RecipeFileError(f"Cannot save '{path.name}': {reason}.") from None
