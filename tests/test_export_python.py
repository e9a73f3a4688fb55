"""The Python code exports run, and write what ``kernelstudio apply`` writes, ±1 per value.

Each target's scripts are generated for a matrix of recipes (every option value
at least once, and the combinations that are easy to get wrong), run in a
subprocess on small odd-sized images, and their 8-bit output is compared with
the real command line's (in-process ``kernelstudio.cli.main``), the oracle. The
scripts of one target run in one interpreter (``runpy``), so its imports are paid
once. The share of values that agree exactly is printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernelstudio.cli import main as kernelstudio_main
from kernelstudio.code_export import TARGETS, CodeExportError, export_code
from kernelstudio.export_common import apply_command
from kernelstudio.export_python import PYTHON_TARGETS
from kernelstudio.imageio import load_image, save_image
from kernelstudio.pipeline import Recipe, Stage

pytest.importorskip("scipy")

BINOMIAL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float)
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
ASYMMETRIC = np.array([[1, 0, 2, 0, -1], [0, 3, 1, 0, 0], [2, 0, 0, 1, 4]], dtype=float)

RUNNER = """
import json, runpy, sys, traceback
failures = {}
for script, arguments in json.loads(sys.argv[1]):
    sys.argv = [script, *arguments]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        failures[arguments[-1]] = str(stop.code)
    except Exception:
        failures[arguments[-1]] = traceback.format_exc()
