"""Stop rules: updates, trials, performance cutoff and the end of a curriculum."""

from __future__ import annotations

from psychrnn_widgets.engine import Curriculum, NetworkConfig, Stage, Trainer, TrainingConfig, build_network
from psychrnn_widgets.tasks import PerceptualDiscrimination


def make_task(**values):
    return PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8, **values)


def make_network(task):
    return build_network(NetworkConfig.for_task(task, N_rec=8, seed=1))


def run_with_events(trainer, **kwargs):
    events = []
    trainer.add_callback(events.append)
    trainer.run(**kwargs)
    return events


def test_stops_after_max_updates_in_uneven_calls():
    task = make_task()
    trainer = Trainer(make_network(task), task, jit_compile=False, config=TrainingConfig(max_updates=7, updates_per_call=3, seed=0))
    events = run_with_events(trainer)
    assert trainer.updates == 7
    assert [e.update for e in events if e.kind == "progress"] == [3, 6, 7]
    assert events[-1].message == "reached max_updates (7 updates)"


def test_run_argument_overrides_max_updates():
    task = make_task()
    trainer = Trainer(make_network(task), task, jit_compile=False, config=TrainingConfig(max_updates=50, seed=0))
    trainer.run(max_updates=2)
    assert trainer.updates == 2


def test_stops_after_max_trials():
    task = make_task()
    trainer = Trainer(make_network(task), task, jit_compile=False, config=TrainingConfig(max_trials=20, seed=0))
    events = run_with_events(trainer)
    assert trainer.updates == 3
    assert trainer.trials == 24
    assert events[-1].kind == "finished"
    assert events[-1].message == "reached max_trials (20 trials)"


def test_stops_at_performance_cutoff():
    task = make_task()
    trainer = Trainer(
        make_network(task), task, jit_compile=False, config=TrainingConfig(performance_cutoff=0.0, eval_every=3, max_updates=50, seed=0)
    )
    events = run_with_events(trainer)
    assert trainer.updates == 3
    accuracy = trainer.history.accuracy[2]
    assert events[-1].kind == "finished"
    assert events[-1].message == f"accuracy {accuracy:.3f} reached performance_cutoff 0"


def test_curriculum_finishes_after_last_stage():
    first, second = make_task(coherence=0.7), make_task(coherence=0.1)
    curriculum = Curriculum([Stage(first, threshold=0.0), Stage(second, threshold=0.0)], metric_epoch=2)
    trainer = Trainer(make_network(first), curriculum, jit_compile=False, config=TrainingConfig(max_updates=50, seed=0))
    events = run_with_events(trainer)

    assert trainer.updates == 4
    assert [(u, s) for u, s, _ in curriculum.metric_values] == [(2, 0), (4, 1)]
    assert trainer.history.stage_changes == [(2, 16, 1)]
    assert trainer.history.stage == [0, 0, 1, 1]
    kinds = [e.kind for e in events]
    assert kinds == ["started", "progress", "progress", "stage_changed", "progress", "progress", "finished"]
    assert events[3].stage == 1
    assert events[-1].message == "the curriculum is finished"
    assert curriculum.finished


def test_curriculum_records_metric_and_holds_stage():
    calls = []

    def metric(outputs, batch, task):
        calls.append((outputs.shape, batch.N_batch, task.coherence))
        return 0.5

    first, second = make_task(coherence=0.7), make_task(coherence=0.3)
    curriculum = Curriculum(
        [Stage(first, threshold=0.4, metric=metric), Stage(second, threshold=0.6, metric=metric)],
        metric_epoch=2,
    )
    trainer = Trainer(make_network(first), curriculum, jit_compile=False, config=TrainingConfig(max_updates=6, seed=0))
    trainer.run()

    assert curriculum.metric_values == [(2, 0, 0.5), (4, 1, 0.5), (6, 1, 0.5)]
    assert curriculum.stage == 1
    assert calls == [((8, 20, 2), 8, 0.7), ((8, 20, 2), 8, 0.3), ((8, 20, 2), 8, 0.3)]
    assert trainer.state == "finished"
