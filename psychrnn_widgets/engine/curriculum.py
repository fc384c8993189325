"""Curriculum learning: an ordered list of tasks, each passed when a metric reaches a threshold."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["Curriculum", "Stage"]


@dataclass
class Stage:
    """One step of a curriculum.

    Parameters
    ----------
    task : Task
        Task whose batches train the network during this stage.
    threshold : float, default 0.9
        The stage is passed when the metric reaches at least this value.
    metric : callable or None
        ``metric(outputs, batch, task) -> float`` with ``outputs`` of shape
        ``(N_batch, N_steps, N_out)``. None means ``task.accuracy(outputs, batch)``.
    name : str or None
        Label for charts and events; None uses the task's title.
    """

    task: Any
    threshold: float = 0.9
    metric: Callable[..., float] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not callable(getattr(self.task, "generate_batch", None)):
            raise InvalidParameterError(
                "task",
                f"a curriculum stage needs a task with generate_batch() (got {self.task!r})",
                self.task,
            )
        value = self.threshold
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not math.isfinite(float(value))
        ):
            raise InvalidParameterError(
                "threshold", f"threshold must be a finite number (got threshold={value!r})", value
            )
        if self.metric is not None and not callable(self.metric):
            raise InvalidParameterError(
                "metric", f"metric must be a callable or None (got metric={self.metric!r})", self.metric
            )
        if self.name is None:
            self.name = str(getattr(self.task, "title", type(self.task).__name__))

    def evaluate(self, outputs: np.ndarray, batch: Any) -> float:
        """Return the stage's metric of ``outputs`` on ``batch``."""
        if self.metric is None:
            return float(self.task.accuracy(outputs, batch))
        return float(self.metric(outputs, batch, self.task))


class Curriculum:
    """Ordered stages, checked every ``metric_epoch`` updates on a fresh batch.

    Parameters
    ----------
    stages : sequence of Stage or Task
        The stages in order; a bare task becomes ``Stage(task)``.
    metric_epoch : int, default 10
        Updates between two checks of the current stage's metric.

    Attributes
    ----------
    stage : int
        Index of the current stage; equals ``len(stages)`` once the last stage is passed.
    metric_values : list of (update, stage, value)
        Every metric measured, in order.
    """

    def __init__(self, stages: Sequence[Any], metric_epoch: int = 10) -> None:
        if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence) or not stages:
            raise InvalidParameterError(
                "stages", f"stages must be a non-empty list of stages (got stages={stages!r})", stages
            )
        if (
            not isinstance(metric_epoch, numbers.Integral)
            or isinstance(metric_epoch, bool)
            or metric_epoch < 1
        ):
            raise InvalidParameterError(
                "metric_epoch",
                f"metric_epoch must be an integer of at least 1 (got metric_epoch={metric_epoch!r} "
                "updates)",
                metric_epoch,
            )
        self.stages: list[Stage] = [s if isinstance(s, Stage) else Stage(s) for s in stages]
        self.metric_epoch = int(metric_epoch)
        self._check_sizes()
        self.stage = 0
        self.metric_values: list[tuple[int, int, float]] = []

    def _check_sizes(self) -> None:
        # One network trains through every stage, so the channel counts must agree.
        first = self.stages[0].task
        for index, stage in enumerate(self.stages[1:], start=1):
            for size in ("N_in", "N_out"):
                expected = getattr(first, size, None)
                got = getattr(stage.task, size, None)
                if expected != got:
                    raise InvalidParameterError(
                        "stages",
                        f"every stage must have the same {size} "
                        f"(got {size}={got} in stage {index}, {size}={expected} in stage 0)",
                        got,
                    )

    def __len__(self) -> int:
        return len(self.stages)

    @property
    def finished(self) -> bool:
        """True once the last stage is passed."""
        return self.stage >= len(self.stages)

    @property
    def current(self) -> Stage:
        """The stage being trained (the last one once the curriculum is finished)."""
        return self.stages[min(self.stage, len(self.stages) - 1)]

    @property
    def task(self) -> Any:
        """The current stage's task."""
        return self.current.task

    def record(self, update: int, value: float) -> bool:
        """Store a metric measured after ``update``; advance and return True when it passes."""
        if self.finished:
            return False
        self.metric_values.append((int(update), self.stage, float(value)))
        if value >= self.current.threshold:
            self.stage += 1
            return True
        return False

    def reset(self) -> None:
        """Go back to the first stage and forget the metric history."""
        self.stage = 0
        self.metric_values = []
