"""The compiled update: AutoGraph for user code, the XLA fallback and the compilation cache."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.engine import _runtime
from psychrnn_widgets.tasks import PerceptualDiscrimination


def make_trainer(batch_shards=1, **training):
    # One batch part by default: with several, the loss runs outside XLA (test at the end).
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
    network = build_network(NetworkConfig.for_task(task, N_rec=8, seed=3))
    return Trainer(network, task, TrainingConfig(seed=0, **training), batch_shards=batch_shards)


def numpy_loss(outputs, targets, mask):
    """Return the masked MSE plus a zero from tf.numpy_function, which XLA cannot compile."""
    host = tf.numpy_function(lambda x: np.float32(0.0), [outputs], tf.float32)
    return tf.reduce_mean(tf.square(mask * (outputs - targets))) + host


def test_user_loss_python_branch_trains():
    # The update is traced without AutoGraph. A user's loss is converted on its own, so a
    # plain Python `if` on a tensor still becomes a graph branch.
    def loss(outputs, targets, mask):
        error = tf.reduce_mean(tf.square(mask * (outputs - targets)))
        if error > 1e6:
            return tf.constant(0.0)
        return error

    trainer = make_trainer(loss=loss, max_updates=3)
    history = trainer.run()

    assert len(history.loss) == 3
    assert np.all(np.isfinite(history.loss))
    assert history.loss[0] > 0.0


def test_xla_failure_falls_back_to_graph(caplog):
    trainer = make_trainer(loss=numpy_loss, max_updates=4)
    with caplog.at_level(logging.WARNING, logger="psychrnn_widgets.engine._step"):
        history = trainer.run()

    assert len(history.loss) == 4
    assert np.all(np.isfinite(history.loss))
    assert trainer._compiled.jit_compile is False
    assert any("without XLA" in record.getMessage() for record in caplog.records)


def test_fallback_matches_training_without_xla():
    fallen_back = make_trainer(loss=numpy_loss, max_updates=3).run()
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
    network = build_network(NetworkConfig.for_task(task, N_rec=8, seed=3))
    plain = Trainer(
        network, task, TrainingConfig(seed=0, loss=numpy_loss, max_updates=3), jit_compile=False
    ).run()

    np.testing.assert_array_equal(fallen_back.loss, plain.loss)


def test_cache_directory_names_tensorflow_version_and_cpu(monkeypatch, tmp_path):
    monkeypatch.setenv("PSYCHRNN_WIDGETS_XLA_CACHE", str(tmp_path))
    directory = _runtime.cache_directory()

    assert directory.parent == tmp_path
    assert directory.name.startswith(f"tf-{tf.__version__}-")
    assert len(directory.name.rsplit("-", 1)[1]) == 12


def test_cache_directory_depends_on_xla_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("PSYCHRNN_WIDGETS_XLA_CACHE", str(tmp_path))
    monkeypatch.setenv("XLA_FLAGS", "")
    plain = _runtime.cache_directory()
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=true")
    fast_math = _runtime.cache_directory()

    assert fast_math.parent == plain.parent
    assert fast_math.name != plain.name


@pytest.mark.parametrize("setting", ["off", "0", "OFF", "none"])
def test_cache_can_be_turned_off(monkeypatch, setting):
    monkeypatch.setenv("PSYCHRNN_WIDGETS_XLA_CACHE", setting)
    monkeypatch.setenv("TF_XLA_FLAGS", "")

    assert _runtime.cache_directory() is None
    assert _runtime.enable_compilation_cache() is None
    assert os.environ["TF_XLA_FLAGS"] == ""


def test_cache_keeps_a_directory_the_user_chose(monkeypatch, tmp_path):
    flags = f"--tf_xla_persistent_cache_directory={tmp_path}"
    monkeypatch.setenv("TF_XLA_FLAGS", flags)

    assert _runtime.enable_compilation_cache() is None
    assert os.environ["TF_XLA_FLAGS"] == flags


def test_cache_flag_added_to_existing_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("PSYCHRNN_WIDGETS_XLA_CACHE", str(tmp_path))
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0")

    directory = _runtime.enable_compilation_cache()

    assert directory.is_dir()
    assert os.environ["TF_XLA_FLAGS"] == (
        f"--tf_xla_auto_jit=0 --tf_xla_persistent_cache_directory={directory}"
    )


def test_uncreatable_cache_directory_turns_cache_off(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PSYCHRNN_WIDGETS_XLA_CACHE", str(blocker))
    monkeypatch.setenv("TF_XLA_FLAGS", "")

    assert _runtime.enable_compilation_cache() is None
    assert os.environ["TF_XLA_FLAGS"] == ""


def test_prune_deletes_oldest_entries(tmp_path):
    now = time.time()
    for index in range(6):
        path = tmp_path / f"entry{index}.pb"
        path.write_bytes(b"x" * 100)
        os.utime(path, (now + index, now + index))
    (tmp_path / "other.txt").write_bytes(b"y" * 1000)

    _runtime._prune(tmp_path, limit=500)

    assert sorted(p.name for p in tmp_path.glob("*.pb")) == ["entry4.pb", "entry5.pb"]
    assert (tmp_path / "other.txt").exists()


def test_prune_leaves_a_cache_under_the_limit(tmp_path):
    for index in range(3):
        (tmp_path / f"entry{index}.pb").write_bytes(b"x" * 100)

    _runtime._prune(tmp_path, limit=300)

    assert len(list(tmp_path.glob("*.pb"))) == 3


CHILD = r"""
import json, sys, time
from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination
task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
network = build_network(NetworkConfig.for_task(task, N_rec=8, seed=3))
history = Trainer(network, task, TrainingConfig(seed=0, max_updates=2)).run()
print(json.dumps([float(x) for x in history.loss]))
"""


def test_second_process_loads_cached_update(tmp_path):
    environment = dict(os.environ, PSYCHRNN_WIDGETS_XLA_CACHE=str(tmp_path), TF_XLA_FLAGS="")
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", CHILD], env=environment, capture_output=True, text=True,
            timeout=300, check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    entries = list(Path(tmp_path).glob("*/*.pb"))

    assert len(entries) >= 1
    # A loaded program computes exactly what the freshly compiled one did.
    assert runs[0] == runs[1]


def test_cache_load_message_held_back_other_lines_kept(capfd):
    with _runtime.without_cache_load_message():
        os.write(2, b"E0000 text_format.cc:378] Error parsing text-format "
                    b"tensorflow.XlaSerializedCacheEntry: 2:1: Expected identifier\n")
        os.write(2, b"a real warning\n")

    captured = capfd.readouterr()

    assert captured.err == "a real warning\n"


def test_cache_load_message_filter_restores_stderr(capfd):
    with _runtime.without_cache_load_message():
        pass
    os.write(2, b"after the block\n")

    assert capfd.readouterr().err == "after the block\n"


def _record(message):
    return logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, message, None, None)


def test_retracing_warning_about_own_functions_dropped():
    own = _record(
        "5 out of the last 5 calls to <bound method CompiledUpdate._train_updates of <...>> "
        "triggered tf.function retracing."
    )
    network = _record(
        "5 out of the last 5 calls to <function NetworkBase._run_function.<locals>.<lambda>> "
        "triggered tf.function retracing."
    )

    assert _runtime._OwnRetracingFilter().filter(own) is False
    assert _runtime._OwnRetracingFilter().filter(network) is False


def test_retracing_warning_about_user_functions_kept():
    user = _record("5 out of the last 5 calls to <function my_step> triggered tf.function retracing.")
    other = _record("some other TensorFlow warning about CompiledUpdate.")

    assert _runtime._OwnRetracingFilter().filter(user) is True
    assert _runtime._OwnRetracingFilter().filter(other) is True


def test_retracing_filter_installed_once():
    _runtime.quiet_own_retracing_warnings()
    _runtime.quiet_own_retracing_warnings()
    filters = logging.getLogger("tensorflow").filters

    assert sum(isinstance(f, _runtime._OwnRetracingFilter) for f in filters) == 1


def test_truncated_cache_entry_trains_without_xla(tmp_path):
    # A cache file cut short, as when another kernel is still writing it.
    environment = dict(os.environ, PSYCHRNN_WIDGETS_XLA_CACHE=str(tmp_path), TF_XLA_FLAGS="")
    first = subprocess.run(
        [sys.executable, "-c", CHILD], env=environment, capture_output=True, text=True,
        timeout=300, check=True,
    )
    entries = list(Path(tmp_path).glob("*/*.pb"))
    assert len(entries) >= 1
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2])

    second = subprocess.run(
        [sys.executable, "-c", CHILD], env=environment, capture_output=True, text=True,
        timeout=300, check=True,
    )
    losses = json.loads(second.stdout.strip().splitlines()[-1])

    assert "training goes on without XLA" in second.stderr
    assert len(losses) == 2
    assert np.all(np.isfinite(losses))
    # The first loss is measured before any step, so it matches the first run's up to the
    # rounding that differs between XLA and a plain graph.
    assert losses[0] == pytest.approx(json.loads(first.stdout.strip().splitlines()[-1])[0], rel=1e-6)



def test_sharded_update_keeps_xla_for_host_loss():
    # With batch parts, XLA compiles only the network's forward pass and its gradients, so a
    # loss that XLA cannot compile runs in the plain graph around them.
    trainer = make_trainer(batch_shards=2, loss=numpy_loss, max_updates=3)
    history = trainer.run()

    assert trainer.active_batch_shards == 2
    assert trainer._compiled.jit_compile is True
    assert len(history.loss) == 3
    assert np.all(np.isfinite(history.loss))


def test_sharded_update_falls_back_for_host_transfer(caplog):
    def transfer(x):
        rates = tf.numpy_function(lambda a: np.maximum(a, 0), [x], tf.float32)
        return tf.reshape(rates, tf.shape(x))

    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
    config = NetworkConfig.for_task(task, N_rec=8, seed=3, transfer_function=transfer)
    network = build_network(config)
    trainer = Trainer(network, task, TrainingConfig(seed=0, max_updates=2), batch_shards=2)
    with caplog.at_level(logging.WARNING, logger="psychrnn_widgets.engine._step"):
        history = trainer.run()

    assert trainer.active_batch_shards == 2
    assert trainer._compiled.jit_compile is False
    assert any("without XLA" in record.getMessage() for record in caplog.records)
    assert len(history.loss) == 2
    assert np.all(np.isfinite(history.loss))


def test_noise_drawn_with_philox():
    # Under XLA on a CPU the default algorithm ("auto_select") scrambles the seed with extra
    # operations (StatelessRandomGetKeyCounter) and drew the benchmark's noise about 70 times
    # slower than Philox named outright. Both give the same draws.
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
    network = build_network(NetworkConfig.for_task(task, N_rec=8, seed=3, rec_noise=0.1))
    trainer = Trainer(network, task, TrainingConfig(seed=0, max_updates=1), batch_shards=1)
    trainer.run()
    inputs = tf.zeros((8, 20, network.config.N_in))
    seed = tf.constant([11, 4], tf.int64)

    compiled = tf.function(trainer._compiled._noise, jit_compile=True)
    drawn = compiled(inputs, seed)
    # Drawn time-major (steps, trials, units), then seen trial-major.
    default = tf.function(
        lambda s: tf.transpose(tf.random.stateless_normal([20, 8, 8], seed=s), [1, 0, 2]),
        jit_compile=True,
    )(seed)

    assert "StatelessRandomGetKeyCounter" not in compiled.experimental_get_compiler_ir(
        inputs, seed
    )(stage="hlo")
    np.testing.assert_array_equal(drawn.numpy(), default.numpy())
