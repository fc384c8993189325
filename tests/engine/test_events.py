"""TrainingEvent and TrainingHistory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from psychrnn_widgets.engine import TrainingEvent, TrainingHistory


def test_event_rejects_unknown_kind():
    with pytest.raises(ValueError) as info:
        TrainingEvent(kind="done", update=0, trials=0)
    assert "got kind='done'" in str(info.value)


def test_event_is_frozen_and_timed():
    event = TrainingEvent(kind="progress", update=3, trials=150, loss=0.5)
    with pytest.raises(AttributeError):
        event.update = 4
    assert event.accuracy is None
    assert event.time > 0


def test_history_append_and_accuracy():
    history = TrainingHistory()
    history.append(1, 50, 0.5, None, None)
    history.append(2, 100, 0.25, None, 1)
    history.set_accuracy(2, 0.75)
    assert len(history) == 2
    assert history.loss == [0.5, 0.25]
    assert math.isnan(history.accuracy[0])
    assert history.accuracy[1] == 0.75
    assert history.stage == [-1, 1]


def test_history_truncate_drops_later_records():
    history = TrainingHistory()
    for update in range(1, 6):
        history.append(update, update * 10, 1.0 / update, None, 0)
    history.stage_changes = [(2, 20, 1), (4, 40, 2)]
    history.truncate(3)
    assert history.update == [1, 2, 3]
    assert history.trials == [10, 20, 30]
    assert history.stage_changes == [(2, 20, 1)]


def test_history_arrays_round_trip():
    history = TrainingHistory()
    history.append(1, 8, 0.5, 0.25, 0)
    history.append(2, 16, 0.4, None, 1)
    history.stage_changes.append((2, 16, 1))
    arrays = history.to_arrays()
    assert all(array.dtype != object for array in arrays.values())
    assert arrays["stage_changes"].shape == (1, 3)
    again = TrainingHistory.from_arrays(arrays)
    assert again.update == [1, 2]
    assert again.loss == [0.5, 0.4]
    assert again.accuracy[0] == 0.25
    assert np.isnan(again.accuracy[1])
    assert again.stage_changes == [(2, 16, 1)]
