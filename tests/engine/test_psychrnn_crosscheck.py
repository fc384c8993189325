"""Cross-check against PsychRNN 1.0.0, run in its own virtual environment.

PsychRNN's Basic, BasicScan and LSTM are built from explicit weights (or, for the LSTM, their
own draws), run on the same inputs, and saved; this package must give the same outputs,
states, loss and regularisation to 1e-5 and load the saved files. PsychRNN switches
TensorFlow to graph mode on import, so it only ever runs in a subprocess.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, build_network, load_network, save_network
from psychrnn_widgets.engine.losses import compute_loss
from psychrnn_widgets.engine.regularizers import compute_regularization

pytestmark = [pytest.mark.psychrnn, pytest.mark.slow]

SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
from psychrnn.backend.models.basic import Basic, BasicScan
from psychrnn.backend.models.lstm import LSTM

MODELS = {"basic": Basic, "basicscan": BasicScan, "lstm": LSTM}
WEIGHTS = ("W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state",
           "input_connectivity", "rec_connectivity", "output_connectivity")
summary = {}
for case_path in sys.argv[1:]:
    data = dict(np.load(case_path))
    settings = json.loads(str(data["settings"]))
    params = {key: settings[key] for key in ("name", "N_in", "N_rec", "N_out", "N_steps", "dt", "N_batch",
                                             "loss_function", "L1_in", "L1_rec", "L1_out", "L2_in", "L2_rec",
                                             "L2_out", "L2_firing_rate", "autapses")}
    params["tau"] = data["tau"] if data["tau"].ndim else float(data["tau"])
    params["rec_noise"] = 0.0
    if "load_weights_path" in settings:
        params["load_weights_path"] = settings["load_weights_path"]
    elif settings["model"] != "lstm":
        params.update({key: data[key] for key in WEIGHTS})
        if settings["dale_ratio"] is not None:
            params["dale_ratio"] = settings["dale_ratio"]
    model = MODELS[settings["model"]](params)
    model.test(data["x"])  # builds and initialises
    if settings["model"] == "lstm":
        # One initial state for every trial, as this package's LSTM has.
        for variable in (model.init_hidden, model.init_cell):
            row = model.sess.run(variable)[:1]
            model.sess.run(variable.assign(np.repeat(row, settings["N_batch"], axis=0)))
    outputs, states = model.test(data["x"])
    feed = {model.x: data["x"], model.y: data["y"], model.output_mask: data["mask"]}
    loss, reg = model.sess.run([model.loss, model.reg], feed_dict=feed)
    result = case_path.replace(".npz", "-psychrnn.npz")
    np.savez(result, outputs=outputs, states=states, loss=loss, reg=reg)
    model.save(case_path.replace(".npz", "-weights"))
    model.destruct()
    summary[settings["name"]] = result
print(json.dumps(summary))
"""

REGULARIZATION = {
    "L1_in": 0.01,
    "L1_rec": 0.02,
    "L1_out": 0.03,
    "L2_in": 0.04,
    "L2_rec": 0.05,
    "L2_out": 0.06,
    "L2_firing_rate": 0.07,
}
NO_REGULARIZATION = dict.fromkeys(REGULARIZATION, 0.0)


def make_case(
    folder: Path,
    name: str,
    model: str,
    dale_ratio=None,
    loss="mean_squared_error",
    regularization=None,
    per_unit_tau=False,
):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n_in, n_rec, n_out, n_steps, n_batch = 3, 12, 2, 60, 5
    tau = np.linspace(20.0, 150.0, n_rec).astype(np.float32) if per_unit_tau else np.float32(100.0)
    settings = {
        "name": name,
        "model": model,
        "N_in": n_in,
        "N_rec": n_rec,
        "N_out": n_out,
        "N_steps": n_steps,
        "N_batch": n_batch,
        "dt": 10.0,
        "dale_ratio": dale_ratio,
        "loss_function": loss,
        "autapses": dale_ratio is None,
        **(regularization or NO_REGULARIZATION),
    }
    rec_mask = (
        (rng.random((n_rec, n_rec)) < 0.8).astype(np.float64)
        if dale_ratio is not None
        else np.ones((n_rec, n_rec))
    )
    arrays = {
        "W_in": rng.normal(size=(n_rec, n_in)) * 0.5,
        "W_rec": rng.normal(size=(n_rec, n_rec)) * 1.1 / np.sqrt(n_rec),
        "W_out": rng.normal(size=(n_out, n_rec)) * 0.5,
        "b_rec": rng.normal(size=n_rec) * 0.1,
        "b_out": rng.normal(size=n_out) * 0.1,
        "init_state": 0.1 + 0.01 * rng.normal(size=(1, n_rec)),
        "input_connectivity": np.ones((n_rec, n_in)),
        "rec_connectivity": rec_mask,
        "output_connectivity": (rng.random((n_out, n_rec)) < 0.9).astype(np.float64),
        "x": rng.normal(size=(n_batch, n_steps, n_in)).astype(np.float32),
        "y": rng.uniform(0.0, 1.0, size=(n_batch, n_steps, n_out)).astype(np.float32),
        "mask": (rng.random((n_batch, n_steps, n_out)) < 0.6).astype(np.float32),
        "tau": tau,
    }
    if loss == "binary_cross_entropy":
        # Outputs near 0.5 keep the BCE away from its clip at 1e-7 and 1 - 1e-7. At the clip,
        # log(1 - p + 1e-7) is ill-conditioned in float32: PsychRNN's graph returned a loss
        # 8e-4 (relative) away from the same formula evaluated eagerly on its own outputs.
        arrays["W_out"] *= 0.02
        arrays["b_out"] = np.full(n_out, 0.5)
    arrays = {key: value.astype(np.float32) for key, value in arrays.items()}
    path = folder / f"{name}.npz"
    np.savez(path, settings=np.array(json.dumps(settings)), **arrays)
    return path, settings, arrays


