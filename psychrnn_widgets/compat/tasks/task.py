"""PsychRNN's abstract ``Task``: trials defined one time step at a time.

A subclass implements ``generate_trial_params(batch, trial)`` (a dict per trial) and
``trial_function(time, params)`` (``x_t``, ``y_t``, ``mask_t`` at ``time`` ms), exactly as for
PsychRNN. The three PsychRNN tasks in this package generate whole batches with the vectorised
task library instead, and keep ``trial_function`` for callers that use it directly.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import Any

import numpy as np

from psychrnn_widgets.engine._checks import check_positive_int
from psychrnn_widgets.tasks.base import BASE_PARAMS

__all__ = ["Task"]

_BASE_SPECS = {param.name: param for param in BASE_PARAMS}

Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Task(abc.ABC):
    """Base class of PsychRNN-style tasks.

    Parameters
    ----------
    N_in, N_out : int
        Numbers of input and output channels (each > 0).
    dt : float
        Time step in ms.
    tau : float
        Unit time constant in ms; ``alpha = dt / tau``.
    T : float
        Trial length in ms; ``N_steps = ceil(T / dt)``.
    N_batch : int
        Trials per batch.

    Raises
    ------
    InvalidParameterError
        If a size is not a positive integer, or dt, tau or T is not a positive finite number.

    Notes
    -----
    ``get_trial_batch`` draws from one persistent generator, so the batch number passed to
    ``generate_trial_params`` counts up (PsychRNN's main branch; 1.0.0 restarts it at 1 on every
    call). The generator lives in a slot outside ``__dict__``, so ``get_task_params()`` (which
    returns ``__dict__`` itself, as in PsychRNN) holds only plain values and can be copied.
    """

    __slots__ = ("__dict__", "__weakref__", "_batch_generator")

    def __init__(
        self, N_in: int, N_out: int, dt: float, tau: float, T: float, N_batch: int
    ) -> None:
        # PsychRNN checks nothing, so dt=0 failed later as a ZeroDivisionError. The values are
        # checked with the library's rules but stored as given, as PsychRNN stores them.
        check_positive_int("N_in", N_in)
        check_positive_int("N_out", N_out)
        for name, value in (("dt", dt), ("tau", tau), ("T", T), ("N_batch", N_batch)):
            _BASE_SPECS[name].validate(value)
        self.N_batch = N_batch
        self.N_in = N_in
        self.N_out = N_out
        self.dt = dt
        self.tau = tau
        self.T = T
        self.alpha = (1.0 * dt) / tau
        self.N_steps = int(np.ceil(T / dt))
        self._batch_generator: Iterator[Batch] | None = None

    def get_task_params(self) -> dict[str, Any]:
        """Return the task's attribute dict itself (not a copy), as PsychRNN does.

        It contains ``N_in``, ``N_out``, ``dt``, ``tau``, ``T``, ``N_batch``, ``alpha``, ``N_steps``
        and the subclass's own attributes; it is the usual start of a network's ``params``.
        """
        return self.__dict__

    @abc.abstractmethod
    def generate_trial_params(self, batch: int, trial: int) -> dict[str, Any]:
        """Return the parameters of trial ``trial`` of batch ``batch`` (both counted from PsychRNN's origin)."""

    @abc.abstractmethod
    def trial_function(
        self, time: float, params: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x_t (N_in,), y_t (N_out,), mask_t (N_out,))`` at ``time`` ms of one trial."""

    def accuracy_function(
        self, correct_output: np.ndarray, test_output: np.ndarray, output_mask: np.ndarray
    ) -> Any:
        """Return the accuracy of ``test_output``; the base class has none and returns None."""
        return None

    def generate_trial(self, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Build one trial by calling ``trial_function`` at ``t * dt`` for t = 0 .. N_steps - 1.

        Returns
        -------
        x : ndarray, shape (N_steps, N_in)
        y : ndarray, shape (N_steps, N_out)
        mask : ndarray, shape (N_steps, N_out)
        """
        x = np.zeros([self.N_steps, self.N_in])
        y = np.zeros([self.N_steps, self.N_out])
        mask = np.zeros([self.N_steps, self.N_out])
        for t in range(self.N_steps):
            x[t, :], y[t, :], mask[t, :] = self.trial_function(t * self.dt, params)
        return x, y, mask

    def batch_generator(self) -> Iterator[Batch]:
        """Yield batches forever: ``(x, y, mask, trial_params)``.

        ``x`` is (N_batch, N_steps, N_in), ``y`` and ``mask`` (N_batch, N_steps, N_out), all float64;
        ``trial_params`` is an object array of the N_batch parameter dicts. Batches count from 1.
        """
        batch = 1
        while True:
            trials = [self.generate_trial_params(batch, trial) for trial in range(self.N_batch)]
            arrays = [self.generate_trial(params) for params in trials]
            trial_params = np.empty(len(trials), dtype=object)
            trial_params[:] = trials
            batch += 1
            yield (
                np.array([a[0] for a in arrays]),
                np.array([a[1] for a in arrays]),
                np.array([a[2] for a in arrays]),
                trial_params,
            )

    def get_trial_batch(self) -> Batch:
        """Return the next batch of this task's persistent generator."""
        if getattr(self, "_batch_generator", None) is None:
            self._batch_generator = self.batch_generator()
        return next(self._batch_generator)
