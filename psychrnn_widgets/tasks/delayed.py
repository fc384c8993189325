"""Delayed discrimination (Romo et al. 1999): compare two vibration frequencies across a delay."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder
from psychrnn_widgets.tasks.metrics import check_outputs, masked_choice
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.perceptual import (
    COMPAT_PARAM,
    HI,
    LO,
    STIM_NOISE_PARAM,
    psychrnn_noise_std,
)
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["FREQUENCY_PAIRS", "DelayedDiscrimination"]

# (larger, smaller) frequency pairs in Hz, as in PsychRNN 1.0.0.
FREQUENCY_PAIRS = np.array([(18, 10), (22, 14), (26, 18), (30, 22), (34, 26)], dtype=np.float64)
F_MIN, F_MAX = 10.0, 34.0

# Epochs in trial order: parameter name, period name, largest drawn length as a fraction of T.
EPOCHS = (
    ("onset_time", "fixation", 1 / 8),
    ("stim_duration_1", "stimulus_1", 1 / 4),
    ("delay_duration", "delay", 1 / 4),
    ("stim_duration_2", "stimulus_2", 1 / 4),
    ("decision_duration", "decision", 1 / 8),
)
# With the fix, drawn stimulus, delay and decision epochs last at least T/16.
MIN_FRACTION = 1 / 16


def _epoch_param(name: str, what: str, zero_ok: bool) -> Param:
    return Param(
        name,
        "float",
        None,
        f"{what}; empty means drawn per trial.",
        unit="ms",
        minimum=0.0,
        min_inclusive=zero_ok,
        allow_none=True,
    )


@register_task
class DelayedDiscrimination(Task):
    """Decide whether the first of two stimuli had the higher frequency (parametric working memory).

    Each trial draws a pair from :data:`FREQUENCY_PAIRS` and an order. During each stimulus,
    input 0 gets ``0.4 + 0.8 (f - 10) / 24`` and input 1 gets ``0.4 + 0.8 (34 - f) / 24``, plus
    the PerceptualDiscrimination noise. In the decision epoch the target is 1.0 on output
    ``choice`` (0 when f1 > f2, 1 when f1 < f2) and 0.2 on the other, and the mask is 1;
    elsewhere both are 0.

    Epochs (fixation, stimulus_1, delay, stimulus_2, decision) have the lengths given by their
    parameters; an empty one is drawn per trial from ``U[T/16, max)``, with max T/8 for the
    decision and T/4 for the others, and the fixation from ``U[0, T/8)``. Conditions: ``f1``,
    ``f2``, ``choice`` and every epoch length in ms.

    Notes
    -----
    Fixes relative to PsychRNN 1.0.0, undone by ``psychrnn_compat=True``:

    * PsychRNN draws stimulus, delay and decision lengths from ``U[0, max)``, so an epoch can be
      nearly empty; a trial with an empty decision epoch has an all-zero mask and counts as
      correct. Here drawn epochs last at least T/16, a fixed epoch at least one step, and the
      epochs must fit in T.
    """

    name = "delayed_discrimination"
    title = "Delayed discrimination"
    description = (
        "Working memory: two vibration frequencies are presented one after the other, separated by "
        "a delay, and the network must report whether the first was higher. It has to hold the "
        "first frequency in memory through the delay (Romo et al. 1999)."
    )
    params = (
        _epoch_param("onset_time", "Time before the first stimulus", zero_ok=True),
        _epoch_param("stim_duration_1", "Length of the first stimulus", zero_ok=False),
        _epoch_param("delay_duration", "Length of the delay", zero_ok=False),
        _epoch_param("stim_duration_2", "Length of the second stimulus", zero_ok=False),
        _epoch_param("decision_duration", "Length of the decision epoch", zero_ok=False),
        STIM_NOISE_PARAM,
        COMPAT_PARAM,
    )
    input_channels = ("f_positive", "f_negative")
    output_channels = ("f1_higher", "f2_higher")

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        if values["psychrnn_compat"]:
            return
        T, dt = values["T"], values["dt"]
        if T * MIN_FRACTION < dt:
            raise InvalidParameterError(
                "T",
                f"T must be at least 16 * dt so every drawn epoch lasts a step "
                f"(got T={format_value(T, 'ms')}, dt={format_value(dt, 'ms')})",
                T,
            )
        for name, _, _ in EPOCHS[1:]:
            if values[name] is not None and values[name] < dt:
                raise InvalidParameterError(
                    name,
                    f"{name} must be at least one time step "
                    f"(got {name}={format_value(values[name], 'ms')}, dt={format_value(dt, 'ms')})",
                    values[name],
                )
        longest = sum(
            values[name] if values[name] is not None else fraction * T
            for name, _, fraction in EPOCHS
        )
        if longest > T * (1 + 1e-9):
            raise InvalidParameterError(
                "T",
                f"the epochs must fit in T: onset, stimuli, delay and decision can last "
                f"{format_value(round(longest, 6), 'ms')} (got T={format_value(T, 'ms')}); shorten an epoch or raise T",
                T,
            )

    def _draw_lengths(self, rng: np.random.Generator) -> np.ndarray:
        """Return the epoch lengths in ms, shape (N_batch, len(EPOCHS)), in EPOCHS order."""
        T, compat = self.T, self.psychrnn_compat
        low = [0.0 if compat or name == "onset_time" else MIN_FRACTION * T for name, _, _ in EPOCHS]
        high = [fraction * T for _, _, fraction in EPOCHS]
        # Draw every epoch, fixed ones too, so that the other draws do not depend on which epochs
        # are fixed. This is rng.uniform(low, high) to the bit, at a third of its cost here.
        lengths = rng.random((self.N_batch, len(EPOCHS)))
        lengths *= np.subtract(high, low)
        lengths += low
        for index, (name, _, _) in enumerate(EPOCHS):
            value = getattr(self, name)
            if value is not None:
                lengths[:, index] = value
        return lengths

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B = self.N_batch
        lengths = self._draw_lengths(rng)
        pair_index = rng.integers(0, len(FREQUENCY_PAIRS), size=B)
        choice = rng.integers(0, 2, size=B)
        # Choice 0 means f1 is the larger frequency of the pair.
        f1 = FREQUENCY_PAIRS[pair_index, choice]
        f2 = FREQUENCY_PAIRS[pair_index, 1 - choice]

        trials = TrialBuilder(self, rng)
        boundaries = np.zeros((B, len(EPOCHS) + 1))
        np.cumsum(lengths, axis=1, out=boundaries[:, 1:])
        trials.add_consecutive_periods([period for _, period, _ in EPOCHS], boundaries)

        # Noise first, straight into the inputs, then each stimulus on top.
        trials.set_input_noise(psychrnn_noise_std(self.dt, self.stim_noise))
        frequency = np.stack([f1, f2])[:, :, None]  # (stimulus, trial, channel)
        positive = 0.4 + 0.8 * (frequency - F_MIN) / (F_MAX - F_MIN)
        negative = 0.4 + 0.8 * (F_MAX - frequency) / (F_MAX - F_MIN)
        levels = np.concatenate([positive, negative], axis=2)
        trials.add_input_pattern("stimulus_1", levels[0])
        trials.add_input_pattern("stimulus_2", levels[1])
        for channel in range(2):
            trials.set_target(channel, "decision", np.where(choice == channel, HI, LO))
        trials.set_mask(None, "decision")

        trials.set_condition("f1", f1)
        trials.set_condition("f2", f2)
        trials.set_condition("choice", choice)
        for index, (name, _, _) in enumerate(EPOCHS):
            trials.set_condition(name, lengths[:, index])
        return trials.build()

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric:
        """Return the fraction of trials reporting "f1 higher" (output 0) per value of f1."""
        outputs = check_outputs(outputs, batch)
        chose_f1_higher = masked_choice(outputs, batch.mask) == 0
        return Psychometric.from_trials("f1", batch.conditions["f1"], chose_f1_higher)
