"""``kernelstudio apply`` with recipes: stacks, divisor and offset, channels, alpha, presets.

Expected values come from scipy.ndimage.correlate per stage and channel (a slow loop
for 'valid', which crops after each stage); images are written and read with OpenCV.
"""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import kernelstudio.cli as command
from kernelstudio.kernels import PRESETS, Kernel, user_presets_folder, write_kernel_file
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.recipe_files import write_recipe_file
from tests.test_cli import (
    BORDERS,
    assert_pixels,
    oracle,
    preset_sections,
    random_image,
    read_image,
    stderr_line,
    to_8bit,
    write_image,
)
from tests.test_cli_safety import QT_FREE, headless_environment, listing, refuse_work

LINUX = sys.platform.startswith("linux")


def rows(weights):
    return "; ".join(" ".join(repr(float(w)) for w in row) for row in np.asarray(weights))


def read_float(path):
    values = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert values is not None
    assert values.dtype == np.float32
    return cv2.cvtColor(values, cv2.COLOR_BGR2RGB) if values.ndim == 3 else values


def stack_oracle(image, stages, border="mirror"):
    """Each (weights, divisor, offset) in turn on the float64 result of the one before."""
    values = np.asarray(image, dtype=np.float64)
    for weights, divisor, offset in stages:
        values = oracle(values, weights, border) / divisor + offset
    return values


@pytest.fixture
def grey(tmp_path):
    pixels = random_image((13, 16))
    return write_image(tmp_path / "grey.png", pixels), pixels


@pytest.fixture
def photo(tmp_path):
    pixels = random_image((12, 17, 3), seed=3)
    return write_image(tmp_path / "photo.png", pixels), pixels


def write_rgba(path, rgba):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    return path


def read_rgba(path):
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert pixels.shape[2] == 4, "the alpha channel must be written"
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)


# --- divisor and offset -------------------------------------------------------------------


def test_divisor_and_offset_match_the_oracle(cli, grey):
    source, pixels = grey
    weights = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    args = ("apply", source, "-k", "1 2 1; 2 4 2; 1 2 1", "--divisor", "16", "--offset", "-20")
    assert cli(*args, "-o", "out.png") == (0, "", "")
    assert_pixels("out.png", to_8bit(oracle(pixels, weights) / 16 - 20))
    assert cli(*args, "--float", "-o", "out.tif") == (0, "", "")
    np.testing.assert_allclose(read_float("out.tif"), oracle(pixels, weights) / 16 - 20, atol=1e-3)


def test_emboss_plus_128_shows_flat_areas_as_mid_grey(cli, photo):
    source, pixels = photo
    assert cli("apply", source, "-k", "emboss", "--offset", "128", "-o", "out.png")[0] == 0
    assert_pixels("out.png", to_8bit(oracle(pixels, PRESETS["emboss"]) + 128))


def test_a_kernel_file_brings_its_divisor_and_offset_and_flags_override_them(cli, grey):
    source, pixels = grey
    write_kernel_file("k.json", Kernel("k", np.array([[1.0, 2.0, 1.0]]), 4.0, 10.0))
    assert cli("apply", source, "-k", "k.json", "--float", "-o", "a.tif")[0] == 0
    np.testing.assert_allclose(
        read_float("a.tif"), oracle(pixels, [[1, 2, 1]]) / 4 + 10, atol=1e-3
    )
    assert cli("apply", source, "-k", "k.json", "--divisor", "2", "--float", "-o", "b.tif")[0] == 0
    np.testing.assert_allclose(
        read_float("b.tif"), oracle(pixels, [[1, 2, 1]]) / 2 + 10, atol=1e-3
    )


def test_each_divisor_and_offset_belongs_to_the_k_before_it(cli, grey):
    source, pixels = grey
    code, _, err = cli(
        "apply", source, "-k", "1 2 1", "--divisor", "4", "-k", "-1 0 1", "--offset=-3",
        "--float", "-o", "out.tif",
    )  # fmt: skip
    assert (code, err) == (0, "")
    expected = stack_oracle(pixels, [([[1, 2, 1]], 4, 0), ([[-1, 0, 1]], 1, -3)])
    np.testing.assert_allclose(read_float("out.tif"), expected, atol=1e-3)