CASES = {
    "basic_plain": dict(model="basic"),
    "basic_dale_masks": dict(model="basic", dale_ratio=0.75, per_unit_tau=True),
    "basicscan_regularized": dict(model="basicscan", dale_ratio=0.5, regularization=REGULARIZATION),
    "basic_bce": dict(model="basic", loss="binary_cross_entropy"),
    "lstm": dict(model="lstm"),
}


def our_saved_case(folder: Path):
    """Save a constrained network of this package and a case that makes PsychRNN load it."""
    rng = np.random.default_rng(7)
    config = NetworkConfig(
        N_in=3,
        N_rec=10,
        N_out=2,
        dale_ratio=0.8,
        autapses=False,
        rec_connectivity=(rng.random((10, 10)) < 0.7).astype(float),
        output_connectivity=(rng.random((2, 10)) < 0.8).astype(float),
        seed=5,
    )
    network = build_network(config)
    network.set_weights({"b_rec": rng.normal(size=10) * 0.1, "b_out": rng.normal(size=2) * 0.1})
    weights = save_network(folder / "ours-weights.npz", network)
    path, settings, arrays = make_case(folder, "load_ours", model="basic", dale_ratio=0.8)
    settings.update(N_rec=10, load_weights_path=str(weights))
    np.savez(path, settings=np.array(json.dumps(settings)), **arrays)
    return network, (path, settings, arrays)


@pytest.fixture(scope="module")
def psychrnn_results(tmp_path_factory):
    from psychrnn_env import ENV_DIR, run_in_psychrnn

    if not (ENV_DIR / ".psychrnn-ready").exists():
        pytest.skip(f"PsychRNN environment not ready at {ENV_DIR}")
    folder = tmp_path_factory.mktemp("psychrnn")
    cases = {name: make_case(folder, name, **options) for name, options in CASES.items()}
    ours, cases["load_ours"] = our_saved_case(folder)
    summary = run_in_psychrnn(SCRIPT, *(str(path) for path, _, _ in cases.values()), timeout=900)
    results = {name: (cases[name], dict(np.load(summary[name]))) for name in cases}
    results["ours"] = ours
    return results


def our_rate_network(settings, arrays):
    tau = arrays["tau"] if arrays["tau"].ndim else float(arrays["tau"])
    weights = {
        key: arrays[key] for key in ("W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state")
    }
    config = NetworkConfig(
        N_in=settings["N_in"],
        N_rec=settings["N_rec"],
        N_out=settings["N_out"],
        dt=settings["dt"],
        tau=tau,
        dale_ratio=settings["dale_ratio"],
        autapses=settings["autapses"],
        dale_out_inhibitory=-1,
        input_connectivity=arrays["input_connectivity"],
        rec_connectivity=arrays["rec_connectivity"],
        output_connectivity=arrays["output_connectivity"],
        initial_weights=weights,
        seed=0,
    )
    return build_network(config)


@pytest.mark.parametrize("name", [name for name in CASES if name != "lstm"])
def test_rate_outputs_states_loss(psychrnn_results, name):
    (_path, settings, arrays), reference = psychrnn_results[name]
    network = our_rate_network(settings, arrays)
    outputs, states = network.run(arrays["x"])
    np.testing.assert_allclose(states, reference["states"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(outputs, reference["outputs"], rtol=0, atol=1e-5)
    kind = "mse" if settings["loss_function"] == "mean_squared_error" else "bce"
    loss = compute_loss(tf.constant(outputs), arrays["y"], arrays["mask"], kind).numpy()
    assert loss == pytest.approx(float(reference["loss"]), rel=1e-5)
    settings_object = type("Regularization", (), {key: settings[key] for key in REGULARIZATION})()
    reg = compute_regularization(network, tf.constant(states), settings_object).numpy()
    assert reg == pytest.approx(float(reference["reg"]), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name", [name for name in CASES if name != "lstm"])
def test_psychrnn_rate_file_loads(psychrnn_results, name):
    (path, settings, arrays), reference = psychrnn_results[name]
    tau = arrays["tau"] if arrays["tau"].ndim else float(arrays["tau"])
    network = load_network(str(path).replace(".npz", "-weights.npz"), tau=tau)
    assert network.config.dale_ratio == settings["dale_ratio"]
    if settings["dale_ratio"] is not None:
        assert network.config.dale_out_inhibitory == -1.0
    outputs, _ = network.run(arrays["x"])
    np.testing.assert_allclose(outputs, reference["outputs"], rtol=0, atol=1e-5)


def test_psychrnn_lstm_file_matches(psychrnn_results):
    (path, _settings, arrays), reference = psychrnn_results["lstm"]
    network = load_network(str(path).replace(".npz", "-weights.npz"))
    assert network.config.model == "lstm"
    outputs, states = network.run(arrays["x"])
    np.testing.assert_allclose(states, reference["states"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(outputs, reference["outputs"], rtol=0, atol=1e-5)


def test_our_file_loads_in_psychrnn(psychrnn_results):
    (_path, _settings, arrays), reference = psychrnn_results["load_ours"]
    outputs, states = psychrnn_results["ours"].run(arrays["x"])
    np.testing.assert_allclose(states, reference["states"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(outputs, reference["outputs"], rtol=0, atol=1e-5)
