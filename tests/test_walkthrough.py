"""The tutorial walkthrough's data: steps, their recipes and the 100×100 grey image."""

import cv2
import numpy as np
import pytest

from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.walkthrough import STEPS, tutorial_image


def test_tutorial_image_is_the_grey_centre_square_resized_to_100_by_100():
    rgb = np.random.default_rng(3).integers(0, 256, size=(300, 450, 3)).astype(np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., ::-1]), cv2.COLOR_BGR2GRAY)
    centre = np.ascontiguousarray(grey[:, 75:375])
    expected = cv2.resize(centre, (100, 100), interpolation=cv2.INTER_AREA)
    result = tutorial_image(rgb)
    assert result.shape == (100, 100)
    assert result.dtype == np.uint8
    assert np.abs(result.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("shape", [(300, 450), (450, 300)])
def test_a_circle_in_a_3_by_2_photograph_stays_round(shape):
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    radius = 120
    disc = (rows - shape[0] / 2) ** 2 + (columns - shape[1] / 2) ** 2 <= radius**2
    picture = np.where(disc, 0, 255).astype(np.uint8)
    dark = tutorial_image(picture) < 128
    covered_rows = np.flatnonzero(dark.any(axis=1))
    covered_columns = np.flatnonzero(dark.any(axis=0))
    height = covered_rows[-1] - covered_rows[0] + 1
    width = covered_columns[-1] - covered_columns[0] + 1
    expected = 2 * radius * 100 / min(shape)  # the square's side becomes 100 pixels
    assert abs(height - expected) <= 2
    assert abs(width - expected) <= 2


def test_tutorial_image_refuses_what_has_no_pixels_or_too_many_channels():
    with pytest.raises(ValueError, match="no pixels"):
        tutorial_image(np.zeros((0, 5), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        tutorial_image(np.zeros((4, 4, 4), np.uint8))


def test_each_steps_recipe_is_its_preset_border_and_display():
    for step in STEPS:
        (stage,) = step.recipe.stages
        assert stage == Stage(PRESETS[step.preset])
        assert step.recipe == Recipe(
            (Stage(PRESETS[step.preset]),), border=step.border, display=step.display
        )


def test_steps_follow_the_tutorial():
    presets = [step.preset for step in STEPS]
    for kernel in ("gaussian-blur", "vertical-edge", "outline"):
        assert kernel in presets
    assert presets.index("gaussian-blur") < presets.index("vertical-edge")
    assert presets.index("vertical-edge") < presets.index("outline")
    assert {STEPS[i].border for i in range(1, 5)} == {"valid"}
    assert STEPS[-1].image == "colour"
    for step in STEPS:
        assert step.preset in PRESETS
        assert step.sentence.endswith(".")
        assert step.sentence.count(". ") == 0  # one sentence each
