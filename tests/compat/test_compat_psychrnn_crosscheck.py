"""Cross-check the compat models against PsychRNN 1.0.0 run in its own virtual environment.

The compat layer writes a weight file and a set of batches. PsychRNN loads that file, runs
``test``, evaluates the loss and trains on the same batches, and the compat model does the same.
Outputs, states, losses and trained weights must agree to 1e-5. PsychRNN's saved file must also
load back into the compat layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from compat_helpers import small_params

from psychrnn_widgets.compat.backend.models.basic import Basic, BasicScan
from psychrnn_widgets.compat.backend.models.lstm import LSTM

pytestmark = [pytest.mark.psychrnn, pytest.mark.slow]

UPDATES = 3
TOLERANCE = 1e-5
MODELS = {"basic": Basic, "basic_scan": BasicScan, "lstm": LSTM}
LSTM_NAMES = ("init_hidden", "init_cell", "W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")
# Regularisation keys also go to PsychRNN, so its penalties are checked too.
REGULARIZATION = {"L1_in": 0.01, "L2_rec": 0.02, "L1_out": 0.01, "L2_firing_rate": 0.01}


def _batches(rng: np.random.Generator, params: dict) -> dict[str, np.ndarray]:
    shape = (UPDATES, params["N_batch"], params["N_steps"])
    return {
        "x": rng.normal(0.5, 0.5, shape + (params["N_in"],)).astype(np.float32),
        "y": rng.uniform(0.0, 1.0, shape + (params["N_out"],)).astype(np.float32),
        "mask": (rng.uniform(size=shape + (params["N_out"],)) < 0.7).astype(np.float32),
    }


def _build(kind: str, params: dict, rng: np.random.Generator):
    np.random.seed(int(rng.integers(1 << 31)))
    model = MODELS[kind](dict(params))
    # Non-zero biases so that the bias terms are exercised.
    model.b_rec.assign(rng.normal(0, 0.1, params["N_rec"]).astype(np.float32))
    model.b_out.assign(rng.normal(0, 0.1, params["N_out"]).astype(np.float32))
    if kind == "lstm":
        for name in LSTM_NAMES:
            variable = getattr(model, name)
            variable.assign(rng.normal(0, 0.3, variable.shape).astype(np.float32))
    return model


def _compat_train(model, batches: dict[str, np.ndarray]) -> list[float]:
    def generator():
        yield batches["x"][0], batches["y"][0], batches["mask"][0], None
        for index in range(UPDATES):
            yield batches["x"][index], batches["y"][index], batches["mask"][index], None

    batch = batches["x"].shape[1]
    losses, _, _ = model.train(
        generator(), {"training_iters": UPDATES * batch, "loss_epoch": 1, "verbosity": False}
    )
    return losses


CASES = [
    ("basic", {}),
    ("basic", {"dale_ratio": 0.8, "autapses": False}),
    ("basic_scan", {"dale_ratio": 0.6}),
    ("lstm", {}),
]


@pytest.mark.parametrize(
    ("kind", "extra"), CASES, ids=[f"{kind}-{sorted(extra)}" for kind, extra in CASES]
)
def test_matches_psychrnn(kind, extra, tmp_path, run_psychrnn):
    rng = np.random.default_rng(7)
    params = small_params(name=f"compat_{kind}", **REGULARIZATION)
    if "dale_ratio" in extra:
        mask = (rng.uniform(size=(params["N_rec"], params["N_rec"])) < 0.7).astype(np.float64)
        extra = {**extra, "rec_connectivity": mask}
    model = _build(kind, {**params, **extra}, rng)
    weights_path = tmp_path / "compat_weights.npz"
    model.save(weights_path)
    batches = _batches(rng, params)
    np.savez(tmp_path / "batches.npz", **batches)

    json_params = {key: value for key, value in params.items()}
    reply = run_psychrnn(
        {
            "model": kind,
            "params": json_params,
            "weights": str(weights_path),
            "batches": str(tmp_path / "batches.npz"),
            "updates": UPDATES,
            "out": str(tmp_path),
        }
    )
    reference = dict(np.load(reply["result"]))

    # The compat model reloads its own file, exactly as PsychRNN did.
    loaded = MODELS[kind]({**params, "load_weights_path": str(weights_path)})
    outputs, states = loaded.test(batches["x"][0])
    np.testing.assert_allclose(outputs, reference["outputs"], atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(states, reference["states"], atol=TOLERANCE, rtol=0)

    loss = loaded.get_loss(batches["x"][0], batches["y"][0], batches["mask"][0])
    assert abs(loss - float(reference["loss"])) < TOLERANCE

    losses = _compat_train(loaded, batches)
    np.testing.assert_allclose(losses, reference["losses"], atol=TOLERANCE, rtol=0)
    trained_outputs, _ = loaded.test(batches["x"][0])
    np.testing.assert_allclose(
        trained_outputs, reference["trained_outputs"], atol=TOLERANCE, rtol=0
    )
    ours = loaded.get_weights()
    reference_keys = {key[len("weight:") :] for key in reference if key.startswith("weight:")}
    assert set(ours) - {"dale_ratio", "transfer_function"} == reference_keys
    for key, value in reference.items():
        if key.startswith("weight:"):
            name = key[len("weight:") :]
            assert name in ours, f"PsychRNN has weight {name!r}, the compat model does not"
            np.testing.assert_allclose(ours[name], value, atol=TOLERANCE, rtol=0, err_msg=name)

    # PsychRNN's trained file (with Adam slots and, without Dale's law, a pickled None) loads here.
    reloaded = MODELS[kind]({**params, "load_weights_path": reply["saved"]})
    reloaded_outputs, _ = reloaded.test(batches["x"][0])
    np.testing.assert_allclose(
        reloaded_outputs, reference["trained_outputs"], atol=TOLERANCE, rtol=0
    )
    assert reloaded.dale_ratio == extra.get("dale_ratio")
