"""Ready-set-go interval reproduction (Jazayeri & Shadlen 2015)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder, ms_to_step
from psychrnn_widgets.tasks.metrics import check_outputs
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["ReadySetGo"]

# The output crossing this value marks the produced "go".
GO_THRESHOLD = 0.5


@register_task
class ReadySetGo(Task):
    """Measure the interval between two pulses, then reproduce it (times ``gain``) after the second.

    A "ready" pulse at ``ready_onset`` and a "set" pulse a sample interval ``t_s`` later (drawn from
    ``intervals``) each last ``pulse_duration``. The target on output ``go`` is 0 until
    ``gain * t_s`` after set, then 1 for ``response_duration``; the mask is 1 from the start of the
    trial to the end of the response, so early responses are penalised. Times are snapped to the
    step grid: ``set`` comes ``round(t_s / dt)`` steps after ``ready``, and ``go``
    ``round(gain t_s / dt)`` steps after ``set``. Input noise ``stim_noise * sqrt(10 ms / dt)`` per
    step on both inputs.

    Periods: ``fixation``, ``sample`` (ready to set), ``production`` (set to go), ``response``.
    Conditions: ``interval`` (t_s, ms), ``target_interval`` (gain * t_s, ms), ``ready_time`` and
    ``set_time`` (ms, on the step grid).

    The produced interval is the time from set to the first step where the output reaches 0.5.
    Accuracy: fraction of trials whose produced interval is within ``tolerance * gain * t_s`` of
    ``gain * t_s``. An output that never reaches 0.5, or reaches it at set, scores 0.
    """

    name = "ready_set_go"
    title = "Ready-set-go"
    description = (
        "Timing: two brief pulses (ready, set) mark a sample interval of a few hundred ms, and the "
        "network must raise its output the same interval after set. It has to measure an interval, "
        "keep it, and reproduce it (Jazayeri & Shadlen 2015)."
    )
    params = (
        Param(
            "T", "float", 2500.0, "Length of a trial.", unit="ms", minimum=0.0, min_inclusive=False
        ),
        Param(
            "intervals",
            "float_list",
            (480.0, 560.0, 640.0, 720.0, 800.0),
            "Sample intervals drawn with equal probability.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "gain",
            "float",
            1.0,
            "Produced interval as a multiple of the sample interval.",
            minimum=0.1,
            maximum=5.0,
        ),
        Param("ready_onset", "float", 200.0, "Time of the ready pulse.", unit="ms", minimum=0.0),
        Param(
            "pulse_duration",
            "float",
            20.0,
            "Length of each pulse.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "response_duration",
            "float",
            300.0,
            "How long the go output stays on.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "tolerance",
            "float",
            0.15,
            "Allowed error as a fraction of the target interval.",
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
        ),
        Param(
            "stim_noise",
            "float",
            0.05,
            "Input noise standard deviation at dt = 10 ms.",
            minimum=0.0,
            maximum=10.0,
        ),
    )
    input_channels = ("ready", "set")
    output_channels = ("go",)

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        dt, T, gain = values["dt"], values["T"], values["gain"]
        shortest, longest = min(values["intervals"]), max(values["intervals"])
        if not dt <= values["pulse_duration"] <= shortest:
            raise InvalidParameterError(
                "pulse_duration",
                f"pulse_duration must be between dt and the shortest interval "
                f"(got pulse_duration={format_value(values['pulse_duration'], 'ms')}, dt={format_value(dt, 'ms')}, "
                f"shortest interval={format_value(shortest, 'ms')})",
                values["pulse_duration"],
            )
        window = values["tolerance"] * gain * shortest
        if window < dt / 2:
            raise InvalidParameterError(
                "tolerance",
                f"tolerance * gain * shortest interval must be at least dt / 2, or an exact reproduction "
                f"could score as wrong (got {format_value(round(window, 6), 'ms')}, dt={format_value(dt, 'ms')})",
                values["tolerance"],
            )
        needed = values["ready_onset"] + (1 + gain) * longest + values["response_duration"] + dt
        if needed > T * (1 + 1e-9):
            raise InvalidParameterError(
                "T",
                f"T must be at least ready_onset + (1 + gain) * longest interval + response_duration + dt "
                f"(got T={format_value(T, 'ms')}, needed={format_value(round(needed, 6), 'ms')})",
                T,
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B, dt = self.N_batch, self.dt
        interval = rng.choice(np.asarray(self.intervals), size=B)
        ready = np.full(B, ms_to_step(self.ready_onset, dt), dtype=np.int64)
        set_step = ready + np.rint(interval / dt).astype(np.int64)
        go = set_step + np.rint(self.gain * interval / dt).astype(np.int64)
        response_end = go + ms_to_step(self.response_duration, dt)
        pulse = max(1, int(ms_to_step(self.pulse_duration, dt)))

        trials = TrialBuilder(self, rng)
        trials.add_period_steps("fixation", 0, ready)
        trials.add_period_steps("sample", ready, set_step)
        trials.add_period_steps("production", set_step, go)
        trials.add_period_steps("response", go, response_end)
        steps = np.arange(self.N_steps)[None, :]
        trials.set_input("ready", (steps >= ready[:, None]) & (steps < ready[:, None] + pulse), 1.0)
        trials.set_input(
            "set", (steps >= set_step[:, None]) & (steps < set_step[:, None] + pulse), 1.0
        )
        trials.set_target("go", "response", 1.0)
        trials.set_mask(None, steps < response_end[:, None])
        trials.add_input_noise(white_noise_std(dt, self.stim_noise))

        trials.set_condition("interval", interval)
        trials.set_condition("target_interval", self.gain * interval)
        trials.set_condition("ready_time", ready * dt)
        trials.set_condition("set_time", set_step * dt)
        return trials.build()

    def produced_intervals(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        """Return the time in ms from set to the first output >= 0.5, NaN where it never gets there."""
        outputs = check_outputs(outputs, batch)
        set_step = batch.periods["production"][:, :1]
        crossed = (outputs[:, :, 0] >= GO_THRESHOLD) & (
            np.arange(batch.N_steps)[None, :] >= set_step
        )
        first = np.argmax(crossed, axis=1)
        return np.where(crossed.any(axis=1), (first - set_step[:, 0]) * batch.dt, np.nan)

    def _within_tolerance(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        produced = self.produced_intervals(outputs, batch)
        target = batch.conditions["target_interval"]
        with np.errstate(invalid="ignore"):
            return (np.abs(produced - target) <= self.tolerance * target) & (produced > 0)

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of trials whose produced interval is within tolerance of the target."""
        return float(np.mean(self._within_tolerance(outputs, batch)))

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric:
        """Return, per sample interval, the fraction of trials reproduced within tolerance.

        ``choice_fraction`` here is that fraction; :meth:`produced_intervals` gives the raw times.
        """
        return Psychometric.from_trials(
            "interval", batch.conditions["interval"], self._within_tolerance(outputs, batch)
        )
