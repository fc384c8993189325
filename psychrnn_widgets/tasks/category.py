"""Match to category (Freedman & Assad 2006): sort an angle on a ring into arc categories."""

from __future__ import annotations

from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.base import Task
from psychrnn_widgets.tasks.batch import Psychometric, TrialBatch
from psychrnn_widgets.tasks.builder import TrialBuilder
from psychrnn_widgets.tasks.metrics import check_outputs, masked_choice
from psychrnn_widgets.tasks.params import Param, format_value
from psychrnn_widgets.tasks.perceptual import COMPAT_PARAM
from psychrnn_widgets.tasks.registry import register_task

__all__ = ["MatchToCategory", "ring_input"]

# Number of angle bins of the psychometric curve.
ANGLE_BINS = 16


def ring_input(angle: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    """Return the standard normal density of the wrapped difference ``preferred - angle``.

    ``angle`` has shape (N_batch,), ``preferred`` (N_in,); the result is (N_batch, N_in). The
    difference is wrapped into ``[-pi, pi]`` so that channels near 0 and 2 pi are neighbours.
    """
    difference = preferred[None, :] - angle[:, None]
    wrapped = (difference + np.pi) % (2 * np.pi) - np.pi
    return np.exp(-0.5 * wrapped**2) / np.sqrt(2 * np.pi)


@register_task
class MatchToCategory(Task):
    """Report which arc of the circle a stimulus angle falls in.

    Each trial draws ``angle`` from ``U[0, 2 pi)``; its category is ``floor(angle / (2 pi / N_out))``.
    From ``onset_time`` for ``input_duration``, input channel k (preferred angle phi_k) gets the
    standard normal density of the wrapped difference ``phi_k - angle``. Gaussian noise with standard
    deviation ``stim_noise / (2 dt)`` is added throughout, as in PsychRNN (it shrinks as dt grows).
    In the following ``output_duration`` the target is 1 on output ``category`` and 0 elsewhere, and
    the mask is 1; outside it both are 0.

    Periods: ``fixation``, ``stimulus``, ``decision``. Conditions: ``angle`` (radians), ``category``.

    Notes
    -----
    Fixes relative to PsychRNN 1.0.0, undone by ``psychrnn_compat=True``:

    * PsychRNN spaces the preferred angles with ``linspace(0, 2 pi, N_in)``, which includes both 0
      and 2 pi, so the first and last input channels carry the same signal. Here
      ``phi_k = 2 pi k / N_in``.
    * PsychRNN cuts trials at T even when the decision epoch then ends early or is empty. Here the
      three epochs must fit in T.
    """

    name = "match_to_category"
    title = "Match to category"
    description = (
        "Categorisation: a bump of activity on a ring of inputs marks an angle, and the network must "
        "report which of N_out equal arcs of the circle it falls in, after the stimulus ends. The "
        "category boundaries are arbitrary and must be learned (Freedman & Assad 2006)."
    )
    params = (
        Param("N_in", "int", 16, "Number of input channels on the ring.", minimum=2, maximum=512),
        Param("N_out", "int", 2, "Number of categories (output channels).", minimum=2, maximum=64),
        Param("onset_time", "float", 200.0, "Time before the stimulus.", unit="ms", minimum=0.0),
        Param(
            "input_duration",
            "float",
            1000.0,
            "Length of the stimulus.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "output_duration",
            "float",
            800.0,
            "Length of the decision epoch.",
            unit="ms",
            minimum=0.0,
            min_inclusive=False,
        ),
        Param(
            "stim_noise",
            "float",
            0.1,
            "Input noise scale (0.1 in PsychRNN).",
            minimum=0.0,
            maximum=100.0,
        ),
        COMPAT_PARAM,
    )

    def _check_values(self, values: dict[str, Any]) -> None:
        super()._check_values(values)
        dt, T = values["dt"], values["T"]
        for name in ("input_duration", "output_duration"):
            if values[name] < dt:
                raise InvalidParameterError(
                    name,
                    f"{name} must be at least one time step "
                    f"(got {name}={format_value(values[name], 'ms')}, dt={format_value(dt, 'ms')})",
                    values[name],
                )
        total = values["onset_time"] + values["input_duration"] + values["output_duration"]
        # PsychRNN cuts such trials at T, even to an empty decision epoch; compat mode keeps that.
        if total > T * (1 + 1e-9) and not values["psychrnn_compat"]:
            raise InvalidParameterError(
                "T",
                f"T must be at least onset_time + input_duration + output_duration "
                f"(got T={format_value(T, 'ms')}, sum={format_value(total, 'ms')})",
                T,
            )

    @property
    def input_names(self) -> list[str]:
        """Labels of the ring inputs, ``ring_0`` ... ``ring_{N_in-1}``."""
        return [f"ring_{k}" for k in range(self.N_in)]

    @property
    def output_names(self) -> list[str]:
        """Labels of the category outputs, ``category_0`` ...."""
        return [f"category_{k}" for k in range(self.N_out)]

    @property
    def N_in(self) -> int:
        """Number of ring inputs (a declared parameter here)."""
        return self._values["N_in"]

    @property
    def N_out(self) -> int:
        """Number of categories (a declared parameter here)."""
        return self._values["N_out"]

    @property
    def preferred_angles(self) -> np.ndarray:
        """Preferred angle of each input channel in radians, shape (N_in,)."""
        if self.psychrnn_compat:
            return np.linspace(0.0, 2 * np.pi, self.N_in)
        return 2 * np.pi * np.arange(self.N_in) / self.N_in

    def _generate(self, rng: np.random.Generator) -> TrialBatch:
        angle = rng.uniform(0.0, 2 * np.pi, size=self.N_batch)
        category = np.minimum((angle / (2 * np.pi / self.N_out)).astype(np.int64), self.N_out - 1)

        trials = TrialBuilder(self, rng)
        stimulus_end = self.onset_time + self.input_duration
        trials.add_period("fixation", 0.0, self.onset_time)
        trials.add_period("stimulus", self.onset_time, stimulus_end)
        trials.add_period("decision", stimulus_end, stimulus_end + self.output_duration)
        # Noise first, written straight into the inputs, then the signal on top: the noise is
        # most of the work (16 channels), so it gets the one full pass.
        trials.set_input_noise(self.stim_noise / (2.0 * self.dt))
        trials.add_input_pattern("stimulus", ring_input(angle, self.preferred_angles))
        trials.set_target(category, "decision", 1.0)
        trials.set_mask(None, "decision")

        trials.set_condition("angle", angle)
        trials.set_condition("category", category)
        return trials.build()

    def psychometric(self, outputs: np.ndarray, batch: TrialBatch) -> Psychometric:
        """Return the fraction of trials choosing category 1 per angle bin (16 bins, radians)."""
        outputs = check_outputs(outputs, batch)
        chose_1 = masked_choice(outputs, batch.mask) == 1
        width = 2 * np.pi / ANGLE_BINS
        centres = (np.floor(batch.conditions["angle"] / width) + 0.5) * width
        return Psychometric.from_trials("angle", centres, chose_1)
