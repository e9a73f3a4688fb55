"""Comparing a result with a pinned one."""

import numpy as np
import pytest

from kernelstudio.compare import compare_results


def test_counts_and_largest_change_and_stretched_difference():
    pinned = np.zeros((4, 5, 3), np.float32)
    current = pinned.copy()
    current[1, 2, 0] = 10.0
    current[3, 4, 2] = -40.0
    facts = compare_results(current, pinned)
    assert facts.largest == 40.0
    assert facts.changed == 2
    assert facts.fraction == pytest.approx(2 / 60)
    assert facts.difference8[3, 4, 2] == 255
    assert facts.difference8[1, 2, 0] == 64
    assert facts.difference8.sum() == 255 + 64


def test_rounding_noise_is_not_a_change():
    pinned = np.full((3, 3), 255.0, np.float32)
    current = pinned + np.float32(1e-4)
    assert compare_results(current, pinned).changed == 0


def test_identical_results_are_black():
    values = np.random.default_rng(0).random((6, 6)).astype(np.float32)
    facts = compare_results(values, values.copy())
    assert facts.changed == 0
    assert facts.largest == 0.0
    assert not facts.difference8.any()


def test_shapes_must_match():
    with pytest.raises(ValueError, match="pin again"):
        compare_results(np.zeros((3, 3)), np.zeros((5, 5)))


def test_non_finite_values_compare_sensibly():
    pinned = np.array([[np.nan, 1.0, np.inf, 2.0, 5.0]], np.float32)
    current = np.array([[np.nan, 1.0, np.inf, np.nan, 9.0]], np.float32)
    facts = compare_results(current, pinned)
    assert facts.changed == 2  # a number became NaN, and 5 became 9
    assert facts.largest == 4.0
    assert facts.difference8[0, 3] == 255
    assert facts.difference8[0, 0] == 0
