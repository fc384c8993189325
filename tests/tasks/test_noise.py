"""Tests of the float32 Gaussian sampler behind the tasks' input noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psychrnn_widgets.tasks import MatchToCategory, TrialBuilder
from psychrnn_widgets.tasks.noise import fill_gaussian


def _samples(size: int, std=1.0, seed: int = 0) -> np.ndarray:
    out = np.empty(size, dtype=np.float32)
    fill_gaussian(np.random.default_rng(seed), out, std)
    return out


def test_moments_and_quantiles():
    # An odd size also covers the last, unpaired sample. With n = 1,000,001 the standard errors
    # are 0.001 for the mean, 0.07% for the std, 0.005 for the excess kurtosis and at most
    # 0.0005 for a fraction: every tolerance below is 4 or more of them.
    n = 1_000_001
    z = _samples(n, std=2.0).astype(np.float64) / 2.0
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 0.005
    assert z.std() == pytest.approx(1.0, rel=0.003)
    assert abs(np.mean(z**3)) < 0.015
    assert abs(np.mean(z**4) - 3.0) < 0.02
    for k in (0.5, 1.0, 2.0, 3.0):
        assert np.mean(np.abs(z) < k) == pytest.approx(math.erf(k / math.sqrt(2)), abs=0.002)
    assert np.abs(z).max() <= 5.65


def test_pairs_independent():
    # The two samples of a Box-Muller pair sit half a block apart; a broken transform shows as a
    # correlation between them or between their squares. 1e6 pairs: standard error 0.001.
    z = _samples(2 * 12288 * 80).astype(np.float64).reshape(80, 2, 12288)
    first, second = z[:, 0].ravel(), z[:, 1].ravel()
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.005
    assert abs(np.corrcoef(first**2, second**2)[0, 1]) < 0.005
    flat = z.ravel()
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.005


def test_std_per_channel():
    out = np.empty((2000, 50, 3), dtype=np.float32)
    fill_gaussian(np.random.default_rng(1), out, np.array([0.5, 0.0, 3.0]))
    measured = out.reshape(-1, 3).std(axis=0)
    assert measured[0] == pytest.approx(0.5, rel=0.01)
    assert measured[2] == pytest.approx(3.0, rel=0.01)
    assert np.all(out[:, :, 1] == 0.0)


def test_reproducible_and_advances():
    np.testing.assert_array_equal(_samples(1001, seed=4), _samples(1001, seed=4))
    assert not np.array_equal(_samples(1001, seed=4), _samples(1001, seed=5))
    rng = np.random.default_rng(4)
    first, second = np.empty(10, np.float32), np.empty(10, np.float32)
    fill_gaussian(rng, first)
    fill_gaussian(rng, second)
    assert not np.array_equal(first, second)


def test_small_sizes():
    assert _samples(0).shape == (0,)
    single = _samples(1, std=0.0)
    assert single.tolist() == [0.0]
    assert np.isfinite(_samples(3)).all()


def test_rejects_other_arrays():
    with pytest.raises(ValueError, match="C-contiguous float32"):
        fill_gaussian(np.random.default_rng(0), np.empty(4))
    with pytest.raises(ValueError, match="C-contiguous float32"):
        fill_gaussian(np.random.default_rng(0), np.empty((4, 4), np.float32)[:, 0])


def test_builder_set_and_add_noise():
    task = MatchToCategory(N_batch=4)
    trials = TrialBuilder(task, np.random.default_rng(0))
    trials.inputs[:] = 7.0
    trials.set_input_noise(0.0)
    assert np.all(trials.inputs == 0.0)
    trials.inputs[:] = 7.0
    trials.add_input_noise(0.0)
    assert np.all(trials.inputs == 7.0)
    trials.set_input_noise(1.0)
    noise = trials.inputs.copy()
    trials.add_input_noise(1.0)
    assert trials.inputs.std() == pytest.approx(math.sqrt(2) * noise.std(), rel=0.05)
