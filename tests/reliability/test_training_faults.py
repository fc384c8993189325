"""Faults in training: divergence, failing callbacks and metrics, Stop, Reset and a storm of clicks."""

from __future__ import annotations

import logging
import random
import threading
import time

import numpy as np
import pytest

from psychrnn_widgets.engine import (
    Curriculum,
    NetworkConfig,
    Stage,
    Trainer,
    TrainingConfig,
    build_network,
)
from psychrnn_widgets.tasks import PerceptualDiscrimination
from psychrnn_widgets.widgets.controls import BUTTON_STATES
from reliability_helpers import wait_until

pytestmark = pytest.mark.slow

TASK = PerceptualDiscrimination(T=200.0, N_batch=8)
ACTIVE = ("running", "paused")


def small_network(seed: int = 5, **overrides):
    return build_network(NetworkConfig.for_task(TASK, N_rec=6, seed=seed, **overrides))


def assert_same_weights(first: dict, second: dict) -> None:
    assert sorted(first) == sorted(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


class Recorder:
    """Training callback that keeps every event and the weights after each update."""

    def __init__(self, network) -> None:
        self.network = network
        self.events = []
        self.weights = {0: network.get_weights()}

    def __call__(self, event) -> None:
        self.events.append(event)
        if event.kind == "progress":
            self.weights[event.update] = self.network.get_weights()

    def kinds(self, kind: str) -> list:
        return [event for event in self.events if event.kind == kind]


def test_divergence_restores_finite_weights():
    network = small_network(transfer_function="linear")
    trainer = Trainer(network, TASK, TrainingConfig(learning_rate=1e15, clip=None, seed=1))
    recorder = Recorder(network)
    trainer.add_callback(recorder)
    trainer.run(max_updates=50)
    assert trainer.state == "failed"
    (failed,) = recorder.kinds("failed")
    assert "restored the last weights with a finite loss" in failed.message
    assert f"(update {trainer.updates})" in failed.message
    assert trainer.updates < 50
    weights = network.get_weights()
    assert all(np.all(np.isfinite(value)) for value in weights.values())
    # The loss of update k is measured on the weights after update k - 1; those are restored.
    assert_same_weights(weights, recorder.weights[trainer.updates])
    assert len(trainer.history) == trainer.updates
    assert np.all(np.isfinite(trainer.history.loss))


def test_dashboard_reports_divergence(make_dashboard):
    board = make_dashboard()
    field = board.network_panel.fields["learning_rate"]
    field.control.value = 1e15
    assert board.network_panel.training_config.learning_rate == 1e15
    board.network_panel.set_value("transfer_function", "linear")
    board.controls.max_updates = 60
    board.controls.buttons["Train"].click()
    assert wait_until(lambda: board.trainer.state == "failed", 120)
    assert wait_until(lambda: board.controls.state == "failed", 5)
    assert board.status.level == "error"
    assert "Training failed" in board.status.message
    assert "restored the last weights" in board.status.message
    weights = board.network.get_weights()
    assert all(np.all(np.isfinite(value)) for value in weights.values())
    assert board.controls.enabled == BUTTON_STATES["failed"]


def test_failing_callback_is_reported():
    network = small_network()
    trainer = Trainer(network, TASK, TrainingConfig(seed=1))
    recorder = Recorder(network)

    def broken(event):
        if event.kind == "progress":
            raise ZeroDivisionError("division by zero in a user callback")

    trainer.add_callback(broken)
    trainer.add_callback(recorder)
    trainer.run(max_updates=4)
    assert trainer.state == "finished"
    assert trainer.updates == 4
    errors = recorder.kinds("error")
    assert len(errors) == 4
    assert "ZeroDivisionError: division by zero in a user callback" in errors[0].message


def test_failing_metric_is_reported():
    def broken_metric(outputs, batch, task):
        raise KeyError("no such condition")

    curriculum = Curriculum([Stage(TASK, threshold=0.9, metric=broken_metric)], metric_epoch=2)
    network = small_network()
    trainer = Trainer(network, curriculum, TrainingConfig(seed=1))
    recorder = Recorder(network)
    trainer.add_callback(recorder)
    trainer.run(max_updates=6)
    assert trainer.state == "finished"
    assert trainer.updates == 6
    assert any("KeyError" in event.message for event in recorder.kinds("error"))


def test_stop_while_compiling_then_train():
    network = small_network()
    trainer = Trainer(network, TASK, TrainingConfig(seed=1))
    trainer.start(max_updates=500)
    time.sleep(0.2)  # the first call is tracing and compiling the update now
    trainer.stop()
    assert trainer.join(120)
    assert trainer.state == "stopped"
    assert trainer.updates <= 1
    assert len(trainer.history) == trainer.updates
    stopped_at = trainer.updates
    trainer.start(max_updates=3)
    assert trainer.join(120)
    assert trainer.state == "finished"
    assert trainer.updates == stopped_at + 3
    assert trainer.tracing_count == 1


def test_dashboard_stop_train_reset(make_dashboard):
    board = make_dashboard()
    buttons = board.controls.buttons
    buttons["Train"].click()
    buttons["Stop"].click()
    assert wait_until(lambda: board.trainer.state == "stopped", 120)
    buttons["Train"].click()
    assert wait_until(lambda: board.trainer.updates >= 3, 120)
    old_network = board.network
    buttons["Reset"].click()
    assert board.trainer is None
    assert board.state == "idle"
    assert board.network is not old_network
    assert board.status.message == "Network rebuilt with fresh weights."
    assert not [t for t in threading.enumerate() if t.name == "psychrnn-widgets-trainer"]
    board.controls.max_updates = 2
    buttons["Train"].click()
    assert wait_until(lambda: board.trainer.state == "finished", 120)
    assert board.trainer.updates == 2


def test_random_clicks_end_consistent(make_dashboard, caplog):
    board = make_dashboard()
    labels = ["Train", "Pause", "Step", "Stop", "Reset"]
    # Reset is drawn less often: each one makes the next Train compile a new update (seconds).
    weights = [6, 6, 4, 4, 1]
    chooser = random.Random(20261204)
    caplog.set_level(logging.ERROR, logger="psychrnn_widgets")
    for _ in range(100):
        board.controls.buttons[chooser.choices(labels, weights)[0]].click()
        time.sleep(chooser.uniform(0.0, 0.02))
    board.controls.buttons["Pause"].click()
    trainer_state = lambda: board.trainer.state if board.trainer is not None else "idle"  # noqa: E731
    assert wait_until(lambda: trainer_state() in ("idle", "paused", "stopped", "finished"), 120)
    state = trainer_state()
    assert wait_until(lambda: board.controls.state == state, 5)
    assert wait_until(lambda: board.state == state, 5)
    assert board.controls.enabled == BUTTON_STATES[state]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    if board.trainer is not None:
        assert len(board.trainer.history) == board.trainer.updates
    # A final Train, then Stop, still works.
    board.controls.buttons["Train"].click()
    assert wait_until(lambda: trainer_state() == "running", 60)
    board.controls.buttons["Stop"].click()
    assert wait_until(lambda: trainer_state() == "stopped", 120)
    assert wait_until(lambda: board.controls.state == "stopped", 5)
    assert board.controls.enabled == BUTTON_STATES["stopped"]


def test_pause_resume_same_weights():
    config = TrainingConfig(seed=11, max_updates=12)
    straight = small_network()
    Trainer(straight, TASK, config).run()

    interrupted = small_network()
    trainer = Trainer(interrupted, TASK, config)
    # Step(3) pauses after exactly three updates, however fast they run.
    trainer.step(3)
    assert wait_until(lambda: trainer.state == "paused", 120)
    assert trainer.updates == 3
    time.sleep(0.2)
    assert trainer.updates == 3
    trainer.resume()
    assert trainer.join(120)
    assert trainer.state == "finished"
    assert trainer.updates == 12
    assert_same_weights(interrupted.get_weights(), straight.get_weights())
