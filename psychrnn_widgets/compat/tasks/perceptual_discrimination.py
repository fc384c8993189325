"""PsychRNN's ``PerceptualDiscrimination`` (two-alternative forced choice)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.compat.tasks._library import VectorisedTask
from psychrnn_widgets.tasks import PerceptualDiscrimination as LibraryDiscrimination
from psychrnn_widgets.tasks import TrialBatch, psychrnn_noise_std

__all__ = ["PerceptualDiscrimination"]


class PerceptualDiscrimination(VectorisedTask):
    """Report which of two noisy inputs has the higher mean (N_in = N_out = 2).

    Parameters
    ----------
    dt, tau, T : float
        Time step, unit time constant and trial length in ms.
    N_batch : int
        Trials per batch.
    coherence : float or None
        Extra input on the correct side; None draws it per trial from {0.1, 0.3, 0.5, 0.7}.
    direction : int or None
        Stored but not used: every trial's direction is drawn at random, as in PsychRNN.

    Notes
    -----
    Batches reproduce PsychRNN 1.0.0 exactly, bugs included: the target stays at 0 for the first
    20 ms of the masked decision period, and ``direction`` is ignored.
    """

    __slots__ = ()

    LIBRARY_TASK = LibraryDiscrimination
    LIBRARY_SETTINGS = ("coherence",)

    def __init__(
        self,
        dt: float,
        tau: float,
        T: float,
        N_batch: int,
        coherence: float | None = None,
        direction: int | None = None,
    ) -> None:
        super().__init__(
            2, 2, dt, tau, T, N_batch, coherence=coherence, direction=direction, lo=0.2, hi=1.0
        )

    def trial_params(self, batch: TrialBatch, index: int) -> dict[str, Any]:
        """Return the PsychRNN parameter dict of one trial of ``batch``."""
        conditions = batch.conditions
        return {
            "coherence": float(conditions["coherence"][index]),
            "direction": int(conditions["direction"][index]),
            "stim_noise": 0.1,
            "onset_time": float(conditions["onset_time"][index]),
            "stim_duration": float(conditions["stim_duration"][index]),
        }

    def generate_trial_params(self, batch: int, trial: int) -> dict[str, Any]:
        """Draw one trial's coherence, direction, onset U[0, T/2) and duration U[T/8, 3T/8) with np.random."""
        coherence = (
            np.random.choice([0.1, 0.3, 0.5, 0.7]) if self.coherence is None else self.coherence
        )
        return {
            "coherence": coherence,
            "direction": int(np.random.choice([0, 1])),
            "stim_noise": 0.1,
            "onset_time": np.random.random() * self.T / 2.0,
            "stim_duration": np.random.random() * self.T / 4.0 + self.T / 8.0,
        }

    def trial_function(
        self, time: float, params: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x_t, y_t, mask_t)`` at ``time`` ms of the trial described by ``params``."""
        x_t = psychrnn_noise_std(self.dt, params["stim_noise"]) * np.random.randn(self.N_in)
        y_t = np.zeros(self.N_out)
        mask_t = np.ones(self.N_out)
        direction = params["direction"]
        end = params["onset_time"] + params["stim_duration"]
        if params["onset_time"] < time < end:
            x_t[direction] += 1 + params["coherence"]
            x_t[1 - direction] += 1
        if time > end + 20:
            y_t[direction] = self.hi
            y_t[1 - direction] = self.lo
        if time < end:
            mask_t = np.zeros(self.N_out)
        return x_t, y_t, mask_t
