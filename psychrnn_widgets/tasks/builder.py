"""``TrialBuilder``: fill named periods and channels of a whole batch with a few NumPy calls.

Example, a task whose network reports the sign of a noisy input (``self`` is the task)::

    def _generate(self, rng):
        trials = TrialBuilder(self, rng)
        sign = rng.integers(0, 2, self.N_batch)
        onset = rng.uniform(100, 500, self.N_batch)
        trials.add_period("stimulus", onset, onset + 300)
        trials.add_period("response", onset + 300, self.T)
        trials.set_input("evidence", "stimulus", 2.0 * sign - 1.0)
        trials.set_target(sign, "response", 1.0)
        trials.set_mask(None, "response")
        trials.add_input_noise(0.1)
        trials.set_condition("sign", sign)
        return trials.build()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks.batch import TrialBatch
from psychrnn_widgets.tasks.noise import fill_gaussian

if TYPE_CHECKING:
    from psychrnn_widgets.tasks.base import Task

__all__ = ["TrialBuilder", "ms_to_step"]

# A channel is a name, an index, a list of those, one index per trial (an int array of shape
# (N_batch,)), or None for every channel.
Channels = str | int | Sequence[str | int] | np.ndarray | None
# A period is a name added with add_period, a (N_batch, N_steps) boolean array, or None for the
# whole trial.
PeriodSpec = str | np.ndarray | None

# Boundaries that land within this fraction of a step of a step start snap to it, so 200 ms at
# dt = 10 ms is step 20 despite binary rounding.
_SNAP = 1e-6


def ms_to_step(times_ms: Any, dt: float, n_steps: int | None = None) -> np.ndarray:
    """Return the first step whose start time ``t * dt`` is at or after ``times_ms``.

    A period ``[start_ms, end_ms)`` therefore covers the steps that start inside it. The result is
    clipped to ``[0, n_steps]`` when ``n_steps`` is given.
    """
    steps = np.ceil(np.asarray(times_ms, dtype=np.float64) / dt - _SNAP).astype(np.int64)
    if n_steps is not None:
        # np.minimum and np.maximum cost a fraction of np.clip's call overhead on small arrays.
        steps = np.minimum(np.maximum(steps, 0), n_steps)
    return steps


class TrialBuilder:
    """Arrays of a batch under construction, filled by named period and named channel.

    Parameters
    ----------
    task : Task
        Supplies ``N_batch``, ``N_steps``, ``dt``, ``input_names`` and ``output_names``.
    rng : numpy.random.Generator
        Used by :meth:`add_input_noise`.

    Notes
    -----
    Every ``value`` argument broadcasts per trial and per step: a scalar, an array of shape
    ``(N_batch,)`` (one value per trial) or ``(N_batch, N_steps)``.
    """

    def __init__(self, task: Task, rng: np.random.Generator) -> None:
        self.rng = rng
        self.dt = float(task.dt)
        self.N_batch = int(task.N_batch)
        self.N_steps = int(task.N_steps)
        self.input_names = list(task.input_names)
        self.output_names = list(task.output_names)
        shape = (self.N_batch, self.N_steps)
        self.inputs = np.zeros((*shape, len(self.input_names)), dtype=np.float32)
        self.targets = np.zeros((*shape, len(self.output_names)), dtype=np.float32)
        self.mask = np.zeros((*shape, len(self.output_names)), dtype=np.float32)
        self.conditions: dict[str, np.ndarray] = {}
        self.periods: dict[str, np.ndarray] = {}
        # int32 compares run at 1.5x the speed of int64 ones when building period masks.
        self._steps = np.arange(self.N_steps, dtype=np.int32)
        # Boolean (N_batch, N_steps) arrays of the named periods, built on first use.
        self._period_masks: dict[str, np.ndarray] = {}

    def add_period(self, name: str, start_ms: Any, end_ms: Any) -> np.ndarray:
        """Add period ``name`` from per-trial boundaries in ms; return its ``(N_batch, 2)`` step bounds.

        ``start_ms`` and ``end_ms`` are scalars or arrays of shape (N_batch,). The period covers
        the steps whose start time lies in ``[start_ms, end_ms)``.
        """
        start = ms_to_step(start_ms, self.dt, self.N_steps)
        end = ms_to_step(end_ms, self.dt, self.N_steps)
        return self.add_period_steps(name, start, end)

    def add_consecutive_periods(self, names: Sequence[str], boundaries_ms: Any) -> None:
        """Add periods that follow one another, from boundaries in ms.

        ``boundaries_ms`` has shape (len(names) + 1,) or (N_batch, len(names) + 1); period ``i``
        runs from boundary ``i`` to boundary ``i + 1``.
        """
        steps = ms_to_step(boundaries_ms, self.dt, self.N_steps)
        if steps.shape[-1] != len(names) + 1:
            raise ValueError(
                f"{len(names)} periods need {len(names) + 1} boundaries, got {steps.shape[-1]}"
            )
        # Build every period's bounds with a few whole-array calls: one add_period_steps call per
        # period cost about 1.5x as much. ms_to_step has already clipped them to [0, N_steps].
        steps = np.broadcast_to(steps, (self.N_batch, len(names) + 1))
        bounds = np.empty((len(names), self.N_batch, 2), dtype=np.int64)
        bounds[:, :, 0] = steps[:, :-1].T
        bounds[:, :, 1] = np.maximum(steps[:, 1:], steps[:, :-1]).T
        for name, period in zip(names, bounds):
            self.periods[name] = period
            self._period_masks.pop(name, None)

    def add_period_steps(self, name: str, start: Any, end: Any) -> np.ndarray:
        """Add period ``name`` from step indices ``[start, end)``; return its ``(N_batch, 2)`` bounds."""
        bounds = np.empty((self.N_batch, 2), dtype=np.int64)
        bounds[:, 0] = start
        bounds[:, 1] = end
        np.minimum(np.maximum(bounds, 0, out=bounds), self.N_steps, out=bounds)
        np.maximum(bounds[:, 1], bounds[:, 0], out=bounds[:, 1])
        self.periods[name] = bounds
        self._period_masks.pop(name, None)
        return bounds

    def during(self, period: PeriodSpec) -> np.ndarray:
        """Return a ``(N_batch, N_steps)`` boolean array that is True inside ``period``."""
        if period is None:
            return np.ones((self.N_batch, self.N_steps), dtype=bool)
        if isinstance(period, str):
            if period not in self.periods:
                raise KeyError(
                    f"period {period!r} has not been added; added so far: {sorted(self.periods)}"
                )
            if period not in self._period_masks:
                bounds = self.periods[period].astype(np.int32)
                inside = self._steps >= bounds[:, :1]
                inside &= self._steps < bounds[:, 1:]
                inside.flags.writeable = False
                self._period_masks[period] = inside
            return self._period_masks[period]
        period = np.asarray(period, dtype=bool)
        if period.shape != (self.N_batch, self.N_steps):
            raise ValueError(
                f"a period array must have shape {(self.N_batch, self.N_steps)}, got {period.shape}"
            )
        return period

    def set_input(self, channels: Channels, period: PeriodSpec, value: Any) -> None:
        """Set input ``channels`` to ``value`` inside ``period``; values elsewhere are kept."""
        self._fill(self.inputs, self.input_names, channels, period, value, add=False)

    def add_input(self, channels: Channels, period: PeriodSpec, value: Any) -> None:
        """Add ``value`` to input ``channels`` inside ``period``."""
        self._fill(self.inputs, self.input_names, channels, period, value, add=True)

    def add_input_pattern(self, period: PeriodSpec, pattern: np.ndarray) -> None:
        """Add a per-trial input vector, shape (N_batch, N_in), to every step inside ``period``."""
        pattern = np.asarray(pattern, dtype=np.float32)
        if pattern.shape != (self.N_batch, len(self.input_names)):
            raise ValueError(
                f"an input pattern must have shape {(self.N_batch, len(self.input_names))}, got {pattern.shape}"
            )
        steps = self._uniform_steps(period)
        if steps is not None:
            # Each trial's block of steps is contiguous, so add the pattern tiled along a row:
            # broadcasting it over steps instead runs an inner loop only N_in long, 2x slower.
            view = self.inputs[:, steps]
            block = view.reshape(self.N_batch, -1)
            block += np.tile(pattern, view.shape[1])
        else:
            # One (N_batch, N_steps) channel at a time, as in _fill: several times faster for a
            # few channels than a (N_batch, N_steps, N_in) mask, and no slower for 16.
            inside = self.during(period)
            for channel in range(pattern.shape[1]):
                view = self.inputs[:, :, channel]
                np.add(view, pattern[:, channel, None], out=view, where=inside)

    def set_target(self, channels: Channels, period: PeriodSpec, value: Any) -> None:
        """Set target ``channels`` to ``value`` inside ``period``."""
        self._fill(self.targets, self.output_names, channels, period, value, add=False)

    def set_mask(self, channels: Channels, period: PeriodSpec, value: Any = 1.0) -> None:
        """Set the loss mask of ``channels`` to ``value`` (default 1) inside ``period``."""
        self._fill(self.mask, self.output_names, channels, period, value, add=False)

    def set_input_noise(self, std: float | np.ndarray) -> None:
        """Replace every input entry with independent Gaussian noise of standard deviation ``std``.

        ``std`` is a scalar or an array of one value per input channel. Call it first and then
        add the signal with :meth:`add_input` or :meth:`add_input_pattern` (:meth:`set_input`
        would overwrite the noise). Unlike :meth:`add_input_noise`, it needs no temporary array
        and no pass to add one, which matters when the inputs are the largest array of a batch.
        """
        fill_gaussian(self.rng, self.inputs, std)

    def add_input_noise(self, std: float | np.ndarray) -> None:
        """Add independent Gaussian noise with standard deviation ``std`` to every input entry.

        ``std`` is a scalar or an array of one value per input channel.
        """
        noise = np.empty_like(self.inputs)
        fill_gaussian(self.rng, noise, std)
        self.inputs += noise

    def set_condition(self, name: str, values: Any) -> None:
        """Record a per-trial variable; a scalar is repeated for every trial."""
        values = np.asarray(values)
        if values.shape != (self.N_batch,):
            values = np.broadcast_to(values, (self.N_batch,))
        self.conditions[name] = values.copy()

    def build(self) -> TrialBatch:
        """Return the finished :class:`TrialBatch`."""
        return TrialBatch(
            inputs=self.inputs,
            targets=self.targets,
            mask=self.mask,
            conditions=dict(self.conditions),
            periods=dict(self.periods),
            dt=self.dt,
        )

    def _fill(
        self,
        array: np.ndarray,
        names: list[str],
        channels: Channels,
        period: PeriodSpec,
        value: Any,
        add: bool,
    ) -> None:
        # Work on one (N_batch, N_steps) channel view at a time: masks and values then stay 2-D,
        # which is several times faster than building (N_batch, N_steps, N_channels) masks.
        value = np.asarray(value, dtype=np.float32)
        if value.ndim == 1:
            value = value[:, None]
        steps = self._uniform_steps(period)
        if steps is not None:
            # The period covers the same steps in every trial, so a slice replaces the step mask.
            array = array[:, steps]
            if value.ndim == 2 and value.shape[1] == self.N_steps:
                value = value[:, steps]
            inside = True
        else:
            inside = self.during(period)
        for channel, rows in self._channel_rows(names, channels):
            where = inside if rows is None else np.logical_and(inside, rows[:, None])
            view = array[:, :, channel]
            if add:
                np.add(view, value, out=view, where=where)
            else:
                np.copyto(view, value, where=where)

    def _uniform_steps(self, period: PeriodSpec) -> slice | None:
        """Return the steps of ``period`` as a slice when they are the same in every trial."""
        if period is None:
            return slice(None)
        if not isinstance(period, str) or period not in self.periods:
            return None
        bounds = self.periods[period]
        first = bounds[0]
        if (bounds == first).all():
            return slice(int(first[0]), int(first[1]))
        return None

    def _channel_rows(
        self, names: list[str], channels: Channels
    ) -> list[tuple[int, np.ndarray | None]]:
        """Return (channel index, trials that use it or None for all trials) for ``channels``."""
        if channels is None:
            return [(index, None) for index in range(len(names))]
        if isinstance(channels, np.ndarray) and channels.ndim == 1 and channels.dtype.kind in "iu":
            if channels.shape != (self.N_batch,):
                raise ValueError(
                    f"per-trial channel indices must have shape ({self.N_batch},), got {channels.shape}"
                )
            used = np.unique(channels)
            for index in used:
                self._index(names, int(index))
            return [(int(index), channels == index) for index in used]
        items = [channels] if isinstance(channels, (str, int, np.integer)) else list(channels)
        return [(index, None) for index in sorted({self._index(names, item) for item in items})]

    @staticmethod
    def _index(names: list[str], item: str | int) -> int:
        if isinstance(item, str):
            if item not in names:
                raise InvalidParameterError(
                    "channel", f"channel {item!r} not found; channels are {names}", item
                )
            return names.index(item)
        index = int(item)
        if not 0 <= index < len(names):
            raise InvalidParameterError(
                "channel", f"channel index must be in [0, {len(names)}) (got channel={index})", item
            )
        return index
