"""How often ``--like PROGRAM`` writes what PROGRAM writes, value by value.

Run with ``.venv/bin/python -m benchmarks.peer_agreement`` (about a minute; GIMP
and ImageJ rows need ``gimp-console-2.10`` and ``imagej`` with ``xvfb-run``, and
are left out, with a note, when those are missing). For every program, case
(kernel, border, stack) and image it applies the recipe that
:func:`kernelstudio.behave_like.behave_like` makes, with
:func:`kernelstudio.pipeline.render` and :func:`~kernelstudio.pipeline.to_display`,
runs the real program on the same 8-bit image, and prints the share of values
that are equal and within ±1. Nothing is asserted: the figures go into
``docs/conventions.md``.

The runners (:func:`gimp_outputs`, :func:`imagej_outputs`, :func:`opencv_output`,
:func:`scipy_output`) are also what ``tests/test_like_desktop_programs.py`` uses.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from kernelstudio.behave_like import CONVENTIONS, behave_like
from kernelstudio.imageio import load_image
from kernelstudio.kernels import PRESET_GENERATORS
from kernelstudio.pipeline import Recipe, Stage, render, split_alpha, to_display

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
IMAGEJ_JAR = Path("/usr/share/java/ij.jar")
"""Debian's ImageJ; its ``imagej`` wrapper takes ``-b`` (``-batch`` reads as ``-b atch``)."""

GIMP_BORDER_MODES = {"nearest": 0, "wrap": 1, "constant": 2}
"""plug-in-convmatrix's ``bmode``: EXTEND, WRAP, CLEAR (transparent black)."""

GIMP_GRID = 5
PROGRAM_TIMEOUT = 600.0


class ProgramError(RuntimeError):
    """A program run for comparison failed or wrote no result."""


# Running the real programs ------------------------------------------------------------


def gimp_available() -> bool:
    """Whether GIMP 2.10's batch console is installed."""
    return shutil.which("gimp-console-2.10") is not None


def imagej_available() -> bool:
    """Whether ImageJ and the X server it needs even in batch mode are installed."""
    return IMAGEJ_JAR.is_file() and all(shutil.which(tool) for tool in ("java", "xvfb-run"))


def gimp_matrix(weights: np.ndarray) -> str:
    """Return `weights`, centred in GIMP's 5×5 grid, as plug-in-convmatrix's 25 values.

    The array is column-major: value ``i*5 + j`` weighs the pixel ``i - 2``
    columns right and ``j - 2`` rows down.

    Examples
    --------
    >>> gimp_matrix(np.array([[0.0, 1.0, 2.0]])).split()[10:15]  # the centre's column
    ['0.0', '0.0', '1.0', '0.0', '0.0']
    """
    height, width = weights.shape
    grid = np.zeros((GIMP_GRID, GIMP_GRID))
    top, left = (GIMP_GRID - height) // 2, (GIMP_GRID - width) // 2
    grid[top : top + height, left : left + width] = weights
    return " ".join(repr(value) for value in grid.T.ravel().tolist())


def _gimp_channel_mask(recipe: Recipe) -> str:
    # plug-in-convmatrix's mask: grey, red, green, blue, alpha.
    colour = [letter in recipe.channels for letter in "rgb"]
    alpha = recipe.alpha == "process" and "a" in recipe.channels
    return " ".join(str(int(on)) for on in (any(colour), *colour, alpha))


def _gimp_filters(recipe: Recipe, alpha_weighting: bool) -> str:
    if recipe.border not in GIMP_BORDER_MODES:
        raise ValueError(f"GIMP has no {recipe.border!r} border")
    return " ".join(
        f"(plug-in-convmatrix RUN-NONINTERACTIVE image layer 25 #({gimp_matrix(stage.weights)}) "
        f"{int(alpha_weighting)} {stage.divisor!r} {stage.offset / 255.0!r} "
        f"5 #({_gimp_channel_mask(recipe)}) {GIMP_BORDER_MODES[recipe.border]})"
        for stage in recipe.active_stages
    )


