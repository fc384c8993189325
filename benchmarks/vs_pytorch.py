"""Train the same rate RNN with this engine and with plain PyTorch, alternately, and compare speed.

The PyTorch side is written the way NeuroGym's tutorials write a continuous-time RNN: an
``nn.Module`` with ``nn.Linear`` layers and a Python loop over time steps, Adam and a (masked)
mean squared error. It implements the same equations as this engine's ``RateRNN``
(``x <- (1 - alpha) x + alpha (W_rec relu(x) + W_in u + b_rec)``, output ``W_out relu(x) + b_out``),
with per-variable gradient clipping at norm 1 as PsychRNN and this engine do.

Both sides train on batches of this package's PerceptualDiscrimination (dt 10 ms, tau 100 ms,
T 2000 ms, 200 steps, 50 trials, 50 units), generated inside their training loop, with the same
number of threads (``--threads``). Each side runs in its own child process so that thread
settings and imports stay apart; rounds alternate which side goes first. Speeds are trials per
second after a warm-up (our first compiled call, which traces and XLA-compiles the update; the
first 5 PyTorch updates).

Usage::

    python benchmarks/vs_pytorch.py            # 500 updates, 3 rounds
    python benchmarks/vs_pytorch.py --quick    # 150 updates, 2 rounds

The last line printed is one JSON object; ``ratio`` is ours over PyTorch's trials/s (median of
the per-round ratios).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, run_python, spread, utc_now  # noqa: E402

TORCH_SCRIPT = r"""
import json, sys, time
import numpy as np
import torch
from torch import nn
from psychrnn_widgets.tasks import PerceptualDiscrimination

args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
torch.set_num_interop_threads(args["threads"])
torch.manual_seed(args["seed"])


class RateRNN(nn.Module):
    def __init__(self, n_in, n_rec, n_out, alpha):
        super().__init__()
        self.alpha = alpha
        self.input2h = nn.Linear(n_in, n_rec, bias=False)
        self.h2h = nn.Linear(n_rec, n_rec)
        self.h2o = nn.Linear(n_rec, n_out)

    def forward(self, inputs):
        # inputs: (steps, batch, n_in), time-major as in NeuroGym's examples
        state = torch.zeros(inputs.shape[1], self.h2h.in_features)
        rates = []
        for t in range(inputs.shape[0]):
            state = (1 - self.alpha) * state + self.alpha * (self.h2h(torch.relu(state)) + self.input2h(inputs[t]))
            rates.append(torch.relu(state))
        rates = torch.stack(rates)
        return self.h2o(rates)


task = PerceptualDiscrimination(dt=10, tau=100, T=2000, N_batch=args["n_batch"])
rng = np.random.default_rng(args["seed"])
first = task.generate_batch(rng)
model = RateRNN(first.inputs.shape[2], args["n_rec"], first.targets.shape[2], 10 / 100)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)


def update():
    batch = task.generate_batch(rng)
    inputs = torch.from_numpy(np.ascontiguousarray(batch.inputs.transpose(1, 0, 2)))
    targets = torch.from_numpy(np.ascontiguousarray(batch.targets.transpose(1, 0, 2)))
    mask = torch.from_numpy(np.ascontiguousarray(batch.mask.transpose(1, 0, 2)))
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = torch.mean((mask * (outputs - targets)) ** 2)
    loss.backward()
    for parameter in model.parameters():
        torch.nn.utils.clip_grad_norm_([parameter], 1.0)
    optimizer.step()
    return float(loss)


warmup = 5
start = time.perf_counter()
for _ in range(warmup):
    update()
steady = time.perf_counter()
for _ in range(args["updates"] - warmup):
    loss = update()
end = time.perf_counter()
print(json.dumps({
    "trials_per_s": (args["updates"] - warmup) * args["n_batch"] / (end - steady),
    "trials_per_s_with_warmup": args["updates"] * args["n_batch"] / (end - start),
    "ms_per_update": 1000 * (end - steady) / (args["updates"] - warmup),
    "final_loss": loss,
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
}))
"""

OURS_SCRIPT = r"""
import json, sys, time
args = json.loads(sys.argv[1])
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(args["threads"])
tf.config.threading.set_inter_op_parallelism_threads(args["threads"])
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination

