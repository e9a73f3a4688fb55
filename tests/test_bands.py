"""Band work: even bands for every thread, run as if by the caller."""

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernelstudio import bands


@given(
    rows=st.integers(0, 5000),
    height=st.integers(1, 600),
    multiple=st.integers(1, 8),
)
def test_bands_cover_every_row_once_evenly_in_a_multiple_of_the_threads(rows, height, multiple):
    split = bands.row_bands(rows, height, multiple)
    covered = [row for start, stop in split for row in range(start, stop)]
    assert covered == list(range(rows))
    sizes = [stop - start for start, stop in split]
    assert all(0 < size <= height for size in sizes)
    if sizes:
        assert max(sizes) - min(sizes) <= 1
    assert len(split) % multiple == 0 or len(split) == rows


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(bands, "worker_count", lambda: 2)


def divide_by_zero(start, stop):
    np.divide(np.ones(stop - start), 0.0)


def test_band_threads_raise_floating_point_errors_when_the_caller_asks(two_threads):
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        bands.run_bands(divide_by_zero, bands.row_bands(8, 2))


def test_band_threads_keep_quiet_when_the_caller_ignores_errors(two_threads):
    threads = set()

    def work(start, stop):
        threads.add(threading.get_ident())
        divide_by_zero(start, stop)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="ignore"):
            bands.run_bands(work, bands.row_bands(64, 2))
    assert threading.get_ident() not in threads


def test_small_work_stays_on_the_calling_thread(two_threads):
    assert bands.threads_for(bands.PARALLEL_MIN_WORK - 1) == 1
    assert bands.threads_for(bands.PARALLEL_MIN_WORK) == 2
    threads = set()
    bands.run_bands(lambda start, stop: threads.add(threading.get_ident()), [(0, 1), (1, 2)], 1)
    assert threads == {threading.get_ident()}


def test_convolve_shares_only_large_work_out_in_even_bands(two_threads, monkeypatch):
    from kernelstudio import convolution

    calls = []
    real_run_bands = convolution.run_bands

    def spy(work, split, threads):
        calls.append((len(split), threads))
        real_run_bands(work, split, threads)

    monkeypatch.setattr(convolution, "run_bands", spy)
    # 1000 × 1000 × 49 multiply-adds is under the threshold, 1200 × 1200 × 49 over.
    weights = np.random.default_rng(1).normal(size=(7, 7))
    convolution.convolve(np.ones((1000, 1000), np.float32), weights)
    convolution.convolve(np.ones((1200, 1200), np.float32), weights)
    assert [threads for _, threads in calls] == [1, 2]
    assert calls[1][0] % 2 == 0


def test_an_exception_in_one_band_reaches_the_caller_after_every_band_ran(two_threads):
    finished = []

    def work(start, stop):
        if start == 0:
            raise ValueError("band 0 failed")
        finished.append(start)

    with pytest.raises(ValueError, match="band 0 failed"):
        bands.run_bands(work, bands.row_bands(6, 2))
    assert sorted(finished) == [2, 4]
