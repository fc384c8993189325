"""Checks that every registered task passes: declarations, shapes, seeds, scoring."""

from __future__ import annotations

import numpy as np
import pytest
from task_helpers import assert_valid_batch

from psychrnn_widgets.tasks import TASKS, Psychometric, list_tasks

BUILT_IN = [
    "perceptual_discrimination",
    "delayed_discrimination",
    "match_to_category",
    "go_no_go",
    "context_dependent_integration",
    "delayed_match_to_sample",
    "ready_set_go",
    "flip_flop",
]


def test_registry_lists_built_in():
    assert [name for name, _, _ in list_tasks()][: len(BUILT_IN)] == BUILT_IN


@pytest.mark.parametrize("name", BUILT_IN)
def test_declarations_complete(name):
    cls = TASKS[name]
    assert cls.name == name
    assert cls.title
    assert len(cls.description.split()) >= 20
    names = [param.name for param in cls.params]
    assert names[:4] == ["dt", "tau", "T", "N_batch"]
    assert len(names) == len(set(names))
    for param in cls.params:
        assert param.help.endswith("."), param.name
    assert cls.__doc__


@pytest.mark.parametrize("name", BUILT_IN)
def test_default_batch_valid(name):
    task = TASKS[name](N_batch=16)
    batch = task.generate_batch(0)
    assert_valid_batch(task, batch)
    assert batch.dt == task.dt
    assert batch.periods
    assert batch.conditions


@pytest.mark.parametrize("name", BUILT_IN)
def test_same_seed_same_batch(name):
    task = TASKS[name](N_batch=8)
    first, second = task.generate_batch(21), task.generate_batch(21)
    np.testing.assert_array_equal(first.inputs, second.inputs)
    np.testing.assert_array_equal(first.targets, second.targets)
    np.testing.assert_array_equal(first.mask, second.mask)
    for key in first.conditions:
        np.testing.assert_array_equal(first.conditions[key], second.conditions[key])
    assert not np.array_equal(first.inputs, task.generate_batch(22).inputs)


@pytest.mark.parametrize("name", BUILT_IN)
def test_targets_score_perfectly(name):
    task = TASKS[name](N_batch=64)
    batch = task.generate_batch(3)
    assert task.accuracy(batch.targets, batch) == 1.0


@pytest.mark.parametrize("name", BUILT_IN)
def test_psychometric_type(name):
    task = TASKS[name](N_batch=64)
    batch = task.generate_batch(4)
    curve = task.psychometric(batch.targets, batch)
    graded = {
        "perceptual_discrimination",
        "delayed_discrimination",
        "match_to_category",
        "context_dependent_integration",
        "ready_set_go",
    }
    if name in graded:
        assert isinstance(curve, Psychometric)
        assert curve.counts.sum() == 64
        assert np.all((curve.choice_fraction >= 0) & (curve.choice_fraction <= 1))
    else:
        assert curve is None


@pytest.mark.parametrize("name", BUILT_IN)
def test_wrong_output_shape_rejected(name):
    task = TASKS[name](N_batch=4)
    batch = task.generate_batch(0)
    with pytest.raises(ValueError, match="outputs must have shape"):
        task.accuracy(np.zeros((4, 3)), batch)


def test_no_heavy_imports():
    import subprocess
    import sys

    code = "import sys, psychrnn_widgets.tasks; print('tensorflow' in sys.modules, 'neurogym' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


def test_neurogym_missing_message(monkeypatch):
    import sys

    from psychrnn_widgets.tasks import from_neurogym

    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "neurogym", None)
    with pytest.raises(ImportError) as info:
        from_neurogym("PerceptualDecisionMaking-v0")
    assert str(info.value) == (
        "from_neurogym needs the optional neurogym package: pip install 'psychrnn_widgets[neurogym]'"
    )


@pytest.mark.parametrize("name", BUILT_IN)
def test_copy_and_pickle(name):
    import copy
    import pickle

    task = TASKS[name](N_batch=3)
    for clone in (copy.deepcopy(task), pickle.loads(pickle.dumps(task))):
        assert clone == task
        assert clone is not task
        np.testing.assert_array_equal(clone.generate_batch(1).inputs, task.generate_batch(1).inputs)