def test_with_one_k_the_divisor_may_come_first(cli, grey):
    source, pixels = grey
    assert (
        cli("apply", source, "--divisor", "1/4", "-k", "1 2 1", "--float", "-o", "o.tif")[0] == 0
    )
    np.testing.assert_allclose(read_float("o.tif"), oracle(pixels, [[1, 2, 1]]) * 4, atol=1e-3)


# --- channels and alpha -------------------------------------------------------------------


@pytest.mark.parametrize("channels", ["r", "g", "b", "rg", "gb", "rb", "rgb", "bgr"])
def test_channel_subsets(cli, photo, channels):
    source, pixels = photo
    code, _, err = cli(
        "apply", source, "-k", "sharpen", "--channels", channels, "--float", "-o", "out.tif"
    )
    assert (code, err) == (0, "")
    written = read_float("out.tif")
    for index, letter in enumerate("rgb"):
        expected = pixels[..., index].astype(np.float64)
        if letter in channels:
            expected = oracle(expected, PRESETS["sharpen"])
        np.testing.assert_allclose(written[..., index], expected, atol=1e-3)


@pytest.fixture
def rgba(tmp_path):
    pixels = random_image((11, 14, 4), seed=8)
    pixels[:, :5, 3] = 0  # a fully transparent region
    pixels[:, 5:9, 3] = 255
    return write_rgba(tmp_path / "rgba.png", pixels), pixels


def test_an_rgba_png_keeps_its_alpha_byte_for_byte(cli, rgba):
    source, pixels = rgba
    assert cli("apply", source, "-k", "identity", "-o", "same.png") == (0, "", "")
    np.testing.assert_array_equal(read_rgba("same.png"), pixels)
    assert cli("apply", source, "-k", "box-blur", "-o", "blurred.png") == (0, "", "")
    blurred = read_rgba("blurred.png")
    np.testing.assert_array_equal(blurred[..., 3], pixels[..., 3])
    expected_rgb = to_8bit(oracle(pixels[..., :3], PRESETS["box-blur"]))
    assert np.abs(blurred[..., :3].astype(int) - expected_rgb).max() <= 1


def test_weighted_alpha_hides_the_colour_of_transparent_pixels(cli, tmp_path):
    pixels = np.zeros((9, 12, 4), np.uint8)
    pixels[:, :6] = (255, 0, 0, 0)  # invisible red
    pixels[:, 6:] = (0, 0, 255, 255)  # opaque blue
    source = write_rgba(tmp_path / "in.png", pixels)
    assert cli("apply", source, "-k", "box-blur", "--alpha", "weighted", "-o", "w.png")[0] == 0
    assert cli("apply", source, "-k", "box-blur", "-o", "keep.png")[0] == 0
    weighted, kept = read_rgba("w.png"), read_rgba("keep.png")
    np.testing.assert_array_equal(weighted[:, 6:], pixels[:, 6:])  # no red bleeds in
    assert (kept[:, 6, 0] == 85).all(), "stored colour blurs in with keep"


def test_process_filters_alpha_when_a_is_chosen(cli, rgba):
    source, pixels = rgba
    args = ("apply", source, "-k", "box-blur", "--channels", "a", "--alpha", "process")
    assert cli(*args, "-o", "out.png") == (0, "", "")
    written = read_rgba("out.png")
    np.testing.assert_array_equal(written[..., :3], pixels[..., :3])
    expected = to_8bit(oracle(pixels[..., 3], PRESETS["box-blur"]))
    assert np.abs(written[..., 3].astype(int) - expected).max() <= 1


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_a_transparent_image_to_jpg_or_bmp_is_refused_before_any_work(
    cli, rgba, monkeypatch, suffix
):
    source, _ = rgba
    monkeypatch.setattr(command, "render", lambda *args: pytest.fail("computed"))
    code, out, err = cli("apply", source, "-k", "identity", "-o", f"out{suffix}")
    assert (code, out) == (2, "")
    assert ".png, .tif or .webp" in stderr_line(err)
    assert listing(source.parent) == ["rgba.png"]


