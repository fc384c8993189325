"""Time per update of the rate RNN as N_rec, N_steps and N_batch grow, against a GEMM roofline.

For each shape (one size changed at a time from N_rec 50, N_steps 200, N_batch 50) the script
trains PerceptualDiscrimination (dt 10 ms, T = 10 ms x N_steps) with the Trainer's defaults
(XLA, updates_per_call 10) and times the updates after the first compiled call, in 3 blocks (the
best block counts, the median is reported too). Right after each shape it times a chain of
N_steps dependent ``tf.linalg.matmul`` calls of the recurrent shape, (N_batch x N_rec) @
(N_rec x N_rec), compiled with XLA the same way. At the end it times one large square GEMM for
the machine's peak matmul throughput.

Matmul work per update, counted analytically (N_in inputs, N_out outputs; a multiply-add is 2
floating-point operations)::

    forward   per step  2 B (N^2 + N N_in + N N_out)
    backward  per step  2 B (2 N^2 + N N_in + 2 N N_out)   # input and weight gradients,
                                                           # no gradient for the task inputs
    update    FLOPs = 2 B T (3 N^2 + 2 N N_in + 3 N N_out)

``matmul_share`` = FLOPs / (GEMM-chain FLOP/s) / (time per update): the part of an update that
matmuls at the rate the machine reaches for that shape would take; the rest goes to element-wise
work, the time loop, the optimiser and batch generation. ``peak_share`` uses the large GEMM.

Usage::

    python benchmarks/scaling.py            # 10 shapes, 120 timed updates each
    python benchmarks/scaling.py --quick    # 7 shapes, 30 timed updates each

The last line printed is one JSON object with one row per shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, run_python, utc_now  # noqa: E402

BASE = {"N_rec": 50, "N_steps": 200, "N_batch": 50}
FULL = {"N_rec": [100, 200, 400], "N_steps": [100, 500, 1000], "N_batch": [16, 128, 256]}
QUICK = {"N_rec": [200, 400], "N_steps": [500, 1000], "N_batch": [16, 256]}

WORKER = r"""
import json, sys, time
import numpy as np
import tensorflow as tf
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination

args = json.loads(sys.argv[1])


def time_updates(shape):
    task = PerceptualDiscrimination(dt=10, tau=100, T=10.0 * shape["N_steps"], N_batch=shape["N_batch"])
    network = build_network(NetworkConfig.for_task(task, N_rec=shape["N_rec"], seed=0))
    trainer = Trainer(network, task, TrainingConfig(seed=0, updates_per_call=10, eval_every=10**6))
    trainer.run(max_updates=10)  # traces and compiles the update
    # Best and median of 3 blocks, because other work on the machine slows some blocks down.
    per_block = max(10, args["updates"] // 3)
    blocks = []
    for _ in range(3):
        start = time.perf_counter()
        trainer.run(max_updates=per_block)
        blocks.append((time.perf_counter() - start) / per_block)
    return min(blocks), float(np.median(blocks)), network.config.N_in, network.config.N_out


def gemm_chain_seconds(batch, n, steps, repeats=3):
    # Dependent products, like the recurrence: each step needs the previous one.
    weights = tf.random.normal((n, n), stddev=1.0 / np.sqrt(n))
    start_state = tf.random.normal((batch, n))

    @tf.function(jit_compile=True)
    def chain(state):
        for_loop = tf.while_loop(lambda i, s: i < steps, lambda i, s: (i + 1, tf.linalg.matmul(s, weights)),
                                 (tf.constant(0), state))
        return for_loop[1]

    chain(start_state).numpy()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        chain(start_state).numpy()
        best = min(best, time.perf_counter() - t)
    return best


def peak_gflops(size=1024, repeats=5):
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda: tf.linalg.matmul(a, b), jit_compile=True)
    product().numpy()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best / 1e9


rows = []
for shape in args["shapes"]:
    seconds, median_seconds, n_in, n_out = time_updates(shape)
    b, n, steps = shape["N_batch"], shape["N_rec"], shape["N_steps"]
    flops = 2 * b * steps * (3 * n * n + 2 * n * n_in + 3 * n * n_out)
    chain_s = gemm_chain_seconds(b, n, steps)
    chain_gflops = 2 * b * n * n * steps / chain_s / 1e9
    rows.append({**shape, "ms_per_update": round(1000 * seconds, 3),
                 "ms_per_update_median": round(1000 * median_seconds, 3), "mflop_per_update": round(flops / 1e6, 2),
                 "gflops": round(flops / seconds / 1e9, 3), "gemm_chain_gflops": round(chain_gflops, 3),
                 "matmul_share": round(flops / (chain_gflops * 1e9) / seconds, 3)})
    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
peak = peak_gflops()
for row in rows:
    row["peak_share"] = round(row["gflops"] / peak, 4)
print(json.dumps({"rows": rows, "peak_gflops": round(peak, 2)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 shapes, 30 timed updates each")
    parser.add_argument("--updates", type=int, default=None, help="timed updates per shape, in 3 blocks (default 120)")
    options = parser.parse_args(argv)
    axes = QUICK if options.quick else FULL
    updates = options.updates or (30 if options.quick else 120)
    shapes = [dict(BASE)] + [{**BASE, axis: value} for axis, values in axes.items() for value in values]
    result = run_python(WORKER, json.dumps({"shapes": shapes, "updates": updates}), timeout=3600)
    summary = {"benchmark": "scaling", **result, "updates_per_shape": updates,
               "load_average_1min": machine_info()["load_average_1min"], "time": utc_now()}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
