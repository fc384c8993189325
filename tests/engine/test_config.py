"""NetworkConfig validation, normalisation and JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from psychrnn_widgets.engine.config import NetworkConfig, variable_shapes
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

BASE = {"N_in": 2, "N_rec": 5, "N_out": 3}

BAD_VALUES = [
    ({"N_in": 0}, InvalidParameterError, "N_in must be larger than 0 (got N_in=0)"),
    ({"N_rec": -4}, InvalidParameterError, "N_rec must be larger than 0 (got N_rec=-4)"),
    ({"N_out": 2.5}, InvalidParameterError, "N_out must be an integer larger than 0 (got 2.5)"),
    ({"N_rec": True}, InvalidParameterError, "N_rec must be an integer larger than 0 (got True)"),
    ({"dt": 0}, InvalidParameterError, "dt must be larger than 0 (got dt=0 ms)"),
    ({"dt": float("nan")}, InvalidParameterError, "dt must be finite (got dt=nan)"),
    ({"tau": -5}, InvalidParameterError, "tau must be larger than 0 (got tau=-5 ms)"),
    (
        {"tau": 5},
        InvalidParameterError,
        "tau must be at least dt, so that alpha = dt/tau <= 1 (got tau=5 ms, dt=10 ms)",
    ),
    (
        {"tau": np.array([100.0, 50, 0, 20, 30])},
        InvalidParameterError,
        "tau must be larger than 0 for every unit (got minimum tau=0 ms)",
    ),
    ({"tau": np.ones(4) * 100}, ShapeMismatchError, "tau must have shape (5,) (got shape (4,))"),
    ({"tau": "100"}, InvalidParameterError, "tau must be a number (got '100')"),
    (
        {"rec_noise": -0.1},
        InvalidParameterError,
        "rec_noise must be at least 0 (got rec_noise=-0.1)",
    ),
    (
        {"dale_ratio": 1.5},
        InvalidParameterError,
        "dale_ratio must be in [0, 1] or None (got dale_ratio=1.5)",
    ),
    (
        {"dale_ratio": -0.2},
        InvalidParameterError,
        "dale_ratio must be in [0, 1] or None (got dale_ratio=-0.2)",
    ),
    ({"transfer_function": "rleu"}, InvalidParameterError, "did you mean 'relu'?"),
    (
        {"transfer_function": 3},
        InvalidParameterError,
        "transfer_function must be a name such as 'relu' or a callable (got int 3)",
    ),
    ({"autapses": "no"}, InvalidParameterError, "autapses must be True or False (got 'no')"),
    ({"W_rec_train": 1}, InvalidParameterError, "W_rec_train must be True or False (got 1)"),
    (
        {"rec_connectivity": np.ones((5, 4))},
        ShapeMismatchError,
        "rec_connectivity must have shape (5, 5) (got shape (5, 4))",
    ),
    (
        {"input_connectivity": np.ones((2, 5))},
        ShapeMismatchError,
        "input_connectivity must have shape (5, 2) (got shape (2, 5))",
    ),
    (
        {"output_connectivity": -np.ones((3, 5))},
        InvalidParameterError,
        "output_connectivity must not contain negative values (got minimum -1)",
    ),
    (
        {"rec_connectivity": np.full((5, 5), np.nan)},
        InvalidParameterError,
        "rec_connectivity must contain only finite values",
    ),
    (
        {"rec_connectivity": np.full((5, 5), "a")},
        InvalidParameterError,
        "rec_connectivity must be a real numeric array (got dtype <U1)",
    ),
    ({"initializer": "spectral"}, InvalidParameterError, "did you mean 'spectral_radius'?"),
    ({"spec_rad": 0}, InvalidParameterError, "spec_rad must be larger than 0 (got spec_rad=0)"),
    ({"model": "lstn"}, InvalidParameterError, "did you mean 'lstm'?"),
    ({"seed": -1}, InvalidParameterError, "seed must be None or an integer >= 0 (got -1)"),
    (
        {"dtype": "float16"},
        InvalidParameterError,
        "dtype must be one of 'float32', 'float64' (got 'float16')",
    ),
    (
        {"dale_out_inhibitory": 0.5},
        InvalidParameterError,
        "dale_out_inhibitory must be 0 or -1 (got 0.5)",
    ),
    (
        {"model": "lstm", "dale_ratio": 0.8},
        InvalidParameterError,
        "dale_ratio applies only to model='rate' (got model='lstm')",
    ),
    (
        {"initial_weights": {"W_rc": np.zeros((5, 5))}},
        InvalidParameterError,
        "did you mean 'W_rec'?",
    ),
    (
        {"initial_weights": {"W_rec": np.zeros((4, 5))}},
        ShapeMismatchError,
        "initial_weights['W_rec'] must have shape (5, 5) (got shape (4, 5))",
    ),
    (
        {"initial_weights": 7},
        InvalidParameterError,
        "initial_weights must be a dict of arrays or a file path (got int)",
    ),
]


@pytest.mark.parametrize(("changes", "error", "message"), BAD_VALUES)
def test_bad_value_rejected(changes, error, message):
    with pytest.raises(error) as caught:
        NetworkConfig(**{**BASE, **changes})
    assert message in str(caught.value)
    assert caught.value.field.split("[")[0] in changes


def test_error_is_value_error():
    with pytest.raises(ValueError):
        NetworkConfig(N_in=1, N_rec=0, N_out=1)


def test_defaults():
    config = NetworkConfig(**BASE)
    assert config.dt == 10.0
    assert config.tau == 100.0
    assert config.alpha == 0.1
    assert config.transfer_function == "relu"
    assert config.spec_rad == 1.1
    assert config.initializer == "spectral_radius"
    assert config.n_excitatory == 5


def test_tensorflow_callable_becomes_name():
    import tensorflow as tf

    assert NetworkConfig(**BASE, transfer_function=tf.nn.tanh).transfer_function == "tanh"


def test_autapses_leave_caller_mask():
    mask = np.ones((5, 5))
    config = NetworkConfig(**BASE, rec_connectivity=mask, autapses=False)
    assert np.array_equal(mask, np.ones((5, 5)))
    assert np.array_equal(np.diag(config.masks()["rec_connectivity"]), np.zeros(5))
    assert config.masks()["rec_connectivity"].sum() == 20


def test_dale_vectors():
    config = NetworkConfig(N_in=1, N_rec=5, N_out=1, dale_ratio=0.8)
    d_rec, d_out = config.dale_vectors()
    assert d_rec.tolist() == [1, 1, 1, 1, -1]
    assert d_out.tolist() == [1, 1, 1, 1, 0]
    old = config.replace(dale_out_inhibitory=-1)
    assert old.dale_vectors()[1].tolist() == [1, 1, 1, 1, -1]


def test_per_unit_tau_alpha():
    config = NetworkConfig(**BASE, tau=[10, 20, 40, 50, 100])
    assert config.alpha.tolist() == [1.0, 0.5, 0.25, 0.2, 0.1]


def test_json_round_trip():
    config = NetworkConfig(
        **BASE,
        tau=np.array([100.0, 50, 20, 30, 40]),
        dale_ratio=0.6,
        rec_connectivity=np.eye(5),
        seed=11,
        initial_weights={"b_rec": np.arange(5.0)},
    )
    text = json.dumps(config.to_dict())
    again = NetworkConfig.from_dict(json.loads(text))
    assert again == config
    assert np.array_equal(again.rec_connectivity, np.eye(5))
    assert np.array_equal(again.initial_weights["b_rec"], np.arange(5.0))


def test_unknown_key_hint():
    with pytest.raises(InvalidParameterError, match="did you mean 'rec_noise'"):
        NetworkConfig.from_dict({**BASE, "rec_nosie": 0.1})
    with pytest.raises(
        InvalidParameterError,
        match="NetworkConfig has no field 'dale_ration'; did you mean 'dale_ratio'",
    ):
        NetworkConfig(**BASE, dale_ration=0.8)
    with pytest.raises(InvalidParameterError, match="did you mean 'spec_rad'"):
        NetworkConfig(**BASE).replace(spec_radius=1.0)


class FakeTask:
    N_in = 4
    N_out = 3
    dt = 20.0
    tau = 200.0


def test_for_task():
    config = NetworkConfig.for_task(FakeTask(), N_rec=8)
    assert (config.N_in, config.N_rec, config.N_out, config.dt, config.tau) == (
        4,
        8,
        3,
        20.0,
        200.0,
    )


def test_variable_shapes_per_model():
    assert variable_shapes(NetworkConfig(**BASE))["W_rec"] == (5, 5)
    lstm = variable_shapes(NetworkConfig(**BASE, model="lstm"))
    assert lstm["W_f"] == (7, 5)
    assert lstm["init_cell"] == (1, 5)
    gru = variable_shapes(NetworkConfig(**BASE, model="gru"))
    assert sorted(gru) == ["W_h", "W_out", "W_r", "W_z", "b_h", "b_out", "b_r", "b_z", "init_state"]


def test_init_state_vector_accepted():
    config = NetworkConfig(**BASE, initial_weights={"init_state": np.arange(5.0)})
    assert config.initial_weights["init_state"].shape == (1, 5)
