"""Cross-check the psychrnn_compat trials against PsychRNN 1.0.0's own trial_function.

The trial variables of a batch generated here are fed to PsychRNN's ``generate_trial`` in its own
virtual environment, with the noise switched off, and the arrays must match.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from psychrnn_widgets.tasks import DelayedDiscrimination, MatchToCategory, PerceptualDiscrimination

pytestmark = pytest.mark.psychrnn

EPOCH_LENGTHS = [
    "onset_time",
    "stim_duration_1",
    "delay_duration",
    "stim_duration_2",
    "decision_duration",
]
ROOT = Path(__file__).resolve().parents[2]


def _psychrnn_env():
    spec = importlib.util.spec_from_file_location(
        "psychrnn_env", ROOT / "benchmarks" / "psychrnn_env.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not (module.ENV_DIR / ".psychrnn-ready").exists():
        pytest.skip("the PsychRNN environment is not built (run python benchmarks/psychrnn_env.py)")
    return module


SCRIPT = """
import json, sys
import numpy as np
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn.tasks.delayed_discrim import DelayedDiscrimination
from psychrnn.tasks.match_to_category import MatchToCategory
request = json.loads(sys.argv[1])
classes = {"pd": PerceptualDiscrimination, "dd": DelayedDiscrimination, "mtc": MatchToCategory}
task = classes[request["task"]](**request["kwargs"])
result = []
for params in request["trials"]:
    x, y, mask = task.generate_trial(params)
    result.append([x.tolist(), y.tolist(), mask.tolist()])
print(json.dumps(result))
"""


def _psychrnn_trials(task_key: str, kwargs: dict, trials: list[dict]) -> list:
    env = _psychrnn_env()
    return env.run_in_psychrnn(
        SCRIPT, json.dumps({"task": task_key, "kwargs": kwargs, "trials": trials}), timeout=300
    )


def _compare(batch, reference):
    for index, (x, y, mask) in enumerate(reference):
        np.testing.assert_allclose(
            batch.inputs[index], np.array(x), atol=1e-6, err_msg=f"inputs, trial {index}"
        )
        np.testing.assert_allclose(
            batch.targets[index], np.array(y), atol=1e-6, err_msg=f"targets, trial {index}"
        )
        np.testing.assert_array_equal(
            batch.mask[index], np.array(mask), err_msg=f"mask, trial {index}"
        )


def test_perceptual_matches_psychrnn():
    batch = PerceptualDiscrimination(
        N_batch=6, stim_noise=0.0, psychrnn_compat=True
    ).generate_batch(11)
    c = batch.conditions
    trials = [
        {
            "coherence": float(c["coherence"][i]),
            "direction": int(c["direction"][i]),
            "stim_noise": 0.0,
            "onset_time": float(c["onset_time"][i]),
            "stim_duration": float(c["stim_duration"][i]),
        }
        for i in range(6)
    ]
    _compare(batch, _psychrnn_trials("pd", {"dt": 10, "tau": 100, "T": 2000, "N_batch": 6}, trials))


def test_delayed_matches_psychrnn():
    batch = DelayedDiscrimination(N_batch=6, stim_noise=0.0, psychrnn_compat=True).generate_batch(
        12
    )
    c = batch.conditions
    trials = []
    for i in range(6):
        bounds = np.cumsum([c[name][i] for name in EPOCH_LENGTHS])
        trials.append(
            {
                "stimulus_1": float(bounds[0]),
                "delay": float(bounds[1]),
                "stimulus_2": float(bounds[2]),
                "decision": float(bounds[3]),
                "end": float(bounds[4]),
                "stim_noise": 0.0,
                "f1": float(c["f1"][i]),
                "f2": float(c["f2"][i]),
                "choice": int(c["choice"][i]),
            }
        )
    _compare(batch, _psychrnn_trials("dd", {"dt": 10, "tau": 100, "T": 2000, "N_batch": 6}, trials))


def test_category_matches_psychrnn():
    batch = MatchToCategory(N_batch=6, stim_noise=0.0, psychrnn_compat=True).generate_batch(13)
    c = batch.conditions
    trials = [
        {
            "angle": float(c["angle"][i]),
            "category": int(c["category"][i]),
            "onset_time": 200,
            "input_dur": 1000.0,
            "output_dur": 800.0,
            "stim_noise": 0.0,
        }
        for i in range(6)
    ]
    _compare(
        batch, _psychrnn_trials("mtc", {"dt": 10, "tau": 100, "T": 2000, "N_batch": 6}, trials)
    )
