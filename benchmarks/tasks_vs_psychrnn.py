"""Time batch generation of PsychRNN's three tasks here and in PsychRNN 1.0.0, side by side.

Both sides build batches with the same parameters (dt 10 ms, tau 100 ms, T 2000 ms, the tasks'
default options) at each batch size. PsychRNN runs in its own virtual environment (see
``psychrnn_env.py``) as a worker process that stays up for the whole run. The two sides take
turns, switching which goes first every round, so that a change in machine load hits both. Each
turn is a block of batches lasting about as long as one PsychRNN batch, and its time per batch is
the block's mean, so both sides average the machine's load over similar stretches of time. Each
side keeps its own random generator across rounds.

Usage::

    python benchmarks/tasks_vs_psychrnn.py [--rounds 5] [--batch-sizes 50 256]

The last line printed is JSON: ``speedup`` is the smallest ratio, over tasks and batch sizes, of
PsychRNN's median time per batch to ours; ``tasks`` holds the per-task figures in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

from psychrnn_widgets.tasks import DelayedDiscrimination, MatchToCategory, PerceptualDiscrimination

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from psychrnn_env import psychrnn_python

TASKS = {
    "PerceptualDiscrimination": PerceptualDiscrimination,
    "DelayedDiscrimination": DelayedDiscrimination,
    "MatchToCategory": MatchToCategory,
}
COMMON = {"dt": 10.0, "tau": 100.0, "T": 2000.0}

# Runs inside PsychRNN's environment: reads one JSON request per line, times that many batches
# from one persistent batch generator per (task, N_batch), and prints the times as a JSON line.
WORKER = """
import json, sys, time
import numpy as np
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn.tasks.delayed_discrim import DelayedDiscrimination
from psychrnn.tasks.match_to_category import MatchToCategory
classes = {"PerceptualDiscrimination": PerceptualDiscrimination,
           "DelayedDiscrimination": DelayedDiscrimination, "MatchToCategory": MatchToCategory}
np.random.seed(0)
generators = {}
print(json.dumps({"ready": True, "numpy": np.__version__}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    key = (request["task"], request["N_batch"])
    if key not in generators:
        task = classes[request["task"]](dt=10, tau=100, T=2000, N_batch=request["N_batch"])
        generators[key] = task.batch_generator()
    times = []
    for _ in range(request["batches"]):
        start = time.perf_counter()
        next(generators[key])
        times.append(time.perf_counter() - start)
    print(json.dumps(times), flush=True)
"""


class PsychRNNWorker:
    """A PsychRNN 1.0.0 process that times batches on request."""

    def __init__(self) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen(
            [str(psychrnn_python()), "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.info = json.loads(self.process.stdout.readline())

    def time_batches(self, task: str, n_batch: int, batches: int) -> list[float]:
        self.process.stdin.write(
            json.dumps({"task": task, "N_batch": n_batch, "batches": batches}) + "\n"
        )
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the PsychRNN worker exited; run it by hand to see its error")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def time_ours(task, rng: np.random.Generator, batches: int) -> list[float]:
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        task.generate_batch(rng)
        times.append(time.perf_counter() - start)
    return times


def summarise(seconds: list[float]) -> dict[str, float]:
    """Return min, median and max over turns of the mean time per batch, in ms."""
    milliseconds = [1000.0 * value for value in seconds]
    return {
        "min": round(min(milliseconds), 4),
        "median": round(statistics.median(milliseconds), 4),
        "max": round(max(milliseconds), 4),
        "turns": len(milliseconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="turns per side and configuration")
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[50, 256], help="N_batch values"
    )
    parser.add_argument(
        "--ours-per-round",
        type=int,
        default=None,
        help="our batches per turn (default: as long as a PsychRNN turn)",
    )
    parser.add_argument(
        "--psychrnn-per-round", type=int, default=1, help="PsychRNN batches timed per turn"
    )
    args = parser.parse_args()

    worker = PsychRNNWorker()
    results: dict[str, dict[str, dict]] = {}
    try:
        for name, cls in TASKS.items():
            results[name] = {}
            for n_batch in args.batch_sizes:
                task = cls(N_batch=n_batch, **COMMON)
                rng = np.random.default_rng(0)
                warm_ours = min(time_ours(task, rng, 3))
                warm_theirs = min(worker.time_batches(name, n_batch, 1)) * args.psychrnn_per_round
                block = args.ours_per_round or max(5, round(warm_theirs / warm_ours))
                ours: list[float] = []
                theirs: list[float] = []
                for round_index in range(args.rounds):
                    if round_index % 2 == 0:
                        ours.append(statistics.mean(time_ours(task, rng, block)))
                        theirs.append(
                            statistics.mean(
                                worker.time_batches(name, n_batch, args.psychrnn_per_round)
                            )
                        )
                    else:
                        theirs.append(
                            statistics.mean(
                                worker.time_batches(name, n_batch, args.psychrnn_per_round)
                            )
                        )
                        ours.append(statistics.mean(time_ours(task, rng, block)))
                entry = {
                    "ours_ms": summarise(ours),
                    "psychrnn_ms": summarise(theirs),
                    "ours_batches_per_turn": block,
                }
                entry["speedup"] = round(
                    entry["psychrnn_ms"]["median"] / entry["ours_ms"]["median"], 1
                )
                results[name][str(n_batch)] = entry
                print(
                    f"{name:26s} N_batch={n_batch:4d}  ours median {entry['ours_ms']['median']:8.3f} ms  "
                    f"PsychRNN median {entry['psychrnn_ms']['median']:9.2f} ms  speedup {entry['speedup']:7.1f}x",
                    flush=True,
                )
    finally:
        worker.close()

    per_task = {
        name: min(entry["speedup"] for entry in sizes.values()) for name, sizes in results.items()
    }
    summary = {
        "speedup": min(per_task.values()),
        "per_task_speedup": per_task,
        "tasks": results,
        "parameters": {**COMMON, "batch_sizes": args.batch_sizes, "rounds": args.rounds},
        "numpy": np.__version__,
        "psychrnn_numpy": worker.info.get("numpy"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
