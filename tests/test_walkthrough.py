"""The tutorial walkthrough's data: steps and the 100×100 grey image."""

import cv2
import numpy as np

from kernelstudio.kernels import PRESETS
from kernelstudio.walkthrough import STEPS, tutorial_image


def test_tutorial_image_is_the_tutorials_grey_100_by_100():
    rgb = np.random.default_rng(3).integers(0, 256, size=(300, 450, 3)).astype(np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[..., ::-1]), cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(grey, (100, 100), interpolation=cv2.INTER_AREA)
    result = tutorial_image(rgb)
    assert result.shape == (100, 100)
    assert result.dtype == np.uint8
    assert np.abs(result.astype(int) - expected).max() <= 1


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
