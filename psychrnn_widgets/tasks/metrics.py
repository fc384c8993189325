"""Scoring helpers shared by the tasks' ``accuracy`` and ``psychometric`` methods."""

from __future__ import annotations

import numpy as np

from psychrnn_widgets.errors import ShapeMismatchError
from psychrnn_widgets.tasks.batch import TrialBatch

__all__ = ["check_outputs", "masked_choice", "period_mean"]


def check_outputs(outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
    """Return ``outputs`` as a float array after checking it has the batch's target shape."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape != batch.targets.shape:
        raise ShapeMismatchError(
            "outputs",
            f"outputs must have shape (N_batch, N_steps, N_out) = {batch.targets.shape} (got shape {outputs.shape})",
        )
    return outputs


def masked_choice(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return the argmax over channels of the time-average of ``values * mask``, shape (N_batch,)."""
    return np.argmax(np.mean(values * mask, axis=1), axis=-1)


def period_mean(values: np.ndarray, batch: TrialBatch, period: str) -> np.ndarray:
    """Return the mean of ``values`` over each trial's steps in ``period``, shape (N_batch, N_channels).

    A trial whose period is empty gets NaN.
    """
    inside = batch.period_mask(period)[:, :, None]
    counts = inside.sum(axis=1)
    totals = np.where(inside, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
