"""Curriculum and Stage on their own; training through a curriculum is in test_trainer_stop."""

from __future__ import annotations

import pytest

from psychrnn_widgets.engine import Curriculum, Stage
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import MatchToCategory, PerceptualDiscrimination


def make_task(coherence=0.5):
    return PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=4, coherence=coherence)


def test_stage_defaults():
    stage = Stage(make_task())
    assert stage.threshold == 0.9
    assert stage.metric is None
    assert stage.name == PerceptualDiscrimination.title


@pytest.mark.parametrize(
    ("field", "kwargs", "text"),
    [
        ("task", {"task": object()}, "a curriculum stage needs a task with generate_batch()"),
        ("threshold", {"threshold": float("nan")}, "threshold must be a finite number (got threshold=nan)"),
        ("metric", {"metric": 4}, "metric must be a callable or None (got metric=4)"),
    ],
)
def test_stage_rejects_bad_values(field, kwargs, text):
    values = {"task": make_task(), **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        Stage(**values)
    assert info.value.field == field
    assert text in str(info.value)


def test_curriculum_rejects_empty_and_bad_epoch():
    with pytest.raises(InvalidParameterError) as info:
        Curriculum([])
    assert info.value.field == "stages"
    with pytest.raises(InvalidParameterError) as info:
        Curriculum([make_task()], metric_epoch=0)
    assert str(info.value) == "metric_epoch must be an integer of at least 1 (got metric_epoch=0 updates)"


def test_curriculum_rejects_channel_mismatch():
    other = MatchToCategory(dt=10, tau=100, T=2000, N_batch=4)
    with pytest.raises(InvalidParameterError) as info:
        Curriculum([make_task(), other])
    assert str(info.value) == (
        f"every stage must have the same N_in (got N_in={other.N_in} in stage 1, N_in=2 in stage 0)"
    )


def test_record_advances_and_finishes():
    first, second = make_task(0.7), make_task(0.1)
    curriculum = Curriculum([Stage(first, threshold=0.8), second], metric_epoch=5)
    assert curriculum.task is first
    assert curriculum.record(5, 0.5) is False
    assert curriculum.record(10, 0.8) is True
    assert curriculum.stage == 1
    assert curriculum.task is second
    assert curriculum.record(15, 0.95) is True
    assert curriculum.finished
    assert curriculum.record(20, 1.0) is False
    assert curriculum.metric_values == [(5, 0, 0.5), (10, 0, 0.8), (15, 1, 0.95)]


def test_custom_metric_gets_outputs_batch_task():
    task = make_task()
    seen = []

    def metric(outputs, batch, stage_task):
        seen.append((outputs, batch, stage_task))
        return 0.25

    stage = Stage(task, metric=metric)
    assert stage.evaluate("outputs", "batch") == 0.25
    assert seen == [("outputs", "batch", task)]


def test_reset_goes_back_to_first_stage():
    curriculum = Curriculum([make_task(), make_task()], metric_epoch=1)
    curriculum.record(1, 1.0)
    curriculum.reset()
    assert curriculum.stage == 0
    assert curriculum.metric_values == []
