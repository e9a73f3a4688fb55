"""Recipe files: every stage and option round-trips; a bad document names its field and value."""

import json
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, ROUNDING_MODES
from kernelstudio.kernels import Kernel, KernelFileError, write_kernel_file
from kernelstudio.pipeline import ALPHA_MODES, BETWEEN_STAGES, Recipe, Stage
from kernelstudio.recipe_files import (
    MAX_RECIPE_FILE_BYTES,
    RecipeFileError,
    read_kernel_or_recipe_file,
    read_recipe_file,
    recipe_from_json,
    recipe_to_json,
    write_recipe_file,
)

FINITE = st.floats(allow_nan=False, allow_infinity=False)
WEIGHTS = st.floats(-1e30, 1e30, allow_nan=False)
# Weights up to 1e30 over a divisor must still fit float32 (the stage refuses otherwise).
DIVISORS = st.floats(1e-6, 1e300) | st.floats(-1e300, -1e-6)


@st.composite
def stages(draw):
    shape = draw(st.sampled_from([(1, 1), (1, 3), (3, 1), (3, 3), (5, 3), (1, 31), (31, 1)]))
    return Stage(
        draw(hnp.arrays(np.float64, shape, elements=WEIGHTS)),
        divisor=draw(DIVISORS),
        offset=draw(FINITE),
        enabled=draw(st.booleans()),
        name=draw(st.text(max_size=12)),
    )


@st.composite
def recipes(draw):
    chosen = draw(st.lists(stages(), min_size=1, max_size=4))
    if not any(stage.enabled for stage in chosen):
        chosen[0] = Stage(chosen[0].weights, chosen[0].divisor, chosen[0].offset, True, "on")
    channels = draw(
        st.permutations("rgba").flatmap(
            lambda order: st.integers(1, 4).map(lambda count: "".join(order[:count]))
        )
    )
    return Recipe(
        tuple(chosen),
        border=draw(st.sampled_from(BORDERS)),
        flip=draw(st.booleans()),
        grey=draw(st.booleans()),
        channels=channels,
        alpha=draw(st.sampled_from(ALPHA_MODES)),
        display=draw(st.sampled_from(DISPLAY_MODES)),
        rounding=draw(st.sampled_from(ROUNDING_MODES)),
        between_stages=draw(st.sampled_from(BETWEEN_STAGES)),
    )


def assert_same_recipe(loaded, original):
    options = (
        "border",
        "flip",
        "grey",
        "channels",
        "alpha",
        "display",
        "rounding",
        "between_stages",
    )
    assert [getattr(loaded, name) for name in options] == [
        getattr(original, name) for name in options
    ]
    assert len(loaded.stages) == len(original.stages)
    for mine, theirs in zip(loaded.stages, original.stages, strict=True):
        assert (mine.divisor, mine.offset, mine.enabled, mine.name) == (
            theirs.divisor,
            theirs.offset,
            theirs.enabled,
            theirs.name,
        )
        np.testing.assert_array_equal(mine.weights, theirs.weights)


@settings(max_examples=150, deadline=None)
@given(recipes())
def test_recipe_json_round_trip_is_exact(recipe):
    assert_same_recipe(recipe_from_json(recipe_to_json(recipe)), recipe)


@settings(max_examples=20, deadline=None)
@given(recipes())
def test_recipe_file_round_trip(tmp_path_factory, recipe):
    path = tmp_path_factory.mktemp("recipes") / "ñ recipe.json"
    write_recipe_file(path, recipe)
    assert_same_recipe(read_recipe_file(path), recipe)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "kernelstudio-recipe"


def test_the_written_document_holds_every_field():
    recipe = Recipe(
        (Stage([[1, 2, 1]], divisor=4, name="blur"), Stage([[-1, 0, 1]], offset=128)),
        border="wrap",
        alpha="weighted",
        rounding="half-even",
        between_stages="round",
    )
    document = json.loads(recipe_to_json(recipe))
    assert document == {
        "format": "kernelstudio-recipe",
        "version": 1,
        "stages": [
            {"name": "blur", "weights": [[1, 2, 1]], "divisor": 4, "offset": 0, "enabled": True},
            {"name": "", "weights": [[-1, 0, 1]], "divisor": 1, "offset": 128, "enabled": True},
        ],
        "border": "wrap",
        "flip": False,
        "grey": False,
        "channels": "rgb",
        "alpha": "weighted",
        "display": "clip",
        "rounding": "half-even",
        "between_stages": "round",
    }


def test_a_minimal_hand_written_recipe_takes_the_defaults():
    recipe = recipe_from_json('{"stages": [{"weights": [[1]]}]}')
    assert_same_recipe(recipe, Recipe((Stage([[1.0]]),)))


def test_a_bom_and_unknown_fields_are_accepted(tmp_path):
    path = tmp_path / "r.json"
    document = {"format": "kernelstudio-recipe", "stages": [{"weights": [[2]]}], "later": [1]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())
    np.testing.assert_array_equal(read_recipe_file(path).stages[0].weights, [[2]])