def test_signed_display_shows_zero_as_mid_grey(cli, grey):
    source, pixels = grey
    assert cli("apply", source, "-k", "sobel-left", "--display", "signed", "-o", "s.png")[0] == 0
    values = oracle(pixels, PRESETS["sobel-left"])
    expected = np.clip(np.rint(127.5 + values * (127.5 / np.abs(values).max())), 0, 255)
    assert np.abs(read_image("s.png").astype(int) - expected).max() <= 1


# --- stacks -------------------------------------------------------------------------------

STACK = [
    ([[1, 2, 1]], 4, 0),
    ([[0, 1, 0], [1, -4, 1], [0, 1, 0]], 1, 128),
    ([[1], [0], [-1]], 2, 0),
    ([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0]], 3, -5),
]


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_stacks_of_kernels_under_every_border(cli, tmp_path, border, depth):
    pixels = random_image((14, 18), seed=depth)
    source = write_image(tmp_path / "in.png", pixels)
    args = []
    for weights, divisor, offset in STACK[:depth]:
        args += ["-k", rows(weights), "--divisor", str(divisor), f"--offset={offset}"]
    code, _, err = cli("apply", source, *args, "--border", border, "--float", "-o", "out.tif")
    assert (code, err) == (0, "")
    expected = stack_oracle(pixels, STACK[:depth], border)
    written = read_float("out.tif")
    assert written.shape == expected.shape
    np.testing.assert_allclose(written, expected, atol=2e-3)


@pytest.mark.parametrize("shape", [(1, 31), (31, 1), (31, 31)])
def test_the_largest_kernels(cli, photo, shape):
    source, pixels = photo
    weights = np.random.default_rng(sum(shape)).random(shape)
    weights /= weights.sum()
    assert cli("apply", source, "-k", rows(weights), "--float", "-o", "out.tif") == (0, "", "")
    np.testing.assert_allclose(read_float("out.tif"), oracle(pixels, weights), atol=2e-3)


# --- recipe files -------------------------------------------------------------------------


def a_recipe(path, **options):
    recipe = Recipe(
        (Stage([[1, 2, 1]], divisor=4), Stage([[-1, 0, 1]], offset=100)),
        **{"border": "wrap", **options},
    )
    write_recipe_file(path, recipe)
    return path


def test_a_recipe_file_brings_its_stages_and_options(cli, grey):
    source, pixels = grey
    recipe = a_recipe(source.parent / "r.json", display="abs")
    assert cli("apply", source, "-k", recipe, "-o", "out.png") == (0, "", "")
    expected = stack_oracle(pixels, [([[1, 2, 1]], 4, 0), ([[-1, 0, 1]], 1, 100)], "wrap")
    assert_pixels("out.png", to_8bit(expected, "abs"))


def test_command_line_options_override_the_recipe_file(cli, grey):
    source, pixels = grey
    recipe = a_recipe(source.parent / "r.json", display="abs")
    code = cli("apply", source, "-k", recipe, "--border", "nearest", "--float", "-o", "o.tif")[0]
    assert code == 0
    expected = stack_oracle(pixels, [([[1, 2, 1]], 4, 0), ([[-1, 0, 1]], 1, 100)], "nearest")
    np.testing.assert_allclose(read_float("o.tif"), expected, atol=1e-3)


def test_a_recipe_then_another_kernel_stacks_them(cli, grey):
    source, pixels = grey
    recipe = a_recipe(source.parent / "r.json")
    assert cli("apply", source, "-k", recipe, "-k", "box-blur", "--float", "-o", "o.tif")[0] == 0
    stages = [([[1, 2, 1]], 4, 0), ([[-1, 0, 1]], 1, 100), (PRESETS["box-blur"], 1, 0)]
    np.testing.assert_allclose(
        read_float("o.tif"), stack_oracle(pixels, stages, "wrap"), atol=1e-3
    )


