"""Train PsychRNN 1.0.0 and this engine on the same task and compare speed, accuracy and memory.

Reference configuration: PerceptualDiscrimination with dt 10 ms, tau 100 ms, T 2000 ms
(200 steps), 50 trials per batch, 50 recurrent units, Adam with learning rate 1e-3 and
per-variable clipping at norm 1, 1000 updates. PsychRNN 1.0.0 stops one update early, so it gets
``training_iters = 50 * 1001``.

Both LSTMs compute the same equations: PsychRNN's hidden state is ``o sigmoid(c)``, so ours runs
with ``lstm_hidden_activation="sigmoid"`` unless ``--lstm-hidden-activation tanh`` asks for our
default. ``--rec-noise`` gives both rate RNNs recurrent noise, which the reference configuration
does not have.

Every run is a fresh child process, because PsychRNN switches its process to TensorFlow 1 graph
mode and peak memory must be measured per run. The two libraries alternate so that load from
other programs on the machine hits both alike. Each library generates its own batches inside its
training loop, so trial generation is part of both timings.

Timing: PsychRNN's ``train()`` reports the time of its loop, after the graph and the optimiser
are built. Ours is the time of ``Trainer.run()`` after the first compiled call, which traces and
XLA-compiles the update (the analogue of building the graph); the compile time and the speed
including it are reported too.

Usage::

    python benchmarks/engine_vs_psychrnn.py            # 1000 updates, 2 rounds
    python benchmarks/engine_vs_psychrnn.py --quick    # 100 updates, 1 round

The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from psychrnn_env import run_in_psychrnn  # noqa: E402

N_BATCH = 50
N_REC = 50
EVAL_BATCHES = 10

PSYCHRNN_SCRIPT = r"""
import json, resource, sys, time
import numpy as np
import tensorflow as tf
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn.backend.models.basic import Basic
from psychrnn.backend.models.lstm import LSTM

args = json.loads(sys.argv[1])
np.random.seed(args["seed"])
tf.compat.v1.set_random_seed(args["seed"])
task = PerceptualDiscrimination(dt=10, tau=100, T=2000, N_batch=args["n_batch"])
params = task.get_task_params()
params["name"] = "bench"
params["N_rec"] = args["n_rec"]
params["rec_noise"] = args["rec_noise"]
model = (LSTM if args["model"] == "lstm" else Basic)(params)
model.build()
# 1.0.0 stops one update early: epoch * N_batch < training_iters.
train_params = {"learning_rate": 1e-3, "training_iters": args["n_batch"] * (args["updates"] + 1),
                "verbosity": False}
losses, training_time, initialization_time = model.train(task, train_params)
correct = 0.0
generator = task.batch_generator()
for _ in range(args["eval_batches"]):
    x, y, mask, _ = next(generator)
    outputs, _ = model.test(x)
    correct += task.accuracy_function(y, outputs, mask)
