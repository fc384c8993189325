"""Execution of sweep runs (local process pool, Dask or any executor) and progress updates."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psychrnn_widgets.engine._sweep_run import STARTED_FILE, configure_worker
from psychrnn_widgets.engine._sweep_spec import RunSpec
from psychrnn_widgets.errors import InvalidParameterError

__all__ = [
    "UPDATE_KINDS",
    "Reporter",
    "SweepUpdate",
    "check_executor",
    "collect",
    "resolve_executor",
]

logger = logging.getLogger(__name__)

UPDATE_KINDS = ("started", "running", "finished", "failed", "skipped", "done")


@dataclass(frozen=True)
class SweepUpdate:
    """Progress change of a sweep, sent to the ``progress`` callback of ``sweep``.

    ``kind`` is one of:

    - ``"started"``: once, before any run (``run_id`` is None);
    - ``"running"``: a worker began the run;
    - ``"finished"`` or ``"failed"``: the run ended (``"failed"`` also reports a failure read
      back from an earlier sweep when ``retry_failed`` is False);
    - ``"skipped"``: the run finished in an earlier sweep and was read back;
    - ``"done"``: once, at the end.

    ``total`` is the number of runs in the sweep.
    """

    kind: str
    total: int
    run_id: str | None = None
    settings: Mapping[str, Any] | None = None
    seed: int | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in UPDATE_KINDS:
            raise InvalidParameterError(
                "kind",
                f"kind must be one of {', '.join(UPDATE_KINDS)} (got kind={self.kind!r})",
                self.kind,
            )


def resolve_executor(
    executor: Any,
    pending: int,
    max_workers: int | None,
    tf_threads: int | None,
    max_runs_per_worker: int | None,
) -> tuple[cf.Executor, bool]:
    """Return the executor to submit to and whether this sweep owns (and so shuts down) it."""
    check_executor(executor)
    if executor is None:
        workers = min(pending, max_workers or os.cpu_count() or 1)
        options: dict[str, Any] = {}
        if max_runs_per_worker is not None and sys.version_info >= (3, 11):
            options["max_tasks_per_child"] = max_runs_per_worker
        # spawn, not fork: a forked child would inherit the parent's TensorFlow runtime and
        # threads (fork is unsafe with threads), and spawn is the one start method that every
        # platform has.
        pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=configure_worker,
            initargs=(tf_threads,),
            **options,
        )
        logger.info("sweep starts %d worker processes", workers)
        return pool, True
    if _is_dask_client(executor):
        return executor.get_executor(pure=False), False
    return executor, False


def _is_dask_client(executor: Any) -> bool:
    # A dask.distributed.Client is not a concurrent.futures.Executor, but its get_executor()
    # returns one. Checked by module name so that Dask stays an optional dependency.
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "get_executor")


def check_executor(executor: Any) -> None:
    """Raise InvalidParameterError unless ``executor`` is None, a Dask client or an Executor."""
    if executor is None or _is_dask_client(executor) or isinstance(executor, cf.Executor):
        return
    raise InvalidParameterError(
        "executor",
        "executor must be None, a dask.distributed.Client or a concurrent.futures.Executor "
        f"(got {type(executor).__name__})",
        executor,
    )


class Reporter:
    """Sender of :class:`SweepUpdate` objects to the user's callback.

    An error that the callback raises is logged and not raised, so the sweep goes on.
    """

    def __init__(self, callback: Callable[[SweepUpdate], Any] | None, total: int) -> None:
        self.callback = callback
        self.total = total

    def send(self, kind: str, run: RunSpec | None = None, error: str | None = None) -> None:
        if self.callback is None:
            return
        update = SweepUpdate(
            kind=kind,
            total=self.total,
            run_id=None if run is None else run.run_id,
            settings=None if run is None else dict(run.settings),
            seed=None if run is None else run.seed,
            error=error,
        )
        try:
            self.callback(update)
        except Exception:  # noqa: BLE001 - a broken progress display must not stop the sweep
            logger.exception(
                "sweep progress callback %r raised on a %r update", self.callback, kind
            )


def _error_row(run: RunSpec, error: BaseException) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "seed": run.seed,
        "status": "failed",
        "error": f"{type(error).__name__}: {error}",
    }


def collect(
    futures: dict[cf.Future, RunSpec],
    out_dir: Path,
    reporter: Reporter,
    rows: dict[str, dict[str, Any]],
    poll_interval: float,
) -> None:
    """Wait for every future, reporting runs as they start and end."""
    waiting = set(futures)
    started: set[str] = set()
    while waiting:
        done, waiting = cf.wait(waiting, timeout=poll_interval, return_when=cf.FIRST_COMPLETED)
        # A worker writes started.json as its first step, which is the only start signal that
        # every executor gives (a process pool marks queued calls as running too early).
        for future in waiting:
            run = futures[future]
            if run.run_id not in started and (out_dir / run.run_id / STARTED_FILE).exists():
                started.add(run.run_id)
                reporter.send("running", run)
        for future in done:
            run = futures[future]
            if run.run_id not in started:
                started.add(run.run_id)
                reporter.send("running", run)
            try:
                row = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker fails its run, not the sweep
                logger.error("sweep run %s failed in its executor: %s", run.run_id, error)
                row = _error_row(run, error)
            rows[run.run_id] = row
            reporter.send(row["status"], run, row.get("error"))