def test_recipe_files_that_disagree_need_the_option(cli, grey, monkeypatch):
    source, _ = grey
    first = a_recipe(source.parent / "a.json")
    second = a_recipe(source.parent / "b.json", border="nearest")
    refuse_work(monkeypatch)
    code, _, err = cli("apply", source, "-k", first, "-k", second, "-o", "out.png")
    assert code == 2
    assert "disagree on border" in stderr_line(err)
    assert "--border" in err


# --- bad values ---------------------------------------------------------------------------


def write_json(path, document):
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


BAD = {
    "divisor-0": (["-k", "box-blur", "--divisor", "0"], "other than 0"),
    "divisor-nan": (["-k", "box-blur", "--divisor", "nan"], "'nan'"),
    "offset-inf": (["-k", "box-blur", "--offset", "inf"], "'inf'"),
    "17-stages": (["-k", "identity"] * 17, "1 to 16 stages; got 17"),
    "33x33": (["-k", rows(np.ones((33, 33)))], "33×33 is larger than the limit of 31×31"),
    "even": (["-k", "1 1 1 1"], "1×4"),
    "channels-x": (["-k", "box-blur", "--channels", "x"], "got 'x'"),
    "channels-twice": (["-k", "box-blur", "--channels", "rr"], "got 'rr'"),
    "alpha-foo": (["-k", "box-blur", "--alpha", "foo"], "'foo'"),
    "display-log": (["-k", "box-blur", "--display", "log"], "'log'"),
    "recipe-no-stages": (["-k", "{no_stages}"], "a recipe with a missing field 'stages'"),
    "recipe-divisor-0": (["-k", "{zero_divisor}"], "stages[1].divisor is 0"),
    "kernel-file-divisor-0": (["-k", "{kernel_zero}"], "'divisor' is 0; it must be a finite"),
    "divisor-before-two-k": (["--divisor", "2", "-k", "box-blur", "-k", "sharpen"], "before"),
    "two-divisors": (["-k", "box-blur", "--divisor", "2", "--divisor", "3"], "two --divisor"),
    "divisor-after-recipe": (["-k", "{two_stages}", "--divisor", "2"], "holds 2 stages"),
    "misspelt-preset": (["-k", "sharpn"], "no preset 'sharpn'; did you mean sharpen?"),
}


@pytest.mark.parametrize(("args", "named"), BAD.values(), ids=BAD.keys())
def test_bad_values_are_one_line_exit_2_and_no_output(
    cli, tmp_path, grey, monkeypatch, args, named
):
    source, _ = grey
    files = {
        "no_stages": write_json(tmp_path / "none.json", {"format": "kernelstudio-recipe"}),
        "zero_divisor": write_json(
            tmp_path / "zero.json",
            {
                "format": "kernelstudio-recipe",
                "stages": [{"weights": [[1]]}, {"weights": [[1]], "divisor": 0}],
            },
        ),
        "kernel_zero": write_json(tmp_path / "k0.json", {"weights": [[1]], "divisor": 0}),
        "two_stages": a_recipe(tmp_path / "two.json"),
    }
    before = listing(tmp_path)
    refuse_work(monkeypatch)
    arguments = [argument.format(**files) for argument in args]
    code, out, err = cli("apply", source, *arguments, "-o", "out.png")
    assert (code, out) == (2, "")
    assert named in stderr_line(err)
    assert listing(tmp_path) == before


def test_a_stack_that_would_overflow_names_the_stage(cli, tmp_path):
    code, _, err = cli("apply", "-k", "1e20", "-k", "1e20", "-o", "out.png")
    assert code == 2
    assert "stage 2: the result would overflow" in stderr_line(err)
    assert listing(tmp_path) == []


# --- presets saved in the window ----------------------------------------------------------


@pytest.fixture
def saved_presets():
    folder = user_presets_folder()
    folder.mkdir(parents=True)
    write_kernel_file(folder / "my-blur.json", Kernel("My blur", np.array([[1.0, 2.0, 1.0]]), 4.0))
    return folder


