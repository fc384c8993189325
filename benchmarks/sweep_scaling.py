"""Measure how sweep throughput scales from one worker process to two.

Runs the same sweep of 8 short trainings (perceptual discrimination, dale_ratio 0.5 and 0.8 ×
4 seeds) on a pool of 1 and then 2 spawned worker processes, each with one TensorFlow thread.
Every pool is warmed up first (each worker imports TensorFlow and trains a tiny network once),
so the timing covers the trainings and not the worker start-up, which is reported on its own.

Prints one line per pool and ends with one JSON line: ``runs_completed`` (finished runs over
all pools) and ``scaling_2_workers`` = throughput with 2 workers / throughput with 1 (median of
the rounds). It also reports the CPU seconds per run and the fraction of a core each worker got
(``core_share``): on a machine shared with other jobs that fraction, not the sweep, often limits
the scaling.

``--prefetch`` sets the trainers' batch prefetch thread: ``auto``, ``on`` or ``off``. ``auto`` is
the sweep's default, which is off here because this script hands the sweep its own pool.
``best-1`` runs 1 worker both with and without the thread and divides by the faster of the two.

``--jit`` sets the sweep's ``jit_compile``. ``auto`` (the default of sweeps) compiles with XLA
only runs of at least ``XLA_MIN_UPDATES`` updates, so the default 150-update runs use a plain
graph. ``on`` compiles every run, as sweeps did before ``auto``. ``off`` compiles none.

Each pool starts with an empty persistent XLA cache, so no pool reuses programs that an earlier
one compiled.

Run: ``python benchmarks/sweep_scaling.py [--updates 150] [--N_rec 32] [--rounds 1]
[--prefetch auto|on|off|best-1] [--jit auto|on|off]``
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from psychrnn_widgets.engine._sweep_run import configure_worker  # noqa: E402
from psychrnn_widgets.engine.sweep import sweep  # noqa: E402

GRID = {"dale_ratio": [0.5, 0.8]}
SEEDS = [0, 1, 2, 3]


def warm_worker(pause_s: float) -> int:
    """Import TensorFlow and train a tiny network once in this worker; return its pid."""
    from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
    from psychrnn_widgets.engine._sweep_run import limit_tensorflow_threads
    from psychrnn_widgets.tasks import get_task

    limit_tensorflow_threads(1)
    task = get_task("perceptual_discrimination", T=200.0, N_batch=4)
    network = build_network(NetworkConfig.for_task(task, N_rec=4, seed=0))
    Trainer(network, task, TrainingConfig(seed=0, max_updates=1)).run()
    # Holding the worker a moment makes the pool hand the next warm-up call to another worker.
    time.sleep(pause_s)
    return os.getpid()


def start_pool(workers: int) -> tuple[cf.ProcessPoolExecutor, float]:
    start = time.perf_counter()
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=configure_worker,
        initargs=(1,),
    )
    pids = set(pool.map(warm_worker, [2.0] * workers))
    if len(pids) != workers:
        raise RuntimeError(f"warm-up reached {len(pids)} of {workers} worker processes")
    return pool, time.perf_counter() - start


def timed_sweep(workers: int, base: dict, prefetch: bool | None) -> dict[str, float]:
    """Run the sweep on a warmed pool of ``workers``; return its rates, counts and CPU use."""
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-xla-") as cache:
        # The engine keeps compiled programs in a persistent XLA cache. Each pool gets an empty
        # one, so a pool never loads what an earlier pool or an earlier run of this script
        # compiled. Spawned workers copy this environment when the pool starts them.
        os.environ["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={cache}"
        return _timed_sweep(workers, base, prefetch)


def _timed_sweep(workers: int, base: dict, prefetch: bool | None) -> dict[str, float]:
    pool, startup = start_pool(workers)
    try:
        with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as out:
            start = time.perf_counter()
            table = sweep(base, GRID, SEEDS, out, executor=pool, prefetch_batches=prefetch)
            elapsed = time.perf_counter() - start
    finally:
        pool.shutdown()
    failed = table.loc[table["status"] != "finished", "error"].tolist()
    if failed:
        raise RuntimeError(f"{len(failed)} benchmark runs failed: {failed[0]}")
    cpu = float(table["cpu_time_s"].sum())
    return {
        "runs_per_s": len(table) / elapsed,
        "finished": int((table["status"] == "finished").sum()),
        "startup_s": startup,
        "cpu_s_per_run": cpu / len(table),
        # Fraction of a core each worker got while the sweep ran; below 1 means other
        # processes on the machine took CPU time from the workers.
        "core_share": cpu / (elapsed * workers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=150, help="training updates per run")
    parser.add_argument("--N_rec", type=int, default=32, help="recurrent units per network")
    parser.add_argument("--rounds", type=int, default=1, help="1-worker/2-worker pairs to run")
    parser.add_argument(
        "--prefetch",
        choices=("auto", "on", "off", "best-1"),
        default="auto",
        help="batch prefetch thread of the trainers (best-1: 1 worker with and without)",
    )
    parser.add_argument(
        "--jit",
        choices=("auto", "on", "off"),
        default="auto",
        help="jit_compile of the sweep (auto: XLA only for runs long enough to pay for it)",
    )
    args = parser.parse_args()
    setting = {"auto": None, "on": True, "off": False, "best-1": None}[args.prefetch]
    # Each pool: (label, workers, prefetch_batches given to sweep).
    pools = [("1", 1, setting), ("2", 2, setting)]
    if args.prefetch == "best-1":
        pools = [("1 prefetch", 1, True), ("1 inline", 1, False), ("2", 2, None)]
    base = {
        "task": "perceptual_discrimination",
        "task_values": {"T": 1000.0, "N_batch": 32},
        "network": {"N_rec": args.N_rec},
        "training": {"max_updates": args.updates, "eval_every": 10},
        "jit_compile": {"auto": "auto", "on": True, "off": False}[args.jit],
    }

    measured: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in pools}
    loads = [os.getloadavg()[0]]
    for round_index in range(args.rounds):
        for label, workers, prefetch in pools:
            pool_result = timed_sweep(workers, base, prefetch)
            measured[label].append(pool_result)
            loads.append(os.getloadavg()[0])
            print(
                f"round {round_index + 1}, {label} worker(s): "
                f"{pool_result['runs_per_s']:.3f} runs/s, {pool_result['finished']} finished, "
                f"{pool_result['cpu_s_per_run']:.2f} CPU s per run, "
                f"{pool_result['core_share']:.2f} of a core per worker, "
                f"worker start-up {pool_result['startup_s']:.1f} s, load average {loads[-1]:.2f}",
                flush=True,
            )

    def median(label: str, key: str) -> float:
        return statistics.median(pool_result[key] for pool_result in measured[label])

    one_worker_label = "1"
    if args.prefetch == "best-1":
        one_worker_label = max(("1 prefetch", "1 inline"), key=lambda label: median(label, "runs_per_s"))
    one_worker_rate, two_worker_rate = median(one_worker_label, "runs_per_s"), median("2", "runs_per_s")
    extra = {}
    if args.prefetch == "best-1":
        extra = {
            f"runs_per_s_{label.replace(' ', '_')}": round(median(label, "runs_per_s"), 4)
            for label in ("1 prefetch", "1 inline")
        }
        extra.update(
            {
                f"cpu_s_per_run_{label.replace(' ', '_')}": round(median(label, "cpu_s_per_run"), 3)
                for label in ("1 prefetch", "1 inline")
            }
        )
    result = {
        "benchmark": "sweep_scaling",
        "runs_completed": sum(
            int(pool_result["finished"]) for results in measured.values() for pool_result in results
        ),
        "scaling_2_workers": round(two_worker_rate / one_worker_rate, 3),
        "runs_per_s_1_worker": round(one_worker_rate, 4),
        "runs_per_s_2_workers": round(two_worker_rate, 4),
        "cpu_s_per_run_1_worker": round(median(one_worker_label, "cpu_s_per_run"), 3),
        "cpu_s_per_run_2_workers": round(median("2", "cpu_s_per_run"), 3),
        "core_share_1_worker": round(median(one_worker_label, "core_share"), 3),
        "core_share_2_workers": round(median("2", "core_share"), 3),
        # An estimate, not a measurement: the scaling if every worker had a core to itself,
        # from CPU seconds per run alone (it ignores time a run spends waiting on files).
        "cpu_bound_scaling_estimate": round(
            2 * median(one_worker_label, "cpu_s_per_run") / median("2", "cpu_s_per_run"), 3
        ),
        **extra,
        "prefetch": args.prefetch,
        "jit": args.jit,
        "xla_cache": "empty per pool",
        "one_worker_pool": one_worker_label,
        "runs_per_sweep": len(SEEDS) * len(GRID["dale_ratio"]),
        "updates_per_run": args.updates,
        "N_rec": args.N_rec,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        # Other processes on the machine take cores from the workers; the load shows how busy
        # it was (1-minute load average before and after each pool).
        "load_average_1min": [round(load, 2) for load in loads],
        "machine": platform.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
