"""Trainer: constraints after training, frozen weights, NaN recovery, callbacks, continued runs."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError, TrainingError
from psychrnn_widgets.tasks import PerceptualDiscrimination

N_REC = 10


def make_task(**values):
    return PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8, **values)


def make_network(task, **values):
    return build_network(NetworkConfig.for_task(task, N_rec=N_REC, seed=values.pop("seed", 1), **values))


def test_dale_signs_and_masks_exact_after_training():
    task = make_task()
    rng = np.random.default_rng(0)
    rec_mask = (rng.random((N_REC, N_REC)) > 0.3).astype(float)
    out_mask = np.ones((2, N_REC))
    out_mask[:, 3] = 0.0
    network = make_network(
        task, dale_ratio=0.8, autapses=False, rec_connectivity=rec_mask, output_connectivity=out_mask
    )
    before = network.effective_weights()
    Trainer(network, task, TrainingConfig(learning_rate=0.05, max_updates=15, seed=0)).run()
    after = network.effective_weights()

    assert not np.array_equal(before["W_rec"], after["W_rec"])
    excitatory = int(0.8 * N_REC)
    assert np.all(after["W_rec"][:, :excitatory] >= 0)
    assert np.all(after["W_rec"][:, excitatory:] <= 0)
    assert np.all(after["W_in"] >= 0)
    assert np.all(after["W_out"][:, :excitatory] >= 0)
    assert np.all(after["W_out"][:, excitatory:] <= 0)
    assert np.all(after["W_rec"][rec_mask == 0] == 0.0)
    assert np.all(np.diag(after["W_rec"]) == 0.0)
    assert np.all(after["W_out"][:, 3] == 0.0)


@pytest.mark.parametrize(
    "make_optimizer",
    [None, lambda: keras.optimizers.AdamW(learning_rate=0.05, weight_decay=0.5)],
    ids=["adam", "adamw_weight_decay"],
)
def test_fixed_weights_bit_identical(make_optimizer):
    task = make_task()
    network = make_network(task)
    rng = np.random.default_rng(1)
    fixed_rec = (rng.random((N_REC, N_REC)) > 0.5).astype(float)
    fixed_in = np.zeros((N_REC, 2))
    fixed_in[:4] = 1.0
    before = network.get_weights()
    optimizer = None if make_optimizer is None else make_optimizer()
    config = TrainingConfig(
        learning_rate=0.05,
        optimizer=optimizer,
        fixed_weights={"W_rec": fixed_rec, "W_in": fixed_in},
        max_updates=12,
        seed=0,
    )
    trainer = Trainer(network, task, config, jit_compile=False)
    trainer.run()
    # A second run with a smaller frozen set leaves non-zero Adam moments on entries that are
    # frozen again in the third run. Those entries must still not move.
    trainer.config = config.replace(
        fixed_weights={"W_rec": np.zeros((N_REC, N_REC)), "W_in": fixed_in}, max_updates=5
    )
    trainer.run()
    moved = network.get_weights()
    trainer.config = config
    trainer.run()
    after = network.get_weights()

    frozen_rec = fixed_rec == 1
    assert np.array_equal(after["W_rec"][frozen_rec], moved["W_rec"][frozen_rec])
    assert np.array_equal(after["W_in"][:4], before["W_in"][:4])
    assert not np.array_equal(after["W_rec"][~frozen_rec], moved["W_rec"][~frozen_rec])
    assert not np.array_equal(after["W_in"][4:], before["W_in"][4:])


def test_fixed_weights_checked_against_network():
    task = make_task()
    network = make_network(task)
    with pytest.raises(InvalidParameterError) as info:
        Trainer(network, task, TrainingConfig(fixed_weights={"W_hidden": np.ones((2, 2))})).run(max_updates=1)
    assert "fixed_weights names an unknown variable 'W_hidden'" in str(info.value)
    with pytest.raises(ShapeMismatchError) as info:
        Trainer(network, task, TrainingConfig(fixed_weights={"W_rec": np.ones((3, 3))})).run(max_updates=1)
    assert str(info.value) == "fixed_weights['W_rec'] must have the shape of W_rec, (10, 10) (got (3, 3))"


def test_task_network_mismatch_raises():
    task = make_task()
    network = build_network(NetworkConfig(N_in=3, N_rec=N_REC, N_out=2, seed=1))
    with pytest.raises(InvalidParameterError) as info:
        Trainer(network, task)
    assert str(info.value) == "the task's N_in must equal the network's (got task N_in=2, network N_in=3)"


def test_second_run_continues():
    task = make_task()
    straight_network = make_network(task)
    straight = Trainer(straight_network, task, TrainingConfig(seed=4))
    straight.run(max_updates=10)

    split_network = make_network(task)
    split = Trainer(split_network, task, TrainingConfig(seed=4))
    split.run(max_updates=4)
    split.run(max_updates=6)

    assert split.updates == 10
    assert split.trials == 80
    assert int(split.optimizer.iterations.numpy()) == 10
    assert split.history.update == list(range(1, 11))
    assert split.tracing_count == 1
    for name, value in straight_network.get_weights().items():
        assert np.array_equal(split_network.get_weights()[name], value), name


def test_events_in_order():
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(max_updates=4, eval_every=2, seed=0), jit_compile=False)
    events = []
    trainer.add_callback(events.append)
    trainer.run()

    assert [e.kind for e in events] == ["started", "progress", "progress", "progress", "progress", "finished"]
    progress = events[1:5]
    assert [e.update for e in progress] == [1, 2, 3, 4]
    assert [e.trials for e in progress] == [8, 16, 24, 32]
    assert [e.accuracy is None for e in progress] == [True, False, True, False]
    assert progress[3].accuracy == trainer.history.accuracy[3]
    assert all(e.loss == trainer.history.loss[e.update - 1] for e in progress)
    assert all(e.trials_per_s > 0 for e in progress)
    assert all(e.stage is None for e in events)
    assert events[-1].message == "reached max_updates (4 updates)"
    assert trainer.state == "finished"


def test_callback_error_reported_and_training_goes_on(caplog):
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(max_updates=3, seed=0), jit_compile=False)

    def broken(event):
        if event.kind == "progress":
            raise RuntimeError("chart went away")

    events = []
    trainer.add_callback(broken)
    trainer.add_callback(events.append)
    trainer.run()

    errors = [e for e in events if e.kind == "error"]
    assert len(errors) == 3
    assert errors[0].message == "callback test_callback_error_reported_and_training_goes_on.<locals>.broken raised RuntimeError: chart went away"
    assert trainer.updates == 3
    assert events[-1].kind == "finished"
    assert "training callback" in caplog.text


def _nan_after(updates):
    """A masked MSE that turns NaN from the (updates + 1)-th evaluation on."""
    counter = tf.Variable(0, dtype=tf.int64, trainable=False)

    def loss(outputs, targets, mask):
        counter.assign_add(1)
        mse = tf.reduce_mean(tf.square(mask * (outputs - targets)))
        return tf.where(counter > updates, tf.constant(np.nan, outputs.dtype), mse)

    return loss


def test_nan_loss_restores_last_finite_weights():
    task = make_task()
    reference_network = make_network(task)
    Trainer(reference_network, task, TrainingConfig(loss=_nan_after(10**9), max_updates=5, seed=2)).run()

    network = make_network(task)
    trainer = Trainer(network, task, TrainingConfig(loss=_nan_after(6), max_updates=20, updates_per_call=4, seed=2))
    events = []
    trainer.add_callback(events.append)
    trainer.run()

    # Losses 1..6 are finite. Loss 7 is measured on the weights after 6 updates and is NaN, so
    # the last finite loss (update 6) was measured on the weights after 5 updates.
    assert trainer.state == "failed"
    assert events[-1].kind == "failed"
    assert events[-1].message == (
        "the loss became nan at update 7; restored the last weights with a finite loss (update 5)"
    )
    assert trainer.updates == 5
    assert trainer.history.update == [1, 2, 3, 4, 5]
    assert int(trainer.optimizer.iterations.numpy()) == 5
    for name, value in reference_network.get_weights().items():
        assert np.array_equal(network.get_weights()[name], value), name


def test_huge_learning_rate_fails_with_finite_weights():
    task = make_task()
    network = make_network(task)
    trainer = Trainer(network, task, TrainingConfig(learning_rate=1e30, max_updates=50, seed=0), jit_compile=False)
    events = []
    trainer.add_callback(events.append)
    trainer.run()

    assert trainer.state == "failed"
    assert events[-1].kind == "failed"
    assert trainer.updates < 50
    assert all(np.all(np.isfinite(value)) for value in network.get_weights().values())
    outputs, _ = network.run(task.generate_batch(0).inputs)
    assert np.all(np.isfinite(outputs))


def test_run_while_running_raises():
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(seed=0), jit_compile=False)
    trainer.step(1)
    try:
        with pytest.raises(TrainingError) as info:
            trainer.run(max_updates=1)
        assert str(info.value) == "training is already running; call stop() and join() first"
    finally:
        trainer.stop()
        assert trainer.join(30)


def test_regularization_enters_reported_loss():
    task = make_task()
    losses = {}
    for name, extra in (("plain", {}), ("l2", {"L2_rec": 3.0, "custom_regularization": lambda network, config: 0.25})):
        network = make_network(task)
        trainer = Trainer(network, task, TrainingConfig(max_updates=1, seed=0, **extra), jit_compile=False)
        before = network.effective_weights()["W_rec"]
        trainer.run()
        losses[name] = trainer.history.loss[0]
        if name == "l2":
            expected_extra = 3.0 * float(np.mean(before.astype(np.float64) ** 2)) + 0.25
    assert losses["l2"] - losses["plain"] == pytest.approx(expected_extra, rel=1e-4)


def test_network_without_trainable_variables_raises():
    task = make_task()
    flags = {name: False for name in ("W_in_train", "W_rec_train", "W_out_train", "b_rec_train", "b_out_train", "init_state_train")}
    trainer = Trainer(make_network(task, **flags), task, TrainingConfig(seed=0), jit_compile=False)
    with pytest.raises(TrainingError) as info:
        trainer.run(max_updates=1)
    assert str(info.value) == "the network has no trainable variables; set at least one *_train flag to True"
    assert trainer.state == "idle"


def test_uneven_calls_match_split_runs():
    task = make_task()
    weights = []
    for runs in ([6], [3, 3]):
        network = make_network(task)
        trainer = Trainer(network, task, TrainingConfig(updates_per_call=4, seed=7))
        for count in runs:
            trainer.run(max_updates=count)
        assert trainer.updates == 6
        assert len(trainer.history.loss) == 6
        weights.append(network.get_weights())
    for name, value in weights[0].items():
        assert np.array_equal(weights[1][name], value), name


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_gated_networks_train_with_frozen_entries(model):
    task = make_task()
    network = make_network(task, model=model)
    name = max(network.variables, key=lambda n: network.variables[n].shape.num_elements())
    variable = network.variables[name]
    frozen = np.zeros(variable.shape)
    frozen.flat[::3] = 1.0
    before = network.get_weights()
    trainer = Trainer(network, task, TrainingConfig(learning_rate=0.05, fixed_weights={name: frozen}, max_updates=4, seed=0))
    trainer.run()
    after = network.get_weights()

    assert trainer.state == "finished"
    assert np.all(np.isfinite(trainer.history.loss))
    assert np.array_equal(after[name][frozen == 1], before[name][frozen == 1])
    assert not np.array_equal(after[name][frozen == 0], before[name][frozen == 0])
