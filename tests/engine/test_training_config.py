"""TrainingConfig validation: every bad value names the field, the rule and the value."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from psychrnn_widgets.engine import TrainingConfig
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

BAD_VALUES = [
    ("learning_rate", 0.0, "learning_rate must be a finite number larger than 0 (got learning_rate=0.0)"),
    ("learning_rate", -1e-3, "learning_rate must be a finite number larger than 0 (got learning_rate=-0.001)"),
    ("learning_rate", float("nan"), "learning_rate must be a finite number larger than 0 (got learning_rate=nan)"),
    ("learning_rate", "fast", "learning_rate must be a finite number larger than 0 (got learning_rate='fast')"),
    ("optimizer", "adam", "optimizer must be a keras.optimizers.Optimizer instance or None (got optimizer='adam')"),
    ("clip", "norm", "clip must be one of 'per_variable', 'global' or None (got clip='norm')"),
    ("clip_norm", 0, "clip_norm must be a finite number larger than 0 (got clip_norm=0)"),
    ("loss", "mae", "loss must be 'mse', 'bce' or a callable (got loss='mae')"),
    ("loss_normalization", "batch", "loss_normalization must be 'all' or 'mask' (got loss_normalization='batch')"),
    ("L1_rec", -0.1, "L1_rec must be a finite number of at least 0 (got L1_rec=-0.1)"),
    ("L2_firing_rate", float("inf"), "L2_firing_rate must be a finite number of at least 0 (got L2_firing_rate=inf)"),
    ("custom_regularization", 3, "custom_regularization must be a callable or None (got custom_regularization=3)"),
    ("max_updates", 0, "max_updates must be an integer of at least 1 (got max_updates=0 updates)"),
    ("max_updates", 2.5, "max_updates must be an integer of at least 1 (got max_updates=2.5 updates)"),
    ("max_trials", -5, "max_trials must be an integer of at least 1 (got max_trials=-5 trials)"),
    ("performance_cutoff", 1.5, "performance_cutoff must be a number in [0, 1] or None (got performance_cutoff=1.5)"),
    ("eval_every", 0, "eval_every must be an integer of at least 1 (got eval_every=0 updates)"),
    ("updates_per_call", True, "updates_per_call must be an integer of at least 1 (got updates_per_call=True updates)"),
    ("seed", -1, "seed must be a non-negative integer or None (got seed=-1)"),
    ("fixed_weights", [1, 0], "fixed_weights must be a dict of variable name to 0/1 array or None (got fixed_weights=list)"),
    ("fixed_weights", {"W_rec": np.full((2, 2), 0.5)}, "fixed_weights['W_rec'] must contain only 0 (trained) and 1 (frozen) (got 0.5)"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_invalid_value_raises(field, value, message):
    with pytest.raises(InvalidParameterError) as info:
        TrainingConfig(**{field: value})
    assert info.value.field == field
    assert str(info.value) == message


def test_fixed_weights_scalar_is_shape_error():
    with pytest.raises(ShapeMismatchError) as info:
        TrainingConfig(fixed_weights={"W_rec": 1})
    assert str(info.value) == "fixed_weights['W_rec'] must be an array of the variable's shape (got a scalar 1)"


def test_defaults_match_psychrnn():
    config = TrainingConfig()
    assert config.learning_rate == 1e-3
    assert config.optimizer is None
    assert config.clip == "per_variable"
    assert config.clip_norm == 1.0
    assert config.loss == "mse"
    assert config.loss_normalization == "all"
    assert config.eval_every == 10
    assert config.updates_per_call == 1


def test_accepts_keras_optimizer_and_callables():
    optimizer = keras.optimizers.SGD(0.1)
    config = TrainingConfig(optimizer=optimizer, loss=lambda o, t, m: 0.0, clip=None)
    assert config.optimizer is optimizer
    assert config.clip is None


def test_validate_catches_later_edit():
    config = TrainingConfig()
    config.eval_every = -2
    with pytest.raises(InvalidParameterError) as info:
        config.validate()
    assert info.value.field == "eval_every"


def test_replace_unknown_name_hints():
    with pytest.raises(InvalidParameterError) as info:
        TrainingConfig().replace(learning_rat=0.1)
    assert str(info.value) == "unknown training setting 'learning_rat'; did you mean 'learning_rate'?"


def test_from_dict_builds_config():
    config = TrainingConfig.from_dict({"max_updates": 5, "seed": 3})
    assert config.max_updates == 5
    assert config.seed == 3