print(json.dumps(failures))
"""
"""Runs many scripts in one interpreter; prints {output: why} for the runs that failed."""


def _pixels(shape: tuple[int, ...], dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    white = np.iinfo(dtype).max
    pixels = rng.integers(0, white + 1, shape, dtype=np.int64)
    if len(shape) == 3 and shape[2] in (2, 4):
        # Alpha: opaque, fully transparent (hiding extreme colours) and in between.
        alpha = rng.choice([0, white, white, white // 3, white // 2 + 1], shape[:2])
        pixels[..., -1] = alpha
        pixels[alpha == 0, :-1] = rng.choice([0, white], (int((alpha == 0).sum()), shape[2] - 1))
    return pixels.astype(dtype)


IMAGES = {
    "grey8": ((13, 17), np.uint8),
    "grey_alpha8": ((11, 15, 2), np.uint8),
    "rgb8": ((15, 13, 3), np.uint8),
    "rgba8": ((13, 19, 4), np.uint8),
    "grey16": ((11, 13), np.uint16),
    "rgb16": ((9, 11, 3), np.uint16),
    "rgba16": ((11, 9, 4), np.uint16),
    "grey_alpha16": ((9, 13, 2), np.uint16),
}
"""The test images by name: odd sizes, every layout, 8 and 16 bits."""

PILLOW_READS = ("grey8", "grey_alpha8", "rgb8", "rgba8", "grey16")
"""What Pillow (and so dask-image) reads at full depth: 16-bit colour it reads as 8 bits."""


@dataclass(frozen=True)
class Case:
    """One recipe on one image.

    `exact`: every sum is exact in float32 and float64 (whole or dyadic weights on
    whole values), so no value may differ; elsewhere the engine's float32 and a
    script's float64 may round a value near .5 apart, by 1.
    """

    name: str
    recipe: Recipe
    image: str
    exact: bool = False


def _recipe(*stages: Stage, **options: object) -> Recipe:
    return Recipe(tuple(stages), **options)


CASES = [
    Case(
        "asymmetric 3×5, flipped",
        _recipe(Stage(ASYMMETRIC, divisor=12), flip=True, border="mirror"),
        "rgb8",
    ),
    Case(
        "two stages, nearest",
        _recipe(Stage(BINOMIAL, divisor=16), Stage(SHARPEN), border="nearest"),
        "rgba8",
        exact=True,
    ),
    Case(
        "zero-sum, offset 128, signed",
        _recipe(Stage(SOBEL, offset=128), display="signed", border="reflect"),
        "grey8",
        exact=True,
    ),
    Case(
        "grey first, abs, constant",
        _recipe(Stage(SOBEL.T), grey=True, display="abs", border="constant"),
        "rgba8",
        exact=True,
    ),
    Case(
        "channels gb, wrap, normalize",
        _recipe(Stage(SHARPEN), channels="gb", border="wrap", display="normalize"),
        "rgb8",
        exact=True,
    ),
    Case(
        "weighted alpha, constant",
        _recipe(Stage(BINOMIAL, divisor=16), alpha="weighted", border="constant"),
        "rgba8",
    ),
    Case(
        "weighted alpha filtered too, valid, rounded between",
        _recipe(
            Stage(BINOMIAL, divisor=16),
            Stage(np.ones((3, 5)), divisor=15, offset=3),
            alpha="weighted",
            channels="rgba",
            border="valid",
            between_stages="round",
        ),
        "rgba8",
    ),
    Case(
        "weighted alpha on grey + alpha, wrap, flipped",
        _recipe(Stage(ASYMMETRIC, divisor=12), alpha="weighted", border="wrap", flip=True),
        "grey_alpha8",
    ),
    Case(
        "weighted alpha, channels rb, valid, clipped between",
        _recipe(
            Stage(SHARPEN),
            Stage(BINOMIAL, divisor=16),
            alpha="weighted",
            channels="rb",
            border="valid",
            between_stages="clip",
            display="normalize",
        ),
        "rgba8",
    ),
    Case(
        "16-bit grey, offset 32768",
        _recipe(Stage(SOBEL, offset=32768), border="wrap"),
        "grey16",
    ),
    Case(
        "alpha processed, valid, two stages",
        _recipe(
            Stage(ASYMMETRIC, divisor=12),
            Stage(ASYMMETRIC.T, divisor=12),
            alpha="process",
            channels="ra",
            border="valid",
        ),
        "grey_alpha8",
    ),
    Case(
        "wrapped as a C cast: between stages and on display, truncated",
        _recipe(
            Stage(SHARPEN),
            Stage(SOBEL, offset=7),
            between_stages="wrap",
            display="wrap",
            rounding="truncate",
        ),
        "rgb8",
        exact=True,
    ),
    Case(
        "16-bit wrapped display",
        _recipe(Stage(SOBEL, offset=100), display="wrap", border="nearest"),
        "grey16",
    ),
    Case(
        "half-even rounding of exact halves",
        _recipe(Stage([[0.5]]), rounding="half-even"),
        "rgb8",
        exact=True,
    ),
    Case(
        "truncate of exact quarters",
        _recipe(Stage([[0.25, 0.5, 0.25]], divisor=0.5), rounding="truncate"),
        "rgba8",
        exact=True,
    ),
    Case(
        "between stages round, half-up",
        _recipe(Stage([[0.5]]), Stage([[3.0]], offset=-1), between_stages="round"),
        "grey8",
        exact=True,
    ),
    Case(
        "between stages clip",
        _recipe(Stage([[1.0]], offset=-100), Stage([[1.0]], offset=100), between_stages="clip"),
        "rgb8",
        exact=True,
    ),
    Case(
        "alpha keep with a disabled stage",
        _recipe(
            Stage(BINOMIAL, divisor=16),
            Stage(SHARPEN, enabled=False),
            channels="rgba",
            border="reflect",
        ),
        "grey_alpha8",
        exact=True,
    ),
]

OPENCV_CASES = [
    Case("16-bit RGB", _recipe(Stage(BINOMIAL, divisor=16), border="reflect"), "rgb16"),
    Case(
        "16-bit RGBA, weighted",
        _recipe(Stage(BINOMIAL, divisor=16), alpha="weighted", border="nearest"),
        "rgba16",
    ),
    Case("16-bit grey + alpha", _recipe(Stage(SHARPEN), display="abs"), "grey_alpha16"),
]
"""Only OpenCV reads 16-bit colour at full depth."""


def _cli_arguments(recipe: Recipe) -> list[str]:
    # Written here from the recipe's fields, not by the exporter's apply_command.
    arguments = []
    for stage in recipe.active_stages:
        rows = "; ".join(" ".join(repr(float(value)) for value in row) for row in stage.weights)
        arguments += [
            f"--kernel={rows}",
            f"--divisor={stage.divisor!r}",
            f"--offset={stage.offset!r}",
        ]
    return [
        *arguments,
        f"--border={recipe.border}",
        "--flip" if recipe.flip else "--no-flip",
        "--grey" if recipe.grey else "--no-grey",
        f"--channels={recipe.channels}",
        f"--alpha={recipe.alpha}",
        f"--display={recipe.display}",
        f"--rounding={recipe.rounding}",
        f"--between-stages={recipe.between_stages}",
    ]


def kernelstudio_apply(recipe: Recipe, source: Path, output: Path) -> np.ndarray:
    """The oracle: what ``kernelstudio apply`` writes for `recipe`, as read back."""
    status = kernelstudio_main(["apply", *_cli_arguments(recipe), "-o", str(output), str(source)])
    assert status == 0
    return load_image(output, alpha=True)


def _read_result(path: Path, expected: np.ndarray) -> np.ndarray:
    pixels = load_image(path, alpha=True)
    if expected.ndim == 3 and expected.shape[2] == 2 and pixels.shape[-1] == 4:
        # OpenCV writes grey + alpha as RGBA with the grey in every colour.
        assert np.array_equal(pixels[..., 0], pixels[..., 1])
        assert np.array_equal(pixels[..., 0], pixels[..., 2])
        pixels = pixels[..., [0, 3]]
    return pixels


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for seed, (name, (shape, dtype)) in enumerate(IMAGES.items()):
        paths[name] = folder / f"{name}.png"
        save_image(paths[name], _pixels(shape, dtype, seed))
    return paths


def run_scripts(jobs: list[tuple[Path, list[str]]], cwd: Path) -> dict[str, str]:
    """Run each (script, arguments) in one interpreter; return {output: why} for failures.

    The output is a run's last argument.
    """
    batch = json.dumps([(str(script), arguments) for script, arguments in jobs])
    finished = subprocess.run(
        [sys.executable, "-c", RUNNER, batch],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(finished.stdout.splitlines()[-1])


def _compare(cases: list[Case], target: str, images: dict[str, Path], folder: Path) -> None:
    jobs, outputs = [], []
    extra = ["--chunk", "8"] if target == "dask" else []  # several chunks, so overlaps matter
    for number, case in enumerate(cases):
        script = folder / f"{target}_{number}.py"
        output = folder / f"{target}_{number}.png"
        script.write_text(export_code(case.recipe, target, source="in.png", destination="out.png"))
        jobs.append((script, [*extra, str(images[case.image]), str(output)]))
        outputs.append(output)
    failures = run_scripts(jobs, folder)
    assert failures == {}
    equal = total = 0
    for number, (case, output) in enumerate(zip(cases, outputs, strict=True)):
        expected = kernelstudio_apply(
            case.recipe, images[case.image], folder / f"cli_{number}.png"
        )
        actual = _read_result(output, expected)
        assert actual.shape == expected.shape, case.name
        difference = np.abs(actual.astype(int) - expected.astype(int))
        assert difference.max() <= (0 if case.exact else 1), case.name
        equal += int((difference == 0).sum())
        total += difference.size
    print(f"\n{target}: {len(cases)} recipes, {equal / total:.4%} of {total} values equal")


@pytest.mark.parametrize("target", ["numpy", "scipy", "opencv"])
def test_scripts_write_what_kernelstudio_apply_writes(target, images, tmp_path):
    cases = CASES + (OPENCV_CASES if target == "opencv" else [])
    _compare(cases, target, images, tmp_path)


def test_dask_scripts_write_what_kernelstudio_apply_writes(images, tmp_path):
    _compare(CASES, "dask", images, tmp_path)


def test_dask_script_takes_a_glob_and_writes_into_a_folder(images, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number, name in enumerate(["rgba8", "grey8", "grey_alpha8"]):
        (inputs / f"photo{number}.png").write_bytes(images[name].read_bytes())
    recipe = _recipe(
        Stage(ASYMMETRIC, divisor=12), Stage(SHARPEN), alpha="weighted", border="wrap"
    )
    script = tmp_path / "export.py"
    script.write_text(export_code(recipe, "dask", source="x.png", destination="y.png"))
    subprocess.run(
        [
            sys.executable,
            str(script),
            "--chunk",
            "6",
            str(inputs / "*.png"),
            str(tmp_path / "out"),
        ],
        check=True,
        timeout=120,
        env={**os.environ, "DASK_SCHEDULER_ADDRESS": ""},
    )
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == ["photo0.png", "photo1.png", "photo2.png"]
    for name in written:
        expected = kernelstudio_apply(recipe, inputs / name, tmp_path / f"cli_{name}")
        actual = load_image(tmp_path / "out" / name, alpha=True)
        assert np.abs(actual.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.slow
def test_dask_script_runs_unchanged_on_a_distributed_cluster(images, tmp_path):
    import distributed

    recipe = _recipe(Stage(BINOMIAL, divisor=16), alpha="weighted", border="wrap")
    script = tmp_path / "export.py"
    script.write_text(export_code(recipe, "dask", source="x.png", destination="y.png"))
    output = tmp_path / "out.png"
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        arguments = ["--chunk", "7", "--scheduler", cluster.scheduler_address]
        subprocess.run(
            [sys.executable, str(script), *arguments, str(images["rgba8"]), str(output)],
            check=True,
            timeout=120,
        )
    expected = kernelstudio_apply(recipe, images["rgba8"], tmp_path / "cli.png")
    assert np.abs(load_image(output, alpha=True).astype(int) - expected.astype(int)).max() <= 1


def test_exif_orientation_is_applied_as_kernelstudio_applies_it(tmp_path):
    photo = tmp_path / "turned.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90° clockwise to show
    Image.fromarray(_pixels((9, 15, 4), np.uint8, 7)).save(photo, exif=exif)
    recipe = _recipe(Stage(ASYMMETRIC, divisor=12), border="nearest")
    expected = kernelstudio_apply(recipe, photo, tmp_path / "cli.png")
    assert expected.shape[:2] == (15, 9)
    jobs = []
    for target in PYTHON_TARGETS:
        script = tmp_path / f"export_{target}.py"  # not numpy.py, which would shadow numpy
        script.write_text(export_code(recipe, target, source="in.png", destination="out.png"))
        jobs.append((script, [str(photo), str(tmp_path / f"{target}.png")]))
    assert run_scripts(jobs, tmp_path) == {}
    for target in PYTHON_TARGETS:
        actual = load_image(tmp_path / f"{target}.png", alpha=True)
        assert np.abs(actual.astype(int) - expected.astype(int)).max() <= 1, target


def _odd_files(folder: Path) -> dict[str, Path]:
    # Files whose pixels a reader must unpack: palettes, 1 bit, tRNS colours, JPEG.
    rng = np.random.default_rng(11)
    grey = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    grey[0, :3] = 7
    colour = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    colour[1, :4] = (1, 2, 3)
    files = {name: folder / f"{name}.png" for name in ("grey_trns", "rgb_trns", "pal", "pal_trns")}
    Image.fromarray(grey).save(files["grey_trns"], transparency=7)
    Image.fromarray(colour).save(files["rgb_trns"], transparency=(1, 2, 3))
    palette = Image.fromarray(colour).quantize(16)
    palette.save(files["pal"])
    palette.save(files["pal_trns"], transparency=3)
    files["bits"] = folder / "bits.png"
    Image.fromarray(grey > 128).save(files["bits"])
    files["jpeg"] = folder / "photo.jpg"
    Image.fromarray(colour).save(files["jpeg"], quality=90)
    return files


def test_palettes_bits_and_transparent_colours_are_read_as_kernelstudio_reads_them(tmp_path):
    files = _odd_files(tmp_path)
    recipe = _recipe(Stage(BINOMIAL, divisor=16), border="nearest")
    jobs, results = [], {}
    for target in PYTHON_TARGETS:
        script = tmp_path / f"export_{target}.py"
        script.write_text(export_code(recipe, target, source="in.png", destination="out.png"))
        for name, path in files.items():
            results[target, name] = tmp_path / f"{target}_{name}.png"
            jobs.append((script, [str(path), str(results[target, name])]))
    failures = run_scripts(jobs, tmp_path)
    # dask-image drops tRNS and reads 1 bit as booleans: that script refuses those files.
    refused = {
        str(results["dask", name]) for name in ("grey_trns", "rgb_trns", "pal_trns", "bits")
    }
    assert set(failures) == refused
    assert all("convert it to grey" in failures[output] for output in refused)
    for (target, name), output in results.items():
        expected = kernelstudio_apply(recipe, files[name], tmp_path / f"cli_{target}_{name}.png")
        if str(output) in refused:
            assert not output.exists()
            continue
        actual = _read_result(output, expected)
        assert np.array_equal(actual, expected), (target, name)


@pytest.mark.parametrize("target", ["numpy", "scipy", "dask"])
def test_pillow_based_scripts_refuse_16_bit_colour_rather_than_lose_bits(target, images, tmp_path):
    recipe = _recipe(Stage(BINOMIAL, divisor=16))
    jobs = []
    for name in ("rgb16", "rgba16", "grey_alpha16"):
        script = tmp_path / f"{name}.py"
        script.write_text(export_code(recipe, target, source="in.png", destination="out.png"))
        jobs.append((script, [str(images[name]), str(tmp_path / f"{name}.png")]))
    failures = run_scripts(jobs, tmp_path)
    for _, arguments in jobs:
        assert "a 16-bit colour PNG" in failures[arguments[-1]]
    assert not list(tmp_path.glob("*.png"))


def test_the_header_says_what_it_reproduces_and_what_to_install():
    recipe = _recipe(Stage(BINOMIAL, divisor=16), Stage(SOBEL, offset=128), border="wrap")
    for target, install in [
        ("numpy", "pip install numpy pillow"),
        ("scipy", "pip install numpy scipy pillow"),
        ("opencv", "opencv-python-headless"),
        ("dask", "dask-image"),
    ]:
        script = export_code(recipe, target, source="a.png", destination="b.png")
        header = "\n".join(line for line in script.splitlines() if line.startswith("#"))
        assert install in header
        assert "stage 2: 3×3 kernel, + 128" in header
        assert "kernelstudio apply -k '1 2 1; 2 4 2; 1 2 1' --divisor 16" in header
        assert "0.0625" not in script  # weights as written, divided by the divisor at run time
        compile(script, f"{target}.py", "exec")


def test_scripts_pass_ruff_as_written(tmp_path):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is part of the test extra"
    for target in PYTHON_TARGETS:
        for number, case in enumerate(CASES[:8]):
            script = export_code(case.recipe, target, source="in.png", destination="out.png")
            (tmp_path / f"{target}_{number}.py").write_text(script)
    style = ["--isolated", "--line-length", "99"]
    rules = ["--select", "E,F,W,I,B,UP,N,SIM"]
    for command in (["check", *style, *rules], ["format", "--check", *style]):
        finished = subprocess.run(
            [ruff, *command, str(tmp_path)], capture_output=True, text=True, check=False
        )
        assert finished.returncode == 0, finished.stdout


def test_weights_are_exact_literals():
    weights = np.array([[1 / 3, 0.1, 1e-7]])
    script = export_code(_recipe(Stage(weights)), "numpy", source="a.png", destination="b.png")
    namespace: dict = {}
    exec(script.split("\n\n\ndef ")[0], namespace)  # the imports and constants only
    assert np.array_equal(namespace["STAGES"][0][0], weights)


def test_the_header_command_is_one_kernelstudio_runs_to_the_same_result(images, tmp_path):
    recipe = _recipe(
        Stage(ASYMMETRIC, divisor=12, offset=-3),
        Stage(SOBEL, offset=128),
        border="valid",
        flip=True,
        channels="gb",
        display="signed",
        rounding="truncate",
        between_stages="clip",
    )
    command = shlex.split(apply_command(recipe, str(images["rgb8"]), str(tmp_path / "a.png")))
    assert command[:2] == ["kernelstudio", "apply"]
    assert kernelstudio_main(command[1:]) == 0
    expected = kernelstudio_apply(recipe, images["rgb8"], tmp_path / "b.png")
    assert np.array_equal(load_image(tmp_path / "a.png", alpha=True), expected)


def test_every_python_target_is_a_dispatcher_target():
    assert set(PYTHON_TARGETS) <= set(TARGETS)
    assert {"numpy", "scipy", "opencv", "dask"} <= set(PYTHON_TARGETS)


def test_an_unknown_target_is_refused_by_name():
    with pytest.raises(CodeExportError, match="'matlab'"):
        export_code(_recipe(Stage(BINOMIAL)), "matlab", source="a.png", destination="b.png")


@pytest.mark.parametrize("target", sorted(PYTHON_TARGETS))
def test_a_valid_border_on_too_small_an_image_says_so_in_one_line(target, tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((3, 4), np.uint8)).save(tiny)
    recipe = _recipe(Stage(np.ones((5, 5)), divisor=25), border="valid")
    script = tmp_path / f"export_{target}.py"
    script.write_text(export_code(recipe, target, source=str(tiny), destination="out.png"))
    ran = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 1
    assert ran.stderr == "the image is smaller than the kernels: 'valid' leaves no pixels\n"
    assert not (tmp_path / "out.png").exists()
