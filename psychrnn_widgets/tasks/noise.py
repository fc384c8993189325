"""Input noise conventions."""

from __future__ import annotations

import math

__all__ = ["REFERENCE_DT", "white_noise_std"]

# Time step in ms at which ``stim_noise`` equals the per-step standard deviation.
REFERENCE_DT = 10.0


def white_noise_std(dt: float, stim_noise: float) -> float:
    """Return the per-step standard deviation ``stim_noise * sqrt(10 ms / dt)``.

    Scaling by ``1 / sqrt(dt)`` makes the noise a sampled white noise, so its effect on a network
    that integrates over time does not depend on dt. The tasks added by this package use it;
    PsychRNN's three tasks keep their own formulas.
    """
    return stim_noise * math.sqrt(REFERENCE_DT / dt)
