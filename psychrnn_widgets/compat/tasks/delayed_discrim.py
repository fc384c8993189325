"""PsychRNN's ``DelayedDiscrimination`` (Romo-style frequency comparison across a delay)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.compat.tasks._library import VectorisedTask
from psychrnn_widgets.tasks import DelayedDiscrimination as LibraryDelayed
from psychrnn_widgets.tasks import TrialBatch, psychrnn_noise_std

__all__ = ["DelayedDiscrimination"]

# Epoch lengths in trial order, and the longest random length of each as a fraction of T.
_EPOCHS = (
    ("onset_time", 1 / 8),
    ("stim_duration_1", 1 / 4),
    ("delay_duration", 1 / 4),
    ("stim_duration_2", 1 / 4),
    ("decision_duration", 1 / 8),
)
# PsychRNN's names of the epoch boundaries, from the first stimulus to the end of the decision.
_BOUNDARIES = ("stimulus_1", "delay", "stimulus_2", "decision", "end")
_PAIRS = [(18, 10), (22, 14), (26, 18), (30, 22), (34, 26)]


def _scale_positive(frequency: float) -> float:
    return 0.4 + 0.8 * (frequency - 10) / 24


def _scale_negative(frequency: float) -> float:
    return 0.4 + 0.8 * (34 - frequency) / 24


class DelayedDiscrimination(VectorisedTask):
    """Report whether the first of two frequencies was higher (N_in = N_out = 2).

    Parameters
    ----------
    dt, tau, T : float
        Time step, unit time constant and trial length in ms.
    N_batch : int
        Trials per batch.
    onset_time, stim_duration_1, delay_duration, stim_duration_2, decision_duration : float or None
        Epoch lengths in ms; None draws each per trial, uniformly from [0, T/8) for the onset and
        the decision and from [0, T/4) for the others, as in PsychRNN 1.0.0 (so an epoch can be
        nearly empty).
    """

    __slots__ = ()

    LIBRARY_TASK = LibraryDelayed
    LIBRARY_SETTINGS = tuple(name for name, _ in _EPOCHS)

    def __init__(
        self,
        dt: float,
        tau: float,
        T: float,
        N_batch: int,
        onset_time: float | None = None,
        stim_duration_1: float | None = None,
        delay_duration: float | None = None,
        stim_duration_2: float | None = None,
        decision_duration: float | None = None,
    ) -> None:
        super().__init__(
            2, 2, dt, tau, T, N_batch,
            onset_time=onset_time, stim_duration_1=stim_duration_1, delay_duration=delay_duration,
            stim_duration_2=stim_duration_2, decision_duration=decision_duration,
            frequency_pairs=list(_PAIRS), decision_options=[">", "<"], lo=0.2, hi=1.0,
        )

    def trial_params(self, batch: TrialBatch, index: int) -> dict[str, Any]:
        """Return the PsychRNN parameter dict (epoch boundaries in ms, f1, f2, choice) of one trial."""
        bounds = np.cumsum([float(batch.conditions[name][index]) for name, _ in _EPOCHS])
        params: dict[str, Any] = {name: float(value) for name, value in zip(_BOUNDARIES, bounds)}
        params["stim_noise"] = 0.1
        params["f1"] = int(batch.conditions["f1"][index])
        params["f2"] = int(batch.conditions["f2"][index])
        params["choice"] = int(batch.conditions["choice"][index])
        return params

    def generate_trial_params(self, batch: int, trial: int) -> dict[str, Any]:
        """Draw one trial's epoch boundaries and frequency pair with np.random, in PsychRNN's order."""
        lengths = []
        for name, fraction in _EPOCHS:
            value = getattr(self, name)
            lengths.append(np.random.uniform(0, 1) * self.T * fraction if value is None else value)
        params: dict[str, Any] = dict(zip(_BOUNDARIES, np.cumsum(lengths).tolist()))
        params["stim_noise"] = 0.1
        pair = self.frequency_pairs[np.random.choice(len(self.frequency_pairs))]
        if np.random.choice(self.decision_options) == ">":
            params["f1"], params["f2"], params["choice"] = pair[0], pair[1], 0
        else:
            params["f1"], params["f2"], params["choice"] = pair[1], pair[0], 1
        return params

    def trial_function(
        self, time: float, params: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x_t, y_t, mask_t)`` at ``time`` ms of the trial described by ``params``."""
        x_t = psychrnn_noise_std(self.dt, params["stim_noise"]) * np.random.randn(self.N_in)
        y_t = np.zeros(self.N_out)
        mask_t = np.zeros(self.N_out)
        for start, stop, frequency in (
            (params["stimulus_1"], params["delay"], params["f1"]),
            (params["stimulus_2"], params["decision"], params["f2"]),
        ):
            if start <= time < stop:
                x_t[0] += _scale_positive(frequency)
                x_t[1] += _scale_negative(frequency)
        if params["decision"] <= time < params["end"]:
            choice = params["choice"]
            y_t[choice] = self.hi
            y_t[1 - choice] = self.lo
            mask_t = np.ones(self.N_out)
        return x_t, y_t, mask_t
