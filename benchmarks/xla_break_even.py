"""Find the run length at which XLA pays for its compilation in a sweep worker.

Each run is one sweep run (``run_one``: build, train, evaluate, save) in a fresh Python
process with one TensorFlow thread and no batch prefetch, as in a sweep whose workers fill the
cores. The CPU time of that process over the run (``time.process_time``, all threads, so XLA's
compiler threads count) is compared for three sides, run one after the other in an order that
alternates from repeat to repeat:

- ``plain``: ``jit_compile=False``;
- ``xla_cold``: ``jit_compile=True`` with an empty persistent XLA cache (what every run paid
  before the cache, and the first run of each shape pays now);
- ``xla_warm``: ``jit_compile=True`` with the cache that the cold run just filled.

``--modes worker`` (on by default) also times plain and XLA runs alternating in one process,
after two short runs of the same shape, as in a sweep worker from its second run on. There the
cache already contains the shape's programs and TensorFlow is warm.

For each shape it fits CPU s = fixed + per-update × updates to each side (least squares over
all runs) and reports the break-even length, fixed difference / per-update difference: runs at
least that long use less CPU with XLA.

Run: ``python benchmarks/xla_break_even.py [--lengths 50 150 500 1500] [--repeats 2]
[--shapes sweep reference] [--modes fresh worker]``.

``sweep`` is the shape of ``benchmarks/sweep_scaling.py``: T 1000 ms (100 steps), N_batch 32,
N_rec 32. ``reference`` is the shape of the engine benchmarks: 200 steps, N_batch 50, N_rec 50.
With the defaults, the fresh-process mode took 9 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

SHAPES = {
    "sweep": {"task_values": {"T": 1000.0, "N_batch": 32}, "network": {"N_rec": 32}},
    "reference": {"task_values": {"T": 2000.0, "N_batch": 50}, "network": {"N_rec": 50}},
}
SIDES = ("plain", "xla_cold", "xla_warm")


def child(shape: str, updates: int, jit: bool, out_dir: str) -> None:
    """Run one sweep run in this fresh process and print its CPU and wall time as JSON."""
    from psychrnn_widgets.engine._sweep_run import configure_worker

    configure_worker(1)
    from psychrnn_widgets.engine._sweep_run import run_one
    from psychrnn_widgets.engine._sweep_spec import SweepBase, expand_runs

    base = SweepBase(
        task="perceptual_discrimination",
        training={"max_updates": updates, "eval_every": 10},
        jit_compile=jit,
        **SHAPES[shape],
    )
    (spec,) = expand_runs(base, {}, [0])
    row = run_one(spec.to_dict(), out_dir, 1, False)
    if row["status"] != "finished":
        raise SystemExit(f"run failed: {row['error']}")
    print(json.dumps({"cpu_s": row["cpu_time_s"], "wall_s": row["wall_time_s"]}))


def worker_child(shape: str, lengths: list[int], repeats: int, out_dir: str) -> None:
    """Time plain and XLA runs one after the other in this one process, as a sweep worker does.

    Two short runs first load TensorFlow, trace both kinds of update once and put this shape's
    programs in the persistent cache, as a worker's first run of a shape would. Prints the CPU
    seconds of every later run as JSON.
    """
    from psychrnn_widgets.engine._sweep_run import configure_worker

    configure_worker(1)
    from psychrnn_widgets.engine._sweep_run import run_one
    from psychrnn_widgets.engine._sweep_spec import SweepBase, expand_runs

    seed = iter(range(10**6))

    def cpu_seconds(updates: int, jit: bool) -> float:
        base = SweepBase(
            task="perceptual_discrimination",
            training={"max_updates": updates, "eval_every": 10},
            jit_compile=jit,
            **SHAPES[shape],
        )
        # A new seed per run gives every run its own folder, as in a sweep.
        (spec,) = expand_runs(base, {}, [next(seed)])
        row = run_one(spec.to_dict(), out_dir, 1, False)
        if row["status"] != "finished":
            raise SystemExit(f"run failed: {row['error']}")
        return row["cpu_time_s"]

    cpu_seconds(2, False)
    cpu_seconds(2, True)
    samples: dict[str, dict[int, list[float]]] = {"plain_in_worker": {}, "xla_in_worker": {}}
    for repeat in range(repeats):
        for updates in lengths:
            order = [False, True] if (repeat + updates) % 2 == 0 else [True, False]
            for jit in order:
                side = "xla_in_worker" if jit else "plain_in_worker"
                samples[side].setdefault(updates, []).append(cpu_seconds(updates, jit))
    print(json.dumps(samples))


def run_worker_child(shape: str, lengths: list[int], repeats: int) -> dict[str, dict[int, list[float]]]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_XLA_FLAGS", None)
    with tempfile.TemporaryDirectory(prefix="xla-break-even-cache-") as cache:
        env["PSYCHRNN_WIDGETS_XLA_CACHE"] = cache
        with tempfile.TemporaryDirectory(prefix="xla-break-even-run-") as out:
            command = [sys.executable, __file__, "--worker-child", shape, str(repeats), out]
            done = subprocess.run(
                [*command, *map(str, lengths)], env=env, capture_output=True, text=True, check=False
            )
    if done.returncode != 0:
        raise RuntimeError(f"worker run failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return {side: {int(u): cpu for u, cpu in by_length.items()} for side, by_length in data.items()}


def run_child(shape: str, updates: int, side: str, cache: str) -> dict[str, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_XLA_FLAGS", None)
    env["PSYCHRNN_WIDGETS_XLA_CACHE"] = cache
    jit = "0" if side == "plain" else "1"
    with tempfile.TemporaryDirectory(prefix="xla-break-even-run-") as out:
        done = subprocess.run(
            [sys.executable, __file__, "--child", shape, str(updates), jit, out],
            env=env, capture_output=True, text=True, check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{side} run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares line through (updates, CPU s): return (fixed CPU s, CPU s per update)."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)
    return mean_y - slope * mean_x, slope


def break_even(plain: tuple[float, float], xla: tuple[float, float]) -> float | None:
    fixed_extra = xla[0] - plain[0]
    saved_per_update = plain[1] - xla[1]
    if saved_per_update <= 0:
        return None
    return max(0.0, fixed_extra / saved_per_update)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 150, 500, 1500])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--shapes", nargs="+", choices=tuple(SHAPES), default=list(SHAPES))
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=("fresh", "worker"),
        default=["fresh", "worker"],
        help="fresh: one new process per run; worker: all runs of a shape in one process",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--worker-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shape, updates, jit, out = args.child
        child(shape, int(updates), jit == "1", out)
        return
    if args.worker_child:
        shape, repeats, out, *lengths = args.worker_child
        worker_child(shape, [int(u) for u in lengths], int(repeats), out)
        return

    loads = [os.getloadavg()[0]]
    samples: dict[tuple[str, str, int], list[float]] = {}
    sides: list[str] = []
    if "worker" in args.modes:
        sides += ["plain_in_worker", "xla_in_worker"]
        for shape in args.shapes:
            for side, by_length in run_worker_child(shape, args.lengths, args.repeats).items():
                for updates, cpu in by_length.items():
                    samples[(shape, side, updates)] = cpu
                    print(f"{shape} {updates} updates {side}: CPU s {cpu}", flush=True)
        loads.append(os.getloadavg()[0])
    if "fresh" in args.modes:
        sides += list(SIDES)
    for repeat in range(args.repeats if "fresh" in args.modes else 0):
        for shape in args.shapes:
            for updates in args.lengths:
                # Alternate which side goes first, so a change in machine load hits both.
                order = ["plain", "xla"] if (repeat + updates) % 2 == 0 else ["xla", "plain"]
                with tempfile.TemporaryDirectory(prefix="xla-break-even-cache-") as cache:
                    for group in order:
                        group_sides = ["plain"] if group == "plain" else ["xla_cold", "xla_warm"]
                        for side in group_sides:
                            # The plain side gets the cache off; the warm side reuses the cold
                            # side's directory, which now contains this shape's programs.
                            result = run_child(shape, updates, side, "off" if side == "plain" else cache)
                            samples.setdefault((shape, side, updates), []).append(result["cpu_s"])
                            print(
                                f"repeat {repeat + 1} {shape} {updates} updates {side}: "
                                f"{result['cpu_s']:.2f} CPU s, {result['wall_s']:.2f} s wall, "
                                f"load {os.getloadavg()[0]:.2f}",
                                flush=True,
                            )
        loads.append(os.getloadavg()[0])

    # (XLA side, plain side) pairs whose break-even is reported.
    pairs = {
        "cold": ("xla_cold", "plain"),
        "warm": ("xla_warm", "plain"),
        "in_worker": ("xla_in_worker", "plain_in_worker"),
    }
    summary: dict[str, object] = {}
    for shape in args.shapes:
        lines = {
            side: fit([(u, cpu) for u in args.lengths for cpu in samples[(shape, side, u)]])
            for side in sides
        }
        median_cpu = {
            side: {u: round(statistics.median(samples[(shape, side, u)]), 3) for u in args.lengths}
            for side in sides
        }
        shape_summary: dict[str, object] = {
            "median_cpu_s": median_cpu,
            "fit_fixed_s_and_s_per_update": {
                side: [round(lines[side][0], 3), round(lines[side][1] * 1000, 4)] for side in sides
            },
        }
        for name, (xla, plain) in pairs.items():
            if xla not in sides:
                continue
            shape_summary[f"xla_over_plain_{name}"] = {
                u: [round(x / p, 3) for x, p in zip(samples[(shape, xla, u)], samples[(shape, plain, u)])]
                for u in args.lengths
            }
            shape_summary[f"break_even_updates_{name}"] = _rounded(break_even(lines[plain], lines[xla]))
        summary[shape] = shape_summary
    print(
        json.dumps(
            {
                "benchmark": "xla_break_even",
                "shapes": summary,
                "fit_units": "[fixed CPU s, CPU ms per update]",
                "lengths": args.lengths,
                "repeats": args.repeats,
                "cpus": os.cpu_count(),
                "load_average_1min": [round(load, 2) for load in loads],
                "machine": platform.machine(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
        )
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value)


if __name__ == "__main__":
    main()
