"""Batch generation for the PsychRNN tasks through the vectorised task library."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from psychrnn_widgets.compat.tasks.task import Batch, Task
from psychrnn_widgets.tasks import TrialBatch, masked_choice
from psychrnn_widgets.tasks.base import Task as LibraryTask

# Seeds of the library's generator are drawn from NumPy's global RNG, so np.random.seed()
# makes batches reproducible as it does in PsychRNN.
_SEED_BOUND = 2**63 - 1


class VectorisedTask(Task):
    """A PsychRNN task whose batches come from a task-library task in ``psychrnn_compat`` mode.

    Subclasses set :attr:`LIBRARY_TASK` and :attr:`LIBRARY_SETTINGS`, pass their own attributes
    to ``__init__`` and implement :meth:`trial_params`. ``trial_function`` stays available for
    callers that build single trials.
    """

    __slots__ = ()

    #: The task-library class that generates the batches.
    LIBRARY_TASK: ClassVar[type[LibraryTask]]
    #: Attributes passed on to :attr:`LIBRARY_TASK` besides dt, tau, T and N_batch.
    LIBRARY_SETTINGS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        N_in: int,
        N_out: int,
        dt: float,
        tau: float,
        T: float,
        N_batch: int,
        **attributes: Any,
    ) -> None:
        """Store the base values, then ``attributes`` in the order given, and check them all now.

        Subclasses pass ``attributes`` in the order PsychRNN sets them, so ``get_task_params()``
        lists the keys in PsychRNN's order.
        """
        super().__init__(N_in, N_out, dt, tau, T, N_batch)
        for name, value in attributes.items():
            setattr(self, name, value)
        self.check_settings()

    def check_settings(self) -> None:
        """Raise InvalidParameterError now if the settings break a rule of the library task."""
        self.library_task()

    def library_task(self) -> LibraryTask:
        """Return the library task with this task's current settings."""
        settings = {name: getattr(self, name) for name in self.LIBRARY_SETTINGS}
        return self.LIBRARY_TASK(
            dt=self.dt,
            tau=self.tau,
            T=self.T,
            N_batch=self.N_batch,
            psychrnn_compat=True,
            **settings,
        )

    def trial_params(self, batch: TrialBatch, index: int) -> dict[str, Any]:
        """Return PsychRNN's parameter dict of trial ``index`` of ``batch``."""
        raise NotImplementedError

    def batch_generator(self) -> Iterator[Batch]:
        """Yield ``(x, y, mask, trial_params)`` batches forever, as PsychRNN's generator does.

        The arrays are float64 copies of a library batch; ``trial_params`` contains one dict per trial
        with PsychRNN's keys.
        """
        while True:
            # Settings are read per batch, so changing an attribute (a curriculum does) takes effect.
            batch = self.library_task().generate_batch(
                int(np.random.randint(0, _SEED_BOUND, dtype=np.int64))
            )
            trial_params = np.empty(batch.N_batch, dtype=object)
            trial_params[:] = [self.trial_params(batch, index) for index in range(batch.N_batch)]
            yield (
                batch.inputs.astype(np.float64),
                batch.targets.astype(np.float64),
                batch.mask.astype(np.float64),
                trial_params,
            )

    def accuracy_function(
        self, correct_output: np.ndarray, test_output: np.ndarray, output_mask: np.ndarray
    ) -> float:
        """Return the fraction of trials whose choice matches the target's.

        The choice of a trial is the argmax over channels of the time-mean of ``output * mask``.
        """
        chosen = masked_choice(np.asarray(test_output), np.asarray(output_mask))
        truth = masked_choice(np.asarray(correct_output), np.asarray(output_mask))
        return float(np.mean(chosen == truth))