def _gimp_save(target: Path) -> str:
    # file-png-save2's last argument keeps the colour of transparent pixels.
    return (
        f'(file-png-save2 RUN-NONINTERACTIVE image layer "{target}" "{target}" 0 1 0 0 0 0 0 0 1)'
    )


def gimp_outputs(
    jobs: Sequence[tuple[np.ndarray, Recipe]], folder: Path, *, alpha_weighting: bool = False
) -> list[np.ndarray]:
    """Run GIMP's plug-in-convmatrix for each (image, recipe), in one GIMP process.

    Each enabled stage is one plug-in call with its weights, divisor and offset
    (as a fraction of 255) and the recipe's border, on the 8-bit drawable the
    call before wrote; `alpha_weighting` is the plug-in's *alpha-alg*. Returns
    the saved pixels, grey or RGB(A) in that order, uint8.

    Raises
    ------
    ProgramError
        If GIMP fails or leaves a result out.

    Notes
    -----
    GIMP starts its PNG plug-in for every load and save (about half a second
    each), so each distinct image is loaded once and duplicated for each job,
    and the opaque results are pasted side by side into one image per kind
    (grey, RGB), saved once: pasting opaque pixels replaces them exactly.
    """
    sources: dict[bytes, str] = {}
    bindings = []  # one Script-Fu let*: GIMP forgets a define between two -b commands
    canvases: dict[str, list[int]] = {"GRAY": [], "RGB": []}  # the jobs pasted into each
    alone: dict[int, Path] = {}  # RGBA jobs, saved one by one
    scripts = []
    for number, (image, recipe) in enumerate(jobs):
        key = image.tobytes() + repr(image.shape).encode()
        if key not in sources:
            sources[key] = f"source-{len(sources)}"
            path = folder / f"gimp-{sources[key]}.png"
            _write_png(path, image)
            bindings.append(
                f'({sources[key]} (car (gimp-file-load RUN-NONINTERACTIVE "{path}" "{path}")))'
            )
        start = (
            f"(let* ((image (car (gimp-image-duplicate {sources[key]}))) "
            f"(layer (car (gimp-image-get-active-drawable image)))) "
            f"{_gimp_filters(recipe, alpha_weighting)} "
        )
        if image.ndim == 3 and image.shape[2] == 4:
            alone[number] = folder / f"gimp-out-{number}.png"
            scripts.append(f"{start}{_gimp_save(alone[number])} (gimp-image-delete image))")
            continue
        kind = "GRAY" if image.ndim == 2 else "RGB"
        column = sum(jobs[earlier][0].shape[1] for earlier in canvases[kind])
        canvases[kind].append(number)
        scripts.append(
            f"{start}(gimp-edit-copy layer) "
            f"(let ((pasted (car (gimp-edit-paste canvas-{kind}-layer FALSE)))) "
            f"(gimp-layer-set-offsets pasted {column} 0) (gimp-floating-sel-anchor pasted)) "
            f"(gimp-image-delete image))"
        )
    for kind, numbers in canvases.items():
        if not numbers:
            continue
        width = sum(jobs[number][0].shape[1] for number in numbers)
        height = max(jobs[number][0].shape[0] for number in numbers)
        bindings += [
            f"(canvas-{kind} (car (gimp-image-new {width} {height} {kind})))",
            f"(canvas-{kind}-layer (car (gimp-layer-new canvas-{kind} {width} {height} "
            f'{kind}-IMAGE "results" 100 LAYER-MODE-NORMAL)))',
        ]
        scripts.insert(0, f"(gimp-image-insert-layer canvas-{kind} canvas-{kind}-layer 0 0)")
        target = folder / f"gimp-{kind}.png"
        scripts.append(
            f"(let ((image canvas-{kind}) (layer canvas-{kind}-layer)) {_gimp_save(target)})"
        )
    script = f"(let* ({' '.join(bindings)}) {' '.join(scripts)})"
    _run(["gimp-console-2.10", "-i", "-d", "-f", "-b", script, "-b", "(gimp-quit 0)"], "GIMP")
    outputs: dict[int, np.ndarray] = {
        number: _read_png(path, "GIMP") for number, path in alone.items()
    }
    for kind, numbers in canvases.items():
        if not numbers:
            continue
        canvas = _read_png(folder / f"gimp-{kind}.png", "GIMP")
        column = 0
        for number in numbers:
            height, width = jobs[number][0].shape[:2]
            outputs[number] = canvas[:height, column : column + width]
            column += width
    return [outputs[number] for number in range(len(jobs))]


