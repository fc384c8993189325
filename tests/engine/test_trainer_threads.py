"""Background training: pause, resume, step and stop, and their effect on the result."""

from __future__ import annotations

import threading
import time

import numpy as np

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination


def make_task():
    return PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)


def make_network(task, rec_noise=0.0):
    return build_network(NetworkConfig.for_task(task, N_rec=10, rec_noise=rec_noise, seed=1))


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)


class EventLog:
    """Collects events and wakes waiters; callbacks run in the training thread."""

    def __init__(self):
        self.events = []
        self.changed = threading.Condition()

    def __call__(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def kinds(self):
        with self.changed:
            return [e.kind for e in self.events]

    def wait_kind(self, kind, count=1, timeout=60.0):
        with self.changed:
            ok = self.changed.wait_for(lambda: sum(e.kind == kind for e in self.events) >= count, timeout)
        if not ok:
            raise TimeoutError(f"no {kind!r} event")


def test_pause_resume_equals_uninterrupted():
    task = make_task()
    straight_network = make_network(task, rec_noise=0.1)
    Trainer(straight_network, task, TrainingConfig(max_updates=20, seed=5)).run()

    network = make_network(task, rec_noise=0.1)
    trainer = Trainer(network, task, TrainingConfig(max_updates=20, seed=5))
    log = EventLog()
    trainer.add_callback(log)
    trainer.step(10)
    log.wait_kind("paused")
    assert trainer.updates == 10
    assert trainer.state == "paused"
    trainer.resume()
    assert trainer.join(60)

    assert trainer.state == "finished"
    assert trainer.updates == 20
    for name, value in straight_network.get_weights().items():
        assert np.array_equal(network.get_weights()[name], value), name


def test_controls_respond_within_half_a_second():
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(seed=0), jit_compile=False)
    log = EventLog()
    trainer.add_callback(log)
    trainer.start()
    try:
        log.wait_kind("progress", count=3)

        asked = time.monotonic()
        trainer.pause()
        log.wait_kind("paused", timeout=5)
        assert time.monotonic() - asked < 0.5
        paused_at = trainer.updates
        time.sleep(0.2)
        assert trainer.updates == paused_at

        trainer.step(3)
        wait_for(lambda: trainer.updates == paused_at + 3, timeout=5)
        time.sleep(0.2)
        assert trainer.updates == paused_at + 3
        assert trainer.state == "paused"

        asked = time.monotonic()
        trainer.resume()
        log.wait_kind("resumed", timeout=5)
        assert time.monotonic() - asked < 0.5
        wait_for(lambda: trainer.updates > paused_at + 3, timeout=5)

        asked = time.monotonic()
        trainer.stop()
        assert trainer.join(5)
        assert time.monotonic() - asked < 0.5
    finally:
        trainer.stop()
        trainer.join(30)

    kinds = log.kinds()
    assert kinds[0] == "started"
    assert kinds[-1] == "stopped"
    assert kinds.count("paused") == 1
    assert kinds.count("resumed") == 1
    assert trainer.state == "stopped"


def test_stop_while_paused_ends_thread():
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(seed=0), jit_compile=False)
    log = EventLog()
    trainer.add_callback(log)
    trainer.step(2)
    log.wait_kind("paused")
    trainer.stop()
    assert trainer.join(5)
    assert trainer.state == "stopped"
    assert trainer.updates == 2
    assert log.kinds() == ["started", "progress", "progress", "paused", "stopped"]


def test_callback_can_stop_training():
    task = make_task()
    trainer = Trainer(make_network(task), task, TrainingConfig(seed=0), jit_compile=False)

    def stop_at_five(event):
        if event.kind == "progress" and event.update == 5:
            trainer.stop()

    trainer.add_callback(stop_at_five)
    trainer.run()
    assert trainer.updates == 5
    assert trainer.state == "stopped"
