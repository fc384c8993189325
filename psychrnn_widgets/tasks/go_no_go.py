"""Go/no-go: respond to one cue, withhold the response to the other."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder
from psychrnn_widgets.tasks.metrics import check_outputs, period_mean
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["GoNoGo"]

# A mean response-period output above this counts as a response.
RESPONSE_THRESHOLD = 0.5


@register_task
class GoNoGo(Task):
    """Raise the output after a go cue; keep it at 0 after a no-go cue.

    Each trial is a go trial with probability ``go_probability``. From ``onset_time`` (drawn from
    ``U[T/10, T/2)`` when empty) for ``stim_duration``, input ``go_cue`` or ``nogo_cue`` is 1. From
    the end of the cue to the end of the trial the target is 1 on go trials and 0 on no-go trials;
    before that it is 0. The mask is 1 over the whole trial, so the network learns to stay silent
    until the cue. Input noise: ``stim_noise * sqrt(10 ms / dt)`` per step on both inputs.

    Periods: ``fixation``, ``stimulus``, ``response``. Conditions: ``go`` (1 or 0), ``onset_time``.
    Accuracy: a trial counts as a response when the mean output over the response period exceeds
    0.5, and it is correct when that matches ``go``.
    """

    name = "go_no_go"
    title = "Go / no-go"
    description = (
        "Response inhibition: one of two cues appears, and the network must raise its output after "
        "the go cue and keep it at rest after the no-go cue. Before the cue it must stay silent, so "
        "it cannot respond early."
    )
    params = (
        Param(
            "T", "float", 1500.0, "Length of a trial.", unit="ms", minimum=0.0, min_inclusive=False
        ),
        Param("go_probability", "float", 0.5, "Fraction of go trials.", minimum=0.0, maximum=1.0),
        Param(
            "onset_time",
            "float",
            None,
            "Cue onset; empty means drawn per trial from U[T/10, T/2).",
            unit="ms",
            minimum=0.0,
            allow_none=True,
        ),
        Param(
            "stim_duration",
            "float",
            200.0,
            "Length of the cue.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "stim_noise",
            "float",
            0.1,
            "Input noise standard deviation at dt = 10 ms.",
            minimum=0.0,
            maximum=10.0,
        ),
    )
    input_channels = ("go_cue", "nogo_cue")
    output_channels = ("response",)

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        T, dt = values["T"], values["dt"]
        if values["stim_duration"] < dt:
            raise InvalidParameterError(
                "stim_duration",
                f"stim_duration must be at least one time step (got stim_duration="
                f"{format_value(values['stim_duration'], 'ms')}, dt={format_value(dt, 'ms')})",
                values["stim_duration"],
            )
        latest_onset = T / 2.0 if values["onset_time"] is None else values["onset_time"]
        if latest_onset + values["stim_duration"] + dt > T * (1 + 1e-9):
            raise InvalidParameterError(
                "T",
                f"T must leave at least one step for the response after the cue "
                f"(got T={format_value(T, 'ms')}, latest cue end={format_value(latest_onset + values['stim_duration'], 'ms')})",
                T,
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B = self.N_batch
        go = (rng.random(B) < self.go_probability).astype(np.int64)
        onset = rng.uniform(self.T / 10.0, self.T / 2.0, size=B)
        if self.onset_time is not None:
            onset = np.full(B, self.onset_time)
        end = onset + self.stim_duration

        trials = TrialBuilder(self, rng)
        trials.add_period("fixation", 0.0, onset)
        trials.add_period("stimulus", onset, end)
        trials.add_period("response", end, self.T)
        trials.set_input(1 - go, "stimulus", 1.0)
        trials.set_target(0, "response", go.astype(np.float32))
        trials.set_mask(None, None)
        trials.add_input_noise(white_noise_std(self.dt, self.stim_noise))

        trials.set_condition("go", go)
        trials.set_condition("onset_time", onset)
        return trials.build()

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of trials where "responded" (mean response output > 0.5) equals ``go``."""
        outputs = check_outputs(outputs, batch)
        responded = period_mean(outputs, batch, "response")[:, 0] > RESPONSE_THRESHOLD
        return float(np.mean(responded == (batch.conditions["go"] == 1)))