def _imagej_kernel(stage: Stage) -> str:
    total = float(stage.weights.sum())
    if stage.offset != 0:
        raise ValueError("ImageJ's Convolve adds no offset")
    if total != 0 and stage.divisor == total:  # ImageJ's own Normalize divides by the sum
        weights, normalize = stage.weights, " normalize"
    else:
        weights, normalize = stage.weights / stage.divisor, ""
    rows = "\\n".join(" ".join(f"{value!r}" for value in row) for row in weights.tolist())
    return f"text1=[{rows}]{normalize}"


def imagej_outputs(jobs: Sequence[tuple[np.ndarray, Recipe]], folder: Path) -> list[np.ndarray]:
    """Run ImageJ's Process > Filters > Convolve… for each (image, recipe), in one ImageJ.

    Each enabled stage is one ``run("Convolve...")`` on the 8-bit image the
    one before wrote, with *Normalize* when the stage's divisor is its sum (so
    that ImageJ picks it), else with the weights divided by the divisor. ImageJ
    has only its edge-repeating border and no offset. Returns the saved pixels
    (RGBA images come back RGB, flattened over white as ImageJ opens them).

    Raises
    ------
    ProgramError
        If ImageJ fails or leaves a result out.
    """
    lines = ["setBatchMode(true);"]
    targets = []
    for number, (image, recipe) in enumerate(jobs):
        if recipe.border != "nearest":
            raise ValueError(f"ImageJ has no {recipe.border!r} border")
        source, target = folder / f"imagej-in-{number}.png", folder / f"imagej-out-{number}.png"
        _write_png(source, image)
        targets.append(target)
        filters = " ".join(
            f'run("Convolve...", "{_imagej_kernel(stage)}");' for stage in recipe.active_stages
        )
        lines.append(f'open("{source}"); {filters} saveAs("PNG", "{target}"); close();')
    lines.append('run("Quit");')
    macro = folder / "convolve.ijm"
    macro.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # ImageJ builds its menus even with setBatchMode(true), so it needs an X display.
    _run(["xvfb-run", "-a", "java", "-jar", str(IMAGEJ_JAR), "-batch", str(macro)], "ImageJ")
    return [_read_png(target, "ImageJ") for target in targets]


def opencv_output(image: np.ndarray, recipe: Recipe) -> np.ndarray:
    """What a script writes with ``cv2.filter2D`` on the 8-bit image, one call per stage.

    Each stage is ``cv2.filter2D(pixels, -1, weights / divisor, delta=offset,
    borderType=...)`` on the uint8 result of the call before; it filters every
    channel, alpha too.
    """
    borders = {ours: getattr(cv2, name) for name, ours in CONVENTIONS["opencv"].borders}
    pixels = image
    for stage in recipe.active_stages:
        pixels = cv2.filter2D(
            pixels,
            -1,
            stage.weights / stage.divisor,
            delta=stage.offset,
            borderType=borders[recipe.border],
        )
    return pixels


def scipy_output(image: np.ndarray, recipe: Recipe) -> np.ndarray:
    """What a script writes with ``scipy.ndimage.correlate``: uint8 in, uint8 out.

    Each stage is ``ndimage.correlate(plane, weights / divisor, mode=border)``
    for each plane, alpha too, whose output takes the input's dtype: the float64
    sum is cast as C casts it (truncated; out of 0…255 it wraps around modulo
    256). A stage with an offset is written as ``(correlate(plane, weights /
    divisor, output=np.float64) + offset).astype(np.uint8)``, cast the same way.
    """
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    for stage in recipe.active_stages:
        weights = stage.weights / stage.divisor
        if stage.offset == 0:
            planes = [ndimage.correlate(plane, weights, mode=recipe.border) for plane in planes]
        else:
            planes = [
                (
                    ndimage.correlate(plane, weights, mode=recipe.border, output=np.float64)
                    + stage.offset
                ).astype(np.uint8)
                for plane in planes
            ]
    return planes[0] if image.ndim == 2 else np.dstack(planes)


