"""PsychRNN's ``MatchToCategory`` (Freedman & Assad-style angle categorisation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.compat.tasks._library import VectorisedTask
from psychrnn_widgets.tasks import MatchToCategory as LibraryCategory
from psychrnn_widgets.tasks import TrialBatch, ring_input

__all__ = ["MatchToCategory"]


class MatchToCategory(VectorisedTask):
    """Report which of ``N_out`` equal arcs of the circle an angle falls in.

    Parameters
    ----------
    dt, tau, T : float
        Time step, unit time constant and trial length in ms; T must be at least 2000, because
        the stimulus runs from 200 to 1200 ms and the decision from 1200 to 2000 ms.
    N_batch : int
        Trials per batch.
    N_in : int, default 16
        Input channels, with preferred angles ``linspace(0, 2 pi, N_in)`` (PsychRNN's spacing, so
        the first and last channels duplicate each other).
    N_out : int, default 2
        Categories.
    """

    __slots__ = ()

    LIBRARY_TASK = LibraryCategory
    LIBRARY_SETTINGS = ("N_in", "N_out")

    def __init__(
        self, dt: float, tau: float, T: float, N_batch: int, N_in: int = 16, N_out: int = 2
    ) -> None:
        super().__init__(N_in, N_out, dt, tau, T, N_batch)

    def trial_params(self, batch: TrialBatch, index: int) -> dict[str, Any]:
        """Return the PsychRNN parameter dict (angle, category, fixed timing) of one trial."""
        return {
            "angle": float(batch.conditions["angle"][index]),
            "category": int(batch.conditions["category"][index]),
            "onset_time": 200,
            "input_dur": 1000.0,
            "output_dur": 800.0,
            "stim_noise": 0.1,
        }

    def generate_trial_params(self, batch: int, trial: int) -> dict[str, Any]:
        """Draw one trial's angle U[0, 2 pi) with np.random."""
        angle = 2 * np.pi * np.random.rand()
        return {
            "angle": angle,
            "category": int(angle / (2 * np.pi / self.N_out)),
            "onset_time": 200,
            "input_dur": 1000.0,
            "output_dur": 800.0,
            "stim_noise": 0.1,
        }

    def trial_function(
        self, time: float, params: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x_t, y_t, mask_t)`` at ``time`` ms of the trial described by ``params``."""
        x_t = params["stim_noise"] / (2 * self.dt) * np.random.randn(self.N_in)
        y_t = np.zeros(self.N_out)
        mask_t = np.zeros(self.N_out)
        stimulus_end = params["onset_time"] + params["input_dur"]
        if params["onset_time"] <= time < stimulus_end:
            angles = np.linspace(0, 2 * np.pi, self.N_in)
            x_t += ring_input(np.array([params["angle"]]), angles)[0]
        if stimulus_end <= time < stimulus_end + params["output_dur"]:
            y_t[params["category"]] += 1.0
            mask_t = np.ones(self.N_out)
        return x_t, y_t, mask_t
