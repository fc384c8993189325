"""Containers for generated trials and psychometric results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from psychrnn_widgets.errors import ShapeMismatchError

__all__ = ["Psychometric", "TrialBatch"]


@dataclass
class TrialBatch:
    """A batch of trials: arrays for training plus what happened in each trial.

    Parameters
    ----------
    inputs : ndarray, shape (N_batch, N_steps, N_in), float32
        Network inputs, noise included.
    targets : ndarray, shape (N_batch, N_steps, N_out), float32
        Desired outputs.
    mask : ndarray, shape (N_batch, N_steps, N_out), float32
        1 where the loss counts, 0 elsewhere.
    conditions : dict of str to ndarray of shape (N_batch,)
        Per-trial variables (coherence, direction, choice, epoch times in ms...).
    periods : dict of str to ndarray of shape (N_batch, 2), int
        Named periods as step indices ``[start, end)``; ``start == end`` means the period is empty.
    dt : float
        Time step in ms.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    conditions: dict[str, np.ndarray] = field(default_factory=dict)
    periods: dict[str, np.ndarray] = field(default_factory=dict)
    dt: float = 10.0

    def __post_init__(self) -> None:
        self.inputs = np.asarray(self.inputs, dtype=np.float32)
        self.targets = np.asarray(self.targets, dtype=np.float32)
        self.mask = np.asarray(self.mask, dtype=np.float32)
        if self.inputs.ndim != 3:
            raise ShapeMismatchError(
                "inputs",
                f"inputs must have 3 dimensions (N_batch, N_steps, N_in) (got shape {self.inputs.shape})",
            )
        batch, steps = self.inputs.shape[:2]
        for name in ("targets", "mask"):
            array = getattr(self, name)
            if array.ndim != 3 or array.shape[:2] != (batch, steps):
                raise ShapeMismatchError(
                    name,
                    f"{name} must have shape ({batch}, {steps}, N_out) (got shape {array.shape})",
                )
        if self.targets.shape != self.mask.shape:
            raise ShapeMismatchError(
                "mask",
                f"mask must have the shape of targets {self.targets.shape} (got shape {self.mask.shape})",
            )
        for name, values in self.conditions.items():
            values = np.asarray(values)
            if values.shape[:1] != (batch,):
                raise ShapeMismatchError(
                    name,
                    f"condition {name} must have one value per trial, shape ({batch},) (got shape {values.shape})",
                )
            self.conditions[name] = values
        for name, bounds in self.periods.items():
            bounds = np.asarray(bounds, dtype=np.int64)
            if bounds.shape != (batch, 2):
                raise ShapeMismatchError(
                    name, f"period {name} must have shape ({batch}, 2) (got shape {bounds.shape})"
                )
            self.periods[name] = bounds

    @property
    def N_batch(self) -> int:
        """Number of trials."""
        return self.inputs.shape[0]

    @property
    def N_steps(self) -> int:
        """Number of time steps per trial."""
        return self.inputs.shape[1]

    @property
    def N_in(self) -> int:
        """Number of input channels."""
        return self.inputs.shape[2]

    @property
    def N_out(self) -> int:
        """Number of output channels."""
        return self.targets.shape[2]

    @property
    def times(self) -> np.ndarray:
        """Start time of each step in ms, shape (N_steps,)."""
        return np.arange(self.N_steps) * self.dt

    def period_mask(self, name: str) -> np.ndarray:
        """Return a (N_batch, N_steps) boolean array that is True inside period ``name``."""
        bounds = self.periods[name]
        steps = np.arange(self.N_steps)
        return (steps >= bounds[:, :1]) & (steps < bounds[:, 1:])

    def subset(self, indices: np.ndarray | slice | list[int]) -> TrialBatch:
        """Return the trials at ``indices`` (an index array, a boolean mask or a slice) as a new batch."""
        if isinstance(indices, slice):
            index = indices
        else:
            index = np.asarray(indices)
            if index.dtype != bool:
                index = index.astype(np.int64).reshape(-1)
        return TrialBatch(
            inputs=self.inputs[index].copy(),
            targets=self.targets[index].copy(),
            mask=self.mask[index].copy(),
            conditions={k: v[index].copy() for k, v in self.conditions.items()},
            periods={k: v[index].copy() for k, v in self.periods.items()},
            dt=self.dt,
        )


@dataclass
class Psychometric:
    """Choice fraction per level of a graded task variable.

    Parameters
    ----------
    variable : str
        Name of the graded variable, e.g. ``"signed_coherence"``.
    levels : ndarray, shape (N_levels,)
        Sorted levels of that variable.
    choice_fraction : ndarray, shape (N_levels,)
        Fraction of trials at each level where the network made the task's reference choice
        (the task's docstring names it).
    counts : ndarray, shape (N_levels,), int
        Number of trials at each level.
    """

    variable: str
    levels: np.ndarray
    choice_fraction: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_trials(cls, variable: str, values: np.ndarray, chose: np.ndarray) -> Psychometric:
        """Group per-trial ``values`` by level and average the boolean ``chose`` in each group."""
        values = np.asarray(values, dtype=np.float64)
        levels, inverse = np.unique(values, return_inverse=True)
        counts = np.bincount(inverse, minlength=levels.size)
        hits = np.bincount(
            inverse, weights=np.asarray(chose, dtype=np.float64), minlength=levels.size
        )
        return cls(variable, levels, hits / np.maximum(counts, 1), counts.astype(np.int64))
