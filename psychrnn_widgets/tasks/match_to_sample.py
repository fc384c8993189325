"""Delayed match-to-sample: report whether a test stimulus is the one shown before a delay."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["DelayedMatchToSample"]


def _duration(name: str, default: float, what: str) -> Param:
    return Param(name, "float", default, what, unit="ms", minimum=0.0, min_inclusive=False)


@register_task
class DelayedMatchToSample(Task):
    """Hold a sample stimulus through a delay, then report whether the test stimulus matches it.

    Inputs: ``fixation`` (1 until the decision epoch, so its offset is the go signal) and one
    channel per stimulus identity. The sample identity is one-hot during the sample epoch; the test
    identity is the sample's with probability ``match_probability`` and otherwise a different one
    drawn uniformly. In the decision epoch the target is 1 on ``match`` or ``non_match`` and 0 on
    the other, and the mask is 1; elsewhere both are 0. The delay lasts ``delay_duration``, or is
    drawn from ``U[delay_min, delay_max)`` when empty. Input noise ``stim_noise * sqrt(10 ms / dt)``
    per step on every input.

    Periods: ``fixation``, ``sample``, ``delay``, ``test``, ``decision``. Conditions: ``sample``,
    ``test`` (stimulus indices), ``match`` (1 or 0), ``choice`` (0 match, 1 non-match),
    ``delay_duration``.
    """

    name = "delayed_match_to_sample"
    title = "Delayed match-to-sample"
    description = (
        "Working memory: a sample stimulus is shown, then hidden during a delay of variable length. "
        "When a test stimulus appears, the network must report whether it is the same as the sample. "
        "It has to keep the sample's identity in memory through the delay."
    )
    params = (
        Param(
            "N_stimuli",
            "int",
            4,
            "Number of distinct stimuli (one input channel each).",
            minimum=2,
            maximum=64,
        ),
        Param(
            "match_probability", "float", 0.5, "Fraction of match trials.", minimum=0.0, maximum=1.0
        ),
        _duration("fixation_duration", 200.0, "Time before the sample."),
        _duration("sample_duration", 300.0, "Length of the sample."),
        Param(
            "delay_duration",
            "float",
            None,
            "Length of the delay; empty means drawn per trial.",
            unit="ms",
            minimum=0.0,
            allow_none=True,
        ),
        Param("delay_min", "float", 300.0, "Shortest drawn delay.", unit="ms", minimum=0.0),
        Param(
            "delay_max",
            "float",
            700.0,
            "Longest drawn delay (exclusive).",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        _duration("test_duration", 300.0, "Length of the test stimulus."),
        _duration("decision_duration", 300.0, "Length of the decision epoch."),
        Param(
            "stim_noise",
            "float",
            0.1,
            "Input noise standard deviation at dt = 10 ms.",
            minimum=0.0,
            maximum=10.0,
        ),
    )
    output_channels = ("match", "non_match")

    @property
    def input_names(self) -> list[str]:
        """``fixation`` followed by ``stimulus_0`` ... ``stimulus_{N_stimuli-1}``."""
        return ["fixation", *(f"stimulus_{k}" for k in range(self.N_stimuli))]

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        dt, T = values["dt"], values["T"]
        if values["delay_min"] >= values["delay_max"]:
            raise InvalidParameterError(
                "delay_min",
                f"delay_min must be smaller than delay_max (got delay_min={format_value(values['delay_min'], 'ms')}, "
                f"delay_max={format_value(values['delay_max'], 'ms')})",
                values["delay_min"],
            )
        for name in ("sample_duration", "test_duration", "decision_duration"):
            if values[name] < dt:
                raise InvalidParameterError(
                    name,
                    f"{name} must be at least one time step "
                    f"(got {name}={format_value(values[name], 'ms')}, dt={format_value(dt, 'ms')})",
                    values[name],
                )
        delay = (
            values["delay_max"] if values["delay_duration"] is None else values["delay_duration"]
        )
        total = (
            values["fixation_duration"]
            + values["sample_duration"]
            + delay
            + values["test_duration"]
        )
        total += values["decision_duration"]
        if total > T * (1 + 1e-9):
            raise InvalidParameterError(
                "T",
                f"T must be at least the sum of the epochs, longest delay included "
                f"(got T={format_value(T, 'ms')}, sum={format_value(total, 'ms')})",
                T,
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B, n = self.N_batch, self.N_stimuli
        sample = rng.integers(0, n, size=B)
        match = (rng.random(B) < self.match_probability).astype(np.int64)
        # A non-match test is any other stimulus: shift the sample by 1 ... n-1 places.
        test = np.where(match == 1, sample, (sample + rng.integers(1, n, size=B)) % n)
        delay = rng.uniform(self.delay_min, self.delay_max, size=B)
        if self.delay_duration is not None:
            delay = np.full(B, self.delay_duration)

        trials = TrialBuilder(self, rng)
        sample_start = self.fixation_duration
        delay_start = sample_start + self.sample_duration
        test_start = delay_start + delay
        decision_start = test_start + self.test_duration
        trials.add_period("fixation", 0.0, sample_start)
        trials.add_period("sample", sample_start, delay_start)
        trials.add_period("delay", delay_start, test_start)
        trials.add_period("test", test_start, decision_start)
        trials.add_period("decision", decision_start, decision_start + self.decision_duration)
        before_decision = np.arange(self.N_steps)[None, :] < trials.periods["decision"][:, :1]
        trials.set_input("fixation", before_decision, 1.0)
        trials.set_input(sample + 1, "sample", 1.0)
        trials.set_input(test + 1, "test", 1.0)
        choice = 1 - match
        trials.set_target(choice, "decision", 1.0)
        trials.set_mask(None, "decision")
        trials.add_input_noise(white_noise_std(self.dt, self.stim_noise))

        trials.set_condition("sample", sample)
        trials.set_condition("test", test)
        trials.set_condition("match", match)
        trials.set_condition("choice", choice)
        trials.set_condition("delay_duration", delay)
        return trials.build()
