"""Perceptual discrimination (two-alternative forced choice), PsychRNN's default task."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder, ms_to_step
from psychrnn_widgets.tasks.metrics import check_outputs, masked_choice
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["COMPAT_PARAM", "PerceptualDiscrimination", "STIM_NOISE_PARAM", "psychrnn_noise_std"]

COMPAT_PARAM = Param(
    "psychrnn_compat",
    "bool",
    False,
    "Reproduce PsychRNN 1.0.0 exactly, including its known bugs.",
)
# The noise scale of both discrimination tasks, used by psychrnn_noise_std.
STIM_NOISE_PARAM = Param(
    "stim_noise",
    "float",
    0.1,
    "Input noise scale (0.1 in PsychRNN).",
    minimum=0.0,
    maximum=10.0,
)

# PsychRNN's target levels for the chosen and the other output channel.
HI = 1.0
LO = 0.2


def psychrnn_noise_std(dt: float, stim_noise: float) -> float:
    """Return PsychRNN's input noise standard deviation, ``sqrt(0.02 * sqrt(10 dt)) * stim_noise``.

    PsychRNN 1.0.0 writes it as ``sqrt(2 * 0.01 * sqrt(10) * sqrt(dt) * stim_noise**2)``; it is
    0.0447 at dt = 10 ms and stim_noise = 0.1.
    """
    return math.sqrt(0.02 * math.sqrt(10.0 * dt)) * stim_noise


@register_task
class PerceptualDiscrimination(Task):
    """Report which of two noisy input channels has the higher mean (random-dot motion style).

    Each trial draws a direction (0 or 1), a coherence, a stimulus onset ``U[0, T/2)`` and a
    stimulus duration ``U[T/8, 3T/8)``. During the stimulus both inputs are 1 and input
    ``direction`` gets ``1 + coherence``; Gaussian noise with standard deviation
    ``sqrt(0.02 sqrt(10 dt)) * stim_noise`` is added at every step. After the stimulus the target is
    1.0 on output ``direction`` and 0.2 on the other, and the mask is 1 on both.

    Periods: ``fixation``, ``stimulus``, ``decision``. Conditions: ``coherence``, ``direction``,
    ``choice`` (same as direction), ``signed_coherence`` (negative for direction 0),
    ``onset_time`` and ``stim_duration`` in ms.

    Notes
    -----
    Fixes relative to PsychRNN 1.0.0, all undone by ``psychrnn_compat=True``:

    * ``direction`` is honoured. PsychRNN stores it and draws every trial's direction at random.
    * The target switches on when the mask does, at stimulus end. PsychRNN keeps the target at 0
      for the first 20 ms of the masked decision period, so it trains the output towards 0 there.
    * The stimulus covers the steps whose start time lies in ``[onset, onset + duration)``.
      PsychRNN uses ``onset < t < onset + duration``; compat mode keeps that, which only moves the
      first step when ``onset`` is a multiple of dt.
    """

    name = "perceptual_discrimination"
    title = "Perceptual discrimination"
    description = (
        "Two-alternative forced choice: two noisy inputs are shown for a few hundred ms and one has "
        "a higher mean; after the stimulus the network must raise the output of that side. Lower "
        "coherence makes the difference smaller and the task harder. This is PsychRNN's default task "
        "(random-dot motion discrimination)."
    )
    params = (
        Param("N_batch", "int", 50, "Number of trials per batch.", minimum=1, maximum=100_000),
        Param(
            "coherence",
            "float",
            None,
            "Extra input on the correct side; empty means drawn per trial from coherence_levels.",
            minimum=0.0,
            maximum=1.0,
            allow_none=True,
        ),
        Param(
            "coherence_levels",
            "float_list",
            (0.1, 0.3, 0.5, 0.7),
            "Coherences drawn with equal probability when coherence is empty.",
            minimum=0.0,
            maximum=1.0,
        ),
        Param(
            "direction",
            "choice",
            None,
            "Correct side (0 or 1); empty means drawn per trial.",
            choices=(0, 1),
            allow_none=True,
        ),
        STIM_NOISE_PARAM,
        COMPAT_PARAM,
    )
    input_channels = ("evidence_0", "evidence_1")
    output_channels = ("choice_0", "choice_1")

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        # The shortest decision period is T/8 (latest onset T/2, longest stimulus 3T/8).
        if values["T"] / 8.0 < values["dt"]:
            raise InvalidParameterError(
                "T",
                f"T must be at least 8 * dt so the decision period is never empty "
                f"(got T={format_value(values['T'], 'ms')}, dt={format_value(values['dt'], 'ms')})",
                values["T"],
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B, T, dt = self.N_batch, self.T, self.dt
        compat = self.psychrnn_compat
        if self.coherence is None:
            coherence = rng.choice(np.asarray(self.coherence_levels), size=B)
        else:
            coherence = np.full(B, self.coherence)
        if self.direction is None or compat:
            direction = rng.integers(0, 2, size=B)
        else:
            direction = np.full(B, self.direction, dtype=np.int64)
        onset = rng.uniform(0.0, T / 2.0, size=B)
        duration = rng.uniform(T / 8.0, 3.0 * T / 8.0, size=B)
        end = onset + duration

        trials = TrialBuilder(self, rng)
        if compat:
            # onset < t*dt < end with t*dt >= end masked; the target waits until t*dt > end + 20.
            trials.add_period_steps(
                "stimulus", np.floor(onset / dt).astype(np.int64) + 1, ms_to_step(end, dt)
            )
            target_start = np.floor((end + 20.0) / dt).astype(np.int64) + 1
        else:
            trials.add_period("stimulus", onset, end)
        stimulus = trials.periods["stimulus"]
        trials.add_period_steps("fixation", 0, stimulus[:, 0])
        trials.add_period_steps("decision", ms_to_step(end, dt, self.N_steps), self.N_steps)

        # Noise first, straight into the inputs. Then the stimulus on top: 1 on both channels plus
        # the coherence on the correct one, added in one call.
        trials.set_input_noise(psychrnn_noise_std(dt, self.stim_noise))
        stimulus_level = np.ones((B, 2))
        stimulus_level[np.arange(B), direction] += coherence
        trials.add_input_pattern("stimulus", stimulus_level)
        target_period = "decision"
        if compat:
            target_period = np.arange(self.N_steps)[None, :] >= target_start[:, None]
        for channel in range(2):
            trials.set_target(channel, target_period, np.where(direction == channel, HI, LO))
        trials.set_mask(None, "decision")

        trials.set_condition("coherence", coherence)
        trials.set_condition("direction", direction)
        trials.set_condition("choice", direction)
        trials.set_condition("signed_coherence", np.where(direction == 1, coherence, -coherence))
        trials.set_condition("onset_time", onset)
        trials.set_condition("stim_duration", duration)
        return trials.build()

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric:
        """Return the fraction of trials choosing direction 1 per signed coherence level.

        The signed coherence is ``+coherence`` for direction 1 and ``-coherence`` for direction 0.
        """
        outputs = check_outputs(outputs, batch)
        chose_1 = masked_choice(outputs, batch.mask) == 1
        return Psychometric.from_trials(
            "signed_coherence", batch.conditions["signed_coherence"], chose_1
        )