def stage_document(**fields):
    return json.dumps({"stages": [{"weights": [[1]]}, {"weights": [[1]], **fields}]})


BAD_DOCUMENTS = [
    ("", "'r.json' is not valid JSON"),
    ("[1]", "'r.json' must hold a JSON object with 'stages'"),
    ('{"format": "kernelstudio-kernel", "weights": [[1]]}', "is a kernel file, not a recipe"),
    ('{"format": "gimp", "stages": []}', "not a Kernel Studio recipe (format 'gimp')"),
    ('{"version": 2, "stages": []}', "is version 2; this Kernel Studio reads recipes up to"),
    ('{"version": "1", "stages": []}', "invalid version '1'"),
    ('{"version": true, "stages": []}', "invalid version True"),
    ("{}", "'r.json' is a recipe with a missing field 'stages'"),
    ('{"stages": {"weights": [[1]]}}', "'stages' is {'weights': [[1]]}; it must be a list"),
    ('{"stages": []}', "'stages' holds 0 stages; a recipe holds 1 to 16"),
    (json.dumps({"stages": [{"weights": [[1]]}] * 17}), "'stages' holds 17 stages; a recipe"),
    ('{"stages": [3]}', "stages[0] is 3; it must be an object with 'weights'"),
    ('{"stages": [{"divisor": 2}]}', "stages[0] is a stage with a missing field 'weights'"),
    (stage_document(divisor=0), "'r.json': stages[1].divisor is 0; it must be a finite number"),
    (stage_document(divisor=float("nan")), "stages[1].divisor is nan; it must be a finite"),
    (stage_document(divisor="2"), "stages[1].divisor is '2'; it must be a finite number"),
    (stage_document(offset=float("inf")), "stages[1].offset is inf; it must be a finite"),
    (stage_document(enabled="yes"), "stages[1].enabled is 'yes'; it must be true or false"),
    (stage_document(name=7), "stages[1].name is 7; it must be text"),
    (stage_document(weights=[[1, 1]]), "stages[1].weights: kernel height and width must be odd"),
    (stage_document(weights=np.ones((33, 33)).tolist()), "stages[1].weights: kernel of 33×33"),
    (stage_document(weights=[[1, "x", 1]]), "row 1, column 2 is 'x', not a finite number"),
    (stage_document(weights="1 2 1"), "stages[1].weights must be a list of rows"),
    ('{"stages": [{"weights": [[1]], "enabled": false}]}', "every stage in 'stages' is disabled"),
    ('{"stages": [{"weights": [[1]]}], "border": "edge"}', "'border' is 'edge'; it must be one"),
    ('{"stages": [{"weights": [[1]]}], "flip": 1}', "'flip' is 1; it must be true or false"),
    ('{"stages": [{"weights": [[1]]}], "grey": null}', "'grey' is None; it must be true or"),
    ('{"stages": [{"weights": [[1]]}], "channels": "x"}', "'channels' is 'x'; it must be some"),
    ('{"stages": [{"weights": [[1]]}], "channels": "rr"}', "'channels' is 'rr'"),
    ('{"stages": [{"weights": [[1]]}], "channels": ""}', "'channels' is ''"),
    ('{"stages": [{"weights": [[1]]}], "channels": ["r"]}', "'channels' is ['r']"),
    ('{"stages": [{"weights": [[1]]}], "alpha": "foo"}', "'alpha' is 'foo'; it must be one of"),
    ('{"stages": [{"weights": [[1]]}], "display": "log"}', "'display' is 'log'; it must be"),
    ('{"stages": [{"weights": [[1]]}], "rounding": "up"}', "'rounding' is 'up'; it must be"),
    ('{"stages": [{"weights": [[1]]}], "between_stages": 0}', "'between_stages' is 0; it must"),
    ('{"stages": ' + "[" * 100_000 + "]" * 100_000 + "}", "is not valid JSON"),
]


@pytest.mark.parametrize(("text", "message"), BAD_DOCUMENTS)
def test_a_bad_document_names_the_field_and_the_value(text, message):
    with pytest.raises(RecipeFileError) as refused:
        recipe_from_json(text, source="'r.json'")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_recipe_errors_are_kernel_file_errors():
    assert issubclass(RecipeFileError, KernelFileError)


JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
STAGE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "weights": st.lists(st.lists(JSON_LEAVES, max_size=3), max_size=3) | JSON_LEAVES,
        "divisor": JSON_LEAVES,
        "offset": JSON_LEAVES,
        "enabled": JSON_LEAVES,
        "name": JSON_LEAVES,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STAGE_LIKE | JSON_LEAVES, max_size=18) | JSON_LEAVES)
def test_any_stages_value_is_a_recipe_or_a_recipe_file_error(stages_value):
    message = ""
    try:
        recipe = recipe_from_json(json.dumps({"stages": stages_value}), source="'r.json'")
    except RecipeFileError as error:
        recipe, message = None, str(error)
    if recipe is None:
        assert message.startswith("'r.json'")
        assert "\n" not in message
    else:
        assert 1 <= len(recipe.stages) <= 16
        assert all(np.isfinite(stage.weights).all() for stage in recipe.stages)


