"""Measure how much a live Dashboard slows training.

Trains the same network (perceptual discrimination, 50 units, same seed) headless and with a
Dashboard attached, in alternating rounds. With the dashboard every training event goes to its
buffer and the throttled updater redraws the charts and runs the held-out batch, as it does in
the browser (without a browser the widget messages are serialised and then dropped).

Each round trains both ways back to back, in alternating order. ``ratio`` is the median
attached speed over the median headless speed; the spread of the per-round ratios is reported
too. The updater's own time is reported as well, because it depends less on what else runs on
the machine: its thread's CPU time (a lower bound of its cost) and the wall time of its ticks
(an upper bound).

Prints one line per round and ends with one JSON line holding ``ratio`` and
``chart_updates_per_s`` (updater ticks that changed a chart, per second of attached training).

Run: ``python benchmarks/dashboard_overhead.py [--updates 300] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network  # noqa: E402
from psychrnn_widgets.tasks import PerceptualDiscrimination  # noqa: E402
from psychrnn_widgets.widgets.dashboard import Dashboard  # noqa: E402


def headless_round(trainer: Trainer, updates: int, batch: int) -> float:
    """Train ``updates`` updates in the trainer's thread; return trials per second."""
    start = time.perf_counter()
    trainer.start(max_updates=updates)
    trainer.join()
    return updates * batch / (time.perf_counter() - start)


def attached_round(dashboard: Dashboard, updates: int, batch: int) -> dict[str, float]:
    """Train through the dashboard; return trials/s, chart updates/s and updater CPU share."""
    dashboard.controls.max_updates = updates
    ticks_before = dashboard.updater.updates
    cpu_before = dashboard.updater.cpu_seconds
    busy_before = dashboard.updater.busy_seconds
    start = time.perf_counter()
    dashboard.train()
    dashboard.trainer.join()
    elapsed = time.perf_counter() - start
    return {
        "trials_per_s": updates * batch / elapsed,
        "chart_updates_per_s": (dashboard.updater.updates - ticks_before) / elapsed,
        "updater_cpu_share": (dashboard.updater.cpu_seconds - cpu_before) / elapsed,
        "updater_busy_share": (dashboard.updater.busy_seconds - busy_before) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300, help="updates per run")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (one run of each kind)")
    parser.add_argument("--N-rec", type=int, default=50, help="recurrent units")
    args = parser.parse_args()

    task = PerceptualDiscrimination()
    config = NetworkConfig.for_task(task, N_rec=args.N_rec, seed=7)
    batch = task.N_batch

    trainer = Trainer(build_network(config), task, TrainingConfig(seed=7))
    dashboard = Dashboard(task, config, max_updates=args.updates)
    # Warm up both: the first run of each traces and compiles the update.
    headless_round(trainer, 5, batch)
    attached_round(dashboard, 5, batch)

    ratios, headless, attached, chart_rates, cpu_shares, busy_shares = [], [], [], [], [], []
    for round_index in range(args.rounds):
        if round_index % 2 == 0:
            speed = headless_round(trainer, args.updates, batch)
            result = attached_round(dashboard, args.updates, batch)
        else:
            result = attached_round(dashboard, args.updates, batch)
            speed = headless_round(trainer, args.updates, batch)
        headless.append(speed)
        attached.append(result["trials_per_s"])
        ratios.append(result["trials_per_s"] / speed)
        chart_rates.append(result["chart_updates_per_s"])
        cpu_shares.append(result["updater_cpu_share"])
        busy_shares.append(result["updater_busy_share"])
        print(f"round {round_index + 1}: headless {speed:.0f} trials/s, attached "
              f"{result['trials_per_s']:.0f} trials/s (ratio {ratios[-1]:.2f}), "
              f"{chart_rates[-1]:.1f} chart updates/s, updater CPU {cpu_shares[-1]:.1%}, "
              f"busy {busy_shares[-1]:.1%}")
    dashboard.close()

    summary = {
        "benchmark": "dashboard_overhead",
        "ratio": round(statistics.median(attached) / statistics.median(headless), 3),
        "chart_updates_per_s": round(statistics.median(chart_rates), 2),
        "headless_trials_per_s": round(statistics.median(headless), 1),
        "attached_trials_per_s": round(statistics.median(attached), 1),
        "ratio_of_rounds_median": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "updater_cpu_share": round(statistics.median(cpu_shares), 4),
        "updater_busy_share": round(statistics.median(busy_shares), 4),
        "updates_per_run": args.updates,
        "rounds": args.rounds,
        "N_rec": args.N_rec,
        "N_batch": batch,
        "N_steps": task.N_steps,
        "cpus": os.cpu_count(),
        # Other processes on the machine move both speeds; the load shows how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": platform.machine(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
