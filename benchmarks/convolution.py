"""The convolution engine against cv2.filter2D, scipy.ndimage and the tutorial's loop.

Run with ``.venv/bin/python -m benchmarks.convolution`` (about ten minutes on two
cores; ``--quick`` for a one-minute pass). For every image size, channel count and
kernel size it times ``kernelstudio.convolution.convolve`` and ``cv2.filter2D``
(border ``mirror`` = ``BORDER_REFLECT_101``) in interleaved rounds, and
``scipy.ndimage.correlate`` fewer times where it is slow. It prints medians and the
ratios ``ours / cv2`` and ``scipy / ours``, then the tutorial's double loop per
pixel, the cost of a one-stage recipe (with a divisor and an offset) over a bare
convolve, and the peak memory of one 24 MP colour convolution. Kernels are random
normal weights, so no method can take a separable shortcut. Nothing is asserted:
the figures go into ``benchmarks/README.md`` and the closing notes.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import cv2
import numpy as np
from scipy import ndimage

from kernelstudio.convolution import convolve
from kernelstudio.pipeline import Recipe, render

SIZES_MP = (1, 12, 24)
KERNELS = (3, 5, 7, 15, 31)


def image_of(megapixels: float, channels: int, rng: np.random.Generator) -> np.ndarray:
    height = round((megapixels * 1e6 * 3 / 4) ** 0.5)
    width = round(megapixels * 1e6 / height)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return (rng.random(shape, dtype=np.float32) * 255).astype(np.float32)


def seconds(function, *arguments, **options) -> float:
    started = time.perf_counter()
    function(*arguments, **options)
    return time.perf_counter() - started


def run_ours(image, weights):
    return convolve(image, weights, border="mirror")


def run_opencv(image, weights):
    return cv2.filter2D(image, cv2.CV_32F, weights, borderType=cv2.BORDER_REFLECT_101)


def run_scipy(image, weights):
    if image.ndim == 2:
        return ndimage.correlate(image, weights, mode="mirror")
    return np.stack(
        [ndimage.correlate(image[..., c], weights, mode="mirror") for c in range(3)], axis=-1
    )


def tutorial_loop(image, weights):
    rows = image.shape[0] - weights.shape[0] + 1
    columns = image.shape[1] - weights.shape[1] + 1
    output = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            patch = image[i : i + weights.shape[0], j : j + weights.shape[1]]
            output[i, j] = (patch * weights).sum()
    return output


def scipy_rounds(megapixels: float, kernel: int, rounds: int) -> int:
    # scipy costs ~2 ns per weight and sample; keep its share of the run bounded.
    expected = 2e-9 * kernel * kernel * megapixels * 1e6 * 3
    if expected > 60:
        return 0
    return max(1, min(rounds, int(20 / max(expected, 1e-3))))


def compare(sizes, kernels, channel_counts, rounds: int) -> None:
    rng = np.random.default_rng(20261125)
    header = (
        f"{'image':>10} {'kernel':>7} {'ours ms':>9} {'cv2 ms':>8} {'ours/cv2':>9}"
        f" {'scipy ms':>9} {'scipy/ours':>10}"
    )
    print(header)
    print("-" * len(header))
    for megapixels in sizes:
        for channels in channel_counts:
            image = image_of(megapixels, channels, rng)
            label = f"{megapixels}MP×{channels}"
            for size in kernels:
                weights = rng.normal(size=(size, size))
                ours, opencv = [], []
                run_ours(image, weights)
                run_opencv(image, weights)
                for _ in range(rounds):
                    ours.append(seconds(run_ours, image, weights))
                    opencv.append(seconds(run_opencv, image, weights))
                ours_ms = 1000 * statistics.median(ours)
                opencv_ms = 1000 * statistics.median(opencv)
                scipy_text, speedup_text = "skipped", ""
                scipy_count = scipy_rounds(megapixels, size, rounds)
                if scipy_count:
                    scipy = [seconds(run_scipy, image, weights) for _ in range(scipy_count)]
                    scipy_ms = 1000 * statistics.median(scipy)
                    scipy_text = f"{scipy_ms:.0f}"
                    speedup_text = f"{scipy_ms / ours_ms:.1f}×"
                print(
                    f"{label:>10} {size:>4}×{size:<2} {ours_ms:>9.1f} {opencv_ms:>8.1f}"
                    f" {ours_ms / opencv_ms:>8.2f}× {scipy_text:>9} {speedup_text:>10}",
                    flush=True,
                )


def compare_with_tutorial() -> None:
    rng = np.random.default_rng(7)
    small = rng.random((100, 100)) * 255
    large = image_of(12, 1, rng)
    print("\nThe tutorial's double loop ('valid', 3×3), per output pixel:")
    for size in (3, 7):
        weights = rng.normal(size=(size, size))
        loop = statistics.median(seconds(tutorial_loop, small, weights) for _ in range(3))
        loop_per_pixel = loop / (100 - size + 1) ** 2
        ours = statistics.median(
            seconds(convolve, large, weights, border="valid") for _ in range(3)
        )
        ours_per_pixel = ours / ((large.shape[0] - size + 1) * (large.shape[1] - size + 1))
        print(
            f"  {size}×{size}: loop {loop_per_pixel * 1e9:,.0f} ns/pixel on 100×100, "
            f"ours {ours_per_pixel * 1e9:.2f} ns/pixel on 12 MP: "
            f"{loop_per_pixel / ours_per_pixel:,.0f}× faster"
        )


def recipe_overhead(rounds: int) -> None:
    rng = np.random.default_rng(11)
    print("\nA one-stage recipe (divisor 3, offset 128) against a bare convolve, 12 MP:")
    for dtype, channels in ((np.uint8, 3), (np.float32, 3), (np.uint8, 1)):
        image = image_of(12, channels, rng).astype(dtype)
        for size in (3, 7):
            weights = rng.normal(size=(size, size))
            recipe = Recipe.single(weights, divisor=3.0, offset=128.0)
            bare, staged = [], []
            render(image, recipe)
            for _ in range(rounds):
                bare.append(seconds(convolve, image, weights / 3.0))
                staged.append(seconds(render, image, recipe))
            bare_ms = 1000 * statistics.median(bare)
            staged_ms = 1000 * statistics.median(staged)
            spread = 1000 * (max(staged) - min(staged))
            print(
                f"  {np.dtype(dtype).name}×{channels} {size}×{size}: convolve {bare_ms:.1f} ms, "
                f"render {staged_ms:.1f} ms (spread {spread:.1f}): {staged_ms / bare_ms:.3f}×"
            )


def peak_memory() -> None:
    rng = np.random.default_rng(3)
    image = image_of(24, 3, rng)
    print("\nPeak memory of one 24 MP RGB convolve (allocations during the call):")
    for size in (3, 7, 31):
        weights = rng.normal(size=(size, size))
        tracemalloc.start()
        result = convolve(image, weights)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del result
        print(f"  {size}×{size}: {peak / 2**20:,.0f} MiB = {peak / image.nbytes:.2f}× the image")
    # An 8-bit image is converted one band at a time: a full float32 copy
    # would show as a peak of twice the float32 result.
    image8 = image.astype(np.uint8)
    print("Peak memory of one 24 MP 8-bit RGB convolve, against its float32 result:")
    for size in (3, 7, 31):
        weights = rng.normal(size=(size, size))
        tracemalloc.start()
        result = convolve(image8, weights)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {size}×{size}: {peak / 2**20:,.0f} MiB = {peak / result.nbytes:.2f}× the result")
        del result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 MP only, three rounds")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per case")
    parser.add_argument(
        "--recipe", action="store_true", help="only the one-stage recipe against convolve"
    )
    options = parser.parse_args()
    if options.recipe:
        recipe_overhead(options.rounds)
        return
    sizes = (12,) if options.quick else SIZES_MP
    rounds = 3 if options.quick else options.rounds
    print(
        f"numpy {np.__version__}, OpenCV {cv2.__version__}, "
        f"cv2 threads {cv2.getNumThreads()}; medians of {rounds} interleaved rounds\n"
    )
    compare(sizes, KERNELS, (1, 3), rounds)
    compare_with_tutorial()
    recipe_overhead(rounds)
    peak_memory()


if __name__ == "__main__":
    main()
