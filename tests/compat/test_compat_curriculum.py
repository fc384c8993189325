"""PsychRNN's curriculum-learning usage against the compat Curriculum."""

from __future__ import annotations

import numpy as np
import pytest
from compat_helpers import small_params

from psychrnn_widgets.compat.backend.curriculum import Curriculum, default_metric
from psychrnn_widgets.compat.backend.models.basic import Basic
from psychrnn_widgets.compat.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn_widgets.errors import InvalidParameterError


def _tasks():
    return [
        PerceptualDiscrimination(dt=10, tau=100, T=300, N_batch=8, coherence=0.7 - i / 5)
        for i in range(4)
    ]


def _model():
    return Basic(small_params(name="curriculum", N_steps=30, N_batch=8))


def test_default_metric():
    params = {"stage": 1, "accuracies": [None, lambda y, out, mask: 0.75], "thresholds": [0.9, 0.7]}
    assert default_metric(params, None, None, None, None, 1, [], False) == (True, 0.75)
    params["thresholds"][1] = 0.8
    assert default_metric(params, None, None, None, None, 1, [], False) == (False, 0.75)


def test_stages_advance_and_stop(tmp_path):
    tasks = _tasks()
    seen = []

    def metric(
        curriculum_params, input_data, correct_output, output_mask, output, epoch, losses, verbosity
    ):
        seen.append((epoch, curriculum_params["stage"], output.shape))
        return True, 0.5 + epoch / 100

    output_file = tmp_path / "metrics" / "values"
    curriculum = Curriculum(tasks, metric=metric, metric_epoch=1, output_file=str(output_file))
    losses, _, _ = _model().train_curric(
        {"curriculum": curriculum, "training_iters": 8 * 100, "loss_epoch": 1, "verbosity": False}
    )
    assert seen == [(epoch, epoch - 1, (8, 30, 2)) for epoch in range(1, 5)]
    assert curriculum.stage == 4
    assert curriculum.stop_training is True
    assert curriculum.metric_values == [[0.51, 0], [0.52, 1], [0.53, 2], [0.54, 3]]
    np.testing.assert_allclose(np.load(str(output_file) + ".npy"), curriculum.metric_values)
    assert len(losses) == 4


def test_stage_holds_below_threshold():
    curriculum = Curriculum(_tasks(), thresholds=[1.1] * 4, metric_epoch=2)
    _model().train(None, {"curriculum": curriculum, "training_iters": 8 * 6, "verbosity": False})
    assert curriculum.stage == 0
    assert len(curriculum.metric_values) == 3
    assert all(stage == 0 for _, stage in curriculum.metric_values)


def test_generator_function_is_deprecated():
    curriculum = Curriculum(_tasks())
    with pytest.deprecated_call():
        x, _, _, _ = next(curriculum.get_generator_function())
    assert x.shape == (8, 30, 2)


@pytest.mark.parametrize("name", ["accuracies", "thresholds"])
def test_lengths_must_match(name):
    with pytest.raises(
        InvalidParameterError, match=f"{name} must have one entry per task \\(got 1 for 4 tasks\\)"
    ):
        Curriculum(_tasks(), **{name: [0.9]})