def test_a_saved_preset_works_as_a_slug(cli, grey, saved_presets):
    source, pixels = grey
    assert cli("apply", source, "-k", "my-blur", "--float", "-o", "out.tif") == (0, "", "")
    np.testing.assert_allclose(read_float("out.tif"), oracle(pixels, [[1, 2, 1]]) / 4, atol=1e-3)
    code, _, err = cli("apply", source, "-k", "my-blr", "-o", "out.png")
    assert code == 2
    assert "did you mean my-blur?" in stderr_line(err)


def test_presets_lists_saved_ones_apart_and_skips_bad_files(cli, saved_presets):
    (saved_presets / "broken.json").write_text("{")
    (saved_presets / "huge.json").write_bytes(b" " * 2_000_000)
    if hasattr(os, "mkfifo"):
        os.mkfifo(saved_presets / "fifo.json")
    before = listing(saved_presets)
    code, out, err = cli("presets")
    assert code == 0
    sections = preset_sections(out)
    assert (sections["Built-in"], sections["Your"]) == (list(PRESETS), ["my-blur"])
    assert "1×3 ÷4  My blur" in out
    warnings = err.splitlines()
    assert len(warnings) == (3 if hasattr(os, "mkfifo") else 2)
    assert all(
        line.startswith("kernelstudio: warning: skipped the preset file") for line in warnings
    )
    assert "Traceback" not in err
    assert listing(saved_presets) == before, "the command line moves nothing aside"


def test_presets_folder_matches_qt(tmp_path):
    pytest.importorskip("PySide6")
    if not LINUX:
        pytest.skip("the XDG rules are Linux's")
    script = (
        "from PySide6.QtCore import QCoreApplication, QStandardPaths as P\n"
        "app = QCoreApplication([])\n"
        "app.setOrganizationName('KernelStudio'); app.setApplicationName('Kernel Studio')\n"
        "print(P.writableLocation(P.StandardLocation.AppConfigLocation) + '/presets')\n"
    )
    home = tmp_path / "home"
    for config in [str(tmp_path / "config"), "relative/config", "", None]:
        environ = {**headless_environment(), "HOME": str(home)}
        environ.pop("XDG_CONFIG_HOME", None)
        if config is not None:
            environ["XDG_CONFIG_HOME"] = config
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=environ,
            timeout=60,
            check=True,
        )
        assert done.stdout.strip() == str(user_presets_folder(environ)), config


def test_saved_presets_load_without_qt(tmp_path, saved_presets):
    environ = {**headless_environment(), "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]}
    write_image(tmp_path / "in.png", random_image((5, 6)))
    for args in (["presets"], ["apply", "in.png", "-k", "my-blur", "-o", "out.png"]):
        done = subprocess.run(
            [sys.executable, "-c", QT_FREE, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environ,
            timeout=120,
            check=False,
        )
        assert done.stdout.splitlines()[-1] == "0 []", done.stderr


@pytest.mark.parametrize(
    ("kernel", "divisor"), [("1 2 1", "1e-300"), ("1e30", "1e-10")], ids=["tiny", "huge-weight"]
)
def test_a_divisor_that_overflows_the_weights_is_one_line_and_exit_2(cli, grey, kernel, divisor):
    source, _ = grey
    code, out, err = cli("apply", source, "-k", kernel, "--divisor", divisor, "-o", "out.png")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "float32" in err
    assert not os.path.exists("out.png")


def test_valid_names_the_whole_stack_when_the_image_is_too_small(cli, tmp_path):
    small = write_image(tmp_path / "four.png", random_image((4, 4), seed=1))
    args = ("apply", small, "-k", "box-blur", "-k", "box-blur", "--border", "valid")
    code, _, err = cli(*args, "-o", "out.png")
    assert code == 2
    assert "image of 4×4 pixels is smaller than the 3×3 then 3×3 kernels" in err
    assert "at least 5×5" in err


def test_a_recipe_file_without_format_is_read_as_a_recipe(cli, grey, tmp_path):
    source, pixels = grey
    recipe = tmp_path / "handmade.json"
    recipe.write_text('{"stages": [{"weights": [[1, 2, 1]], "divisor": 4}]}')
    assert cli("apply", source, "-k", recipe, "-o", "out.png") == (0, "", "")
    assert_pixels("out.png", to_8bit(oracle(pixels, [[1, 2, 1]]) / 4))