task = PerceptualDiscrimination(dt=10, tau=100, T=2000, N_batch=args["n_batch"])
network = build_network(NetworkConfig.for_task(task, N_rec=args["n_rec"], seed=args["seed"]))
config = TrainingConfig(learning_rate=1e-3, max_updates=args["updates"], seed=args["seed"],
                        updates_per_call=10, eval_every=100)
trainer = Trainer(network, task, config)
first = {}

def on_event(event):
    if event.kind == "progress" and not first:
        first["time"] = time.perf_counter()
        first["update"] = event.update

trainer.add_callback(on_event)
start = time.perf_counter()
trainer.run()
end = time.perf_counter()
steady = trainer.updates - first["update"]
print(json.dumps({
    "trials_per_s": steady * args["n_batch"] / (end - first["time"]),
    "trials_per_s_with_warmup": trainer.updates * args["n_batch"] / (end - start),
    "ms_per_update": 1000 * (end - first["time"]) / steady,
    "first_call_s": first["time"] - start,
    "final_loss": trainer.history.loss[-1],
    "threads": args["threads"],
}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 updates and 2 rounds")
    parser.add_argument("--updates", type=int, default=None, help="updates per run (default 500)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides")
    parser.add_argument("--n-batch", type=int, default=50)
    parser.add_argument("--n-rec", type=int, default=50)
    options = parser.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        parser.exit(2, "PyTorch is not installed in this environment; "
                       "`pip install torch==2.13.0` (the CPU build) and run again\n")
    updates = options.updates or (150 if options.quick else 500)
    rounds = options.rounds or (2 if options.quick else 3)
    env = {"OMP_NUM_THREADS": str(options.threads), "MKL_NUM_THREADS": str(options.threads)}

    ours_runs, torch_runs, ratios = [], [], []
    for round_index in range(rounds):
        arguments = json.dumps({"updates": updates, "seed": round_index, "threads": options.threads,
                                "n_batch": options.n_batch, "n_rec": options.n_rec})
        order = ("ours", "torch") if round_index % 2 == 0 else ("torch", "ours")
        results = {}
        for side in order:
            results[side] = run_python(OURS_SCRIPT if side == "ours" else TORCH_SCRIPT, arguments, env=env)
            print(f"round {round_index + 1} {side}: {json.dumps(results[side])}", file=sys.stderr, flush=True)
        ours_runs.append(results["ours"])
        torch_runs.append(results["torch"])
        ratios.append(results["ours"]["trials_per_s"] / results["torch"]["trials_per_s"])

    summary = {
        "benchmark": "vs_pytorch",
        "ratio": spread(ratios, 2)["median"],
        "ratio_spread": spread(ratios, 2),
        "ours_trials_per_s": spread([r["trials_per_s"] for r in ours_runs], 1),
        "torch_trials_per_s": spread([r["trials_per_s"] for r in torch_runs], 1),
        "ours_ms_per_update": spread([r["ms_per_update"] for r in ours_runs], 2),
        "torch_ms_per_update": spread([r["ms_per_update"] for r in torch_runs], 2),
        "ours_first_call_s": spread([r["first_call_s"] for r in ours_runs], 2),
        "ratio_with_warmup": spread([o["trials_per_s_with_warmup"] / t["trials_per_s_with_warmup"]
                                     for o, t in zip(ours_runs, torch_runs)], 2),
        "torch_version": torch_runs[0]["torch"],
        "updates": updates, "rounds": rounds, "threads": options.threads,
        "N_batch": options.n_batch, "N_rec": options.n_rec, "N_steps": 200,
        "target": "ratio >= 1", "met": spread(ratios)["median"] >= 1.0,
        "load_average_1min": machine_info()["load_average_1min"], "time": utc_now(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
