"""End-to-end tests of the ``kernelstudio`` command.

Expected pixels come from independent oracles (``scipy.ndimage`` and, for the
'valid' border, a slow loop), mapped to 8 bits here; images are written and read
back with OpenCV, never with kernelstudio's own loader or convolution.
"""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage

import kernelstudio
from kernelstudio.kernels import PRESET_DISPLAY, PRESETS

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "coffee.png"
BORDERS = ("valid", "constant", "nearest", "reflect", "mirror", "wrap")
GAUSSIAN_TEXT = "1/16 1/8 1/16; 1/8 1/4 1/8; 1/16 1/8 1/16"
GAUSSIAN = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
SOBEL_LEFT = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
# Not symmetric under a 180° turn, so --flip must change the result.
LOPSIDED_TEXT = "0 0 0; 0 1/4 3/4; 0 0 0"
LOPSIDED = [[0, 0, 0], [0, 0.25, 0.75], [0, 0, 0]]
# 3×5, weights summing to one: every border mode shows at every edge.
SKEWED_TEXT = "1/8 0 1/4 0 0; 0 1/8 0 0 1/4; 1/8 0 0 1/8 0"
SKEWED = [[1 / 8, 0, 1 / 4, 0, 0], [0, 1 / 8, 0, 0, 1 / 4], [1 / 8, 0, 0, 1 / 8, 0]]


def read_image(path):
    pixels = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    assert pixels is not None, f"{path} is not a readable image"
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB) if pixels.ndim == 3 else pixels


def write_image(path, pixels):
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    encoded, data = cv2.imencode(Path(path).suffix, bgr)
    assert encoded
    data.tofile(path)
    return path


def random_image(shape, dtype=np.uint8, seed=0):
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top, shape, endpoint=True).astype(dtype)


