"""Parameter sweeps: train one network per grid point and seed, in worker processes or on Dask.

``sweep(base, grid, seeds, out_dir)`` trains the cartesian product of ``grid`` and ``seeds``.
Each run saves ``<out_dir>/<run_id>/network.npz`` (weights, config, seed and history) and then
``metrics.json``; a re-run of the same sweep reads finished runs back instead of training them.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import numbers
import os
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from psychrnn_widgets.engine._sweep_exec import (
    UPDATE_KINDS,
    Reporter,
    SweepUpdate,
    check_executor,
    collect,
    resolve_executor,
)
from psychrnn_widgets.engine._sweep_run import (
    METRICS_FILE,
    NETWORK_FILE,
    STARTED_FILE,
    read_json,
    run_one,
    write_json_atomic,
)
from psychrnn_widgets.engine._sweep_spec import (
    RunSpec,
    SweepBase,
    check_seeds,
    expand_runs,
    json_safe,
)
from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["sweep", "SweepBase", "SweepUpdate", "RESULT_COLUMNS", "UPDATE_KINDS"]

logger = logging.getLogger(__name__)

# Columns after the grid settings, in this order.
RESULT_COLUMNS = (
    "seed",
    "status",
    "final_loss",
    "accuracy",
    "updates_to_criterion",
    "updates",
    "trials",
    "wall_time_s",
    "cpu_time_s",
    "path",
    "error",
    "run_id",
    "resumed",
)
def _as_base(base: SweepBase | Mapping[str, Any]) -> SweepBase:
    if isinstance(base, SweepBase):
        return base
    if isinstance(base, Mapping):
        return SweepBase.from_dict(base)
    raise InvalidParameterError(
        "base",
        f"base must be a SweepBase or a dict of its fields (got {type(base).__name__})",
        base,
    )


def _check_count(name: str, value: Any, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        extra = " or None" if allow_none else ""
        raise InvalidParameterError(
            name, f"{name} must be an integer of at least 1{extra} (got {name}={value!r})", value
        )

def _finished_row(run: RunSpec, out_dir: Path, retry_failed: bool) -> dict[str, Any] | None:
    """Return the saved row of a run that needs no training, or None."""
    metrics = read_json(out_dir / run.run_id / METRICS_FILE)
    if metrics is None:
        return None
    status = metrics.get("status")
    finished = status == "finished" and (out_dir / run.run_id / NETWORK_FILE).exists()
    if finished or (status == "failed" and not retry_failed):
        return {column: metrics.get(column) for column in RESULT_COLUMNS if column != "resumed"}
    return None

def sweep(
    base: SweepBase | Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int] | int,
    out_dir: str | os.PathLike[str],
    executor: Any = None,
    *,
    max_workers: int | None = None,
    tf_threads: int | None = 1,
    prefetch_batches: bool | None = None,
    max_runs_per_worker: int | None = 25,
    progress: Callable[[SweepUpdate], Any] | None = None,
    retry_failed: bool = True,
    poll_interval: float = 0.25,
) -> Any:
    """Train one network per combination of ``grid`` values and ``seeds``; return a table.

    Parameters
    ----------
    base : SweepBase or dict
        The run every grid point starts from: task name and values, network and training
        settings, with a stop rule (``training`` ``max_updates`` or ``max_trials``).
    grid : dict of str to list
        Setting name to the values to try. Names are plain (``"dale_ratio"``,
        ``"coherence"``, ``"learning_rate"``, ``"task"``) or dotted (``"network.rec_noise"``,
        ``"task.T"``, ``"training.L2_rec"``). Plain ``dt`` and ``tau`` set the task, which
        the network copies. An empty dict sweeps seeds only.
    seeds : list of int or int
        Each seed sets both the network's initial weights and the trainer's batches and noise.
    out_dir : path
        Folder of the results: one sub-folder per run, named by its settings and a digest.
    executor : None, dask.distributed.Client or concurrent.futures.Executor
        Where runs execute. None starts spawned worker processes on this machine and shuts
        them down at the end; a given executor is used and left running.
    max_workers : int or None
        Local worker processes (None: one per CPU core, at most one per run). Ignored when
        ``executor`` is given.
    tf_threads : int or None, default 1
        TensorFlow intra-op and inter-op threads per worker, so N workers keep N cores busy.
        None leaves TensorFlow's defaults.
    prefetch_batches : bool or None, default None
        Whether each run's trainer generates its next batches in a second thread while
        TensorFlow runs the current update. That thread needs a core of its own to help, so
        None prefetches only in a local pool with fewer workers than CPU cores, and not on a
        given executor (whose workers are expected to fill the cores). The batches, and so
        the results, are the same either way.
    max_runs_per_worker : int or None, default 25
        Runs after which a local worker process is replaced by a fresh one (Python 3.11 and
        later; None keeps workers for the whole sweep). Each run leaves its compiled TensorFlow
        functions in the worker: about 20 MB per run was measured with XLA on. A fresh worker
        costs one TensorFlow import (a few seconds). Ignored when ``executor`` is given.
    progress : callable or None
        Called with a :class:`SweepUpdate` from this thread as runs start and end, for example
        a :class:`psychrnn_widgets.widgets.sweep_progress.SweepProgress`.
    retry_failed : bool, default True
        Train runs that failed in an earlier sweep again; False reports their saved error.
    poll_interval : float, default 0.25
        Seconds between checks for runs that have started.

    Returns
    -------
    pandas.DataFrame
        One row per run in grid order (seeds innermost): one column per grid setting, then
        ``seed``, ``status`` ("finished" or "failed"), ``final_loss`` (last training loss),
        ``accuracy`` (on a held-out batch), ``updates_to_criterion`` (first update whose
        accuracy reached ``performance_cutoff``; NaN when it was not reached or not set),
        ``updates``, ``trials``, ``wall_time_s`` (build, train, evaluate and save, without
        the worker's TensorFlow import), ``cpu_time_s`` (CPU time of the worker process over
        the same span), ``path``
        (the weight file), ``error``, ``run_id`` and ``resumed`` (True when read back from an
        earlier sweep).

    Raises
    ------
    InvalidParameterError
        Before any run starts, for an unknown grid name (with a "did you mean" hint), bad seeds,
        a missing stop rule or an unsupported executor. A bad setting *value* fails only the
        runs that use it: their rows have status "failed" and the error message.

    Notes
    -----
    Every worker must be able to import this package and write to ``out_dir``; on a
    multi-machine Dask cluster that means a shared file system. A script that runs a local
    sweep needs the ``if __name__ == "__main__":`` guard, because spawned workers import it.
    If a local worker process dies (killed for memory, say), the process pool breaks and every
    run not yet finished is reported as failed; running the sweep again resumes it. An
    interrupt (KeyboardInterrupt) cancels the queued runs and, with the local pool, waits for
    the runs in progress to end before it propagates.
    """
    base = _as_base(base)
    runs = expand_runs(base, grid, seeds)
    _check_count("max_workers", max_workers, allow_none=True)
    _check_count("max_runs_per_worker", max_runs_per_worker, allow_none=True)
    if tf_threads is not None:
        _check_count("tf_threads", tf_threads, allow_none=False)
    if prefetch_batches is not None and not isinstance(prefetch_batches, bool):
        raise InvalidParameterError(
            "prefetch_batches",
            f"prefetch_batches must be True, False or None (got {prefetch_batches!r})",
            prefetch_batches,
        )
    if not isinstance(retry_failed, bool):
        raise InvalidParameterError(
            "retry_failed",
            f"retry_failed must be True or False (got {retry_failed!r})",
            retry_failed,
        )
    if progress is not None and not callable(progress):
        raise InvalidParameterError(
            "progress", f"progress must be callable or None (got {progress!r})", progress
        )
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, numbers.Real)
        or not poll_interval > 0
    ):
        raise InvalidParameterError(
            "poll_interval",
            f"poll_interval must be a number of seconds above 0 (got {poll_interval!r} s)",
            poll_interval,
        )
    check_executor(executor)
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            "sweep() returns a pandas DataFrame; install pandas, for example with "
            "pip install 'psychrnn_widgets[distributed]'"
        ) from error

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        out / "sweep.json",
        {"base": base.to_dict(), "grid": json_safe(dict(grid)), "seeds": check_seeds(seeds)},
    )

    reporter = Reporter(progress, len(runs))
    reporter.send("started")
    rows: dict[str, dict[str, Any]] = {}
    pending: list[RunSpec] = []
    for run in runs:
        row = _finished_row(run, out, retry_failed)
        if row is None:
            # A start marker left by an interrupted or failed attempt would report the run as
            # running while it is still queued.
            (out / run.run_id / STARTED_FILE).unlink(missing_ok=True)
            pending.append(run)
        else:
            rows[run.run_id] = {**row, "resumed": True}
            kind = "skipped" if row["status"] == "finished" else "failed"
            reporter.send(kind, run, row.get("error"))
    logger.info(
        "sweep of %d runs: %d to train, %d read back from %s",
        len(runs),
        len(pending),
        len(runs) - len(pending),
        out,
    )

    if pending:
        pool, owned = resolve_executor(
            executor, len(pending), max_workers, tf_threads, max_runs_per_worker
        )
        prefetch = prefetch_batches
        if prefetch is None:
            # The same worker count as resolve_executor gives the pool it starts.
            cores = os.cpu_count() or 1
            prefetch = owned and min(len(pending), max_workers or cores) < cores
        futures: dict[cf.Future, RunSpec] = {}
        try:
            for run in pending:
                future = pool.submit(run_one, run.to_dict(), str(out), tf_threads, prefetch)
                futures[future] = run
            collect(futures, out, reporter, rows, poll_interval)
        except BaseException:
            # Interrupted (KeyboardInterrupt included): drop queued runs. Finished runs are
            # saved already, so the next sweep resumes from them.
            for future in futures:
                future.cancel()
            raise
        finally:
            if owned:
                pool.shutdown(wait=True, cancel_futures=True)
    reporter.send("done")
    return _table(runs, rows, pd)


def _table(runs: list[RunSpec], rows: dict[str, dict[str, Any]], pd: Any) -> Any:
    names = list(runs[0].settings) if runs else []
    records = []
    for run in runs:
        row = rows[run.run_id]
        record = {name: run.settings[name] for name in names}
        for column in RESULT_COLUMNS:
            record[column] = row.get(column, False if column == "resumed" else None)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[*names, *RESULT_COLUMNS])
    numeric = ("final_loss", "accuracy", "updates_to_criterion", "wall_time_s", "cpu_time_s")
    for column in (*numeric, "updates", "trials"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["resumed"] = frame["resumed"].astype(bool)
    return frame


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`sweep`.

    Importing ``psychrnn_widgets.engine.sweep`` binds the package attribute ``sweep`` to this
    module, which would hide the function of the same name; a callable module keeps
    ``psychrnn_widgets.engine.sweep(...)`` working either way (module ``__class__`` assignment
    is supported since Python 3.5).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

