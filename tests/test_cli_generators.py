"""``kernelstudio apply -k NAME:PARAMETER=VALUE,…``: kernels from parameters, end to end.

The expected pixels come from kernels built here with OpenCV's own makers
(``cv2.getGaussianKernel``, ``cv2.getGaborKernel``, ``cv2.getDerivKernels``)
or by hand, applied with ``scipy.ndimage``.
"""

import json
import math

import cv2
import numpy as np
import pytest

from kernelstudio.generators import GENERATORS
from tests.test_cli import (
    assert_pixels,
    oracle,
    random_image,
    stderr_line,
    to_8bit,
    write_image,
)


@pytest.fixture
def photo(tmp_path):
    return write_image(tmp_path / "photo.png", random_image((37, 45, 3), seed=3))


def gaussian_oracle(sigma, size):
    column = cv2.getGaussianKernel(size, sigma)
    return column @ column.T


def test_gaussian_with_sigma_blurs_as_opencvs_gaussian(cli, photo, tmp_path):
    code, _, err = cli("apply", "-k", "gaussian:sigma=2.5", photo, "-o", tmp_path / "out.png")
    assert (code, err) == (0, "")
    expected = to_8bit(oracle(read(photo), gaussian_oracle(2.5, 17)))
    assert_pixels(tmp_path / "out.png", expected)


def test_gabor_angles_are_degrees_and_the_display_is_abs(cli, photo, tmp_path):
    spec = "gabor:sigma=3,theta=45,wavelength=8"
    code, _, err = cli("apply", "-k", spec, photo, "-o", tmp_path / "out.png")
    assert (code, err) == (0, "")
    weights = cv2.getGaborKernel((19, 19), 3, math.radians(45), 8, 1.0, 0.0, ktype=cv2.CV_64F)
    assert_pixels(tmp_path / "out.png", to_8bit(oracle(read(photo), weights), "abs"))


def test_sobel_of_size_five_upwards_with_the_border_given(cli, photo, tmp_path):
    spec = "sobel:direction=top,size=5"
    code, _, _ = cli("apply", "-k", spec, "--border", "wrap", photo, "-o", tmp_path / "o.png")
    assert code == 0
    kx, ky = cv2.getDerivKernels(0, 1, 5)
    weights = -(ky @ kx.T)
    assert_pixels(tmp_path / "o.png", to_8bit(oracle(read(photo), weights, "wrap"), "abs"))


def test_motion_blur_at_zero_degrees_is_a_box_row(cli, photo, tmp_path):
    code, _, _ = cli(
        "apply", "-k", "motion-blur:length=5,angle=0", photo, "-o", tmp_path / "o.png"
    )
    assert code == 0
    assert_pixels(tmp_path / "o.png", to_8bit(oracle(read(photo), np.full((1, 5), 0.2))))


def test_generators_stack_with_other_kernels_and_keep_their_divisor(cli, photo, tmp_path):
    code, _, _ = cli(
        "apply",
        "-k",
        "box:rows=3,cols=1",
        "--divisor",
        "0.5",
        "-k",
        "1 0 -1",
        "--offset",
        "128",
        photo,
        "-o",
        tmp_path / "o.png",
    )
    assert code == 0
    blurred = oracle(read(photo), np.full((3, 1), 1 / 3)) / 0.5
    expected = oracle(blurred, [[1, 0, -1]]) + 128
    assert_pixels(tmp_path / "o.png", to_8bit(expected))


def test_a_size_of_auto_and_a_typographic_minus_are_read(cli, photo, tmp_path):
    spec = "emboss:angle=\u221245,strength=1"
    code, _, _ = cli("apply", "-k", spec, photo, "-o", tmp_path / "o.png")
    assert code == 0
    emboss = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
    assert_pixels(tmp_path / "o.png", to_8bit(oracle(read(photo), emboss)))
    code, _, _ = cli("apply", "-k", "log:sigma=1,size=auto", photo, "-o", tmp_path / "l.png")
    assert code == 0


