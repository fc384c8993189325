"""Training batches: the same batches with and without the prefetch thread."""

import os

import numpy as np
import pytest

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.engine._batches import (
    BatchSource,
    make_batches,
    prefetch_enabled,
    set_prefetch,
)
from psychrnn_widgets.tasks import get_task

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WEIGHTS = ("W_in", "W_rec", "W_out", "b_rec", "b_out")


@pytest.fixture
def restore_prefetch():
    before = prefetch_enabled()
    yield
    set_prefetch(before)


def _calls(source, task):
    """Ask ``source`` for batches as the training loop does: 3, 3, then the last 2 of 8."""
    got = []
    for first, count, following in [(0, 3, 3), (3, 3, 2), (6, 2, 1)]:
        got.append(source.get(0, task, first, count))
        source.prefetch(0, task, first + count, following)
    source.close()
    return got


def test_inline_batches_equal_prefetched():
    task = get_task("perceptual_discrimination", T=300.0, N_batch=4)
    prefetched = _calls(BatchSource(7, np.float32, 3, prefetch=True), task)
    inline_source = BatchSource(7, np.float32, 3, prefetch=False)
    inline = _calls(inline_source, task)
    assert inline_source._executor is None  # no thread was started
    for prefetched_call, inline_call in zip(prefetched, inline):
        assert np.array_equal(prefetched_call.inputs, inline_call.inputs)
        assert np.array_equal(prefetched_call.targets, inline_call.targets)
        assert np.array_equal(prefetched_call.mask, inline_call.mask)
        assert prefetched_call.trials == inline_call.trials
    # The last call contains 2 batches, padded to 3 with a copy of update 7's batch.
    assert inline[2].trials == [4, 4]
    assert np.array_equal(inline[2].inputs[2], inline[2].inputs[1])
    direct = make_batches(task, 7, 6, 2, np.float32)
    assert np.array_equal(inline[2].inputs[:2], direct.inputs)


def test_process_setting_is_the_default(restore_prefetch):
    set_prefetch(False)
    assert BatchSource(0, np.float32, 1).prefetches is False
    assert BatchSource(0, np.float32, 1, prefetch=True).prefetches is True
    set_prefetch(True)
    assert BatchSource(0, np.float32, 1).prefetches is True


def _train(prefetch):
    set_prefetch(prefetch)
    task = get_task("perceptual_discrimination", T=300.0, N_batch=8)
    network = build_network(NetworkConfig.for_task(task, N_rec=8, seed=3))
    config = TrainingConfig(seed=3, max_updates=7, updates_per_call=3, eval_every=2)
    trainer = Trainer(network, task, config, jit_compile=False)
    trainer.run()
    weights = {name: network.variables[name].numpy() for name in WEIGHTS}
    return weights, list(trainer.history.loss), list(trainer.history.accuracy)


@pytest.mark.slow
def test_training_is_bit_identical_without_prefetch(restore_prefetch):
    weights, losses, accuracy = _train(True)
    inline_weights, inline_losses, inline_accuracy = _train(False)
    assert len(losses) == 7
    assert inline_losses == losses
    assert inline_accuracy == accuracy
    for name in WEIGHTS:
        assert np.array_equal(inline_weights[name], weights[name]), name
