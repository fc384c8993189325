"""Context-dependent integration (Mante, Sussillo, Shenoy & Newsome 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder
from psychrnn_widgets.tasks.metrics import check_outputs, period_mean
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["ContextDependentIntegration"]

CONTEXTS = ("motion", "color")


def _coherence_param(name: str, stream: str) -> Param:
    return Param(
        name,
        "float",
        None,
        f"Signed mean of the {stream} stream; empty means drawn per trial (level and sign).",
        minimum=-1.0,
        maximum=1.0,
        allow_none=True,
    )


@register_task
class ContextDependentIntegration(Task):
    """Integrate the stream that the context cue selects and ignore the other one.

    Two noisy streams (``motion`` and ``color``) each carry a signed coherence as their mean from
    ``stim_onset`` for ``stim_duration``. A context cue (input ``context_motion`` or
    ``context_color``, 1 for the whole trial) selects the stream that counts. After ``delay_duration``
    the ``go`` input turns on until the end of the trial; from then the target is 1 on output
    ``choice`` (1 if the relevant coherence is positive, else 0) and 0 on the other. Before the go
    cue both targets are 0, and the mask is 1 everywhere. Noise ``stim_noise * sqrt(10 ms / dt)``
    per step is added to the two streams only.

    Periods: ``fixation``, ``stimulus``, ``delay``, ``decision``. Conditions: ``context``
    (0 motion, 1 color), ``motion_coherence``, ``color_coherence``, ``relevant_coherence``,
    ``choice``. Accuracy and psychometric curve use the mean output over the decision period.
    """

    name = "context_dependent_integration"
    title = "Context-dependent integration"
    description = (
        "Flexible decisions: two noisy evidence streams (motion and color) are shown together, and a "
        "context cue says which one to judge. The network must integrate the cued stream, ignore "
        "the other, and report its sign when the go cue appears (Mante et al. 2013)."
    )
    params = (
        _coherence_param("motion_coherence", "motion"),
        _coherence_param("color_coherence", "color"),
        Param(
            "coherence_levels",
            "float_list",
            (0.05, 0.15, 0.5),
            "Unsigned coherences drawn with equal probability; the sign is drawn too.",
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
        ),
        Param(
            "context",
            "choice",
            None,
            "Relevant stream; empty means drawn per trial.",
            choices=CONTEXTS,
            allow_none=True,
        ),
        Param(
            "stim_onset", "float", 300.0, "Time before the streams start.", unit="ms", minimum=0.0
        ),
        Param(
            "stim_duration",
            "float",
            800.0,
            "Length of the streams.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "delay_duration",
            "float",
            300.0,
            "Time from the end of the streams to the go cue.",
            unit="ms",
            minimum=0.0,
        ),
        Param(
            "stim_noise",
            "float",
            0.5,
            "Stream noise standard deviation at dt = 10 ms.",
            minimum=0.0,
            maximum=10.0,
        ),
    )
    input_channels = ("motion", "color", "context_motion", "context_color", "go")
    output_channels = ("choice_0", "choice_1")

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        for name in ("motion_coherence", "color_coherence"):
            if values[name] == 0.0:
                raise InvalidParameterError(
                    name,
                    f"{name} must not be 0, because its sign sets the correct choice (got {name}=0)",
                    0.0,
                )
        T, dt = values["T"], values["dt"]
        go_time = values["stim_onset"] + values["stim_duration"] + values["delay_duration"]
        if go_time + dt > T * (1 + 1e-9):
            raise InvalidParameterError(
                "T",
                f"T must leave at least one step after stim_onset + stim_duration + delay_duration "
                f"(got T={format_value(T, 'ms')}, go cue at {format_value(go_time, 'ms')}, dt={format_value(dt, 'ms')})",
                T,
            )

    def _coherences(self, fixed: float | None, rng: np.random.Generator) -> np.ndarray:
        # Draw both level and sign even when fixed, so fixing one stream leaves the other's draws unchanged.
        level = rng.choice(np.asarray(self.coherence_levels), size=self.N_batch)
        sign = np.where(rng.random(self.N_batch) < 0.5, -1.0, 1.0)
        return level * sign if fixed is None else np.full(self.N_batch, fixed)

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B = self.N_batch
        motion = self._coherences(self.motion_coherence, rng)
        color = self._coherences(self.color_coherence, rng)
        context = rng.integers(0, 2, size=B)
        if self.context is not None:
            context = np.full(B, CONTEXTS.index(self.context), dtype=np.int64)
        relevant = np.where(context == 0, motion, color)
        choice = (relevant > 0).astype(np.int64)

        trials = TrialBuilder(self, rng)
        stim_end = self.stim_onset + self.stim_duration
        go_time = stim_end + self.delay_duration
        trials.add_period("fixation", 0.0, self.stim_onset)
        trials.add_period("stimulus", self.stim_onset, stim_end)
        trials.add_period("delay", stim_end, go_time)
        trials.add_period("decision", go_time, self.T)
        trials.set_input("motion", "stimulus", motion)
        trials.set_input("color", "stimulus", color)
        trials.set_input(context + 2, None, 1.0)
        trials.set_input("go", "decision", 1.0)
        trials.set_target(choice, "decision", 1.0)
        trials.set_mask(None, None)
        std = white_noise_std(self.dt, self.stim_noise)
        trials.add_input_noise(np.array([std, std, 0.0, 0.0, 0.0]))

        trials.set_condition("context", context)
        trials.set_condition("motion_coherence", motion)
        trials.set_condition("color_coherence", color)
        trials.set_condition("relevant_coherence", relevant)
        trials.set_condition("choice", choice)
        return trials.build()

    def _choices(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        return np.argmax(period_mean(check_outputs(outputs, batch), batch, "decision"), axis=1)

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of trials whose larger mean decision-period output is ``choice``."""
        return float(np.mean(self._choices(outputs, batch) == batch.conditions["choice"]))

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric:
        """Return the fraction of trials choosing output 1 per relevant (cued) signed coherence."""
        chose_1 = self._choices(outputs, batch) == 1
        return Psychometric.from_trials(
            "relevant_coherence", batch.conditions["relevant_coherence"], chose_1
        )
