"""Reproducibility: one seed, one set of trained weights; seeds and versions travel with the file."""

from __future__ import annotations

import json
import platform

import numpy as np
import pytest
import tensorflow as tf

import psychrnn_widgets
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.engine import save_network
from psychrnn_widgets.engine.io import read_weight_file
from psychrnn_widgets.tasks import PerceptualDiscrimination
from reliability_helpers import wait_until

pytestmark = pytest.mark.slow

TASK = PerceptualDiscrimination(T=200.0, N_batch=8)


def train_with_api(network_seed: int, training_seed: int, updates: int = 6):
    network = build_network(NetworkConfig.for_task(TASK, N_rec=6, seed=network_seed))
    trainer = Trainer(network, TASK, TrainingConfig(seed=training_seed))
    trainer.run(max_updates=updates)
    return network, trainer


def train_with_dashboard(make_dashboard, updates: int = 6):
    board = make_dashboard(N_rec=6, max_updates=updates, seed=3)
    board.controls.buttons["Train"].click()
    assert wait_until(lambda: board.trainer.state == "finished", 120)
    assert board.trainer.updates == updates
    return board


def assert_same_weights(first: dict, second: dict) -> None:
    assert sorted(first) == sorted(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_api_same_seed_same_weights():
    first, _ = train_with_api(3, 8)
    second, _ = train_with_api(3, 8)
    other, _ = train_with_api(3, 9)
    assert_same_weights(first.get_weights(), second.get_weights())
    assert not np.array_equal(first.get_weights()["W_rec"], other.get_weights()["W_rec"])


def test_dashboard_initial_weights_match_api(make_dashboard):
    board = make_dashboard(N_rec=6, seed=3)
    api = build_network(NetworkConfig.for_task(board.task_form.task, N_rec=6, seed=3))
    assert_same_weights(board.network.get_weights(), api.get_weights())


def test_dashboard_same_seed_same_weights(make_dashboard):
    first = train_with_dashboard(make_dashboard)
    second = train_with_dashboard(make_dashboard)
    assert_same_weights(first.network.get_weights(), second.network.get_weights())


def test_file_keeps_seeds_and_versions(tmp_path):
    network, trainer = train_with_api(4, 12, updates=2)
    entries = read_weight_file(save_network(tmp_path / "net.npz", network, trainer))
    assert int(entries["__seed__"]) == 4
    assert int(entries["__trainer_seed__"]) == 12
    assert json.loads(str(entries["__config__"]))["seed"] == 4
    assert json.loads(str(entries["__versions__"])) == {
        "psychrnn_widgets": psychrnn_widgets.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    np.testing.assert_array_equal(entries["__history_update__"], [1.0, 2.0])


def test_dashboard_file_keeps_training_seed(make_dashboard, tmp_path):
    board = train_with_dashboard(make_dashboard, updates=2)
    board.save(tmp_path / "board.npz")
    entries = read_weight_file(tmp_path / "board.npz")
    assert int(entries["__seed__"]) == 3
    assert int(entries["__trainer_seed__"]) == board.trainer.seed