def _write_png(path: Path, image: np.ndarray) -> None:
    if image.ndim != 2 and image.shape[2] not in (3, 4):
        raise ValueError(f"only grey, RGB and RGBA images are compared; got {image.shape}")
    pixels = image if image.ndim == 2 else image[..., [2, 1, 0, 3][: image.shape[2]]]
    if not cv2.imwrite(str(path), pixels):
        raise ProgramError(f"could not write {path}")


def _read_png(path: Path, program: str) -> np.ndarray:
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ProgramError(f"{program} wrote no {path.name}")
    if pixels.ndim == 3:
        pixels = pixels[..., [2, 1, 0, 3][: pixels.shape[2]]]
    return pixels


def _run(command: list[str], program: str) -> None:
    try:
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProgramError(f"{program} took over {PROGRAM_TIMEOUT:.0f} s") from None
    # GIMP exits with 0 when a batch command fails, and says so.
    if finished.returncode != 0 or "execution error" in finished.stderr:
        raise ProgramError(
            f"{program} exited with {finished.returncode}: {finished.stderr.strip()[-400:]}"
        )


# Comparing ----------------------------------------------------------------------------


def agreement(mine: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    """The share of values that are equal, and within ±1."""
    if mine.shape != theirs.shape:
        raise ValueError(f"results differ in shape: {mine.shape} and {theirs.shape}")
    difference = np.abs(mine.astype(np.int64) - theirs.astype(np.int64))
    return float(np.mean(difference == 0)), float(np.mean(difference <= 1))


def sample_images() -> dict[str, np.ndarray]:
    """The images of the comparison: two photographs, noise in odd sizes, grey, RGBA."""
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (45, 53, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice(np.array([0, 64, 200, 255], dtype=np.uint8), size=(45, 53))
    return {
        "astronaut": load_image(RESOURCES / "astronaut.png"),
        "coffee": load_image(RESOURCES / "coffee.png"),
        "noise RGB 101×77": rng.integers(0, 256, (101, 77, 3), dtype=np.uint8),
        "noise grey 63×91": rng.integers(0, 256, (63, 91), dtype=np.uint8),
        "coffee grey": cv2.cvtColor(load_image(RESOURCES / "coffee.png"), cv2.COLOR_RGB2GRAY),
        "noise RGBA 45×53": rgba,
    }


def _preset(slug: str) -> Stage:
    return Stage.generated(PRESET_GENERATORS[slug])


def _kernels() -> dict[str, tuple[Stage, ...]]:
    asymmetric = Stage([[1, 2, 0], [-1, 3, 1], [0, -2, 4]], divisor=8)
    rectangular = Stage([[1, 0, 2, 0, -1], [0, 3, 1, 1, 0], [2, -1, 0, 1, 1]], divisor=9)
    return {
        "asymmetric 3×3 ÷8": (asymmetric,),
        "rectangular 3×5 ÷9": (rectangular,),
        "sobel-left (zero-sum)": (_preset("sobel-left"),),
        "sharpen": (_preset("sharpen"),),
        "emboss": (_preset("emboss"),),
        "gaussian-blur-5x5": (_preset("gaussian-blur-5x5"),),
        "box-blur then sharpen": (_preset("box-blur"), _preset("sharpen")),
        "whole 3×3 (sum 16)": (Stage([[1, 2, 1], [2, 4, 2], [1, 2, 1]]),),
    }


def _program_cases(program: str) -> list[tuple[str, Recipe]]:
    cases = []
    for kernel, stages in _kernels().items():
        try:
            liked = behave_like(Recipe(stages), program)
        except ValueError:
            continue  # e.g. fractions for Photoshop
        for border_name, border in CONVENTIONS[program].borders:
            cases.append((f"{kernel}, {border_name}", replace(liked, border=border)))
    return cases


def _with_alpha(program: str, recipe: Recipe) -> Recipe:
    # GIMP's alpha box ticked with alpha weighting off is our 'process' with 'a'.
    if program == "gimp":
        return replace(recipe, alpha="process", channels="rgba")
    return recipe


def _comparable(program: str, image: np.ndarray, mine: np.ndarray) -> np.ndarray:
    if program == "imagej" and image.ndim == 3 and image.shape[2] == 4:
        return mine[..., :3]  # ImageJ flattens RGBA over white; we keep the alpha
    return mine


def _outputs(program: str, jobs: list[tuple[np.ndarray, Recipe]], folder: Path) -> list:
    if program == "gimp":
        return gimp_outputs(jobs, folder)
    if program == "imagej":
        return imagej_outputs(jobs, folder)
    run = opencv_output if program == "opencv" else scipy_output
    return [run(image, recipe) for image, recipe in jobs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="*", default=["gimp", "imagej", "opencv", "scipy"])
    arguments = parser.parse_args(argv)
    images = sample_images()
    available = {"gimp": gimp_available(), "imagej": imagej_available()}
    print("fits: the values whose exact result (our float result) lies in 0…255")
    print(f"{'program':8} {'case':44} {'image':17} {'equal':>8} {'±1':>8} {'±1 fits':>8}")
    for program in arguments.programs:
        if not available.get(program, True):
            print(f"{program}: not installed, left out")
            continue
        jobs, labels = [], []
        for case, recipe in _program_cases(program):
            for image_name, image in images.items():
                has_alpha = image.ndim == 3 and image.shape[2] == 4
                jobs.append((image, _with_alpha(program, recipe) if has_alpha else recipe))
                labels.append((case, image_name))
        with tempfile.TemporaryDirectory(prefix="peer-agreement-") as folder:
            outputs = _outputs(program, jobs, Path(folder))
        totals = np.zeros(3)
        for (case, image_name), (image, recipe), theirs in zip(labels, jobs, outputs, strict=True):
            exact = render(image, recipe)
            mine = _comparable(program, image, to_display(exact, recipe))
            fits = _comparable(program, image, (exact > -0.5) & (exact < 255.5))
            equal, near = agreement(mine, theirs)
            near_fitting = agreement(mine[fits], theirs[fits])[1]
            totals += (equal * mine.size, near * mine.size, mine.size)
            print(
                f"{program:8} {case:44} {image_name:17} "
                f"{equal:8.3%} {near:8.3%} {near_fitting:8.3%}"
            )
        print(
            f"{program:8} {'all cases':44} {'all images':17} "
            f"{totals[0] / totals[2]:8.3%} {totals[1] / totals[2]:8.3%}"
        )
        if program == "gimp":
            _print_gimp_alpha_weighting(images["noise RGBA 45×53"])
    return 0


def _print_gimp_alpha_weighting(image: np.ndarray) -> None:
    # GIMP's dialog weights colour by alpha by default; no Recipe option does
    # what it does, so show how far each of ours is from it (colour only).
    # One stage each: in a stack GIMP weights the next stage by the alpha the
    # stage before made, which premultiplying the image once does not follow.
    jobs = [
        (image, replace(recipe, channels="rgba"))
        for case, recipe in _program_cases("gimp")
        if case.endswith("EXTEND") and len(recipe.active_stages) == 1
    ]
    with tempfile.TemporaryDirectory(prefix="peer-agreement-") as folder:
        outputs = gimp_outputs(jobs, Path(folder), alpha_weighting=True)
    print("GIMP with alpha weighting (its dialog's default), colour of the RGBA image:")
    colour, alpha = split_alpha(image)
    premultiplied = colour * (alpha[..., None] / 255.0)  # floats: no rounding here
    for way in ("keep", "weighted", "process", "premultiplied by hand"):
        shares = np.zeros(2)
        for (pixels, recipe), theirs in zip(jobs, outputs, strict=True):
            if way == "premultiplied by hand":
                pixels, recipe = premultiplied, replace(recipe, channels="rgb")
            else:
                recipe = replace(recipe, alpha=way)
            mine = to_display(render(pixels, recipe), recipe)
            shares += agreement(mine[..., :3], theirs[..., :3])
        equal, near = shares / len(jobs)
        print(f"  ours, alpha {way:22} equal {equal:8.3%}  ±1 {near:8.3%}")


if __name__ == "__main__":
    sys.exit(main())