print(json.dumps({
    "updates": args["updates"],
    "loop_s": training_time,
    "setup_s": initialization_time,
    "trials_per_s": args["updates"] * args["n_batch"] / training_time,
    "accuracy": correct / args["eval_batches"],
    "final_loss": float(losses[-1]) if losses else None,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

OURS_SCRIPT = r"""
import json, resource, sys, time
import numpy as np
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination

args = json.loads(sys.argv[1])
task = PerceptualDiscrimination(dt=10, tau=100, T=2000, N_batch=args["n_batch"])
extra = {"rec_noise": args["rec_noise"]} if args["model"] == "rate" else {}
if args["model"] == "lstm":
    extra["lstm_hidden_activation"] = args["lstm_hidden_activation"]
network = build_network(NetworkConfig.for_task(task, N_rec=args["n_rec"], model=args["model"],
                                               seed=args["seed"], **extra))
config = TrainingConfig(learning_rate=1e-3, max_updates=args["updates"], seed=args["seed"],
                        updates_per_call=args["updates_per_call"], eval_every=100)
trainer = Trainer(network, task, config, jit_compile=args["jit_compile"],
                  batch_shards=args["batch_shards"])
first = {}

def on_event(event):
    if event.kind == "progress" and not first:
        first["time"] = time.perf_counter()
        first["update"] = event.update

trainer.add_callback(on_event)
start = time.perf_counter()
trainer.run()
end = time.perf_counter()
correct = 0.0
for i in range(args["eval_batches"]):
    batch = task.generate_batch(10**6 + 1000 * args["seed"] + i)
    outputs, _ = network.run(batch.inputs)
    correct += task.accuracy(outputs, batch)
steady_updates = trainer.updates - first["update"]
print(json.dumps({
    "updates": trainer.updates,
    "state": trainer.state,
    "loop_s": end - first["time"],
    "first_call_s": first["time"] - start,
    "trials_per_s": steady_updates * args["n_batch"] / (end - first["time"]),
    "trials_per_s_with_compile": trainer.updates * args["n_batch"] / (end - start),
    "accuracy": correct / args["eval_batches"],
    "final_loss": trainer.history.loss[-1],
    "tracing_count": trainer.tracing_count,
    "jit_compile": trainer.jit_compile,
    "batch_shards": trainer.active_batch_shards,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_ours(arguments: dict) -> dict:
    """Run one training of this engine in a child process and return its JSON result."""
    result = subprocess.run(
        [sys.executable, "-c", OURS_SCRIPT, json.dumps(arguments)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"engine run failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.strip()][-1])


def summarise(runs: list[dict]) -> dict:
    """Median speed, mean accuracy and largest peak RSS over repeated runs."""
    summary = {
        "trials_per_s": statistics.median(r["trials_per_s"] for r in runs),
        "accuracy": statistics.fmean(r["accuracy"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }
    if "trials_per_s_with_compile" in runs[0]:
        summary["trials_per_s_with_compile"] = statistics.median(r["trials_per_s_with_compile"] for r in runs)
        summary["first_call_s"] = statistics.median(r["first_call_s"] for r in runs)
    return summary


def batch_shards_option(text: str) -> int | str:
    """Return ``"auto"`` or a positive integer parsed from the --batch-shards option."""
    if text == "auto":
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f'must be "auto" or an integer >= 1 (got {text!r})')


def noise_option(text: str) -> float:
    """Return the --rec-noise value, a finite number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0 (got {text!r})")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 updates and 1 round instead of 1000 and 2")
    parser.add_argument("--updates", type=int, default=None, help="updates per training run")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds of every run")
    parser.add_argument("--models", default="rate,lstm,gru", help="comma-separated: rate, lstm, gru")
    parser.add_argument("--updates-per-call", type=int, default=10, help="TrainingConfig.updates_per_call")
    parser.add_argument("--jit", choices=("on", "off"), default="on",
                        help="XLA compilation of the update (the Trainer's default is on)")
    parser.add_argument("--batch-shards", type=batch_shards_option, default="auto",
                        help='Trainer batch_shards: "auto" (the default) or a number of batch parts')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rec-noise", type=noise_option, default=0.0,
                        help="recurrent noise of both rate RNNs (the reference configuration has none)")
    parser.add_argument("--lstm-hidden-activation", choices=("sigmoid", "tanh"), default="sigmoid",
                        help="our LSTM's h = o f(c); sigmoid is PsychRNN's LSTM, tanh our default")
    options = parser.parse_args(argv)
    updates = options.updates or (100 if options.quick else 1000)
    rounds = options.rounds or (1 if options.quick else 2)
    models = [m.strip() for m in options.models.split(",") if m.strip()]

    results: dict[str, dict[str, list[dict]]] = {m: {"psychrnn": [], "ours": []} for m in models}
    for round_index in range(rounds):
        for model in models:
            common = {"updates": updates, "seed": options.seed + round_index, "n_batch": N_BATCH,
                      "n_rec": N_REC, "eval_batches": EVAL_BATCHES, "rec_noise": options.rec_noise}
            if model != "gru":
                reference = run_in_psychrnn(PSYCHRNN_SCRIPT, json.dumps({**common, "model": model}), timeout=7200)
                results[model]["psychrnn"].append(reference)
                print(f"round {round_index + 1} psychrnn {model}: {json.dumps(reference)}", file=sys.stderr, flush=True)
            ours = run_ours({**common, "model": model, "updates_per_call": options.updates_per_call,
                             "jit_compile": options.jit == "on", "batch_shards": options.batch_shards,
                             "lstm_hidden_activation": options.lstm_hidden_activation})
            results[model]["ours"].append(ours)
            print(f"round {round_index + 1} ours {model}: {json.dumps(ours)}", file=sys.stderr, flush=True)

    summary: dict[str, object] = {"updates": updates, "rounds": rounds, "updates_per_call": options.updates_per_call,
                                  "jit": options.jit, "batch_shards": options.batch_shards,
                                  "rec_noise": options.rec_noise, "lstm_hidden_activation": options.lstm_hidden_activation,
                                  "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    prefixes = {"rate": "", "lstm": "lstm_", "gru": "gru_"}
    for model in models:
        ours = summarise(results[model]["ours"])
        prefix = prefixes[model]
        summary[f"{prefix}ours_trials_per_s"] = round(ours["trials_per_s"], 1)
        summary[f"{prefix}ours_trials_per_s_with_compile"] = round(ours["trials_per_s_with_compile"], 1)
        summary[f"{prefix}ours_first_call_s"] = round(ours["first_call_s"], 2)
        summary[f"{prefix}ours_batch_shards"] = results[model]["ours"][0]["batch_shards"]
        summary[f"{prefix}ours_accuracy"] = round(ours["accuracy"], 4)
        summary[f"{prefix}ours_peak_rss_mb"] = round(ours["peak_rss_mb"], 1)
        # PsychRNN has no GRU, so the GRU is compared with PsychRNN's LSTM.
        reference_model = "lstm" if model == "gru" else model
        if results[reference_model]["psychrnn"]:
            reference = summarise(results[reference_model]["psychrnn"])
            summary[f"{prefix}psychrnn_trials_per_s"] = round(reference["trials_per_s"], 1)
            summary[f"{prefix}psychrnn_accuracy"] = round(reference["accuracy"], 4)
            summary[f"{prefix}psychrnn_peak_rss_mb"] = round(reference["peak_rss_mb"], 1)
            summary[f"{prefix}speedup"] = round(ours["trials_per_s"] / reference["trials_per_s"], 2)
            summary[f"{prefix}speedup_with_compile"] = round(
                ours["trials_per_s_with_compile"] / reference["trials_per_s"], 2
            )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