def test_a_cut_kernel_is_noted_on_stderr_and_still_applied(cli, photo, tmp_path):
    code, _, err = cli("apply", "-k", "gaussian:sigma=8", photo, "-o", tmp_path / "o.png")
    assert code == 0
    assert err == (
        "kernelstudio: note: gaussian: σ 8 needs 49 cells across; cut to 31 (the largest "
        "side) and renormalised\n"
    )
    weights = gaussian_oracle(8, 31)
    assert_pixels(tmp_path / "o.png", to_8bit(oracle(read(photo), weights / weights.sum())))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gaussian", "gaussian needs sigma: a number from 0.1 to 10 px"),
        ("gaussian:sigma=50", "gaussian: sigma is 50; it must be a number from 0.1 to 10 px"),
        ("gaussian:sigma=abc", "gaussian: sigma is 'abc'; it must be a number from 0.1 to 10 px"),
        ("gaussian:sigma=2*3", "gaussian: sigma is '2*3'; it must be a number from 0.1 to 10 px"),
        ("gaussian:sigma=1e400", "gaussian: sigma is inf; it must be a number from 0.1 to 10 px"),
        ("gaussian:sigma=2,size=4", "gaussian: size is 4; it must be an odd whole number"),
        ("gaussian:sigma", "gaussian: 'sigma' must be written name=value, such as sigma=2"),
        ("gaussian:sigma=1,sigma=2", "gaussian: sigma is given twice"),
        ("gaussian:radius=2", "gaussian has no parameter 'radius'; its parameters are sigma"),
        ("sobel:direction=up", "sobel: direction is 'up'; it must be one of right, left"),
        ("gabor:sigma=3,theta=45", "gabor needs wavelength: a number from 2 to 31 px"),
        ("gausian:sigma=2", "no generator 'gausian'; did you mean gaussian?"),
    ],
)
def test_a_bad_or_missing_parameter_is_one_line_naming_it_exit_2_nothing_written(
    cli, photo, tmp_path, spec, message
):
    output = tmp_path / "out.png"
    code, out, err = cli("apply", "-k", spec, photo, "-o", output)
    assert (code, out) == (2, "")
    assert message in stderr_line(err)
    assert not output.exists()


def test_presets_lists_every_generator_with_its_parameters_and_defaults(cli):
    code, out, _ = cli("presets")
    assert code == 0
    generators = out[out.index("Generators:") :]
    for slug, entry in GENERATORS.items():
        assert f"  {slug} — {entry.title}, such as -k " in generators
        for parameter in entry.parameters:
            assert parameter.name in generators
    assert "      sigma  a number from 0.1 to 10 px (required)" in generators
    assert "      size   an odd whole number from 1 to 31 or auto (default auto)" in generators
    assert "      strength  a number from 0 to 5 (default 1)" in generators


def test_every_listed_example_runs(cli, photo, tmp_path):
    code, out, _ = cli("presets")
    examples = [line.split("such as -k ")[1] for line in out.splitlines() if "such as -k " in line]
    assert len(examples) == len(GENERATORS)
    for number, spec in enumerate(examples):
        code, _, err = cli("apply", "-k", spec, photo, "-o", tmp_path / f"{number}.png")
        assert (code, err) == (0, ""), spec


def test_a_recipe_saved_with_a_generated_stage_remembers_it(cli, photo, tmp_path):
    from kernelstudio.generators import parse_spec
    from kernelstudio.pipeline import Recipe, Stage
    from kernelstudio.recipe_files import write_recipe_file

    recipe_path = tmp_path / "soft.json"
    write_recipe_file(recipe_path, Recipe((Stage.generated(parse_spec("disk:radius=2")),)))
    stage = json.loads(recipe_path.read_text())["stages"][0]
    assert stage["generator"] == {"name": "disk", "parameters": {"radius": 2.0}}
    code, _, _ = cli("apply", "-k", recipe_path, photo, "-o", tmp_path / "o.png")
    assert code == 0
    weights = np.array(stage["weights"])
    assert_pixels(tmp_path / "o.png", to_8bit(oracle(read(photo), weights)))


def read(path):
    from tests.test_cli import read_image

    return read_image(path)


def test_each_preset_is_listed_with_the_generator_that_makes_it(cli, photo, tmp_path):
    _, out, _ = cli("presets")
    listed = dict(
        (line.split()[0], line.split("= ")[1])
        for line in out[: out.index("Your presets")].splitlines()[1:]
        if "= " in line
    )
    assert listed["sobel-left"] == "sobel:direction=left,size=3"
    assert listed["outline"] == "laplacian:neighbours=8,strength=-1"
    for slug in ("emboss", "gaussian-blur", "motion-blur-7x7", "unsharp-mask-5x5"):
        cli("apply", "-k", slug, photo, "-o", tmp_path / f"{slug}.png")
        cli("apply", "-k", listed[slug], photo, "-o", tmp_path / f"{slug}-spec.png")
        by_spec = read(tmp_path / f"{slug}-spec.png")
        np.testing.assert_array_equal(read(tmp_path / f"{slug}.png"), by_spec)
    diagonal = to_8bit(oracle(read(photo), np.eye(7) / 7))
    assert_pixels(tmp_path / "motion-blur-7x7-spec.png", diagonal)
