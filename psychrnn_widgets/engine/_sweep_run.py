"""One sweep run, executed in a worker process: build, train, evaluate, save.

This module is what worker processes and Dask workers import, so it must import without
TensorFlow: TensorFlow reads its thread settings once, on first import, and
:func:`limit_tensorflow_threads` has to run before that.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psychrnn_widgets.engine._sweep_spec import use_xla
from psychrnn_widgets.errors import InvalidParameterError

__all__ = [
    "EVAL_SEED",
    "METRICS_FILE",
    "NETWORK_FILE",
    "STARTED_FILE",
    "limit_tensorflow_threads",
    "read_json",
    "run_one",
    "tensorflow_threads",
    "write_json_atomic",
]

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
NETWORK_FILE = "network.npz"
STARTED_FILE = "started.json"

# Seed of the held-out batch that measures final accuracy. It is the same for every run, so
# runs of one task are compared on identical trials.
EVAL_SEED = 20_240_601


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON through a temporary file and a rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, allow_nan=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """Return the JSON object in ``path``, or None when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def limit_tensorflow_threads(threads: int | None) -> None:
    """Give TensorFlow ``threads`` intra-op and inter-op threads in this process.

    Before TensorFlow is imported this sets ``TF_NUM_INTRAOP_THREADS`` and
    ``TF_NUM_INTEROP_THREADS``; afterwards it calls ``tf.config.threading``, which works only
    until TensorFlow has run its first operation. None leaves TensorFlow's defaults.
    """
    if threads is None:
        return
    if "tensorflow" not in sys.modules:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    import tensorflow as tf

    threading = tf.config.threading
    if (
        threading.get_intra_op_parallelism_threads() == threads
        and threading.get_inter_op_parallelism_threads() == threads
    ):
        return
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        # TensorFlow already ran in this process (a reused Dask worker, for example) and keeps
        # the thread pools it started with.
        logger.warning(
            "TensorFlow is already initialised in process %d; it keeps %d intra-op threads "
            "instead of the %d requested",
            os.getpid(),
            threading.get_intra_op_parallelism_threads(),
            threads,
        )


def tensorflow_threads() -> dict[str, int]:
    """Return TensorFlow's intra-op and inter-op thread counts in this process (0: default)."""
    import tensorflow as tf

    threading = tf.config.threading
    return {
        "intra_op": int(threading.get_intra_op_parallelism_threads()),
        "inter_op": int(threading.get_inter_op_parallelism_threads()),
    }


def configure_worker(threads: int | None) -> None:
    """Initializer of local worker processes: fix TensorFlow's thread count before it loads."""
    if threads is not None:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _updates_to_criterion(history: Any, cutoff: float | None) -> int | None:
    if cutoff is None:
        return None
    for update, accuracy in zip(history.update, history.accuracy):
        if not math.isnan(accuracy) and accuracy >= cutoff:
            return int(update)
    return None


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _train(spec: Mapping[str, Any], run_dir: Path, row: dict[str, Any]) -> None:
    """Build, train, evaluate and save one run, filling ``row`` with its results."""
    import numpy as np

    from psychrnn_widgets.engine.config import NetworkConfig
    from psychrnn_widgets.engine.io import save_network
    from psychrnn_widgets.engine.network import build_network
    from psychrnn_widgets.engine.trainer import Trainer
    from psychrnn_widgets.engine.training import TrainingConfig
    from psychrnn_widgets.tasks import get_task

    seed = int(spec["seed"])
    task = get_task(spec["task"], **spec["task_values"])
    network = build_network(NetworkConfig.for_task(task, **{**spec["network"], "seed": seed}))
    config = TrainingConfig.from_dict({**spec["training"], "seed": seed})
    jit_compile = use_xla(spec["jit_compile"], config.max_updates, config.max_trials, task.N_batch)
    # run_one moves this into metrics.json; the table keeps result columns only.
    row["jit_compile"] = jit_compile
    # Sweeps use the cores for runs side by side. One batch part per run also keeps the
    # weights of a seed the same on every worker, whatever its core count.
    trainer = Trainer(network, task, config, jit_compile=jit_compile, batch_shards=1)
    failures: list[str] = []

    def keep_failure(event: Any) -> None:
        if event.kind == "failed":
            failures.append(event.message)

    trainer.add_callback(keep_failure)
    trainer.run()

    history = trainer.history
    row["updates"] = int(trainer.updates)
    row["trials"] = int(trainer.trials)
    row["final_loss"] = _finite_or_none(history.loss[-1] if history.loss else None)
    row["updates_to_criterion"] = _updates_to_criterion(history, config.performance_cutoff)

    eval_task = task
    if spec["eval_trials"] is not None:
        eval_task = task.replace(N_batch=int(spec["eval_trials"]))
    batch = eval_task.generate_batch(np.random.default_rng(EVAL_SEED))
    outputs, _ = network.run(batch.inputs, seed=EVAL_SEED)
    row["accuracy"] = float(eval_task.accuracy(outputs, batch))

    path = save_network(
        run_dir / NETWORK_FILE,
        network,
        trainer,
        extra={"sweep_run_id": spec["run_id"], "sweep_spec": json.dumps(spec, sort_keys=True)},
    )
    row["path"] = str(path)
    if trainer.state == "failed":
        # A non-finite loss ends training without raising; the weights saved are the last
        # finite ones, but the run did not reach its stop rule.
        row["status"] = "failed"
        row["error"] = failures[-1] if failures else "training failed"
    else:
        row["status"] = "finished"


