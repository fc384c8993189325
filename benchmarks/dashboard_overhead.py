"""Measure how much a live Dashboard slows training.

Trains the same network (perceptual discrimination, 50 units, same seed) headless and with a
Dashboard attached, in alternating rounds. With the dashboard every training event goes to its
buffer and the throttled updater redraws the charts and runs the held-out batch, as it does in
the browser (without a browser the widget messages are serialised and then dropped).

Prints one line per round and ends with one JSON line:
``ratio`` = attached / headless trials per second (median of the rounds), and
``chart_updates_per_s`` = updater ticks that changed a chart, per second of attached training.

Run: ``python benchmarks/dashboard_overhead.py [--updates 400] [--rounds 5]``
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
    start = time.perf_counter()
    trainer.start(max_updates=updates)
    trainer.join()
    return updates * batch / (time.perf_counter() - start)


def attached_round(dashboard: Dashboard, updates: int, batch: int) -> tuple[float, float]:
    dashboard.controls.max_updates = updates
    ticks_before = dashboard.updater.updates
    start = time.perf_counter()
    dashboard.train()
    dashboard.trainer.join()
    elapsed = time.perf_counter() - start
    chart_rate = (dashboard.updater.updates - ticks_before) / elapsed
    return updates * batch / elapsed, chart_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each kind")
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

    headless, attached, chart_rates = [], [], []
    for round_index in range(args.rounds):
        headless.append(headless_round(trainer, args.updates, batch))
        speed, chart_rate = attached_round(dashboard, args.updates, batch)
        attached.append(speed)
        chart_rates.append(chart_rate)
        print(f"round {round_index + 1}: headless {headless[-1]:.0f} trials/s, "
              f"attached {attached[-1]:.0f} trials/s, {chart_rate:.1f} chart updates/s")
    dashboard.close()

    result = {
        "benchmark": "dashboard_overhead",
        "headless_trials_per_s": round(statistics.median(headless), 1),
        "attached_trials_per_s": round(statistics.median(attached), 1),
        "ratio": round(statistics.median(attached) / statistics.median(headless), 3),
        "chart_updates_per_s": round(statistics.median(chart_rates), 2),
        "updates_per_round": args.updates,
        "rounds": args.rounds,
        "N_rec": args.N_rec,
        "N_batch": batch,
        "N_steps": task.N_steps,
        "cpus": os.cpu_count(),
        # Other processes on the machine move both numbers; the load shows how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": platform.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
