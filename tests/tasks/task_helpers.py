"""Helpers shared by the task tests."""

from __future__ import annotations

import numpy as np

from psychrnn_widgets.tasks import Task, TrialBatch


def measured_noise_std(task: Task, seed: int = 0, channels: list[int] | None = None) -> float:
    """Return the standard deviation of the input noise, measured against a noise-free twin batch.

    The noise is drawn after every trial variable, so the same seed gives the same trials with
    and without noise, and the difference is the noise alone.
    """
    noisy = task.generate_batch(seed).inputs.astype(np.float64)
    clean = task.replace(stim_noise=0.0).generate_batch(seed).inputs.astype(np.float64)
    difference = noisy - clean
    if channels is not None:
        difference = difference[:, :, channels]
    return float(np.std(difference))


def noise_batch_size(dt: float) -> int:
    """Return an N_batch that gives a noise test at least 32,000 samples (T = 2000 ms, 2 channels).

    The standard deviation measured from n samples has a relative standard error of about
    1 / sqrt(2 n), 0.4% here, so a 3% tolerance is 7 standard errors. With 16 trials at
    dt = 50 ms (1,280 samples) it was 1.5, and a change of random stream could fail it.
    """
    return max(16, round(8 * dt))


def noise_outputs(batch: TrialBatch, seed: int = 1) -> np.ndarray:
    """Return outputs that ignore the trials: positive uniform noise of the target's shape."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, batch.targets.shape)


def assert_valid_batch(task: Task, batch: TrialBatch) -> None:
    """Check shapes, dtypes, finiteness and a mask that is on somewhere in every trial."""
    shape = (task.N_batch, task.N_steps)
    assert batch.inputs.shape == (*shape, task.N_in)
    assert batch.targets.shape == (*shape, task.N_out)
    assert batch.mask.shape == (*shape, task.N_out)
    assert batch.inputs.dtype == np.float32
    assert batch.targets.dtype == np.float32
    assert batch.mask.dtype == np.float32
    assert np.all(np.isfinite(batch.inputs))
    assert np.all(np.isfinite(batch.targets))
    assert set(np.unique(batch.mask)) <= {0.0, 1.0}
    assert np.all(batch.mask.sum(axis=(1, 2)) > 0)
    for name, values in batch.conditions.items():
        assert values.shape[0] == task.N_batch, name
    for name, bounds in batch.periods.items():
        assert bounds.shape == (task.N_batch, 2), name
        assert np.all(bounds[:, 0] <= bounds[:, 1]), name
        assert np.all((bounds >= 0) & (bounds <= task.N_steps)), name