def test_reading_unreadable_files_raises_recipe_file_errors(tmp_path):
    with pytest.raises(RecipeFileError, match=r"Cannot read 'missing\.json': the file does not"):
        read_recipe_file(tmp_path / "missing.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(RecipeFileError, match="not a text file"):
        read_recipe_file(binary)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_RECIPE_FILE_BYTES + 1))
    with pytest.raises(RecipeFileError, match="more than the"):
        read_recipe_file(huge)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)
    with pytest.raises(RecipeFileError, match="not a regular file"):
        read_recipe_file(fifo)


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("old")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(RecipeFileError, match=r"Cannot save 'r\.json': the disk is full"):
        write_recipe_file(path, Recipe.single([[1]]))
    assert path.read_text() == "old"
    assert [child.name for child in tmp_path.iterdir()] == ["r.json"]


def test_kernel_or_recipe_follows_the_format(tmp_path):
    recipe_path, kernel_path = tmp_path / "r.json", tmp_path / "k.json"
    write_recipe_file(recipe_path, Recipe.single([[1, 2, 1]], divisor=4, border="wrap"))
    write_kernel_file(kernel_path, Kernel("k", np.array([[1.0, 0.0, -1.0]]), offset=128))
    recipe = read_kernel_or_recipe_file(recipe_path)
    assert isinstance(recipe, Recipe)
    assert (recipe.border, recipe.stages[0].divisor) == ("wrap", 4.0)
    kernel = read_kernel_or_recipe_file(kernel_path)
    assert isinstance(kernel, Kernel)
    assert kernel.offset == 128.0
    unformatted = tmp_path / "plain.json"
    unformatted.write_text('{"weights": [[1]]}')
    assert isinstance(read_kernel_or_recipe_file(unformatted), Kernel)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "kernelstudio-recipe", "stages": [{"weights": [[1, 1]]}]}')
    with pytest.raises(RecipeFileError, match=r"'broken\.json': stages\[0\]\.weights"):
        read_kernel_or_recipe_file(broken)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(KernelFileError, match=r"'bad\.json' is not valid JSON"):
        read_kernel_or_recipe_file(tmp_path / "bad.json")


# Generated stages -----------------------------------------------------------


def _generated_document(**generator):
    from kernelstudio.generators import gaussian

    entry = {"name": "gaussian", "parameters": {"sigma": 1.5}, **generator}
    return {"stages": [{"weights": gaussian(1.5).tolist(), "generator": entry}]}


def test_a_generated_stage_keeps_its_generator_through_a_file(tmp_path):
    from kernelstudio.generators import parse_spec

    stage = Stage.generated(parse_spec("motion-blur:length=6,angle=30"), name="streak")
    recipe = Recipe((stage, Stage([[1, 0, -1]])))
    write_recipe_file(tmp_path / "r.json", recipe)
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["stages"][0]["generator"] == {
        "name": "motion-blur",
        "parameters": {"length": 6.0, "angle": 30.0},
    }
    assert "generator" not in document["stages"][1]
    loaded = read_recipe_file(tmp_path / "r.json")
    assert loaded == recipe
    assert loaded.stages[0].generator.spec == "motion-blur:length=6,angle=30"


def test_a_file_whose_weights_were_edited_by_hand_loads_the_weights_alone():
    document = _generated_document()
    document["stages"][0]["weights"][4][4] += 0.01
    stage = recipe_from_json(json.dumps(document)).stages[0]
    assert stage.generator is None
    assert stage.weights[4, 4] == document["stages"][0]["weights"][4][4]


@pytest.mark.parametrize(
    "generator",
    [
        {"name": "from-a-newer-version"},
        {"parameters": {"sigma": 99}},
        {"parameters": {"sigma": "wide"}},
        {"parameters": {"sigma": True}},
        {"parameters": {"sigma": [[[1.5]]]}},
        {"parameters": {"sigma": 1.5, "colour": "red"}},
    ],
)
def test_generator_settings_this_version_cannot_make_load_as_weights(generator):
    stage = recipe_from_json(json.dumps(_generated_document(**generator))).stages[0]
    assert stage.generator is None
    np.testing.assert_array_equal(stage.weights, _generated_document()["stages"][0]["weights"])


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        ("gaussian", "stages[0].generator is 'gaussian'; it must be an object with 'name'"),
        ({"name": 3}, "stages[0].generator.name is 3; it must be text"),
        ({"name": "gaussian", "parameters": [1.5]}, "stages[0].generator.parameters is [1.5]"),
    ],
)
def test_a_generator_entry_of_the_wrong_shape_is_refused_naming_it(generator, message):
    document = _generated_document()
    document["stages"][0]["generator"] = generator
    with pytest.raises(RecipeFileError, match=re.escape(message)):
        recipe_from_json(json.dumps(document))
