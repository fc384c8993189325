"""Tests of the Task base class, the TrialBuilder, TrialBatch and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError
from psychrnn_widgets.tasks import (
    TASKS,
    Param,
    PerceptualDiscrimination,
    Task,
    TrialBatch,
    TrialBuilder,
    get_task,
    list_tasks,
    ms_to_step,
    register_task,
)


class SignTask(Task):
    """A user-defined task written with the builder, as the docs show."""

    name = "sign_test_task"
    title = "Sign"
    description = "Report the sign of the input."
    params = (
        Param("T", "float", 1000.0, "Trial length.", unit="ms", minimum=0.0, min_inclusive=False),
        Param("gain", "float", 2.0, "Input size.", minimum=0.0),
    )
    input_channels = ("evidence",)
    output_channels = ("negative", "positive")

    def _generate(self, rng):
        trials = TrialBuilder(self, rng)
        sign = rng.integers(0, 2, self.N_batch)
        trials.add_period("stimulus", 100.0, 400.0)
        trials.add_period("response", 400.0, self.T)
        trials.set_input("evidence", "stimulus", self.gain * (2.0 * sign - 1.0))
        trials.set_target(sign, "response", 1.0)
        trials.set_mask(None, "response")
        trials.set_condition("sign", sign)
        return trials.build()


def test_params_merge_base_first():
    names = [param.name for param in SignTask.params]
    assert names == ["dt", "tau", "T", "N_batch", "gain"]
    assert SignTask.param_specs()["T"].default == 1000.0
    assert Task.params[2].default == 2000.0


def test_user_task_builds():
    task = SignTask(N_batch=4, dt=20)
    batch = task.generate_batch(3)
    assert task.N_steps == 50
    assert batch.periods["stimulus"].tolist() == [[5, 20]] * 4
    assert batch.periods["response"].tolist() == [[20, 50]] * 4
    sign = batch.conditions["sign"]
    expected = task.gain * (2.0 * sign - 1.0)
    np.testing.assert_array_equal(
        batch.inputs[:, 5:20, 0], np.repeat(expected[:, None], 15, axis=1)
    )
    assert np.all(batch.inputs[:, :5] == 0.0)
    assert np.all(batch.inputs[:, 20:] == 0.0)
    np.testing.assert_array_equal(batch.targets[np.arange(4), 30, sign], np.ones(4))
    np.testing.assert_array_equal(batch.targets[np.arange(4), 30, 1 - sign], np.zeros(4))
    assert batch.mask[:, :20].sum() == 0.0
    assert batch.mask[:, 20:].sum() == 4 * 30 * 2
    assert task.accuracy(batch.targets, batch) == 1.0


def test_derived_properties():
    task = PerceptualDiscrimination(dt=20.0, tau=50.0, T=1000.0)
    assert task.N_steps == 50
    assert task.alpha == 0.4
    assert task.N_in == 2
    assert task.N_out == 2
    assert task.input_names == ["evidence_0", "evidence_1"]
    with pytest.raises(AttributeError):
        task.N_steps = 3
    with pytest.raises(AttributeError):
        task.alpha = 0.5


def test_set_validates_and_keeps_old():
    task = PerceptualDiscrimination()
    task.coherence = 0.3
    assert task.coherence == 0.3
    with pytest.raises(InvalidParameterError) as info:
        task.tau = 5
    assert str(info.value) == "tau must be larger than dt (got tau=5 ms, dt=10 ms)"
    assert task.tau == 100.0
    with pytest.raises(InvalidParameterError) as info:
        task.T = 2005
    assert str(info.value) == "T must be a multiple of dt (got T=2005 ms, dt=10 ms)"
    assert task.T == 2000.0
    with pytest.raises(InvalidParameterError) as info:
        task.coherance = 0.1
    assert (
        str(info.value)
        == "unknown PerceptualDiscrimination parameter 'coherance'; did you mean 'coherence'?"
    )


def test_values_copy_and_replace():
    task = PerceptualDiscrimination(coherence=0.5)
    values = task.values()
    values["coherence"] = 0.1
    assert task.coherence == 0.5
    other = task.replace(N_batch=8)
    assert other.N_batch == 8
    assert task.N_batch == 50
    assert other.coherence == 0.5
    assert other == task.replace(N_batch=8)
    assert other != task
    with pytest.raises(InvalidParameterError, match="tau must be larger than dt"):
        task.replace(dt=200.0)


def test_float_step_rounding():
    task = PerceptualDiscrimination(dt=0.1, tau=1.0, T=8.0)
    assert task.N_steps == 80


@pytest.mark.parametrize(
    ("rng", "message"),
    [
        (
            "seed",
            "rng must be None, a non-negative int seed or a numpy.random.Generator (got rng='seed')",
        ),
        (-1, "rng must be None, a non-negative int seed or a numpy.random.Generator (got rng=-1)"),
    ],
)
def test_bad_rng(rng, message):
    with pytest.raises(InvalidParameterError) as info:
        PerceptualDiscrimination(N_batch=2).generate_batch(rng)
    assert str(info.value) == message


def test_generator_is_advanced():
    task = PerceptualDiscrimination(N_batch=3)
    rng = np.random.default_rng(5)
    first = task.generate_batch(rng)
    second = task.generate_batch(rng)
    assert not np.array_equal(first.inputs, second.inputs)
    again = task.generate_batch(np.random.default_rng(5))
    np.testing.assert_array_equal(first.inputs, again.inputs)


def test_ms_to_step():
    assert ms_to_step([0.0, 9.99, 10.0, 10.01, 200.0], 10.0).tolist() == [0, 1, 1, 2, 20]
    assert ms_to_step([-5.0, 5000.0], 10.0, n_steps=200).tolist() == [0, 200]
    assert ms_to_step(0.3, 0.1).tolist() == 3


def test_builder_errors():
    task = SignTask(N_batch=2)
    trials = TrialBuilder(task, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError) as info:
        trials.set_input("evidnce", None, 1.0)
    assert str(info.value) == "channel 'evidnce' not found; channels are ['evidence']"
    with pytest.raises(InvalidParameterError) as info:
        trials.set_target(2, None, 1.0)
    assert str(info.value) == "channel index must be in [0, 2) (got channel=2)"
    with pytest.raises(KeyError, match="period 'response' has not been added"):
        trials.set_mask(None, "response")


def test_builder_per_step_values():
    task = SignTask(N_batch=2, dt=100, tau=200)
    trials = TrialBuilder(task, np.random.default_rng(0))
    ramp = np.tile(np.arange(10.0), (2, 1))
    trials.set_input("evidence", None, ramp)
    trials.add_input(0, None, 1.0)
    np.testing.assert_array_equal(trials.build().inputs[:, :, 0], ramp + 1.0)


def test_batch_subset_and_periods():
    batch = PerceptualDiscrimination(N_batch=6).generate_batch(0)
    part = batch.subset([4, 1])
    assert part.N_batch == 2
    np.testing.assert_array_equal(part.inputs, batch.inputs[[4, 1]])
    np.testing.assert_array_equal(part.periods["stimulus"], batch.periods["stimulus"][[4, 1]])
    assert part.conditions["coherence"].tolist() == batch.conditions["coherence"][[4, 1]].tolist()
    assert batch.subset(slice(0, 3)).N_batch == 3
    assert batch.subset(batch.conditions["direction"] == 1).N_batch == int(
        batch.conditions["direction"].sum()
    )
    start, end = batch.periods["stimulus"][0]
    inside = batch.period_mask("stimulus")[0]
    assert inside.sum() == end - start
    assert inside[start] and not inside[start - 1]


def test_batch_shape_checks():
    with pytest.raises(ShapeMismatchError) as info:
        TrialBatch(np.zeros((2, 5, 1)), np.zeros((2, 4, 1)), np.zeros((2, 4, 1)))
    assert str(info.value) == "targets must have shape (2, 5, N_out) (got shape (2, 4, 1))"
    with pytest.raises(ShapeMismatchError) as info:
        TrialBatch(
            np.zeros((2, 5, 1)),
            np.zeros((2, 5, 1)),
            np.zeros((2, 5, 1)),
            periods={"a": np.zeros((3, 2))},
        )
    assert str(info.value) == "period a must have shape (2, 2) (got shape (3, 2))"


def test_registry():
    assert TASKS["perceptual_discrimination"] is PerceptualDiscrimination
    names = [name for name, _, _ in list_tasks()]
    assert "perceptual_discrimination" in names
    task = get_task("perceptual_discrimination", coherence=0.2)
    assert isinstance(task, PerceptualDiscrimination)
    assert task.coherence == 0.2
    with pytest.raises(InvalidParameterError) as info:
        get_task("perceptual_discrimnation")
    assert "did you mean 'perceptual_discrimination'?" in str(info.value)


def test_register_rejects_clash():
    class Clash(SignTask):
        name = "perceptual_discrimination"

    with pytest.raises(InvalidParameterError, match="already registered"):
        register_task(Clash)
    register_task(SignTask)
    try:
        assert get_task("sign_test_task", gain=1.0).gain == 1.0
    finally:
        del TASKS["sign_test_task"]


def test_builder_slice_and_mask_paths_agree():
    task = SignTask(N_batch=3, dt=10)
    rng = np.random.default_rng(0)
    by_name = TrialBuilder(task, rng)
    by_array = TrialBuilder(task, rng)
    by_name.add_period("stimulus", 100.0, 400.0)
    inside = by_name.during("stimulus").copy()
    values = np.array([1.0, -2.0, 3.0])
    by_name.set_input("evidence", "stimulus", values)
    by_array.set_input("evidence", inside, values)
    np.testing.assert_array_equal(by_name.inputs, by_array.inputs)
    by_name.set_target(np.array([1, 0, 1]), "stimulus", 0.5)
    by_array.set_target(np.array([1, 0, 1]), inside, 0.5)
    np.testing.assert_array_equal(by_name.targets, by_array.targets)
    assert by_name.targets[:, 10:40].sum() == 0.5 * 3 * 30


def test_builder_input_pattern():
    task = SignTask(N_batch=2, dt=100, tau=200)
    trials = TrialBuilder(task, np.random.default_rng(0))
    trials.add_period("stimulus", [0.0, 500.0], [300.0, 700.0])
    trials.add_input_pattern("stimulus", np.array([[2.0], [5.0]]))
    assert trials.inputs[:, :, 0].tolist() == [
        [2, 2, 2, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 5, 5, 0, 0, 0],
    ]
    with pytest.raises(
        ValueError, match=r"an input pattern must have shape \(2, 1\), got \(2, 3\)"
    ):
        trials.add_input_pattern("stimulus", np.zeros((2, 3)))


def test_builder_consecutive_periods():
    task = SignTask(N_batch=2, dt=100, tau=200)
    trials = TrialBuilder(task, np.random.default_rng(0))
    trials.add_consecutive_periods(["a", "b"], [[0.0, 200.0, 500.0], [100.0, 300.0, 1000.0]])
    assert trials.periods["a"].tolist() == [[0, 2], [1, 3]]
    assert trials.periods["b"].tolist() == [[2, 5], [3, 10]]
    with pytest.raises(ValueError, match="2 periods need 3 boundaries, got 2"):
        trials.add_consecutive_periods(["a", "b"], [0.0, 100.0])
