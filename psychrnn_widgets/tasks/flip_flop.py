"""N-bit flip-flop memory (Sussillo & Barak 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder, ms_to_step
from psychrnn_widgets.tasks.metrics import check_outputs
from psychrnn_widgets.tasks.noise import white_noise_std
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["FlipFlop"]


@register_task
class FlipFlop(Task):
    """Hold on each output the sign of the last pulse received on the matching input.

    Each of ``N_bits`` inputs receives brief pulses of +1 or -1 (equally likely) lasting
    ``pulse_duration`` (at least one step). Every bit gets a first pulse at a time drawn from
    ``U[0, T/4)``; after it, a new pulse starts at each step with probability
    ``pulse_rate * dt / 1000``. The target of bit k switches to the sign of each pulse at its
    first step and keeps it; the mask of bit k is 1 from its first pulse on, because before it
    the bit has no defined state. Input noise ``stim_noise * sqrt(10 ms / dt)`` per step.

    Periods: ``fixation`` (before any pulse), ``memory`` (from the first pulse on any bit).
    Conditions: ``n_pulses`` (all bits) and ``first_pulse_time_k`` for each bit k (ms).
    Accuracy: fraction of masked entries where the output has the target's sign.
    """

    name = "flip_flop"
    title = "Flip-flop memory"
    description = (
        "Memory: each input channel receives occasional +1 or -1 pulses, and the matching output must "
        "hold the sign of the last pulse until the next one. With three bits the network needs eight "
        "stable states, which makes it a classic test for fixed-point analysis (Sussillo & Barak 2013)."
    )
    params = (
        Param(
            "N_bits",
            "int",
            3,
            "Number of independent bits (input and output channels).",
            minimum=1,
            maximum=32,
        ),
        Param(
            "pulse_rate",
            "float",
            2.0,
            "Mean number of pulses per second on each bit after the first.",
            unit="Hz",
            minimum=0.0,
            maximum=100.0,
        ),
        Param(
            "pulse_duration",
            "float",
            10.0,
            "Length of a pulse (at least one step).",
            unit="ms",
            minimum=0.0,
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

    @property
    def input_names(self) -> list[str]:
        """``bit_0`` ... ``bit_{N_bits-1}``."""
        return [f"bit_{k}" for k in range(self.N_bits)]

    @property
    def output_names(self) -> list[str]:
        """``bit_0`` ... ``bit_{N_bits-1}``."""
        return self.input_names

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        if values["pulse_rate"] * values["dt"] / 1000.0 > 1.0:
            raise InvalidParameterError(
                "pulse_rate",
                f"pulse_rate * dt must be at most 1000 (one pulse per step) "
                f"(got pulse_rate={format_value(values['pulse_rate'], 'Hz')}, dt={format_value(values['dt'], 'ms')})",
                values["pulse_rate"],
            )

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        B, n_steps, bits = self.N_batch, self.N_steps, self.N_bits
        first_time = rng.uniform(0.0, self.T / 4.0, size=(B, bits))
        first = np.minimum(ms_to_step(first_time, self.dt), n_steps - 1)
        steps = np.arange(n_steps)[None, :, None]
        starts = rng.random((B, n_steps, bits)) < self.pulse_rate * self.dt / 1000.0
        starts &= steps > first[:, None, :]
        starts |= steps == first[:, None, :]
        signs = np.where(rng.random((B, n_steps, bits)) < 0.5, -1.0, 1.0).astype(np.float32)

        # Index of the latest pulse start at or before each step (-1 before the first), carried forward.
        latest = np.maximum.accumulate(np.where(starts, steps, -1), axis=1)
        held = np.take_along_axis(signs, np.maximum(latest, 0), axis=1)
        pulse_steps = max(1, int(ms_to_step(self.pulse_duration, self.dt)))
        in_pulse = (latest >= 0) & (steps - latest < pulse_steps)

        trials = TrialBuilder(self, rng)
        onset = first.min(axis=1)
        trials.add_period_steps("fixation", 0, onset)
        trials.add_period_steps("memory", onset, n_steps)
        trials.inputs[:] = np.where(in_pulse, held, np.float32(0.0))
        trials.targets[:] = np.where(latest >= 0, held, np.float32(0.0))
        trials.mask[:] = latest >= 0
        trials.add_input_noise(white_noise_std(self.dt, self.stim_noise))

        trials.set_condition("n_pulses", starts.sum(axis=(1, 2)))
        for bit in range(bits):
            trials.set_condition(f"first_pulse_time_{bit}", first[:, bit] * self.dt)
        return trials.build()

    def accuracy(self, outputs: np.ndarray, batch: TrialBatch) -> float:
        """Return the fraction of masked (trial, step, bit) entries where the output has the target's sign."""
        outputs = check_outputs(outputs, batch)
        counted = batch.mask > 0
        return float(np.mean(np.sign(outputs[counted]) == np.sign(batch.targets[counted])))
