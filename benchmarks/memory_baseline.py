"""Measure the resident memory of a plain Python process at each stage of a training run.

Stages: start, after importing TensorFlow, after building the network, after 1000 updates of
PerceptualDiscrimination (N_rec 50, N_batch 50, 200 steps), and the peak. Each setting of XLA
runs in its own child process. It shows where the memory of a dashboard kernel comes from.

Usage::

    python benchmarks/memory_baseline.py

The last line printed is one JSON object with the stages in MB for XLA on and off.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_python, utc_now  # noqa: E402

STAGES = r"""
import json, resource, sys
from pathlib import Path


def rss_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024


stages = {"start": rss_mb()}
import tensorflow as tf
stages["tensorflow_imported"] = rss_mb()
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination
task = PerceptualDiscrimination(N_batch=50)
network = build_network(NetworkConfig.for_task(task, N_rec=50, seed=0))
stages["network_built"] = rss_mb()
config = TrainingConfig(seed=0, updates_per_call=10, max_updates=1000)
Trainer(network, task, config, jit_compile=sys.argv[1] == "on").run()
stages["trained_1000"] = rss_mb()
stages["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({name: round(value, 1) for name, value in stages.items()}))
"""


def main() -> int:
    result = {"benchmark": "memory_baseline", "time": utc_now()}
    for jit in ("on", "off"):
        result[f"xla_{jit}"] = run_python(STAGES, jit)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
