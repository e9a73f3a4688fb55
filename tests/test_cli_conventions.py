"""The command line's --rounding, --between-stages and --like, and export-code's refusals.

Expected pixels come from scipy.ndimage, rounded here; images are written and
read back with OpenCV. The conventions of real programs are compared with the
programs themselves in test_behave_like.py and test_like_*_programs.py; here a
made-up convention checks what --like does with the options around it.
"""

import cv2
import numpy as np
import pytest
from scipy import ndimage

from kernelstudio.behave_like import CONVENTIONS, Convention
from tests.test_cli import read_image, stderr_line, write_image

RNG = np.random.default_rng(31)
ROUND = {"half-up": lambda v: np.floor(v + 0.5), "half-even": np.rint, "truncate": np.trunc}
# Halves everywhere: (a + b) / 2 of two whole numbers ends in .5 half of the time.
PAIR_TEXT = "1/2 1/2 0"


@pytest.fixture
def grey(tmp_path):
    pixels = RNG.integers(0, 256, (15, 21), dtype=np.uint8)
    return pixels, write_image(tmp_path / "grey.png", pixels)


@pytest.mark.parametrize("rounding", ["half-up", "half-even", "truncate"])
def test_rounding_decides_the_halves(cli, tmp_path, grey, rounding):
    pixels, path = grey
    code, _, err = cli("apply", "-k", PAIR_TEXT, "--rounding", rounding, "-o", "out.png", path)
    assert (code, err) == (0, "")
    exact = ndimage.correlate(pixels.astype(float), np.array([[0.5, 0.5, 0.0]]), mode="mirror")
    assert np.count_nonzero(exact % 1 == 0.5) > 20  # the case is really tested
    np.testing.assert_array_equal(read_image(tmp_path / "out.png"), ROUND[rounding](exact))


def test_between_stages_round_rounds_each_stage_on_the_command_line(cli, tmp_path, grey):
    pixels, path = grey
    code, _, err = cli(
        "apply", "-k", "-1 0 1", "--offset", "0.5", "-k", PAIR_TEXT,
        "--between-stages", "round", "--border", "nearest", "-o", "out.png", path,
    )  # fmt: skip
    assert (code, err) == (0, "")
    first = ndimage.correlate(pixels.astype(float), np.array([[-1.0, 0, 1]]), mode="nearest")
    first = np.floor(np.clip(first + 0.5, 0, 255) + 0.5)
    second = ndimage.correlate(first, np.array([[0.5, 0.5, 0]]), mode="nearest")
    np.testing.assert_array_equal(read_image(tmp_path / "out.png"), np.floor(second + 0.5))


@pytest.fixture
def made_up(monkeypatch):
    """A convention of a program that does not exist: GIMP-like normalisation, wrap border."""
    convention = Convention(
        name="Made-up 1.0",
        border="wrap",
        flip=True,
        rounding="half-even",
        between_stages="clip",
        normalise="gimp",
        checked="made up for a test",
    )
    monkeypatch.setitem(CONVENTIONS, "madeup", convention)
    return convention


def test_like_sets_the_programs_options_and_normalises(cli, tmp_path, grey, made_up):
    pixels, path = grey
    # Sum 0: the made-up program (as GIMP) divides by 1 and adds half of white.
    code, _, err = cli("apply", "-k", "-1 0 1", "--like", "madeup", "-o", "out.png", path)
    assert (code, err) == (0, "")
    exact = ndimage.convolve(pixels.astype(float), np.array([[-1.0, 0, 1]]), mode="wrap") + 127.5
    np.testing.assert_array_equal(
        read_image(tmp_path / "out.png"), np.clip(np.rint(exact), 0, 255)
    )


def test_an_option_or_divisor_given_wins_over_like(cli, tmp_path, grey, made_up):
    pixels, path = grey
    code, _, err = cli(
        "apply", "-k", "1 2 1", "--divisor", "2", "-k", "1 3 0", "--like", "madeup",
        "--border", "nearest", "--between-stages", "float", "-o", "out.png", path,
    )  # fmt: skip
    assert (code, err) == (0, "")
    values = pixels.astype(float)
    first = ndimage.convolve(values, np.array([[1.0, 2, 1]]), mode="nearest") / 2  # kept ÷2
    # Normalised: ÷4, exact in float32 as in float64, so the halves round alike.
    second = ndimage.convolve(first, np.array([[1.0, 3, 0]]), mode="nearest") / 4
    np.testing.assert_array_equal(
        read_image(tmp_path / "out.png"), np.clip(np.rint(second), 0, 255)
    )


def test_like_offsets_scale_with_a_16_bit_image(cli, tmp_path, made_up):
    pixels = RNG.integers(0, 65536, (9, 13), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), pixels)
    code, _, err = cli(
        "apply", "-k", "-1 0 1", "--like", "madeup", "-o", "out.png", tmp_path / "deep.png"
    )
    assert (code, err) == (0, "")
    exact = ndimage.convolve(pixels.astype(float), np.array([[-1.0, 0, 1]]), mode="wrap")
    expected = np.clip(np.rint((exact + 32767.5) * 255 / 65535), 0, 255)
    assert np.abs(read_image(tmp_path / "out.png").astype(int) - expected).max() <= 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rounding", "up"], "argument --rounding: invalid choice: 'up'"),
        (["--between-stages", "x"], "argument --between-stages: invalid choice: 'x'"),
        (["--like", "paint"], "argument --like: invalid choice: 'paint'"),
    ],
)
def test_bad_convention_options_are_one_line_and_write_nothing(
    cli, tmp_path, grey, arguments, message
):
    code, out, err = cli("apply", "-k", "1", *arguments, "-o", "out.png", grey[1])
    assert (code, out) == (2, "")
    assert message in stderr_line(err)
    assert not (tmp_path / "out.png").exists()


def test_export_code_refuses_an_unknown_target_in_one_line(cli):
    code, out, err = cli("export-code", "-k", "1", "--target", "matlab")
    assert (code, out) == (2, "")
    assert "argument --target: invalid choice: 'matlab'" in stderr_line(err)


def test_export_code_refuses_a_bad_kernel_in_one_line(cli):
    code, out, err = cli("export-code", "-k", "1 x 1", "--target", "numpy")
    assert (code, out) == (2, "")
    assert "'x'" in stderr_line(err)


def test_export_code_needs_a_kernel_and_a_target(cli):
    code, out, err = cli("export-code", "--target", "numpy")
    assert (code, out) == (2, "")
    assert "-k" in stderr_line(err)


def test_like_filters_alpha_as_the_program_does_unless_channels_are_given(cli, tmp_path):
    rgba = RNG.integers(0, 256, (11, 13, 4), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "in.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    blur = np.array([[1.0, 2, 1]]) / 4
    for arguments, filtered in (([], 4), (["--channels", "rgb"], 3)):
        code, _, err = cli(
            "apply", "-k", "1 2 1", "--divisor", "4", "--like", "opencv", *arguments,
            "-o", "out.png", "--force", tmp_path / "in.png",
        )  # fmt: skip
        assert (code, err) == (0, "")
        written = cv2.cvtColor(cv2.imread(str(tmp_path / "out.png"), -1), cv2.COLOR_BGRA2RGBA)
        expected = rgba.astype(float)
        for channel in range(filtered):  # OpenCV filters all four: alpha too
            expected[..., channel] = np.rint(
                ndimage.correlate(rgba[..., channel].astype(float), blur, mode="mirror")
            )
        np.testing.assert_array_equal(written, expected)
