"""PsychRNN's ``Curriculum``: train on a list of tasks, moving on when a metric passes a threshold.

NumPy only. During ``train``, every ``metric_epoch`` updates a fresh batch of the current task
is run through the model and :meth:`Curriculum.metric_test` decides whether to advance.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["Curriculum", "default_metric"]

logger = logging.getLogger(__name__)


def default_metric(
    curriculum_params: dict[str, Any],
    input_data: np.ndarray,
    correct_output: np.ndarray,
    output_mask: np.ndarray,
    output: np.ndarray,
    epoch: int,
    losses: list[float],
    verbosity: bool,
) -> tuple[bool, float]:
    """Return ``(accuracy >= threshold, accuracy)`` for the current stage.

    ``accuracy = curriculum_params['accuracies'][stage](correct_output, output, output_mask)``.
    """
    stage = curriculum_params["stage"]
    accuracy = curriculum_params["accuracies"][stage](correct_output, output, output_mask)
    if verbosity:
        logger.info("Accuracy: %s", accuracy)
    return accuracy >= curriculum_params["thresholds"][stage], accuracy


class Curriculum:
    """An ordered list of tasks with an advance rule.

    Parameters
    ----------
    tasks : sequence of Task
        The stages, in order.
    metric : callable, default :func:`default_metric`
        ``metric(curriculum.__dict__, input, target, mask, output, epoch, losses, verbosity)``
        returning ``(advance: bool, value: float)``.
    accuracies : sequence of callable
        One per task, ``f(target, output, mask) -> float``; default each task's ``accuracy_function``.
    thresholds : sequence of float
        One per task; default 0.9 each.
    metric_epoch : int, default 10
        Updates between metric checks.
    output_file : str or None
        Where ``np.save`` writes ``metric_values`` when the last stage is passed (``.npy``).

    Raises
    ------
    InvalidParameterError
        If ``accuracies`` or ``thresholds`` do not have one entry per task.
    """

    def __init__(self, tasks: Sequence[Any], **kwargs: Any) -> None:
        from psychrnn_widgets.errors import InvalidParameterError

        self.stop_training = False
        self.stage = 0
        self.metric_values: list[list[Any]] = []
        self.tasks = tasks
        self.metric: Callable[..., tuple[bool, float]] = kwargs.get("metric", default_metric)
        self.accuracies = kwargs.get("accuracies", [task.accuracy_function for task in tasks])
        self.thresholds = kwargs.get("thresholds", [0.9 for _ in tasks])
        for name in ("accuracies", "thresholds"):
            if len(getattr(self, name)) != len(tasks):
                raise InvalidParameterError(
                    name,
                    f"{name} must have one entry per task (got {len(getattr(self, name))} for {len(tasks)} tasks)",
                    getattr(self, name),
                )
        self.metric_epoch = kwargs.get("metric_epoch", 10)
        self.output_file = kwargs.get("output_file")
        if self.output_file is not None and os.path.dirname(self.output_file):
            os.makedirs(os.path.dirname(self.output_file), exist_ok=True)

    def metric_test(
        self,
        input_data: np.ndarray,
        correct_output: np.ndarray,
        output_mask: np.ndarray,
        test_output: np.ndarray,
        epoch: int,
        losses: list[float],
        verbosity: bool = False,
    ) -> bool:
        """Evaluate the metric, record ``[value, stage]``, and advance a stage when it passes.

        Returns True when the stage advanced; after the last stage ``stop_training`` is True and
        ``metric_values`` is saved to ``output_file`` if one was given.
        """
        advance, value = self.metric(
            self.__dict__,
            input_data,
            correct_output,
            output_mask,
            test_output,
            epoch,
            losses,
            verbosity,
        )
        self.metric_values.append([value, self.stage])
        if not advance:
            return False
        self.stage += 1
        if self.stage == len(self.tasks):
            self.stop_training = True
            if self.output_file is not None:
                np.save(self.output_file, self.metric_values)
                if verbosity:
                    logger.info("Metric values saved in file: %s", self.output_file)
        if verbosity:
            logger.info("Stage %d", self.stage)
        return True

    def batch_generator(self) -> Iterator[Any]:
        """Return the batch generator of the current stage's task."""
        return self.tasks[self.stage].batch_generator()

    def get_generator_function(self) -> Iterator[Any]:
        """Return :meth:`batch_generator` (deprecated, as on PsychRNN's main branch)."""
        warnings.warn(
            "get_generator_function() is deprecated; use batch_generator() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.batch_generator()
