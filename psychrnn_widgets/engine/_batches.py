"""Training batches keyed by update index, generated one call ahead in a worker thread.

A process can turn the worker thread off with :func:`set_prefetch`; the batches are then made
when they are needed. Each batch depends only on the seed and its update index, so both ways
give the same batches.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["StackedBatches", "BatchSource", "batch_rng", "prefetch_enabled", "set_prefetch"]

# Stream numbers of the random generators derived from the training seed.
TRAIN_STREAM = 0
METRIC_STREAM = 1

# Whether new BatchSource objects of this process prefetch in a thread. Sweep workers turn it
# off when they share the machine's cores with other workers: there the thread competes with
# the other workers for a core instead of using an idle one.
_prefetch = True


def set_prefetch(enabled: bool) -> None:
    """Make batch sources created later in this process prefetch (True) or not (False)."""
    global _prefetch
    _prefetch = bool(enabled)


def prefetch_enabled() -> bool:
    """Return whether batch sources created now prefetch in a thread."""
    return _prefetch


def batch_rng(seed: int, update: int, stream: int = TRAIN_STREAM) -> np.random.Generator:
    """Return the generator of the batch used at ``update`` (0-based) in ``stream``.

    Keying every batch by its update index keeps training reproducible however the updates
    are split into calls, runs, pauses and prefetches.
    """
    return np.random.default_rng([seed, stream, update])


@dataclass
class StackedBatches:
    """Batches for consecutive updates, stacked to ``(k, N_batch, N_steps, ·)`` float arrays."""

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    last: Any
    trials: list[int]


def make_batches(task: Any, seed: int, first_update: int, count: int, dtype: Any) -> StackedBatches:
    """Generate ``count`` batches of ``task`` for updates ``first_update, first_update + 1, ...``."""
    batches = [task.generate_batch(batch_rng(seed, first_update + i)) for i in range(count)]
    return StackedBatches(
        inputs=np.stack([b.inputs for b in batches]).astype(dtype, copy=False),
        targets=np.stack([b.targets for b in batches]).astype(dtype, copy=False),
        mask=np.stack([b.mask for b in batches]).astype(dtype, copy=False),
        last=batches[-1],
        trials=[int(b.inputs.shape[0]) for b in batches],
    )


class BatchSource:
    """Hands out batches and prepares the next call's batches while the current call runs.

    TensorFlow releases the GIL while the compiled update runs, so NumPy trial generation in
    the worker thread overlaps with it. With ``prefetch`` False (default: the process setting of
    :func:`set_prefetch`) there is no thread and :meth:`get` makes the batches when asked.
    """

    def __init__(self, seed: int, dtype: Any, size: int, prefetch: bool | None = None) -> None:
        self.seed = seed
        self.dtype = dtype
        self.size = size
        self.prefetches = prefetch_enabled() if prefetch is None else bool(prefetch)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: tuple[tuple[int, int, int], concurrent.futures.Future] | None = None

    def get(self, stage: int, task: Any, first_update: int, count: int) -> StackedBatches:
        """Return the batches of updates ``first_update .. first_update + count - 1``.

        Fewer than ``size`` batches are padded to ``size`` by repeating the last one, so every
        compiled call gets the same shape.
        """
        key = (stage, first_update, count)
        result = None
        if self._pending is not None:
            pending_key, future = self._pending
            self._pending = None
            if pending_key == key:
                result = future.result()
            else:
                future.cancel()
        if result is None:
            result = make_batches(task, self.seed, first_update, count, self.dtype)
        return _pad(result, self.size)

    def prefetch(self, stage: int, task: Any, first_update: int, count: int) -> None:
        """Start generating the batches that a later :meth:`get` with the same key returns.

        Does nothing when this source does not prefetch.
        """
        if not self.prefetches:
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="psychrnn-widgets-batches"
            )
        future = self._executor.submit(
            make_batches, task, self.seed, first_update, count, self.dtype
        )
        self._pending = ((stage, first_update, count), future)

    def close(self) -> None:
        """Drop any pending batch and end the worker thread."""
        if self._pending is not None:
            self._pending[1].cancel()
            self._pending = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _pad(batches: StackedBatches, size: int) -> StackedBatches:
    missing = size - len(batches.inputs)
    if missing <= 0:
        return batches

    def padded(array: np.ndarray) -> np.ndarray:
        return np.concatenate([array, np.repeat(array[-1:], missing, axis=0)])

    return StackedBatches(
        inputs=padded(batches.inputs),
        targets=padded(batches.targets),
        mask=padded(batches.mask),
        last=batches.last,
        trials=batches.trials,
    )
