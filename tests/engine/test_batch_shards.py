"""Batch shards: parts of a batch that train side by side, and how many the engine picks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.engine import _runtime
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import PerceptualDiscrimination


def train(
    model: str,
    batch_shards,
    N_batch: int = 8,
    rec_noise: float = 0.0,
    updates: int = 3,
    **training,
):
    task = PerceptualDiscrimination(dt=10, tau=100, T=300, N_batch=N_batch)
    config = NetworkConfig.for_task(task, N_rec=12, model=model, seed=5, rec_noise=rec_noise)
    network = build_network(config)
    settings = TrainingConfig(seed=1, max_updates=updates, **training)
    trainer = Trainer(network, task, settings, batch_shards=batch_shards)
    history = trainer.run()
    weights = {name: variable.numpy() for name, variable in network.variables.items()}
    return trainer, history, weights


@pytest.mark.parametrize("model", ["rate", "lstm", "gru"])
def test_shards_match_whole_batch(model):
    # 8 trials in 3 parts: 2, 3 and 3 trials, so uneven parts are covered too.
    _, whole_history, whole = train(model, 1)
    for shards in (2, 3):
        trainer, history, weights = train(model, shards)

        assert trainer.active_batch_shards == shards
        assert trainer._compiled.split_objective is True
        np.testing.assert_allclose(history.loss, whole_history.loss, rtol=1e-5)
        for name, value in whole.items():
            np.testing.assert_allclose(weights[name], value, rtol=1e-4, atol=1e-6, err_msg=name)


def rate_penalty(network, config):
    return 0.1 * tf.reduce_sum(tf.square(network.variables["b_out"]))


@pytest.mark.parametrize("model", ["rate", "lstm"])
def test_shards_match_whole_batch_with_penalties(model):
    # Each part adds its share of the loss and the firing-rate penalty, divided by the counts
    # of the whole batch. The weight penalties are added once.
    training = dict(
        loss_normalization="mask",
        L2_firing_rate=0.05,
        L2_rec=0.01,
        L1_out=0.02,
        custom_regularization=rate_penalty,
    )
    _, whole_history, whole = train(model, 1, **training)
    trainer, history, weights = train(model, 2, **training)

    assert trainer._compiled.split_objective is True
    np.testing.assert_allclose(history.loss, whole_history.loss, rtol=1e-5)
    for name, value in whole.items():
        np.testing.assert_allclose(weights[name], value, rtol=1e-4, atol=1e-6, err_msg=name)


def test_callable_loss_keeps_whole_batch_objective():
    def loss(outputs, targets, mask):
        return tf.reduce_max(tf.abs(mask * (outputs - targets)))

    _, whole_history, _ = train("lstm", 1, loss=loss)
    trainer, history, _ = train("lstm", 2, loss=loss)

    assert trainer._compiled.split_objective is False
    np.testing.assert_allclose(history.loss, whole_history.loss, rtol=1e-5)


def test_shards_keep_recurrent_noise():
    # The noise is drawn for the whole batch, then split, so every trial gets the same noise.
    _, whole_history, whole = train("rate", 1, rec_noise=0.1)
    _, history, weights = train("rate", 2, rec_noise=0.1)

    np.testing.assert_allclose(history.loss, whole_history.loss, rtol=1e-5)
    np.testing.assert_allclose(weights["W_rec"], whole["W_rec"], rtol=1e-4, atol=1e-6)


def test_shards_capped_by_trials_per_batch():
    trainer, history, _ = train("gru", 5, N_batch=2, updates=2)

    assert trainer.active_batch_shards == 2
    assert len(history.loss) == 2
    assert np.all(np.isfinite(history.loss))


@pytest.mark.parametrize(
    ("model", "jit_compile", "expected"),
    [
        ("lstm", True, _runtime.auto_batch_shards(16)),
        ("gru", True, _runtime.auto_batch_shards(16)),
        ("lstm", False, 1),
        ("rate", True, _runtime.auto_batch_shards(16)),
        ("rate", False, 1),
    ],
)
def test_auto_shards_by_model_and_xla(model, jit_compile, expected):
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=16)
    network = build_network(NetworkConfig.for_task(task, N_rec=8, model=model, seed=0))
    trainer = Trainer(
        network, task, TrainingConfig(seed=0, max_updates=1), jit_compile=jit_compile
    )
    trainer.run()

    assert trainer.batch_shards == "auto"
    assert trainer.active_batch_shards == expected


@pytest.mark.parametrize(
    ("n_batch", "cores", "inter_op_threads", "expected"),
    [
        (50, 2, 0, 2),
        (50, 1, 0, 1),
        (50, 16, 0, 8),
        (50, 16, 3, 3),
        (50, 2, 1, 1),
        (8, 2, 0, 2),
        (7, 2, 0, 1),
        (20, 16, 0, 5),
    ],
)
def test_auto_shards_rule(n_batch, cores, inter_op_threads, expected):
    assert _runtime.auto_batch_shards(n_batch, cores, inter_op_threads) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_quota_read(tmp_path, files, expected):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    assert _runtime.cgroup_cpu_limit(tmp_path) == expected


def test_usable_cores_capped_by_quota(monkeypatch):
    monkeypatch.setattr(_runtime, "cgroup_cpu_limit", lambda: 1.0)

    assert _runtime.usable_cores() == 1


@pytest.mark.parametrize("value", [0, -2, 1.5, "two", True, None])
def test_invalid_batch_shards_rejected(value):
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=4)
    network = build_network(NetworkConfig.for_task(task, N_rec=4, seed=0))

    with pytest.raises(InvalidParameterError) as caught:
        Trainer(network, task, batch_shards=value)

    assert caught.value.field == "batch_shards"
    assert str(caught.value) == f'batch_shards must be "auto" or an integer >= 1 (got {value!r})'