def oracle(image, weights, border="mirror", flip=False):
    """Float64 kernel response, per channel: scipy, or the tutorial's loop for 'valid'."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        return np.dstack([oracle(image[..., c], weights, border, flip) for c in range(3)])
    weights = np.asarray(weights, dtype=np.float64)
    if border != "valid":
        return (ndimage.convolve if flip else ndimage.correlate)(image, weights, mode=border)
    if flip:
        weights = weights[::-1, ::-1]
    f, g = weights.shape
    n, m = image.shape
    return np.array(
        [
            [np.sum(image[i : i + f, j : j + g] * weights) for j in range(m - g + 1)]
            for i in range(n - f + 1)
        ]
    )


def to_8bit(values, display="clip", white=255.0):
    if display == "normalize":
        scaled = (values - values.min()) / (values.max() - values.min()) * 255
    else:
        scaled = (np.abs(values) if display == "abs" else values) * (255 / white)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def assert_pixels(path, expected):
    actual = read_image(path)
    assert (actual.dtype, actual.shape) == (np.uint8, expected.shape)
    error = np.abs(actual.astype(int) - expected.astype(int))
    assert error.max() <= 1, f"{np.count_nonzero(error > 1)} pixels are off by more than 1"


def stderr_line(err):
    assert "Traceback" not in err
    assert err.startswith("kernelstudio"), err
    assert err.count("\n") == 1, err
    assert err.endswith("\n"), err
    return err


def kernel_file(path, weights):
    document = {"format": "kernelstudio-kernel", "version": 1, "name": "x", "weights": weights}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run_module(*args, cwd, env=None, python_options=()):
    return subprocess.run(
        [sys.executable, *python_options, "-m", "kernelstudio", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_rgb():
    return read_image(SAMPLE)


@pytest.fixture
def photo(tmp_path):
    """A small random RGB PNG and its pixels."""
    pixels = random_image((12, 17, 3))
    return write_image(tmp_path / "photo.png", pixels), pixels


def test_sample_is_the_documented_image(sample_rgb):
    assert sample_rgb.shape == (400, 600, 3)


@pytest.mark.parametrize("slug", PRESETS)
def test_each_preset_writes_expected_image(cli, tmp_path, sample_rgb, slug):
    output = tmp_path / "out.png"
    assert cli("apply", "-k", slug, "-o", output) == (0, "", "")
    assert_pixels(output, to_8bit(oracle(sample_rgb, PRESETS[slug]), PRESET_DISPLAY[slug]))


@pytest.mark.parametrize("border", BORDERS)
def test_border_modes(cli, tmp_path, photo, border):
    source, pixels = photo
    output = tmp_path / "out.png"
    assert cli("apply", source, "-k", SKEWED_TEXT, "--border", border, "-o", output)[0] == 0
    expected = to_8bit(oracle(pixels, SKEWED, border))
    assert expected.shape == ((10, 13, 3) if border == "valid" else pixels.shape)
    assert_pixels(output, expected)


@pytest.mark.parametrize("border", ["valid", "wrap"])
def test_flip_turns_the_kernel(cli, tmp_path, photo, border):
    source, pixels = photo
    flipped, plain = tmp_path / "flipped.png", tmp_path / "plain.png"
    options = (source, "-k", LOPSIDED_TEXT, "--border", border)
    assert cli("apply", *options, "--flip", "-o", flipped)[0] == 0
    assert cli("apply", *options, "-o", plain)[0] == 0
    assert_pixels(flipped, to_8bit(oracle(pixels, LOPSIDED, border, flip=True)))
    assert_pixels(plain, to_8bit(oracle(pixels, LOPSIDED, border)))
    assert np.abs(read_image(flipped).astype(int) - read_image(plain)).mean() > 2


@pytest.mark.parametrize(
    ("as_file", "weights"),
    [(False, GAUSSIAN.tolist()), (True, [[0, -1, 0], [-1, 5, -1], [0, 0, 0.5]])],
    ids=["inline-text", "json-file"],
)
def test_kernel_from_text_or_file(cli, tmp_path, sample_rgb, as_file, weights):
    spec = kernel_file(tmp_path / "k.json", weights) if as_file else GAUSSIAN_TEXT
    output = tmp_path / "out.png"
    assert cli("apply", "-k", spec, "-o", output) == (0, "", "")
    assert_pixels(output, to_8bit(oracle(sample_rgb, weights)))


def test_gray_converts_before_convolving(cli, tmp_path):
    output = tmp_path / "out.png"
    assert cli("apply", "-k", "gaussian-blur", "--gray", "-o", output)[0] == 0
    grey = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2GRAY)
    assert_pixels(output, to_8bit(oracle(grey, GAUSSIAN)))


@pytest.mark.parametrize("display", ["clip", "abs", "normalize"])
def test_display_modes(cli, tmp_path, sample_rgb, display):
    output = tmp_path / "out.png"
    assert cli("apply", "-k", "sobel-left", "--display", display, "-o", output)[0] == 0
    assert_pixels(output, to_8bit(oracle(sample_rgb, SOBEL_LEFT), display))


def test_float_tiff_keeps_exact_values(cli, tmp_path, sample_rgb):
    output = tmp_path / "out.tif"
    assert cli("apply", "-k", "sharpen", "--float", "-o", output) == (0, "", "")
    values = cv2.cvtColor(cv2.imread(str(output), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    assert values.dtype == np.float32
    expected = oracle(sample_rgb, PRESETS["sharpen"])
    assert expected.min() < 0, "the check must see values below 0"
    assert expected.max() > 255, "the check must see values above 255"
    np.testing.assert_allclose(values, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((20, 30), np.uint8), ((20, 30), np.uint16), ((20, 30, 3), np.uint16)],
    ids=["grey-8", "grey-16", "rgb-16"],
)
def test_grey_and_16_bit_inputs(cli, tmp_path, shape, dtype):
    pixels = random_image(shape, dtype)
    source, output = write_image(tmp_path / "in.png", pixels), tmp_path / "out.png"
    assert cli("apply", source, "-k", "gaussian-blur", "-o", output)[0] == 0
    white = np.iinfo(dtype).max
    assert_pixels(output, to_8bit(oracle(pixels, GAUSSIAN), "clip", white))


def test_several_inputs_to_a_new_folder(cli, tmp_path):
    images = {name: random_image((9, 11, 3), seed=i) for i, name in enumerate(["a", "b"])}
    sources = [write_image(tmp_path / f"{name}.png", pixels) for name, pixels in images.items()]
    folder = tmp_path / "new" / "results"
    code, out, err = cli("apply", *sources, "-k", "box-blur", "-o", folder)
    assert (code, out) == (0, "")
    # Parallel jobs (the default) end in either order; the count goes up all the same.
    progress = [line.split()[1:] for line in err.splitlines()]
    assert [count for count, _ in progress] == ["1/2", "2/2"]
    assert sorted(name for _, name in progress) == ["a.png", "b.png"]
    assert sorted(path.name for path in folder.iterdir()) == ["a.png", "b.png"]
    for name, pixels in images.items():
        assert_pixels(folder / f"{name}.png", to_8bit(oracle(pixels, PRESETS["box-blur"])))


def test_several_inputs_one_bad(cli, tmp_path, photo):
    source, pixels = photo
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    folder = tmp_path / "out"
    code, _, err = cli("apply", bad, source, "-k", "box-blur", "-o", folder)
    assert code == 1
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1
    assert "bad.png" in errors[0]
    assert "2/2" in err
    assert "Traceback" not in err
    assert [path.name for path in folder.iterdir()] == ["photo.png"]
    assert_pixels(folder / "photo.png", to_8bit(oracle(pixels, PRESETS["box-blur"])))


def test_one_input_into_an_existing_folder(cli, tmp_path, photo):
    source, pixels = photo
    folder = tmp_path / "out"
    folder.mkdir()
    assert cli("apply", source, "-k", "identity", "-o", folder) == (0, "", "")
    assert [path.name for path in folder.iterdir()] == ["photo.png"]
    assert_pixels(folder / "photo.png", pixels)


@pytest.mark.parametrize("several", [False, True], ids=["one-input", "several-inputs"])
def test_existing_output_needs_force(cli, tmp_path, photo, several):
    source, pixels = photo
    other = write_image(tmp_path / "other.png", pixels[::-1])
    folder = tmp_path / "out"
    folder.mkdir()
    existing = folder / "photo.png"
    existing.write_bytes(b"precious")
    args = ("apply", source, *([other] if several else []), "-k", "identity")
    code, _, err = cli(*args, "-o", folder if several else existing)
    assert code != 0
    assert "--force" in stderr_line(err)
    assert existing.read_bytes() == b"precious"
    assert [path.name for path in folder.iterdir()] == ["photo.png"]
    assert cli(*args, "-o", folder if several else existing, "--force")[0] == 0
    assert_pixels(existing, pixels)


@pytest.fixture
def workspace(tmp_path):
    """Inputs good and bad in ``in/``, and an empty ``out/`` folder."""
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    write_image(inputs / "photo.png", random_image((12, 17, 3)))
    write_image(inputs / "tiny.png", random_image((2, 2, 3)))
    (inputs / "empty.png").touch()
    (inputs / "text.png").write_text("hello, I am not a PNG\n")
    (inputs / "folder.png").mkdir()
    (inputs / "broken.json").write_text('{"weights": [[1, 2, 1]')
    kernel_file(inputs / "words.json", [["a", "b", "c"]])
    return inputs, outputs


FAILURES = {
    "missing-input": (2, "{inp}/missing.png -k box-blur -o {out}/r.png", "missing.png"),
    "folder-input": (2, "{inp}/folder.png -k box-blur -o {out}/r.png", "folder.png"),
    "empty-input": (2, "{inp}/empty.png -k box-blur -o {out}/r.png", "empty.png"),
    "text-input": (2, "{inp}/text.png -k box-blur -o {out}/r.png", "text.png"),
    "unknown-preset": (2, "{inp}/photo.png -k blurr -o {out}/r.png", "blurr"),
    "ragged-rows": (2, "{inp}/photo.png -k '1 2; 3' -o {out}/r.png", "differ"),
    "expression": (2, "{inp}/photo.png -k 2*3 -o {out}/r.png", "2*3"),
    "nan": (2, "{inp}/photo.png -k nan -o {out}/r.png", "'nan'"),
    "even-kernel": (2, "{inp}/photo.png -k '1 1; 1 1' -o {out}/r.png", "2×2"),
    "broken-json": (2, "{inp}/photo.png -k {inp}/broken.json -o {out}/r.png", "broken.json"),
    "json-words": (2, "{inp}/photo.png -k {inp}/words.json -o {out}/r.png", "words.json"),
    "missing-json": (2, "{inp}/photo.png -k {inp}/absent.json -o {out}/r.png", "absent.json"),
    "unknown-extension": (2, "{inp}/photo.png -k box-blur -o {out}/r.xyz", ".xyz"),
    "missing-parent": (2, "{inp}/photo.png -k box-blur -o {out}/missing/r.png", "r.png"),
    "valid-too-small": (2, "{inp}/tiny.png -k box-blur --border valid -o {out}/r.png", "tiny.png"),
    "float-png": (2, "{inp}/photo.png -k box-blur --float -o {out}/r.png", "--float"),
    "same-output-names": (2, "{inp}/photo.png {inp}/photo.png -k box-blur -o {out}", "photo.png"),
    "several-to-a-file": (
        2,
        "{inp}/photo.png {inp}/tiny.png -k box-blur -o {inp}/photo.png",
        "must be a folder",
    ),
    "no-kernel": (2, "{inp}/photo.png -o {out}/r.png", "-k/--kernel"),
    "no-output": (2, "{inp}/photo.png -k box-blur", "-o/--output"),
    "unknown-border": (2, "{inp}/photo.png -k box-blur --border edge -o {out}/r.png", "'edge'"),
    "unknown-display": (2, "{inp}/photo.png -k box-blur --display log -o {out}/r.png", "'log'"),
    "unknown-option": (2, "{inp}/photo.png -k box-blur --blur -o {out}/r.png", "--blur"),
}


NAME_TOO_LONG = pytest.param(
    2,
    "{inp}/photo.png -k box-blur -o {out}/" + "a" * 300 + ".png",
    "too long",
    id="output-name-too-long",
)


@pytest.mark.parametrize(
    ("code", "template", "named"),
    [*(pytest.param(*case, id=name) for name, case in FAILURES.items()), NAME_TOO_LONG],
)
def test_failure_is_one_line_and_no_file(cli, workspace, code, template, named):
    inputs, outputs = workspace
    before = sorted(inputs.iterdir())
    args = [part.format(inp=inputs, out=outputs) for part in shlex.split(template)]
    status, out, err = cli("apply", *args)
    assert (status, out) == (code, "")
    assert named in stderr_line(err)
    assert list(outputs.iterdir()) == []
    assert sorted(inputs.iterdir()) == before


def preset_sections(out):
    """The slugs listed under each heading of ``kernelstudio presets``."""
    sections, heading = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            heading = line.split()[0]
            sections[heading] = []
        elif line.strip() and not line.strip().startswith("none yet"):
            sections[heading].append(line.split()[0])
    return sections


def test_presets_lists_every_slug(cli):
    code, out, err = cli("presets")
    assert (code, err) == (0, "")
    sections = preset_sections(out)
    assert (sections["Built-in"], sections["Your"]) == (list(PRESETS), [])
    assert "none yet" in out


def test_version(cli):
    assert cli("--version") == (0, f"kernelstudio {kernelstudio.__version__}\n", "")


def test_long_inline_kernel(cli, tmp_path, photo):
    source, pixels = photo
    text = "; ".join(
        " ".join("1" if row == column == 7 else "0" for column in range(15)) for row in range(15)
    )
    assert len(text) > 255, "a 15×15 kernel typed inline is longer than a file name may be"
    output = tmp_path / "out.png"
    assert cli("apply", source, "-k", text, "-o", output) == (0, "", "")
    assert_pixels(output, pixels)


def test_module_applies_to_non_ascii_paths(tmp_path):
    folder = tmp_path / "café dir"
    folder.mkdir()
    pixels = random_image((12, 17, 3))
    source, output = write_image(folder / "ñ 1.png", pixels), folder / "résultat ñ 2.png"
    result = run_module("apply", source, "-k", "sharpen", "-o", output, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert_pixels(output, to_8bit(oracle(pixels, PRESETS["sharpen"])))


def test_module_applies_to_the_sample(tmp_path, sample_rgb):
    result = run_module("apply", "-k", "outline", "-o", "outline.png", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert_pixels(tmp_path / "outline.png", to_8bit(oracle(sample_rgb, PRESETS["outline"]), "abs"))


@pytest.mark.parametrize(
    ("args", "code", "stdout"),
    [
        (["--version"], 0, f"kernelstudio {kernelstudio.__version__}\n"),
        (["apply", "missing.png", "-k", "sharpen", "-o", "out.png"], 2, ""),
        (["apply", "-k", "sharpen", "--border", "edge", "-o", "out.png"], 2, ""),
    ],
    ids=["version", "missing-input", "usage"],
)
def test_module_exit_status(tmp_path, args, code, stdout):
    result = run_module(*args, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (code, stdout)
    if code:
        stderr_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_console_script_presets(tmp_path):
    script = shutil.which("kernelstudio", path=Path(sys.executable).parent)
    if script is None:
        pytest.skip("the package is not installed with its console script")
    result = subprocess.run(
        [script, "presets"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert preset_sections(result.stdout)["Built-in"] == list(PRESETS)


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    # As `kernelstudio presets | head -1`: the pipe is closed before anything is written.
    process = subprocess.Popen(
        [sys.executable, "-m", "kernelstudio", "presets"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert err == b""
