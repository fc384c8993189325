"""Events a trainer sends to its callbacks, and the record of a training run."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EVENT_KINDS", "TrainingEvent", "TrainingHistory"]

EVENT_KINDS = (
    "started",
    "progress",
    "paused",
    "resumed",
    "stage_changed",
    "stopped",
    "finished",
    "failed",
    "error",
)


@dataclass(frozen=True)
class TrainingEvent:
    """One thing that happened during training.

    Parameters
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    update : int
        Updates done by the trainer so far (over all runs).
    trials : int
        Trials seen so far (over all runs).
    loss : float or None
        Loss of the latest update (including regularisation), None where no update was done.
    accuracy : float or None
        Accuracy in [0, 1] measured with this event, None where it was not measured.
    stage : int or None
        Current curriculum stage (from 0), None without a curriculum.
    trials_per_s : float or None
        Training speed in this run so far, pauses excluded.
    message : str
        A sentence for people: why training stopped or failed, or the callback error.
    time : float
        ``time.monotonic()`` when the event was made, in seconds.
    """

    kind: str
    update: int
    trials: int
    loss: float | None = None
    accuracy: float | None = None
    stage: int | None = None
    trials_per_s: float | None = None
    message: str = ""
    time: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(EVENT_KINDS)} (got kind={self.kind!r})")


@dataclass
class TrainingHistory:
    """Loss and accuracy per update, and the curriculum stage changes.

    The lists have one entry per update; ``accuracy`` is NaN where it was not measured and
    ``stage`` is -1 without a curriculum. ``stage_changes`` lists ``(update, trials, stage)``
    for every stage entered after the first.
    """

    update: list[int] = field(default_factory=list)
    trials: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    stage: list[int] = field(default_factory=list)
    stage_changes: list[tuple[int, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.update)

    def append(
        self, update: int, trials: int, loss: float, accuracy: float | None, stage: int | None
    ) -> None:
        """Record one update."""
        self.update.append(int(update))
        self.trials.append(int(trials))
        self.loss.append(float(loss))
        self.accuracy.append(math.nan if accuracy is None else float(accuracy))
        self.stage.append(-1 if stage is None else int(stage))

    def set_accuracy(self, update: int, accuracy: float) -> None:
        """Store the accuracy measured at ``update`` (which must be the latest recorded)."""
        if self.update and self.update[-1] == update:
            self.accuracy[-1] = float(accuracy)

    def truncate(self, update: int) -> None:
        """Drop every record after ``update`` (used when training rolls back)."""
        while self.update and self.update[-1] > update:
            for values in (self.update, self.trials, self.loss, self.accuracy, self.stage):
                values.pop()
        self.stage_changes = [change for change in self.stage_changes if change[0] <= update]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the history as plain NumPy arrays (no object arrays), for weight files.

        ``stage_changes`` becomes an ``(n, 3)`` int64 array.
        """
        changes = np.asarray(self.stage_changes, dtype=np.int64).reshape(-1, 3)
        return {
            "update": np.asarray(self.update, dtype=np.int64),
            "trials": np.asarray(self.trials, dtype=np.int64),
            "loss": np.asarray(self.loss, dtype=np.float64),
            "accuracy": np.asarray(self.accuracy, dtype=np.float64),
            "stage": np.asarray(self.stage, dtype=np.int64),
            "stage_changes": changes,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any]) -> TrainingHistory:
        """Rebuild a history written by :meth:`to_arrays`."""
        changes = np.asarray(arrays.get("stage_changes", np.zeros((0, 3))), dtype=np.int64)
        return cls(
            update=[int(v) for v in arrays["update"]],
            trials=[int(v) for v in arrays["trials"]],
            loss=[float(v) for v in arrays["loss"]],
            accuracy=[float(v) for v in arrays["accuracy"]],
            stage=[int(v) for v in arrays["stage"]],
            stage_changes=[(int(a), int(b), int(c)) for a, b, c in changes.reshape(-1, 3)],
        )