def run_one(
    spec: Mapping[str, Any],
    out_dir: str,
    tf_threads: int | None = 1,
    prefetch_batches: bool = True,
) -> dict[str, Any]:
    """Run one sweep point and return its result row.

    ``prefetch_batches`` False makes the trainer generate each batch when it needs it, without
    its prefetch thread; the batches, and so the results, are the same either way.

    Errors while building, training, evaluating or saving are caught and recorded in the row
    (only an ``out_dir`` that cannot be written raises). The row and the spec are written to
    ``<out_dir>/<run_id>/metrics.json`` after the network file, so a metrics file with status
    ``"finished"`` marks a complete run.
    """
    run_dir = Path(out_dir) / spec["run_id"]
    started = time.time()
    clock = time.perf_counter()
    cpu_clock = time.process_time()
    host = socket.gethostname()
    marker = {"started": started, "host": host, "pid": os.getpid()}
    write_json_atomic(run_dir / STARTED_FILE, marker)
    row: dict[str, Any] = {
        "run_id": spec["run_id"],
        "seed": int(spec["seed"]),
        "status": "failed",
        "error": None,
        "final_loss": None,
        "accuracy": None,
        "updates": None,
        "trials": None,
        "updates_to_criterion": None,
        "path": None,
    }
    details: str | None = None
    threads_used: dict[str, int] | None = None
    prefetch_before: bool | None = None
    try:
        limit_tensorflow_threads(tf_threads)
        threads_used = tensorflow_threads()
        from psychrnn_widgets.engine import _batches

        prefetch_before = _batches.prefetch_enabled()
        _batches.set_prefetch(prefetch_batches)
        # Load TensorFlow and the engine before the clock starts, so that wall_time_s measures
        # the run and not the first run's share of the worker start-up.
        import psychrnn_widgets.engine.io  # noqa: F401
        import psychrnn_widgets.engine.network  # noqa: F401
        import psychrnn_widgets.engine.trainer  # noqa: F401

        clock = time.perf_counter()
        cpu_clock = time.process_time()
        _train(spec, run_dir, row)
    except Exception as error:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        if isinstance(error, InvalidParameterError):
            # A bad setting value: the message names the setting and the rule, so the log skips
            # the traceback (metrics.json keeps it).
            logger.warning("sweep run %s failed: %s", spec["run_id"], error)
        else:
            logger.exception("sweep run %s failed", spec["run_id"])
        row["status"] = "failed"
        row["error"] = f"{type(error).__name__}: {error}"
        details = traceback.format_exc()
    finally:
        if prefetch_before is not None:
            # An executor that runs sweeps in the caller's process (a thread pool) must leave
            # the caller's own trainers as they were.
            from psychrnn_widgets.engine import _batches

            _batches.set_prefetch(prefetch_before)
    row["wall_time_s"] = time.perf_counter() - clock
    row["cpu_time_s"] = time.process_time() - cpu_clock
    # None when the run failed before the choice was made.
    jit_used = row.pop("jit_compile", None)

    metrics = {
        **row,
        "settings": dict(spec["settings"]),
        "spec": dict(spec),
        "host": host,
        "pid": os.getpid(),
        "started": started,
        "traceback": details,
        # What the run really got, to check the one-thread-per-worker setting.
        "tf_threads": threads_used,
        "prefetch_batches": bool(prefetch_batches),
        # What jit_compile="auto" chose for this run (the spec keeps the setting as given).
        "jit_compile": jit_used,
    }
    write_json_atomic(run_dir / METRICS_FILE, metrics)
    return row
